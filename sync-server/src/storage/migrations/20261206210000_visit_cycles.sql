-- Each household's visit cycle, kept at write time (see `cycles_of` in
-- sync-server/src/storage/projections.rs): the dashboard's cycle figures
-- read these rows instead of joining every resident and visit (1.2-1.6 s
-- of a district dashboard at a million records). A household without a
-- cycle has no row. The data migration 20261206210000_visit_cycles fills
-- the table on a server whose rows predate it.
CREATE TABLE visit_cycles (
    id      BLOB PRIMARY KEY REFERENCES projections (id) ON DELETE CASCADE,
    grid    TEXT NOT NULL,
    days    INTEGER NOT NULL, -- the shortest of its residents' cycles
    seen_at INTEGER           -- its latest visit, null when never visited
) STRICT;
CREATE INDEX visit_cycles_grid ON visit_cycles (grid);
