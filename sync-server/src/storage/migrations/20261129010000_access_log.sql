-- The access log (DOMAIN.md "Access log"): who exported or revealed what,
-- when, from which console session or device. Append-only: the triggers
-- refuse any update or delete, so a row once written stays as written.
CREATE TABLE access_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Unix ms, server clock.
    at INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    -- `export` or `reveal`.
    action TEXT NOT NULL,
    -- The list (`incidents`, `households`, `residents`, `queue`, `dashboard` …).
    target TEXT NOT NULL,
    -- The list's filter as JSON.
    filter TEXT NOT NULL,
    -- `xlsx`, `csv`, `geojson`; NULL for a reveal.
    format TEXT,
    -- JSON array of the record ids the rows came from.
    record_ids TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    -- Which protected classes went out in clear: '', 'pi', 'pi,s'.
    revealed TEXT NOT NULL
);
CREATE INDEX access_log_user ON access_log(user_id, at);
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
