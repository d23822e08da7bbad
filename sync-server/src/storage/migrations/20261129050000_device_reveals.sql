-- Reveals made on tablets reach the access log at sync, each carrying the
-- id the device gave it; the unique index makes a retried upload store
-- nothing new. Console rows have no entry id (NULLs never collide).
-- Adding a column is not an UPDATE: the append-only triggers stay as they are.
ALTER TABLE access_log ADD COLUMN entry_id TEXT;
CREATE UNIQUE INDEX access_log_entry_id ON access_log(entry_id);
