-- What the sync client keeps between syncs. Never edit this file once it
-- has shipped: add a new, later-dated file instead.

-- Small named values: the server cursor the device has stored up to.
CREATE TABLE sync_state (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;

-- Local changes the server refused, with its reason, for the worker to see.
-- They leave the outbox (resending would be refused again) but are kept
-- here and in the document: nothing typed is thrown away.
CREATE TABLE rejections (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    hash BLOB NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL
) STRICT;
CREATE INDEX rejections_by_doc ON rejections (doc_id);
