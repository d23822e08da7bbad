-- A server refusal is a code and its params, translated by the app, no
-- longer the server's Chinese and English sentence (docs/protocol.md,
-- section 4). Refusals kept from before have no params: the app shows
-- their code's message without them. Never edit this file once it has
-- shipped.
ALTER TABLE rejections ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
ALTER TABLE rejections DROP COLUMN message;
