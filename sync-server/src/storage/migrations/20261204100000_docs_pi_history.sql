-- A document whose history holds fields some of its receivers may not see
-- in clear: an incident that carried its parties (names, phones, ID
-- numbers) before they moved to their own `incident_parties` record. A CRDT
-- change cannot be redacted, so the roles that may not see those fields
-- (department handlers) are never sent such a document on a device; they
-- work it in the console. Set by the data migration at start
-- (`src/migrate.rs`), never cleared.
ALTER TABLE docs ADD COLUMN pi_history INTEGER NOT NULL DEFAULT 0;

-- Data migrations (changes to documents, made through the log at start by
-- `src/migrate.rs`) that have run to the end: each runs once.
CREATE TABLE data_migrations (
    name    TEXT PRIMARY KEY,
    done_at INTEGER NOT NULL   -- Unix ms, server clock
) STRICT;
