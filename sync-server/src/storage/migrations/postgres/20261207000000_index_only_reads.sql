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

-- A list's page chooses its ids from the grid index alone, then reads
-- only their rows (see `list_statements`): the index ends with the
-- page's order.
DROP INDEX projections_grid;
CREATE INDEX projections_grid ON projections (grid, kind, status, deleted, updated_at, id);
