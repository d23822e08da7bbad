-- As SQLite's 20261206140000_list_pages: a page of one kind and status in
-- change order reads only that kind's rows.
DROP INDEX projections_status_updated;
CREATE INDEX projections_kind_status_updated ON projections (kind, status, updated_at, id);
