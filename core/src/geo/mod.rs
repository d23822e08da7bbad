//! Grid geometry and patrol figures. This module owns the grid tree built
//! from GeoJSON or [`Grid`] records ([`GridTree`]), answers "which grid and
//! micro-grid is this point in" ([`GridTree::locate`]), turns stored
//! boundaries into `geo` polygons ([`boundary_of`]) and derives a patrol's
//! distance, time inside its grid and coverage ([`patrol_metrics`]).
//! Everything is WGS-84 longitude/latitude; converting to GCJ-02 or BD-09
//! for a Chinese base map is the display layer's business.
//!
//! # Patrol figures
//!
//! [`patrol_metrics`] takes a track (points in recording order) and the
//! grid's boundary. Each pair of consecutive points is a *segment*.
//!
//! - **GPS jumps.** A segment whose implied speed (its length divided by its
//!   duration) is above 10 m/s, faster than anyone walks or cycles on
//!   patrol, is a GPS jump; so is a segment that moves while its time does
//!   not increase. Points with a non-finite coordinate are skipped.
//! - **Distance walked** (`distance_m`): the sum of the haversine lengths
//!   (on a sphere of radius 6,371,008.8 m) of every segment that is not a
//!   GPS jump.
//! - **Time inside** (`inside_s`): the sum of the durations of the segments
//!   whose two ends both lie inside the boundary (a point on the boundary
//!   line counts as inside) and whose duration is at most 5 minutes; a
//!   longer gap means recording stopped, so that time is not counted.
//! - **Coverage** (`coverage_share`): the boundary's bounding box, projected
//!   to metres with a local equirectangular projection centred on the
//!   boundary's centroid, is divided into square cells of 20 m × 20 m
//!   starting at its south-west corner. The cells whose centre lies inside
//!   the boundary are the grid's cells (`cells_total`). A grid cell is
//!   visited (`cells_visited`) when its centre lies within 15 m of a
//!   *trusted* segment, one that is neither a GPS jump nor longer than
//!   5 minutes; the distance is measured to the straight line between the
//!   segment's two ends, so coverage is interpolated between fixes, and a
//!   lone fix that belongs to no trusted segment covers nothing. The share
//!   is visited ÷ total, from 0 to 1, and 0 when no cell centre lies inside
//!   the boundary. Only a boundary so large that it would need more than a
//!   million cells gets cells larger than 20 m.

mod error;
mod patrol;
mod tree;
mod valid;

pub use error::GeoError;
pub use patrol::{
    CELL_SIZE_M, CoveredCells, MAX_GAP_S, MAX_SPEED_M_S, PatrolMetrics, TrackPoint, VISIT_RADIUS_M,
    boundary_key, covered_cells, patrol_metrics,
};
pub use tree::{
    GridTree, Location, MAX_FEATURES, MAX_NAME_CHARS, MAX_RINGS_PER_NODE, MAX_VERTICES_PER_NODE,
    MAX_VERTICES_TOTAL, code_digits,
};

use ::geo::{Coord, LineString, MultiPolygon, Polygon};

use crate::model::grid::{Boundary, Grid};

/// China's rough bounding box in WGS-84 degrees: `(lon_min, lon_max)`.
/// Coordinates outside it are not WGS-84 `[lon, lat]` for a place in China.
pub const CHINA_LON: (f64, f64) = (73.0, 136.0);
/// China's rough bounding box in WGS-84 degrees: `(lat_min, lat_max)`.
pub const CHINA_LAT: (f64, f64) = (3.0, 54.0);

/// The grid's stored boundary as a `geo` multi-polygon (one polygon for a
/// GeoJSON `Polygon`), or `None` when the grid has no boundary or it holds
/// no ring.
pub fn boundary_of(grid: &Grid) -> Option<MultiPolygon<f64>> {
    grid.boundary.as_ref().and_then(to_multi_polygon)
}

/// Converts a stored boundary; polygons without an outline ring are left
/// out.
pub(crate) fn to_multi_polygon(boundary: &Boundary) -> Option<MultiPolygon<f64>> {
    let polygons: Vec<Polygon<f64>> = boundary
        .polygons()
        .into_iter()
        .filter_map(|rings| {
            let (outline, holes) = rings.split_first()?;
            Some(Polygon::new(
                ring(outline),
                holes.iter().map(|hole| ring(hole)).collect(),
            ))
        })
        .collect();
    if polygons.is_empty() {
        None
    } else {
        Some(MultiPolygon::new(polygons))
    }
}

fn ring(positions: &[[f64; 2]]) -> LineString<f64> {
    positions
        .iter()
        .map(|&[x, y]| Coord { x, y })
        .collect::<Vec<_>>()
        .into()
}

/// Whether a WGS-84 position lies in China's rough bounding box.
pub(crate) fn in_china(lon: f64, lat: f64) -> bool {
    (CHINA_LON.0..=CHINA_LON.1).contains(&lon) && (CHINA_LAT.0..=CHINA_LAT.1).contains(&lat)
}
