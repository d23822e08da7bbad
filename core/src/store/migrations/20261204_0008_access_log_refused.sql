-- Reveals the server refused to take into its access log (a record it does
-- not hold in this device's scope), with its code. Kept apart from the log
-- and from `access_log_sent`, insert-only like them: the entry itself stays
-- in the device's own log, and is never sent again.
-- Never edit this file once it has shipped: add a new, later-dated file.
CREATE TABLE access_log_refused (
    id TEXT PRIMARY KEY REFERENCES access_log(id),
    refused_at INTEGER NOT NULL,
    code TEXT NOT NULL
) STRICT;
CREATE TRIGGER access_log_refused_no_update BEFORE UPDATE ON access_log_refused
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER access_log_refused_no_delete BEFORE DELETE ON access_log_refused
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
