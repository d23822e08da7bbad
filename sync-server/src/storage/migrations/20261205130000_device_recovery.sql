-- The server's half of a tablet's recovery secret (see
-- sync-server/src/enrol.rs and core's vault docs): 32 random bytes kept
-- with the enrolment that was last given them. A later password login of
-- the same user naming that enrolment moves the row to the new enrolment.
CREATE TABLE device_recovery (
    device_id TEXT PRIMARY KEY REFERENCES devices (id),
    secret BLOB NOT NULL
);
