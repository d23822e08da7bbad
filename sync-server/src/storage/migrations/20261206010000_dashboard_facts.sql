-- The facts the dashboard counts that the first projections lacked (see
-- sync-server/src/storage/projections.rs and console/dashboard.rs's
-- definitions), written with the row at push time and rebuilt by
-- `gridwork-server rebuild-projections` (the data migration
-- 20261206010000_dashboard_facts fills them on a server older than them).
ALTER TABLE projections ADD COLUMN cycle_days INTEGER; -- a resident's visit cycle (shortest care tag), with a household
ALTER TABLE projections ADD COLUMN visit_at INTEGER;   -- a household's last_visit_at, a visit's visited_at
CREATE INDEX projections_kind_parent ON projections (kind, parent_id);

-- One row per patrol: who walked, when, and the 20 m cells of its grid its
-- track covers (core's covered_cells: a bit set over the cells of the
-- boundary whose boundary_key is kept beside it), so coverage is a union of
-- these sets, without the track ([S]).
CREATE TABLE patrol_projections (
    id           BLOB PRIMARY KEY REFERENCES projections (id) ON DELETE CASCADE,
    worker       TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER,
    boundary_key INTEGER,          -- null: the grid had no boundary
    cells_total  INTEGER,
    cells        BLOB
) STRICT;
CREATE INDEX patrol_projections_worker ON patrol_projections (worker);

-- A database with no rows yet has none to fill: its rows will be written
-- with these facts, so the data migration is done already.
INSERT INTO data_migrations (name, done_at)
    SELECT '20261206010000_dashboard_facts', 0
    WHERE NOT EXISTS (SELECT 1 FROM projections);
