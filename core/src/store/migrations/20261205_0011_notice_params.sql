-- A server notice is a code and its params, translated by the app, no
-- longer the server's Chinese and English sentences (docs/protocol.md,
-- section 4). Notices kept from before have no params: the app shows their
-- code's message without them. Never edit this file once it has shipped.
ALTER TABLE notices ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
ALTER TABLE notices DROP COLUMN message_zh;
ALTER TABLE notices DROP COLUMN message_en;
