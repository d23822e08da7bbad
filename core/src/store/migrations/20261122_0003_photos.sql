-- Photos kept on the device until the server holds them, and the photos
-- records reference. Never edit this file once it has shipped: add a new,
-- later-dated file instead.

-- Content-addressed photo bytes: an upload-ready JPEG or its thumbnail,
-- taken here or downloaded. `uploaded` is 1 once the server holds the
-- blob whole (downloaded ones were already there); `upload_offset` is the
-- byte count the server has confirmed so far, so an upload cut off
-- resumes where it stopped, even after the app restarts.
CREATE TABLE photos (
    sha256 TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('photo', 'thumb')),
    bytes BLOB NOT NULL,
    size INTEGER NOT NULL,
    uploaded INTEGER NOT NULL DEFAULT 0,
    upload_offset INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX photos_pending ON photos (created_at) WHERE uploaded = 0;

-- Which record references which photo hash: derived from the documents,
-- refreshed for every document whose heads moved since it was last read
-- (`photo_ref_scan`), never edited on its own.
CREATE TABLE photo_refs (
    doc_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('photo', 'thumb')),
    PRIMARY KEY (doc_id, sha256)
) STRICT, WITHOUT ROWID;
CREATE INDEX photo_refs_by_sha ON photo_refs (sha256);

CREATE TABLE photo_ref_scan (
    doc_id TEXT PRIMARY KEY,
    heads BLOB NOT NULL
) STRICT, WITHOUT ROWID;

-- A download from the server in progress: the bytes received so far, so a
-- cut download resumes with a range request instead of starting over.
CREATE TABLE photo_downloads (
    sha256 TEXT PRIMARY KEY,
    bytes BLOB NOT NULL
) STRICT, WITHOUT ROWID;

-- Photos the server could not give yet (not uploaded by their device, or
-- not this user's to see), and when that was last asked, so every sync
-- does not ask again at once.
CREATE TABLE photo_unavailable (
    sha256 TEXT PRIMARY KEY,
    tried_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
