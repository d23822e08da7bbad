-- A photo's SHA-256 is not a key (issue #10, item 4; see src/blobs.rs).

-- Every finished upload: which device of which user sent the whole blob.
-- `HEAD /v1/blobs/{sha}` says "complete" only to the user who uploaded.
CREATE TABLE blob_uploads (
    sha256      TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    uploaded_at INTEGER NOT NULL,   -- Unix ms, server clock
    PRIMARY KEY (sha256, device_id)
) STRICT;
CREATE INDEX blob_uploads_user ON blob_uploads (sha256, user_id);

-- A record may be read through for a photo: downloads need a row here.
CREATE TABLE blob_grants (
    doc        BLOB NOT NULL,       -- UUID, 16 bytes
    sha256     TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (doc, sha256)
) STRICT;
CREATE INDEX blob_grants_sha ON blob_grants (sha256);

-- A reference a user's push added before the user finished uploading
-- the photo: their finished upload turns it into a grant.
CREATE TABLE blob_claims (
    doc        BLOB NOT NULL,
    sha256     TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (doc, sha256, user_id)
) STRICT;
CREATE INDEX blob_claims_sha ON blob_claims (sha256, user_id);

-- The documents already stored are granted every photo they reference.
-- Reading them takes Automerge, so the server does it in Rust right after
-- this file, in the same opening of the database (`storage::blob_grants`),
-- and deletes this marker in the transaction that writes the grants.
INSERT INTO counters (name, value) VALUES ('blob_grants_backfill', 1);
