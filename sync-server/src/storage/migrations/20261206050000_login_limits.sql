-- The login limits' counts (crate::auth::LoginLimiter), one row per key:
-- a source, or a user name from a source. Kept in the database so that
-- several server processes over one database count the same attempts; a
-- row whose expires_at has passed holds nothing back and is deleted.
CREATE TABLE login_limits (
    key           TEXT PRIMARY KEY,
    tat           INTEGER NOT NULL,
    failures      INTEGER NOT NULL,
    last_failure  INTEGER NOT NULL,
    blocked_until INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX login_limits_expires_at ON login_limits (expires_at);
