-- The device's local store: one Automerge document per record, its query
-- projection, full-text search and the outbox. Never edit this file once it
-- has shipped: add a new, later-dated file instead.

-- One row per record document. `snapshot` is the compacted document
-- (Automerge save()); the changes made since are in `changes`. `heads` is
-- the concatenation of the document's 32-byte head hashes after all of
-- them, sorted.
CREATE TABLE documents (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    grid TEXT NOT NULL,
    snapshot BLOB NOT NULL,
    heads BLOB NOT NULL,
    -- Rows in `changes` for this document, so compaction needs no count.
    change_count INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Changes appended after a document's snapshot, folded into it now and then.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY,
    doc INTEGER NOT NULL REFERENCES documents (rid) ON DELETE CASCADE,
    hash BLOB NOT NULL UNIQUE,
    bytes BLOB NOT NULL
) STRICT;
CREATE INDEX changes_by_doc ON changes (doc, seq);

-- Local changes not yet acknowledged by the server, in the order they were
-- made. They keep their own bytes: compaction may fold the same change into
-- the snapshot before it is sent.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    hash BLOB NOT NULL UNIQUE,
    bytes BLOB NOT NULL
) STRICT;

-- Changes received before the changes they depend on (or before the
-- document's first change). They wait here, not lost, until the missing
-- ones arrive.
CREATE TABLE remote_pending (
    hash BLOB PRIMARY KEY,
    doc_id TEXT NOT NULL,
    bytes BLOB NOT NULL
) STRICT;
CREATE INDEX remote_pending_by_doc ON remote_pending (doc_id);

-- The plain rows the UI lists and filters: model::Projection, derived from
-- the document at every write, never edited on its own. `rid` is the
-- document's and the full-text tables' rowid.
CREATE TABLE projections (
    rid INTEGER PRIMARY KEY REFERENCES documents (rid) ON DELETE CASCADE,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    grid TEXT NOT NULL,
    title TEXT NOT NULL,
    subtitle TEXT NOT NULL,
    status TEXT,
    category TEXT,
    urgency TEXT,
    parent_id TEXT,
    due TEXT,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    search_text TEXT NOT NULL
) STRICT;
CREATE INDEX projections_kind ON projections (kind, created_at);
CREATE INDEX projections_kind_grid ON projections (kind, grid, created_at);
CREATE INDEX projections_kind_status ON projections (kind, status, created_at);
CREATE INDEX projections_kind_category ON projections (kind, category, created_at);
CREATE INDEX projections_parent ON projections (parent_id, created_at) WHERE parent_id IS NOT NULL;
CREATE INDEX projections_kind_due ON projections (kind, due) WHERE due IS NOT NULL;
CREATE INDEX projections_created ON projections (created_at);

-- Full-text search over title + search_text, normalized (lowercase,
-- full-width folded). Contentless: the text lives in `projections`.
-- Terms of three characters or more: the trigram tokenizer (substring
-- match, any script).
CREATE VIRTUAL TABLE search_trigram USING fts5 (
    text,
    tokenize = 'trigram',
    content = '',
    contentless_delete = 1
);
-- Terms of one or two characters, which trigrams cannot match: every pair
-- of adjacent letters or digits (漏水, 3栋) as one token, and the last
-- character of each run alone, so a one-character term is a prefix query.
-- No positions are needed (detail = none).
CREATE VIRTUAL TABLE search_bigram USING fts5 (
    text,
    tokenize = 'ascii',
    content = '',
    contentless_delete = 1,
    detail = none
);
