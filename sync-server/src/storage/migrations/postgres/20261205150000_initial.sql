-- Gridwork server schema on PostgreSQL, first version: the tables the
-- SQLite migrations up to 20261205120000_device_states built, in one file.
-- Never edit once shipped: add a new timestamped file beside it (and its
-- SQLite twin one folder up).
--
-- Text that is ordered or range-scanned (grid paths and codes) is
-- COLLATE "C": a subtree is the range [path, path-without-slash || '0'),
-- which holds in byte order only (a locale's collation skips '/').

-- The grid tree. `path` is the chain of codes from the root, '/a/b/c/'.
CREATE TABLE grids (
    code     TEXT COLLATE "C" PRIMARY KEY,
    name     TEXT NOT NULL,
    level    TEXT NOT NULL,
    parent   TEXT COLLATE "C" REFERENCES grids (code),
    kind     TEXT NOT NULL,
    boundary TEXT,          -- GeoJSON geometry (Polygon/MultiPolygon), WGS-84
    centroid TEXT,          -- JSON [lon, lat]
    path     TEXT COLLATE "C" NOT NULL UNIQUE
);

-- Small named counters: `grids_version` changes whenever the tree does;
-- `log_seq` is the last position given to a change in the log (see
-- storage/postgres.rs: the commit that takes it holds its row lock until
-- it commits, so positions are handed out in commit order).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('grids_version', 0), ('log_seq', 0);

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT NOT NULL,
    phone         TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    grid          TEXT COLLATE "C" NOT NULL REFERENCES grids (code),
    department    TEXT,
    password_hash TEXT NOT NULL,     -- argon2id PHC string
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL    -- Unix ms
);

-- One row per enrolment (login) of a device; the token only as its SHA-256.
CREATE TABLE devices (
    id         TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    name       TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    actor      TEXT NOT NULL UNIQUE,  -- hex
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    lost_at    BIGINT,
    wiped_at   BIGINT
);
CREATE INDEX devices_user ON devices (user_id);
CREATE INDEX devices_lost ON devices (lost_at) WHERE lost_at IS NOT NULL;

-- Who may write with an Automerge actor id.
CREATE TABLE actors (
    actor     TEXT PRIMARY KEY,  -- hex
    device_id TEXT COLLATE "C" NOT NULL REFERENCES devices (id),
    user_id   TEXT COLLATE "C" NOT NULL REFERENCES users (id)
);

-- The server's copy of every record document, compacted.
CREATE TABLE docs (
    id         UUID PRIMARY KEY,
    kind       TEXT NOT NULL,
    grid       TEXT COLLATE "C" NOT NULL,
    snapshot   BYTEA NOT NULL,     -- Automerge save()
    rev        BIGINT NOT NULL,    -- bumped on every write (optimistic locking)
    moved_seq  BIGINT NOT NULL DEFAULT 0,  -- log seq of the last change of grid
    updated_at BIGINT NOT NULL,
    pi_history BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX docs_grid ON docs (grid);
CREATE INDEX docs_kind ON docs (kind, id);
CREATE INDEX docs_moved ON docs (moved_seq) WHERE moved_seq > 0;

-- Every accepted change, at the position `counters.log_seq` gave it.
CREATE TABLE log (
    seq         BIGINT PRIMARY KEY,
    doc         UUID NOT NULL,
    grid        TEXT COLLATE "C" NOT NULL,  -- the document's grid after the push
    hash        BYTEA NOT NULL UNIQUE,
    change      BYTEA NOT NULL,     -- raw Automerge change
    device_id   TEXT COLLATE "C" NOT NULL,
    received_at BIGINT NOT NULL     -- Unix ms, server clock
);
CREATE INDEX log_doc ON log (doc, seq);

-- Per device: the last cursor it confirmed and the grid scope served.
CREATE TABLE device_cursors (
    device_id     TEXT COLLATE "C" PRIMARY KEY REFERENCES devices (id),
    cursor        BIGINT NOT NULL DEFAULT 0,
    confirmed_at  BIGINT,
    epoch         INTEGER NOT NULL DEFAULT 0,
    scope_root    TEXT NOT NULL,
    grids_version BIGINT NOT NULL,
    served_grids  TEXT NOT NULL    -- comma-separated grid codes
);

-- The access log: append-only, the trigger refuses any update or delete.
CREATE TABLE access_log (
    seq        BIGSERIAL PRIMARY KEY,
    at         BIGINT NOT NULL,
    user_id    TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    filter     TEXT NOT NULL,
    format     TEXT,
    record_ids TEXT NOT NULL,      -- JSON array of record ids
    row_count  BIGINT NOT NULL,
    revealed   TEXT NOT NULL,
    entry_id   TEXT UNIQUE         -- a device's reveal entry id
);
CREATE INDEX access_log_user ON access_log (user_id, at);
CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only';
END;
$$;
CREATE TRIGGER access_log_no_change BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();

-- Data migrations (src/migrate.rs) that have run to the end.
CREATE TABLE data_migrations (
    name    TEXT PRIMARY KEY,
    done_at BIGINT NOT NULL
);

-- Photo grants (src/blobs.rs).
CREATE TABLE blob_uploads (
    sha256      TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (sha256, device_id)
);
CREATE INDEX blob_uploads_user ON blob_uploads (sha256, user_id);
CREATE TABLE blob_grants (
    doc        UUID NOT NULL,
    sha256     TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (doc, sha256)
);
CREATE INDEX blob_grants_sha ON blob_grants (sha256, doc);
CREATE TABLE blob_claims (
    doc        UUID NOT NULL,
    sha256     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    claimed_at BIGINT NOT NULL,
    PRIMARY KEY (doc, sha256, user_id)
);
CREATE INDEX blob_claims_sha ON blob_claims (sha256, user_id);
