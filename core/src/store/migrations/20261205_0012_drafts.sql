-- Form drafts (#11): what a worker has half typed into a form (a new
-- household, a resident's edit, an incident report …), kept on every
-- keystroke so a killed app loses nothing. They were in the web view's
-- localStorage, in clear in the app's data folder; here they are in the
-- encrypted store like the records, and go with it when it is erased.
-- Never edit this file once it has shipped: add a new, later-dated file.
CREATE TABLE drafts (
    -- `<kind>.<what>`: `household.new`, `resident.<id>`, `visit.new.<id>` …
    key TEXT PRIMARY KEY,
    -- The key's first part, so a kind's drafts are listed by an index.
    kind TEXT NOT NULL,
    -- The form's content, as JSON text.
    value TEXT NOT NULL,
    -- Unix ms, device clock: when the form last changed.
    saved_at INTEGER NOT NULL
) STRICT;
CREATE INDEX drafts_by_kind ON drafts (kind, saved_at);
