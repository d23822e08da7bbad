-- Whether a record on this device has ever referenced a photo. A photo
-- taken for a form not saved yet is referenced by nothing (the draft lives
-- in the UI) and must stay; one a record referenced and no record
-- references any more (removed from the record, here or on another
-- device) is dropped. Never edit this file once it has shipped.
ALTER TABLE photos ADD COLUMN referenced INTEGER NOT NULL DEFAULT 0;
UPDATE photos SET referenced = 1
WHERE sha256 IN (SELECT sha256 FROM photo_refs);
