-- The record as the ledgers read it (see sync-server/src/storage/projections.rs,
-- `ProjectionRow::ledger`): core's record as JSON, one row per projection
-- row, written with it at push time and rebuilt by
-- `gridwork-server rebuild-projections` (the data migration
-- 20261206090000_ledger_records fills it on a server older than it). A
-- ledger page or an export builds its cells from it, masked as before,
-- instead of decoding each listed record's Automerge document; a record's
-- own page and history still read the document. Lists never read it.
CREATE TABLE ledger_records (
    id     BLOB PRIMARY KEY REFERENCES projections (id) ON DELETE CASCADE,
    record TEXT NOT NULL
) STRICT;

-- A database with no rows yet has none to fill: its rows will be written
-- with their record, so the data migration is done already.
INSERT INTO data_migrations (name, done_at)
    SELECT '20261206090000_ledger_records', 0
    WHERE NOT EXISTS (SELECT 1 FROM projections);
