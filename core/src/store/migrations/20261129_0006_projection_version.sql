-- Which derivation of the list rows (projections) the stored rows were
-- written with. An app update that changes what a projection holds (a
-- tagged resident never visited is now due from registration) bumps
-- `PROJECTIONS_VERSION` in the code; opening the store then derives every
-- row again from its document, so lists and the due list are right after
-- the upgrade. Never edit this file once it has shipped.
CREATE TABLE projection_version (
    only INTEGER PRIMARY KEY CHECK (only = 1),
    version INTEGER NOT NULL
) STRICT;
INSERT INTO projection_version (only, version) VALUES (1, 0);
