-- Gridwork server schema, first version. Never edit once shipped: add a
-- new timestamped file instead.

-- The grid tree (reference data, imported from GeoJSON). `path` is the
-- chain of codes from the root, '/a/b/c/', so a subtree is one range scan.
CREATE TABLE grids (
    code     TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    level    TEXT NOT NULL,
    parent   TEXT REFERENCES grids (code),
    kind     TEXT NOT NULL,
    boundary TEXT,          -- GeoJSON geometry (Polygon/MultiPolygon), WGS-84
    path     TEXT NOT NULL UNIQUE
) STRICT;

-- Small named counters: `grids_version` changes whenever the tree does, so
-- a sync can tell cheaply that a user's scope may have changed.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO counters (name, value) VALUES ('grids_version', 0);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    phone         TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    grid          TEXT NOT NULL REFERENCES grids (code),
    department    TEXT,
    password_hash TEXT NOT NULL,     -- argon2id PHC string
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL   -- Unix ms
) STRICT;

-- One row per enrolment (login) of a device. The token is kept only as its
-- SHA-256; the actor id is the one the server assigned at login.
CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    name       TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    actor      TEXT NOT NULL UNIQUE,  -- hex
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX devices_user ON devices (user_id);

-- Who may write with an Automerge actor id: the device that was assigned it
-- or first pushed a change made with it.
CREATE TABLE actors (
    actor     TEXT PRIMARY KEY,  -- hex
    device_id TEXT NOT NULL REFERENCES devices (id),
    user_id   TEXT NOT NULL REFERENCES users (id)
) STRICT;

-- The server's copy of every record document, compacted.
CREATE TABLE docs (
    id         BLOB PRIMARY KEY,   -- UUID, 16 bytes
    kind       TEXT NOT NULL,
    grid       TEXT NOT NULL,
    snapshot   BLOB NOT NULL,      -- Automerge save()
    rev        INTEGER NOT NULL,   -- bumped on every write (optimistic locking)
    moved_seq  INTEGER NOT NULL DEFAULT 0,  -- log seq of the last change of grid
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX docs_grid ON docs (grid);
CREATE INDEX docs_moved ON docs (moved_seq) WHERE moved_seq > 0;

-- Every accepted change, numbered at commit (SQLite has one writer at a
-- time, so a reader never sees seq n+1 without n).
CREATE TABLE log (
    seq         INTEGER PRIMARY KEY,
    doc         BLOB NOT NULL,
    grid        TEXT NOT NULL,     -- the document's grid after the push
    hash        BLOB NOT NULL UNIQUE,
    change      BLOB NOT NULL,     -- raw Automerge change
    device_id   TEXT NOT NULL,
    received_at INTEGER NOT NULL   -- Unix ms, server clock
) STRICT;
CREATE INDEX log_doc ON log (doc, seq);

-- Per device: the last cursor it confirmed and the grid scope it has been
-- served in the current epoch (see the sync module).
CREATE TABLE device_cursors (
    device_id     TEXT PRIMARY KEY REFERENCES devices (id),
    cursor        INTEGER NOT NULL DEFAULT 0,
    confirmed_at  INTEGER,
    epoch         INTEGER NOT NULL DEFAULT 0,
    scope_root    TEXT NOT NULL,
    grids_version INTEGER NOT NULL,
    served_grids  TEXT NOT NULL    -- comma-separated grid codes
) STRICT;
