-- As SQLite's 20261206010000_dashboard_facts (see
-- sync-server/src/storage/projections.rs): the facts the dashboard counts,
-- kept with the projection row at push time.
ALTER TABLE projections ADD COLUMN cycle_days BIGINT; -- a resident's visit cycle (shortest care tag), with a household
ALTER TABLE projections ADD COLUMN visit_at BIGINT;   -- a household's last_visit_at, a visit's visited_at
CREATE INDEX projections_kind_parent ON projections (kind, parent_id);

-- One row per patrol: who walked, when, and the cells of its grid its
-- track covers (core's covered_cells over the boundary of boundary_key).
CREATE TABLE patrol_projections (
    id           UUID PRIMARY KEY REFERENCES projections (id) ON DELETE CASCADE,
    worker       TEXT COLLATE "C" NOT NULL,
    started_at   BIGINT NOT NULL,
    ended_at     BIGINT,
    boundary_key BIGINT,          -- null: the grid had no boundary
    cells_total  BIGINT,
    cells        BYTEA
);
CREATE INDEX patrol_projections_worker ON patrol_projections (worker);

-- A database with no rows yet has none to fill: its rows will be written
-- with these facts, so the data migration is done already.
INSERT INTO data_migrations (name, done_at)
    SELECT '20261206010000_dashboard_facts', 0
    WHERE NOT EXISTS (SELECT 1 FROM projections);
