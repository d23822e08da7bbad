-- Protocol version 3 pushes a change compact, without what the server
-- already knows; when the server cannot rebuild one
-- (`compact_unresolved`), the change is marked here and goes whole from
-- then on. Never edit this file once it has shipped.
ALTER TABLE outbox ADD COLUMN whole INTEGER NOT NULL DEFAULT 0;
