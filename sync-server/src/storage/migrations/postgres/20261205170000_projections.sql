-- The console's projections, as SQLite's 20261205150000_projections (see
-- sync-server/src/storage/projections.rs): one row per record in
-- `projections`, and for an incident one more in `incident_projections`
-- with its derived workflow state. Written in the transaction that stores
-- the document (commit_push); rebuilt from the documents by
-- `gridwork-server rebuild-projections`. Scope is not stored here: a list
-- joins `grids` on `grid` and filters by the grid path.
CREATE TABLE projections (
    id             UUID PRIMARY KEY REFERENCES docs (id),
    kind           TEXT NOT NULL,
    grid           TEXT COLLATE "C" NOT NULL,
    title          TEXT NOT NULL,     -- masked, as lists show it
    subtitle       TEXT NOT NULL,     -- masked
    status         TEXT NOT NULL,     -- review state or incident status ('' none)
    category       TEXT,
    urgency        TEXT,
    parent_id      UUID,              -- a resident's household, a visit's target
    created_at     BIGINT NOT NULL,
    created_by     TEXT NOT NULL,
    updated_at     BIGINT NOT NULL,   -- server clock of the last stored change
    deleted        BOOLEAN NOT NULL,
    return_comment TEXT,              -- the latest return's comment, while returned
    lon            DOUBLE PRECISION,  -- WGS-84, for the map
    lat            DOUBLE PRECISION
);
CREATE INDEX projections_grid ON projections (grid, kind, status);
CREATE INDEX projections_kind_updated ON projections (kind, updated_at, id);
CREATE INDEX projections_status_updated ON projections (status, updated_at);
CREATE INDEX projections_parent ON projections (parent_id) WHERE parent_id IS NOT NULL;

CREATE TABLE incident_projections (
    id               UUID PRIMARY KEY REFERENCES projections (id) ON DELETE CASCADE,
    number           TEXT NOT NULL,
    level            TEXT NOT NULL,   -- grid, street, district, city
    assignee_kind    TEXT,            -- department or person
    assignee_id      TEXT,
    assignee_name    TEXT,
    deadline         TEXT COLLATE "C", -- YYYY-MM-DD, working-day deadline
    escalations      BIGINT NOT NULL,
    resolved_on_spot BOOLEAN NOT NULL,
    feedback         TEXT,
    reported_at      BIGINT,
    accepted_at      BIGINT,
    resolved_at      BIGINT,
    closed_at        BIGINT
);
CREATE INDEX incident_projections_deadline ON incident_projections (deadline)
    WHERE deadline IS NOT NULL;
CREATE INDEX incident_projections_assignee ON incident_projections (assignee_kind, assignee_id);
CREATE INDEX incident_projections_level ON incident_projections (level);

