-- As SQLite's 20261207000000_index_only_reads: an incident's and a patrol's
-- own row carry copies of their record's grid, status, category and
-- deleted flag, so the dashboard's figures read one index.
ALTER TABLE incident_projections
    ADD COLUMN grid TEXT COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN status TEXT NOT NULL DEFAULT '',
    ADD COLUMN category TEXT,
    ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE incident_projections i
   SET grid = p.grid, status = p.status, category = p.category, deleted = p.deleted
  FROM projections p WHERE p.id = i.id;
CREATE INDEX incident_projections_figures ON incident_projections (grid, status, deleted)
    INCLUDE (category, level, resolved_on_spot, deadline, feedback, reported_at, accepted_at,
             closed_at);

ALTER TABLE patrol_projections
    ADD COLUMN grid TEXT COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN status TEXT NOT NULL DEFAULT '',
    ADD COLUMN category TEXT,
    ADD COLUMN deleted BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE patrol_projections pp
   SET grid = p.grid, status = p.status, category = p.category, deleted = p.deleted
  FROM projections p WHERE p.id = pp.id;
CREATE INDEX patrol_projections_figures ON patrol_projections (grid, deleted)
    INCLUDE (worker, started_at, ended_at);

-- SQLite's migration also widens `projections_grid` with the page's
-- order (updated_at, id). PostgreSQL already walks
-- `projections_kind_status_updated` in that order and stops at the page,
-- and a wider index made its counts slower (21 to 31 ms for the
-- district's pending residents at a million records), so it keeps the
-- narrower one.
