-- The login limits' counts (crate::auth::LoginLimiter), one row per key:
-- a source, or a user name from a source. Kept in the database so that
-- every server process over it counts the same attempts; a row whose
-- expires_at has passed holds nothing back and is deleted.
CREATE TABLE login_limits (
    key           TEXT PRIMARY KEY,
    tat           BIGINT NOT NULL DEFAULT 0,
    failures      INTEGER NOT NULL DEFAULT 0,
    last_failure  BIGINT NOT NULL DEFAULT 0,
    blocked_until BIGINT NOT NULL DEFAULT 0,
    expires_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX login_limits_expires_at ON login_limits (expires_at);
