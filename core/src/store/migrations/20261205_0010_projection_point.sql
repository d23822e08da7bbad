-- A record's point (WGS-84) beside its list row, so the grid map is one
-- query over the rows instead of one document read per marker. Written
-- with the row at every write; filled for existing rows by the rebuild
-- that `PROJECTIONS_VERSION` 2 triggers. Never edit this file once it has
-- shipped.
ALTER TABLE projections ADD COLUMN lon REAL;
ALTER TABLE projections ADD COLUMN lat REAL;
CREATE INDEX projections_kind_located ON projections (kind) WHERE lon IS NOT NULL;
