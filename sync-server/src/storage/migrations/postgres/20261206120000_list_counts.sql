-- As SQLite's 20261206120000_list_counts: a list's count reads the grid
-- index alone.
DROP INDEX projections_grid;
CREATE INDEX projections_grid ON projections (grid, kind, status, deleted);
