-- As SQLite's 20261206090000_ledger_records (see
-- sync-server/src/storage/projections.rs, `ProjectionRow::ledger`): the
-- record as the ledgers read it, core's record as JSON, kept with the
-- projection row at push time so a ledger page or an export decodes no
-- document.
CREATE TABLE ledger_records (
    id     UUID PRIMARY KEY REFERENCES projections (id) ON DELETE CASCADE,
    record TEXT NOT NULL
);

-- A database with no rows yet has none to fill: its rows will be written
-- with their record, so the data migration is done already.
INSERT INTO data_migrations (name, done_at)
    SELECT '20261206090000_ledger_records', 0
    WHERE NOT EXISTS (SELECT 1 FROM projections);
