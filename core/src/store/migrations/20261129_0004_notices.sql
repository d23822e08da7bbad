-- Notes from the server about changes it stored (a forbidden edit it undid
-- with a change of its own, a transition it kept in the timeline but did
-- not apply), kept until the worker has seen them: a sync in the background
-- must not be the only place they were ever shown. Never edit this file
-- once it has shipped: add a new, later-dated file instead.
CREATE TABLE notices (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    code TEXT NOT NULL,
    message_zh TEXT NOT NULL,
    message_en TEXT NOT NULL,
    compensated INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    seen INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX notices_unseen ON notices (seen, seq);
