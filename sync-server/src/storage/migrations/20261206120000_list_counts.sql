-- A list's count reads the grid index alone: `deleted` joins it, so
-- counting a street's residents by status (about 90,000 rows at a
-- million records) looks up no table row (see `list_statements` in
-- sync-server/src/storage/projections.rs).
DROP INDEX projections_grid;
CREATE INDEX projections_grid ON projections (grid, kind, status, deleted);
