-- The server's half of a tablet's recovery secret, as SQLite's
-- 20261205130000_device_recovery (see sync-server/src/enrol.rs).
CREATE TABLE device_recovery (
    device_id TEXT COLLATE "C" PRIMARY KEY REFERENCES devices (id),
    secret    BYTEA NOT NULL
);
