-- The device's own access log (DOMAIN.md "Access log"): every reveal of a
-- masked [PI]/[S] field on this tablet, who, which field of which record,
-- when. Append-only like the server's: the triggers refuse any update or
-- delete. Which entries the server has taken is kept apart, in an
-- insert-only table, so marking one sent never touches the log itself.
-- Never edit this file once it has shipped: add a new, later-dated file.
CREATE TABLE access_log (
    -- UUIDv7 made on the device: the server stores each id once, so a
    -- retried upload adds nothing.
    id TEXT PRIMARY KEY,
    -- Unix ms, device clock.
    at INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    action TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    field TEXT NOT NULL,
    -- `pi` or `s`.
    class TEXT NOT NULL
) STRICT;
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TABLE access_log_sent (
    id TEXT PRIMARY KEY REFERENCES access_log(id),
    sent_at INTEGER NOT NULL
) STRICT;
CREATE TRIGGER access_log_sent_no_delete BEFORE DELETE ON access_log_sent
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
