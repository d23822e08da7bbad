-- As SQLite's 20261206210000_visit_cycles (see `cycles_of` in
-- sync-server/src/storage/projections.rs): each household's visit cycle,
-- kept at write time.
CREATE TABLE visit_cycles (
    id      UUID PRIMARY KEY REFERENCES projections (id) ON DELETE CASCADE,
    grid    TEXT COLLATE "C" NOT NULL,
    days    BIGINT NOT NULL, -- the shortest of its residents' cycles
    seen_at BIGINT           -- its latest visit, null when never visited
);
CREATE INDEX visit_cycles_grid ON visit_cycles (grid);
