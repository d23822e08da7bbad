-- Reads of one index instead of a row lookup per record, for the
-- dashboard and the lists at a million records.
--
-- An incident's and a patrol's own row carry copies of their record's
-- grid, status, category and deleted flag, written from the same
-- projection in the same statement (see `Rows` in
-- sync-server/src/storage/projections.rs). The dashboard's incident and
-- patrol figures then read one index of one table per record instead of
-- the grid index, the wide `projections` row and the kind's row (five
-- B-tree searches an incident: about 4 µs, most of a district
-- dashboard's time).
ALTER TABLE incident_projections ADD COLUMN grid TEXT NOT NULL DEFAULT '';
ALTER TABLE incident_projections ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE incident_projections ADD COLUMN category TEXT;
ALTER TABLE incident_projections ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
UPDATE incident_projections
   SET grid = p.grid, status = p.status, category = p.category, deleted = p.deleted
  FROM projections p WHERE p.id = incident_projections.id;
CREATE INDEX incident_projections_figures ON incident_projections (grid, status, deleted,
    category, level, resolved_on_spot, deadline, feedback, reported_at, accepted_at, closed_at);

ALTER TABLE patrol_projections ADD COLUMN grid TEXT NOT NULL DEFAULT '';
ALTER TABLE patrol_projections ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE patrol_projections ADD COLUMN category TEXT;
ALTER TABLE patrol_projections ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
UPDATE patrol_projections
   SET grid = p.grid, status = p.status, category = p.category, deleted = p.deleted
  FROM projections p WHERE p.id = patrol_projections.id;
CREATE INDEX patrol_projections_figures ON patrol_projections (grid, deleted, worker,
    started_at, ended_at);

-- A list's page chooses its ids from the grid index alone, then reads
-- only their rows (see `list_statements`): the index ends with the
-- page's order.
DROP INDEX projections_grid;
CREATE INDEX projections_grid ON projections (grid, kind, status, deleted, updated_at, id);
