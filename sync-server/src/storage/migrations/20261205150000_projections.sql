-- The console's projections (see sync-server/src/storage/projections.rs):
-- one row per record in `projections`, and for an incident one more in
-- `incident_projections` with its derived workflow state. Written in the
-- transaction that stores the document (commit_push), from core's
-- `Record::projection`; rebuilt from the documents by
-- `gridwork-server rebuild-projections`. Scope is not stored here: a list
-- joins `grids` on `grid` and filters by the grid path, so re-placing
-- grids never leaves a row behind.
CREATE TABLE projections (
    id             BLOB PRIMARY KEY REFERENCES docs (id),
    kind           TEXT NOT NULL,
    grid           TEXT NOT NULL,
    title          TEXT NOT NULL,     -- masked, as lists show it
    subtitle       TEXT NOT NULL,     -- masked
    status         TEXT NOT NULL,     -- review state or incident status ('' none)
    category       TEXT,
    urgency        TEXT,
    parent_id      BLOB,              -- a resident's household, a visit's target
    created_at     INTEGER NOT NULL,
    created_by     TEXT NOT NULL,
    updated_at     INTEGER NOT NULL,  -- server clock of the last stored change
    deleted        INTEGER NOT NULL,
    return_comment TEXT,              -- the latest return's comment, while returned
    lon            REAL,              -- WGS-84, for the map
    lat            REAL
) STRICT;
CREATE INDEX projections_grid ON projections (grid, kind, status);
CREATE INDEX projections_kind_updated ON projections (kind, updated_at, id);
CREATE INDEX projections_status_updated ON projections (status, updated_at);
CREATE INDEX projections_parent ON projections (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE incident_projections (
    id               BLOB PRIMARY KEY REFERENCES projections (id) ON DELETE CASCADE,
    number           TEXT NOT NULL,
    level            TEXT NOT NULL,   -- grid, street, district, city
    assignee_kind    TEXT,            -- department or person
    assignee_id      TEXT,
    assignee_name    TEXT,
    deadline         TEXT,            -- YYYY-MM-DD, working-day deadline
    escalations      INTEGER NOT NULL,
    resolved_on_spot INTEGER NOT NULL,
    feedback         TEXT,
    reported_at      INTEGER,
    accepted_at      INTEGER,
    resolved_at      INTEGER,
    closed_at        INTEGER
) STRICT;
CREATE INDEX incident_projections_deadline ON incident_projections (deadline)
    WHERE deadline IS NOT NULL;
CREATE INDEX incident_projections_assignee ON incident_projections (assignee_kind, assignee_id);
CREATE INDEX incident_projections_level ON incident_projections (level);
