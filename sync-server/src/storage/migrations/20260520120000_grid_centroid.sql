-- Grids are core's `model::grid::Grid` now, which carries a centroid: the
-- boundary's (computed at import) or, for a node without a boundary, the
-- one the admin gave. JSON `[lon, lat]`; NULL when unknown.
ALTER TABLE grids ADD COLUMN centroid TEXT;
