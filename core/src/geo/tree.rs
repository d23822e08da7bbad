//! The grid tree: validated nodes, parent/child links and an R-tree over
//! grid and micro-grid boundaries for point location.

use std::collections::HashMap;
use std::fmt;

use ::geo::{Area, BoundingRect, Centroid, Intersects, MultiPolygon, Point, Polygon};
use geojson::{GeoJson, GeometryValue, JsonObject, JsonValue, Position};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::valid::{multi_polygon_error, polygon_error};
use super::{GeoError, in_china, to_multi_polygon};
use crate::model::grid::{Boundary, Grid, GridKind, GridLevel, WGS84};

/// Where a point falls in the grid tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    /// Code of the grid (网格) containing the point.
    pub grid: String,
    /// Code of the micro-grid (微网格) of that grid containing the point, if
    /// any.
    pub micro_grid: Option<String>,
}

/// A bounding box in the R-tree, tagged with the node's index in `grids`.
type IndexEntry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// The most vertices one node's boundary may have (every ring's
/// positions, as written). A grid's outline traced by hand or from a survey
/// has tens to hundreds; ten thousand is a district's coastline. A node's
/// boundary goes to every device of every user above it at login, so one
/// huge polygon makes every such login huge.
pub const MAX_VERTICES_PER_NODE: usize = 10_000;
/// The most rings (outlines and holes, over all its polygons) one node's
/// boundary may have.
pub const MAX_RINGS_PER_NODE: usize = 100;
/// The most vertices one import may hold in all.
pub const MAX_VERTICES_TOTAL: usize = 1_000_000;
/// The most features one import may hold (Guangzhou runs about 20,000
/// grids).
pub const MAX_FEATURES: usize = 200_000;

/// How many digits a node's code has at each level: the documented form of
/// codes (the demo's and the README's). A city is the first four digits
/// of its GB/T 2260 code (`4401`), or all six with their trailing `00`
/// (`440100`); a district its six (`440106`); a street or town adds three
/// (`440106001`), a community or village three more: the statistics
/// bureau's 12-digit division code (`440106001001`); a grid adds three
/// (`440106001001001`) and a micro-grid three more. Codes are digits only,
/// and a node's code begins with its parent's (a six-digit city's without
/// its `00`), so a code says where the node is and can never hold a `/`,
/// the separator of the server's stored paths.
pub fn code_digits(level: GridLevel) -> &'static [usize] {
    match level {
        GridLevel::City => &[4, 6],
        GridLevel::District => &[6],
        GridLevel::Street => &[9],
        GridLevel::Community => &[12],
        GridLevel::Grid => &[15],
        GridLevel::MicroGrid => &[18],
    }
}

/// Codes are digits only.
fn check_digits(code: &str) -> Result<(), String> {
    if code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("may hold only the digits 0-9".into())
    }
}

/// Whether `code` is of the documented form for a node at `level` under
/// `parent` ([`code_digits`]); `Err` says what is wrong.
fn check_code_form(code: &str, level: GridLevel, parent: Option<&str>) -> Result<(), String> {
    check_digits(code)?;
    let lengths = code_digits(level);
    if !lengths.contains(&code.len()) {
        let want = lengths
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        return Err(format!(
            "has {} digits; a {level} code has {want}",
            code.len()
        ));
    }
    if level == GridLevel::City && code.len() == 6 && !code.ends_with("00") {
        return Err("is a six-digit city code that does not end in 00".into());
    }
    if let Some(parent) = parent {
        let stem = if parent.len() == 6 && parent.ends_with("00") {
            &parent[..4]
        } else {
            parent
        };
        if stem.is_empty() || !code.starts_with(stem) || code.len() <= stem.len() {
            return Err(format!("does not begin with its parent's code {parent:?}"));
        }
    }
    Ok(())
}

/// A validated grid tree: every code unique, every parent present and at a
/// higher level, every grid and micro-grid with a boundary in China.
///
/// Nodes keep the order they were given in. Lookups by code are hash-map
/// lookups; [`GridTree::locate`] uses an R-tree over the bounding boxes of
/// grid and micro-grid boundaries, then an exact point-in-polygon test, so
/// it stays fast with tens of thousands of grids.
#[derive(Clone)]
pub struct GridTree {
    grids: Vec<Grid>,
    by_code: HashMap<String, usize>,
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
    /// Boundaries of grids and micro-grids (the nodes `locate` considers).
    shapes: Vec<Option<MultiPolygon<f64>>>,
    index: RTree<IndexEntry>,
}

impl fmt::Debug for GridTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The R-tree and polygons would print every vertex; the count is
        // what a reader of a log wants.
        f.debug_struct("GridTree")
            .field("nodes", &self.grids.len())
            .field("indexed", &self.index.size())
            .finish_non_exhaustive()
    }
}

impl PartialEq for GridTree {
    /// Two trees are equal when they hold the same nodes in the same order;
    /// everything else is derived from them.
    fn eq(&self, other: &Self) -> bool {
        self.grids == other.grids
    }
}

impl GridTree {
    /// Builds the tree from a GeoJSON FeatureCollection, one feature per
    /// node.
    ///
    /// Each feature's properties hold `code`, `name`, `level` (`"grid"`,
    /// `"micro_grid"` … or the Chinese 网格, 微网格, 社区 …), `parent` (a
    /// code, or null/absent for a root) and optionally `kind` (`"comprehensive"`
    /// / `"dedicated"` or 综合 / 专属) and, for a node without geometry,
    /// `centroid` (`[lon, lat]`). The geometry is a Polygon or MultiPolygon
    /// in WGS-84, required for grids and micro-grids and optional above.
    /// Codes and parents may also be written as integers. Positions beyond
    /// `[lon, lat]` (altitude) are dropped and unclosed rings are closed.
    ///
    /// An import is held to more than a stored tree: codes of the
    /// documented form ([`code_digits`]), names without control characters
    /// and at most [`MAX_NAME_CHARS`] long, boundaries valid by OGC Simple
    /// Features (no self-intersection, holes inside their outline, the parts
    /// of a MultiPolygon apart: `geo`'s `Validation` rules) of at most
    /// [`MAX_VERTICES_PER_NODE`] vertices and [`MAX_RINGS_PER_NODE`] rings,
    /// and at most [`MAX_FEATURES`] features and [`MAX_VERTICES_TOTAL`]
    /// vertices in all. Then everything [`GridTree::from_grids`] checks is
    /// checked. The first problem found is returned, naming the feature.
    pub fn from_geojson(text: &str) -> Result<GridTree, GeoError> {
        let geojson: GeoJson =
            text.parse()
                .map_err(|e: geojson::Error| GeoError::InvalidGeoJson {
                    message: e.to_string(),
                })?;
        let collection = match geojson {
            GeoJson::FeatureCollection(collection) => collection,
            GeoJson::Feature(_) => return Err(GeoError::NotFeatureCollection { found: "Feature" }),
            GeoJson::Geometry(_) => {
                return Err(GeoError::NotFeatureCollection { found: "Geometry" });
            }
        };
        if collection.features.len() > MAX_FEATURES {
            return Err(GeoError::TooLargeInTotal {
                what: "features",
                max: MAX_FEATURES,
                index: MAX_FEATURES,
            });
        }
        let mut vertices = 0usize;
        let mut grids = Vec::with_capacity(collection.features.len());
        for (index, feature) in collection.features.into_iter().enumerate() {
            let properties = feature.properties.unwrap_or_default();
            let geometry = feature.geometry.map(|g| g.value);
            let size = geometry.as_ref().map_or(0, |g| shape_size(g).0);
            // The feature's own limit first: it names the node.
            grids.push(grid_from_feature(index, &properties, geometry)?);
            vertices += size;
            if vertices > MAX_VERTICES_TOTAL {
                return Err(GeoError::TooLargeInTotal {
                    what: "vertices",
                    max: MAX_VERTICES_TOTAL,
                    index,
                });
            }
        }
        // What only an import is held to: stored trees are not re-checked
        // by `from_grids`, so a tree stored before these rules still loads.
        for grid in &mut grids {
            check_node(grid)?;
            check_shape(grid)?;
        }
        GridTree::from_grids(grids)
    }

    /// Builds the tree from grid records, checking that codes are unique,
    /// parents exist and sit at a higher level, grids and micro-grids have a
    /// boundary, every boundary ring has at least three distinct corners
    /// (unclosed rings are closed), every coordinate lies in China's rough
    /// bounding box (so it is WGS-84 `[lon, lat]`) and `crs` is
    /// `"EPSG:4326"`. The first problem found, in input order, is returned.
    ///
    /// The centroid of every node with a boundary is (re)computed, rounded
    /// to 1e-7° (about 1 cm); a node without a boundary keeps the centroid
    /// it was given.
    pub fn from_grids(mut grids: Vec<Grid>) -> Result<GridTree, GeoError> {
        for grid in &mut grids {
            check_node(grid)?;
        }

        let mut by_code = HashMap::with_capacity(grids.len());
        for (i, grid) in grids.iter().enumerate() {
            if by_code.insert(grid.code.clone(), i).is_some() {
                return Err(GeoError::DuplicateCode {
                    code: grid.code.clone(),
                });
            }
        }

        let mut parent = vec![None; grids.len()];
        let mut children = vec![Vec::new(); grids.len()];
        for (i, grid) in grids.iter().enumerate() {
            let Some(parent_code) = &grid.parent else {
                continue;
            };
            let Some(&p) = by_code.get(parent_code) else {
                return Err(GeoError::UnknownParent {
                    code: grid.code.clone(),
                    parent: parent_code.clone(),
                });
            };
            // Strictly above, so the links can never form a cycle.
            if grids[p].level >= grid.level {
                return Err(GeoError::ParentNotAbove {
                    code: grid.code.clone(),
                    level: grid.level,
                    parent: parent_code.clone(),
                    parent_level: grids[p].level,
                });
            }
            parent[i] = Some(p);
            children[p].push(i);
        }

        let mut shapes = Vec::with_capacity(grids.len());
        let mut entries = Vec::new();
        for (i, grid) in grids.iter_mut().enumerate() {
            let shape = grid.boundary.as_ref().and_then(to_multi_polygon);
            if let Some(shape) = &shape {
                grid.centroid = shape.centroid().map(|c| [round7(c.x()), round7(c.y())]);
            }
            let shape = shape.filter(|_| grid.level.needs_boundary());
            if let Some(rect) = shape.as_ref().and_then(|s| s.bounding_rect()) {
                let (min, max) = (rect.min(), rect.max());
                entries.push(GeomWithData::new(
                    Rectangle::from_corners([min.x, min.y], [max.x, max.y]),
                    i,
                ));
            }
            shapes.push(shape);
        }

        Ok(GridTree {
            grids,
            by_code,
            parent,
            children,
            shapes,
            index: RTree::bulk_load(entries),
        })
    }

    /// All nodes, in the order they were given.
    pub fn grids(&self) -> &[Grid] {
        &self.grids
    }

    /// The node with this code.
    pub fn get(&self, code: &str) -> Option<&Grid> {
        self.by_code.get(code).map(|&i| &self.grids[i])
    }

    /// The direct children of a node, in input order; empty for an unknown
    /// code.
    pub fn children(&self, code: &str) -> Vec<&Grid> {
        match self.by_code.get(code) {
            Some(&i) => self.children[i].iter().map(|&c| &self.grids[c]).collect(),
            None => Vec::new(),
        }
    }

    /// The ancestors of a node, nearest first (parent, grandparent, … root);
    /// empty for a root or an unknown code.
    pub fn ancestors(&self, code: &str) -> Vec<&Grid> {
        let mut out = Vec::new();
        let mut at = self.by_code.get(code).and_then(|&i| self.parent[i]);
        while let Some(i) = at {
            out.push(&self.grids[i]);
            at = self.parent[i];
        }
        out
    }

    /// The code itself and the codes of all its descendants, parents before
    /// children (depth first, children in input order); empty for an unknown
    /// code. This is what a user assigned to `code` may see.
    pub fn subtree_codes(&self, code: &str) -> Vec<String> {
        let Some(&root) = self.by_code.get(code) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(i) = stack.pop() {
            out.push(self.grids[i].code.clone());
            stack.extend(self.children[i].iter().rev());
        }
        out
    }

    /// Whether `code` is `ancestor_code` or lies below it. False when either
    /// code is unknown.
    pub fn is_within(&self, code: &str, ancestor_code: &str) -> bool {
        let (Some(&start), Some(&target)) =
            (self.by_code.get(code), self.by_code.get(ancestor_code))
        else {
            return false;
        };
        let mut at = Some(start);
        while let Some(i) = at {
            if i == target {
                return true;
            }
            at = self.parent[i];
        }
        false
    }

    /// Finds the grid, and the micro-grid within it, that contain a WGS-84
    /// point. A point on a boundary line counts as inside.
    ///
    /// Where several grids contain the point (on a shared edge, or a
    /// dedicated grid over a comprehensive one), a comprehensive grid wins
    /// over a dedicated one, then the smallest code; micro-grids are chosen
    /// among the chosen grid's descendants by the same rule. A point inside
    /// a micro-grid but outside every grid polygon (a sloppy boundary) is
    /// placed in the micro-grid's grid. `None` when no grid contains it.
    pub fn locate(&self, lon: f64, lat: f64) -> Option<Location> {
        let (grids, micro_grids) = self.holding(lon, lat);
        let grid = match self.best(grids.iter().copied()) {
            Some(g) => g,
            None => {
                let micro = self.best(micro_grids.iter().copied())?;
                self.grid_above(micro)?
            }
        };
        let micro_grid = self.best(
            micro_grids
                .iter()
                .copied()
                .filter(|&m| self.grid_above(m) == Some(grid)),
        );
        Some(Location {
            grid: self.grids[grid].code.clone(),
            micro_grid: micro_grid.map(|m| self.grids[m].code.clone()),
        })
    }

    /// Writes the tree as a GeoJSON FeatureCollection that
    /// [`GridTree::from_geojson`] reads back to an equal tree: properties
    /// `code`, `name`, `level`, `parent`, `kind`, plus `centroid` for nodes
    /// without a boundary.
    pub fn to_geojson(&self) -> String {
        let features: Vec<JsonValue> = self
            .grids
            .iter()
            .map(|grid| {
                let mut properties = serde_json::json!({
                    "code": grid.code,
                    "name": grid.name,
                    "level": grid.level,
                    "parent": grid.parent,
                    "kind": grid.kind,
                });
                if grid.boundary.is_none()
                    && let Some(centroid) = grid.centroid
                {
                    properties["centroid"] = serde_json::json!(centroid);
                }
                serde_json::json!({
                    "type": "Feature",
                    "properties": properties,
                    "geometry": grid.boundary,
                })
            })
            .collect();
        serde_json::json!({ "type": "FeatureCollection", "features": features }).to_string()
    }

    /// Among candidate nodes, the comprehensive one with the smallest code.
    /// Whether a WGS-84 point lies in the area of node `code`: inside (or
    /// on the line of) its own boundary or the boundary of a grid or
    /// micro-grid below it. This is the rule [`GridTree::locate`] places
    /// by: wherever `locate` over any part of the tree puts a point, the
    /// grid it answers contains the point here. `None` when `code` is
    /// unknown or neither it nor anything below it has a boundary to check
    /// against.
    pub fn contains(&self, code: &str, lon: f64, lat: f64) -> Option<bool> {
        self.by_code.get(code)?;
        let within = |i: usize| self.is_within(&self.grids[i].code, code);
        if !(0..self.grids.len()).any(|i| self.shapes[i].is_some() && within(i)) {
            return None;
        }
        let (grids, micro_grids) = self.holding(lon, lat);
        Some(grids.into_iter().chain(micro_grids).any(within))
    }

    /// Builds the tree of one user's subtree (a device's grids): a node
    /// whose parent is not among `grids` becomes a root. Otherwise as
    /// [`GridTree::from_grids`].
    pub fn from_subtree(mut grids: Vec<Grid>) -> Result<GridTree, GeoError> {
        let codes: std::collections::HashSet<String> =
            grids.iter().map(|g| g.code.clone()).collect();
        for grid in &mut grids {
            if grid.parent.as_ref().is_some_and(|p| !codes.contains(p)) {
                grid.parent = None;
            }
        }
        GridTree::from_grids(grids)
    }

    /// The grids and the micro-grids whose boundary holds the point (on
    /// the line counts), as indexes.
    fn holding(&self, lon: f64, lat: f64) -> (Vec<usize>, Vec<usize>) {
        let mut grids = Vec::new();
        let mut micro_grids = Vec::new();
        if !lon.is_finite() || !lat.is_finite() {
            return (grids, micro_grids);
        }
        let point = Point::new(lon, lat);
        for entry in self
            .index
            .locate_in_envelope_intersecting(&AABB::from_point([lon, lat]))
        {
            let i = entry.data;
            if !self.shapes[i]
                .as_ref()
                .is_some_and(|s| s.intersects(&point))
            {
                continue;
            }
            match self.grids[i].level {
                GridLevel::Grid => grids.push(i),
                _ => micro_grids.push(i),
            }
        }
        (grids, micro_grids)
    }

    fn best(&self, candidates: impl Iterator<Item = usize>) -> Option<usize> {
        candidates.min_by(|&a, &b| {
            let key = |i: usize| {
                (
                    self.grids[i].kind != GridKind::Comprehensive,
                    &self.grids[i].code,
                )
            };
            key(a).cmp(&key(b))
        })
    }

    /// The node itself if it is a grid, else its nearest grid-level
    /// ancestor.
    fn grid_above(&self, i: usize) -> Option<usize> {
        let mut at = Some(i);
        while let Some(n) = at {
            if self.grids[n].level == GridLevel::Grid {
                return Some(n);
            }
            at = self.parent[n];
        }
        None
    }
}

/// Rounds a coordinate to 1e-7 degree (about 1 cm).
fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// Checks one node on its own and normalizes its rings (closing them).
fn check_node(grid: &mut Grid) -> Result<(), GeoError> {
    let code = grid.code.clone();
    if grid.crs != WGS84 {
        return Err(GeoError::UnsupportedCrs {
            code,
            crs: grid.crs.clone(),
        });
    }
    let invalid = |reason: String| GeoError::InvalidGeometry {
        code: code.clone(),
        reason,
    };
    match &mut grid.boundary {
        None if grid.level.needs_boundary() => {
            return Err(GeoError::MissingBoundary {
                code,
                level: grid.level,
            });
        }
        None => {}
        Some(boundary) => {
            let polygons: Vec<&mut Vec<Vec<[f64; 2]>>> = match boundary {
                Boundary::Polygon { coordinates } => vec![coordinates],
                Boundary::MultiPolygon { coordinates } => coordinates.iter_mut().collect(),
            };
            if polygons.is_empty() {
                return Err(invalid("the MultiPolygon holds no polygon".into()));
            }
            for rings in polygons {
                if rings.is_empty() {
                    return Err(invalid("a polygon has no ring".into()));
                }
                for ring in rings {
                    close_ring(ring);
                    let corners = distinct_corners(ring);
                    if corners < 3 {
                        return Err(invalid(format!(
                            "a ring has {corners} distinct corners, at least 3 are needed"
                        )));
                    }
                }
            }
        }
    }
    let centroid = grid.centroid.filter(|_| grid.boundary.is_none());
    let positions = grid
        .boundary
        .iter()
        .flat_map(|b| b.positions())
        .chain(centroid);
    for [lon, lat] in positions {
        check_position(&code, lon, lat)?;
    }
    Ok(())
}

/// Closes a ring by repeating its first position, unless it already does.
fn close_ring(ring: &mut Vec<[f64; 2]>) {
    if let (Some(&first), Some(&last)) = (ring.first(), ring.last())
        && first != last
    {
        ring.push(first);
    }
}

fn distinct_corners(ring: &[[f64; 2]]) -> usize {
    let mut bits: Vec<[u64; 2]> = ring.iter().map(|p| p.map(f64::to_bits)).collect();
    bits.sort_unstable();
    bits.dedup();
    bits.len()
}

fn check_position(code: &str, lon: f64, lat: f64) -> Result<(), GeoError> {
    if !lon.is_finite() || !lat.is_finite() {
        return Err(GeoError::InvalidGeometry {
            code: code.to_owned(),
            reason: format!("position [{lon}, {lat}] is not a finite number"),
        });
    }
    if !in_china(lon, lat) {
        return Err(GeoError::OutsideChina {
            code: code.to_owned(),
            lon,
            lat,
            swapped: in_china(lat, lon),
        });
    }
    Ok(())
}

/// The longest grid name an import may give (names are shown on every
/// device and menu).
pub const MAX_NAME_CHARS: usize = 100;

/// Reads one feature into a grid record, checking what concerns the
/// feature alone: its code's form, its name, its boundary's size (the
/// tree's checks come later).
fn grid_from_feature(
    index: usize,
    properties: &JsonObject,
    geometry: Option<GeometryValue>,
) -> Result<Grid, GeoError> {
    let name_hint = || {
        properties
            .get("name")
            .and_then(JsonValue::as_str)
            .map(str::to_owned)
    };
    let Some(code) = properties.get("code").and_then(code_like) else {
        return Err(GeoError::MissingCode {
            index,
            name: name_hint(),
        });
    };
    let bad_code = |code: &str, reason: String| GeoError::InvalidCode {
        index,
        name: name_hint(),
        code: code.to_owned(),
        reason,
    };
    // Digits first: every later message names the node by its code.
    check_digits(&code).map_err(|reason| bad_code(&code, reason))?;
    let invalid = |property: &'static str, reason: String| GeoError::InvalidProperty {
        code: code.clone(),
        property,
        reason,
    };

    let name = match properties.get("name") {
        Some(JsonValue::String(name)) if !name.trim().is_empty() => name.clone(),
        _ => return Err(invalid("name", "is missing or empty".into())),
    };
    if name.chars().any(char::is_control) {
        return Err(invalid("name", "holds control characters".into()));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(
            "name",
            format!("is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    let level = match properties.get("level") {
        Some(JsonValue::String(level)) => level
            .parse::<GridLevel>()
            .map_err(|e| invalid("level", format!("is invalid: {e}")))?,
        _ => return Err(invalid("level", "is missing or not a string".into())),
    };
    let parent =
        match properties.get("parent") {
            None | Some(JsonValue::Null) => None,
            Some(value) => Some(code_like(value).ok_or_else(|| {
                invalid("parent", format!("must be a code or null, found {value}"))
            })?),
        };
    check_code_form(&code, level, parent.as_deref()).map_err(|reason| bad_code(&code, reason))?;
    let kind = match properties.get("kind") {
        None | Some(JsonValue::Null) => GridKind::default(),
        Some(JsonValue::String(kind)) => kind
            .parse::<GridKind>()
            .map_err(|e| invalid("kind", format!("is invalid: {e}")))?,
        Some(value) => return Err(invalid("kind", format!("must be a string, found {value}"))),
    };
    let centroid = match properties.get("centroid") {
        None | Some(JsonValue::Null) => None,
        Some(value) => Some(
            serde_json::from_value::<[f64; 2]>(value.clone())
                .map_err(|_| invalid("centroid", format!("must be [lon, lat], found {value}")))?,
        ),
    };
    let boundary = match geometry {
        None => None,
        Some(geometry) => {
            let (vertices, rings) = shape_size(&geometry);
            for (what, count, max) in [
                ("vertices", vertices, MAX_VERTICES_PER_NODE),
                ("rings", rings, MAX_RINGS_PER_NODE),
            ] {
                if count > max {
                    return Err(GeoError::TooLarge {
                        code,
                        what,
                        count,
                        max,
                    });
                }
            }
            Some(boundary_from_geojson(&code, geometry)?)
        }
    };

    Ok(Grid {
        code,
        name,
        level,
        parent,
        kind,
        boundary,
        crs: WGS84.to_owned(),
        centroid,
    })
}

/// The positions and rings of a (Multi)Polygon, as written; zero for
/// other geometries (refused later for their type).
fn shape_size(geometry: &GeometryValue) -> (usize, usize) {
    let polygon =
        |rings: &Vec<Vec<Position>>| (rings.iter().map(Vec::len).sum::<usize>(), rings.len());
    match geometry {
        GeometryValue::Polygon { coordinates } => polygon(coordinates),
        GeometryValue::MultiPolygon { coordinates } => coordinates
            .iter()
            .map(polygon)
            .fold((0, 0), |(v, r), (pv, pr)| (v + pv, r + pr)),
        _ => (0, 0),
    }
}

/// Refuses a boundary that is not a valid polygon by OGC Simple Features
/// (`geo`'s validation rules, checked by [`super::valid`]): rings crossing
/// themselves or each other, holes outside their outline, parts of a
/// MultiPolygon overlapping or sharing an edge. Point location and
/// coverage are meaningless on such a shape.
fn check_shape(grid: &Grid) -> Result<(), GeoError> {
    let Some(boundary) = &grid.boundary else {
        return Ok(());
    };
    let Some(shape) = to_multi_polygon(boundary) else {
        return Ok(());
    };
    let reason = match boundary {
        Boundary::Polygon { .. } => shape
            .0
            .iter()
            .find_map(polygon_error)
            .map(|e| e.to_string()),
        Boundary::MultiPolygon { .. } => multi_polygon_error(&shape).map(|e| e.to_string()),
    }
    .or_else(|| {
        // Valid by OGC, yet useless as a grid: an outline with no area
        // (its corners on one line) contains no point and no cell.
        shape
            .0
            .iter()
            .position(|p| Polygon::new(p.exterior().clone(), vec![]).unsigned_area() == 0.0)
            .map(|i| format!("polygon {i}'s outline encloses no area"))
    });
    match reason {
        Some(reason) => Err(GeoError::InvalidGeometry {
            code: grid.code.clone(),
            reason,
        }),
        None => Ok(()),
    }
}

/// A non-empty string, or an integer written as a number (codes are digits
/// and spreadsheets like to turn them into numbers).
fn code_like(value: &JsonValue) -> Option<String> {
    match value {
        JsonValue::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        JsonValue::Number(n) if n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

fn boundary_from_geojson(code: &str, geometry: GeometryValue) -> Result<Boundary, GeoError> {
    let invalid = |reason: String| GeoError::InvalidGeometry {
        code: code.to_owned(),
        reason,
    };
    let position = |p: &Position| match p.as_slice() {
        [lon, lat, ..] => Ok([*lon, *lat]),
        _ => Err(invalid(format!(
            "a position has {} numbers, need [lon, lat]",
            p.len()
        ))),
    };
    let polygon = |rings: &Vec<Vec<Position>>| {
        rings
            .iter()
            .map(|ring| ring.iter().map(position).collect::<Result<Vec<_>, _>>())
            .collect::<Result<Vec<_>, _>>()
    };
    match geometry {
        GeometryValue::Polygon { coordinates } => Ok(Boundary::Polygon {
            coordinates: polygon(&coordinates)?,
        }),
        GeometryValue::MultiPolygon { coordinates } => Ok(Boundary::MultiPolygon {
            coordinates: coordinates.iter().map(polygon).collect::<Result<_, _>>()?,
        }),
        other => Err(invalid(format!(
            "expected a Polygon or MultiPolygon, found a {}",
            other.type_name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/grid-tree.geojson");

    const SW: &str = "440106001001001";
    const NW: &str = "440106001001002";
    const SE: &str = "440106001002001";
    const NE: &str = "440106001002002";
    const WEST_MICRO: &str = "440106001001001001";
    const EAST_MICRO: &str = "440106001001001002";

    fn fixture() -> GridTree {
        GridTree::from_geojson(FIXTURE).expect("fixture is valid")
    }

    fn at(grid: &str, micro_grid: Option<&str>) -> Option<Location> {
        Some(Location {
            grid: grid.to_owned(),
            micro_grid: micro_grid.map(str::to_owned),
        })
    }

    /// The fixture with one feature's properties edited.
    fn edited(code: &str, edit: impl FnOnce(&mut JsonValue)) -> String {
        let mut value: JsonValue = serde_json::from_str(FIXTURE).unwrap();
        let feature = value["features"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|f| f["properties"]["code"] == code)
            .unwrap();
        edit(feature);
        value.to_string()
    }

    #[test]
    fn fixture_builds_the_tree_with_links_and_centroids() {
        let tree = fixture();
        assert_eq!(tree.grids().len(), 11);
        let sw = tree.get(SW).unwrap();
        assert_eq!(sw.name, "石牌西第1网格");
        assert_eq!(sw.level, GridLevel::Grid);
        let [lon, lat] = sw.centroid.unwrap();
        assert!((113.327..113.3301).contains(&lon) && (23.1269..23.1296).contains(&lat));
        assert_eq!(tree.get("440100").unwrap().centroid, None);

        let children: Vec<_> = tree.children(SW).iter().map(|g| g.code.as_str()).collect();
        assert_eq!(children, [WEST_MICRO, EAST_MICRO]);
        let ancestors: Vec<_> = tree.ancestors(WEST_MICRO).iter().map(|g| g.level).collect();
        assert_eq!(
            ancestors,
            [
                GridLevel::Grid,
                GridLevel::Community,
                GridLevel::Street,
                GridLevel::District,
                GridLevel::City
            ]
        );
        assert_eq!(
            tree.subtree_codes("440106001001"),
            ["440106001001", SW, WEST_MICRO, EAST_MICRO, NW]
        );
        assert_eq!(tree.subtree_codes("440100").len(), 11);
        assert!(tree.subtree_codes("nope").is_empty());

        assert!(tree.is_within(EAST_MICRO, "440106"));
        assert!(tree.is_within(SW, SW));
        assert!(!tree.is_within(SE, "440106001001"));
        assert!(!tree.is_within("440106", SW));
        assert!(!tree.is_within("nope", "440100"));
    }

    #[test]
    fn locates_points_in_grids_and_micro_grids() {
        let tree = fixture();
        assert_eq!(tree.locate(113.3278, 23.1280), at(SW, Some(WEST_MICRO)));
        assert_eq!(tree.locate(113.3292, 23.1280), at(SW, Some(EAST_MICRO)));
        // North third of the south-west grid: no micro-grid there.
        assert_eq!(tree.locate(113.3285, 23.1292), at(SW, None));
        assert_eq!(tree.locate(113.3285, 23.1310), at(NW, None));
        assert_eq!(tree.locate(113.3315, 23.1283), at(SE, None));
        assert_eq!(tree.locate(113.3315, 23.1310), at(NE, None));
    }

    #[test]
    fn locates_nothing_outside_every_grid() {
        let tree = fixture();
        assert_eq!(tree.locate(113.3400, 23.1400), None);
        // Just west of the west edge, inside its bounding box's latitude.
        assert_eq!(tree.locate(113.3265, 23.1280), None);
        assert_eq!(tree.locate(f64::NAN, 23.128), None);
        assert_eq!(tree.locate(23.128, 113.3278), None);
    }

    #[test]
    fn neighbouring_grids_split_at_their_shared_edge() {
        let tree = fixture();
        // The SW/SE edge runs near lon 113.33007 at this latitude.
        assert_eq!(tree.locate(113.32995, 23.1283), at(SW, None));
        assert_eq!(tree.locate(113.33020, 23.1283), at(SE, None));
        // The vertex all four grids share: smallest code wins.
        assert_eq!(tree.locate(113.33005, 23.12958), at(SW, None));
    }

    #[test]
    fn round_trips_the_fixture_through_geojson() {
        let tree = fixture();
        let again = GridTree::from_geojson(&tree.to_geojson()).unwrap();
        assert_eq!(again, tree);
        assert_eq!(again.locate(113.3278, 23.1280), at(SW, Some(WEST_MICRO)));
    }

    /// Found by the round-trip property: serde_json's default float parser
    /// read 113.77147599999999 back one ulp off.
    #[test]
    fn round_trip_keeps_seventeen_digit_coordinates() {
        let x = 113.769178 + 3.0 * 0.000766;
        assert_eq!(x.to_string(), "113.77147599999999");
        let mut grids = fixture().grids().to_vec();
        grids[5].boundary = Some(Boundary::Polygon {
            coordinates: vec![vec![[113.3, 23.12], [x, 23.12], [x, 23.13], [113.3, 23.12]]],
        });
        let tree = GridTree::from_grids(grids).unwrap();
        let again = GridTree::from_geojson(&tree.to_geojson()).unwrap();
        assert_eq!(again.grids(), tree.grids());
    }

    #[test]
    fn missing_code_names_the_feature() {
        let text = edited(NW, |f| {
            f["properties"].as_object_mut().unwrap().remove("code");
        });
        let err = GridTree::from_geojson(&text).unwrap_err();
        assert_eq!(err.code(), "geo.missing_code");
        let message = err.to_string();
        assert!(message.contains("features[6]"), "{message}");
        assert!(message.contains("石牌西第2网格"), "{message}");
    }

    #[test]
    fn unknown_parent_names_the_code() {
        // The fixture's city is 440100; its short form is not in the file.
        let text = edited(NE, |f| f["properties"]["parent"] = "4401".into());
        let err = GridTree::from_geojson(&text).unwrap_err();
        assert_eq!(err.code(), "geo.unknown_parent");
        let message = err.to_string();
        assert!(
            message.contains(NE) && message.contains("4401"),
            "{message}"
        );
    }

    #[test]
    fn child_above_its_parent_is_refused() {
        let at_level = |level: GridLevel| {
            let mut grids = fixture().grids().to_vec();
            let micro = grids.iter_mut().find(|g| g.code == WEST_MICRO).unwrap();
            micro.level = level;
            GridTree::from_grids(grids).unwrap_err()
        };
        let err = at_level(GridLevel::Community);
        assert_eq!(err.code(), "geo.parent_not_above");
        let message = err.to_string();
        assert!(
            message.contains(WEST_MICRO) && message.contains(SW),
            "{message}"
        );
        assert_eq!(at_level(GridLevel::Grid).code(), "geo.parent_not_above");

        // In an import the code already gives the level away.
        let text = edited(WEST_MICRO, |f| {
            f["properties"]["level"] = "community".into()
        });
        let err = GridTree::from_geojson(&text).unwrap_err();
        assert_eq!(err.code(), "geo.invalid_code");
        assert!(err.to_string().contains("a community code has 12"), "{err}");
    }

    #[test]
    fn swapped_lat_lon_is_refused_with_a_hint() {
        let text = edited(SE, |f| {
            for position in f["geometry"]["coordinates"][0].as_array_mut().unwrap() {
                let position = position.as_array_mut().unwrap();
                position.swap(0, 1);
            }
        });
        let err = GridTree::from_geojson(&text).unwrap_err();
        assert_eq!(err.code(), "geo.outside_china");
        let message = err.to_string();
        assert!(message.contains(SE), "{message}");
        assert!(message.contains("[lat, lon]"), "{message}");
        assert!(matches!(err, GeoError::OutsideChina { swapped: true, .. }));
    }

    #[test]
    fn other_mistakes_are_named() {
        let cases = [
            (
                edited(NW, |f| f["properties"]["code"] = SW.into()),
                "geo.duplicate_code",
                SW,
            ),
            (
                edited(NE, |f| f["geometry"] = JsonValue::Null),
                "geo.missing_boundary",
                NE,
            ),
            (
                edited(
                    NE,
                    |f| {
                        f["geometry"] =
                            serde_json::json!({"type": "Point", "coordinates": [113.33, 23.13]})
                    },
                ),
                "geo.invalid_geometry",
                NE,
            ),
            (
                edited(NE, |f| {
                    f["geometry"]["coordinates"][0] =
                        serde_json::json!([[113.33, 23.13], [113.331, 23.13], [113.33, 23.13]])
                }),
                "geo.invalid_geometry",
                NE,
            ),
            (
                edited(NE, |f| {
                    f["geometry"]["coordinates"][0] = serde_json::json!([
                        [113.33, 23.13],
                        [113.33, 23.13],
                        [113.331, 23.13],
                        [113.33, 23.13]
                    ])
                }),
                "geo.invalid_geometry",
                NE,
            ),
            (
                edited(NE, |f| f["properties"]["level"] = "neighbourhood".into()),
                "geo.invalid_property",
                NE,
            ),
            (
                edited(NE, |f| f["properties"]["name"] = "".into()),
                "geo.invalid_property",
                NE,
            ),
            (
                edited(NE, |f| f["properties"]["kind"] = "special".into()),
                "geo.invalid_property",
                NE,
            ),
        ];
        for (text, code, named) in cases {
            let err = GridTree::from_geojson(&text).unwrap_err();
            assert_eq!(err.code(), code, "{err}");
            assert!(err.to_string().contains(named), "{err}");
        }

        let err = GridTree::from_geojson("{\"type\": \"Point\", \"coordinates\": [113.3, 23.1]}")
            .unwrap_err();
        assert_eq!(err.code(), "geo.not_feature_collection");
        let err = GridTree::from_geojson("not json").unwrap_err();
        assert_eq!(err.code(), "geo.invalid_geojson");

        let mut grids = fixture().grids().to_vec();
        grids[5].crs = "GCJ-02".into();
        let err = GridTree::from_grids(grids).unwrap_err();
        assert_eq!(err.code(), "geo.unsupported_crs");
    }

    /// A closed ring of `n` vertices on a circle around the fixture's SE
    /// grid (valid, about 100 m across).
    fn circle(n: usize) -> JsonValue {
        let mut ring: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                [113.333 + 0.001 * a.cos(), 23.128 + 0.001 * a.sin()]
            })
            .collect();
        ring.push(ring[0]);
        serde_json::json!({"type": "Polygon", "coordinates": [ring]})
    }

    #[test]
    fn invalid_geometry_is_refused_naming_the_feature_and_the_reason() {
        let bow_tie = serde_json::json!({"type": "Polygon", "coordinates": [[
            [113.33, 23.13], [113.331, 23.131], [113.331, 23.13], [113.33, 23.131], [113.33, 23.13]
        ]]});
        let hole_outside = serde_json::json!({"type": "Polygon", "coordinates": [
            [[113.33, 23.13], [113.331, 23.13], [113.331, 23.131], [113.33, 23.131], [113.33, 23.13]],
            [[113.34, 23.14], [113.341, 23.14], [113.341, 23.141], [113.34, 23.14]]
        ]});
        let overlapping_parts = serde_json::json!({"type": "MultiPolygon", "coordinates": [
            [[[113.33, 23.13], [113.332, 23.13], [113.332, 23.132], [113.33, 23.132], [113.33, 23.13]]],
            [[[113.331, 23.131], [113.333, 23.131], [113.333, 23.133], [113.331, 23.133], [113.331, 23.131]]]
        ]});
        let flat = serde_json::json!({"type": "Polygon", "coordinates": [[
            [113.33, 23.13], [113.331, 23.13], [113.332, 23.13], [113.33, 23.13]
        ]]});
        for (shape, why) in [
            (flat, "no area"),
            (bow_tie, "self-intersection"),
            (hole_outside, "not contained"),
            (overlapping_parts, "overlap"),
        ] {
            let text = edited(SE, |f| f["geometry"] = shape);
            let err = GridTree::from_geojson(&text).unwrap_err();
            assert_eq!(err.code(), "geo.invalid_geometry", "{err}");
            let message = err.to_string();
            assert!(message.contains(SE) && message.contains(why), "{message}");
        }
    }

    #[test]
    fn boundaries_are_capped_per_node_and_in_total() {
        // At the cap a boundary is taken (and checked in reasonable time).
        let started = std::time::Instant::now();
        let text = edited(SE, |f| f["geometry"] = circle(MAX_VERTICES_PER_NODE - 1));
        assert!(GridTree::from_geojson(&text).is_ok());
        let took = started.elapsed();
        // geo's own validation took 23 s here (every pair of segments).
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");

        let text = edited(SE, |f| f["geometry"] = circle(MAX_VERTICES_PER_NODE));
        let err = GridTree::from_geojson(&text).unwrap_err();
        assert_eq!(err.code(), "geo.too_large", "{err}");
        assert!(err.to_string().contains(SE), "{err}");

        let text = edited(SE, |f| {
            let ring = f["geometry"]["coordinates"][0].clone();
            f["geometry"]["coordinates"] = JsonValue::Array(vec![ring; MAX_RINGS_PER_NODE + 1]);
        });
        let err = GridTree::from_geojson(&text).unwrap_err();
        assert_eq!(err.code(), "geo.too_large", "{err}");
        assert!(err.to_string().contains("rings"), "{err}");

        // Many nodes, each under the cap, over the total.
        let mut value: JsonValue = serde_json::from_str(FIXTURE).unwrap();
        let features = value["features"].as_array_mut().unwrap();
        let per = MAX_VERTICES_PER_NODE - 1;
        for i in 0..=(MAX_VERTICES_TOTAL / per) {
            features.push(serde_json::json!({"type": "Feature",
                "properties": {"code": format!("440106001001{:03}", 100 + i), "name": "大", "level": "grid", "parent": "440106001001"},
                "geometry": circle(per - 1)}));
        }
        let err = GridTree::from_geojson(&value.to_string()).unwrap_err();
        assert_eq!(err.code(), "geo.too_large_in_total", "{err}");
    }

    #[test]
    fn codes_must_have_the_documented_form() {
        let cases = [
            // A slash made a root inside another community's stored path.
            (
                edited(SE, |f| f["properties"]["code"] = "440106001001/9".into()),
                "digits",
            ),
            (
                edited(SE, |f| f["properties"]["code"] = "44010600100200".into()),
                "15",
            ),
            // A grid whose code is not under its parent's.
            (
                edited(SE, |f| f["properties"]["code"] = "440106001003001".into()),
                "parent",
            ),
            (
                edited(SE, |f| f["properties"]["parent"] = "4401060010/2".into()),
                "parent",
            ),
            (
                edited("440100", |f| f["properties"]["code"] = "440101".into()),
                "00",
            ),
        ];
        for (text, why) in cases {
            let err = GridTree::from_geojson(&text).unwrap_err();
            assert_eq!(err.code(), "geo.invalid_code", "{err}");
            assert!(err.to_string().contains(why), "{err}");
        }
        // The message quotes a code with escapes: it cannot drive a terminal.
        let text = edited(SE, |f| f["properties"]["code"] = "4401\u{1b}[2J".into());
        let err = GridTree::from_geojson(&text).unwrap_err().to_string();
        assert!(
            !err.contains('\u{1b}') && err.contains("features[7]"),
            "{err}"
        );

        for name in ["第1网格\n[INFO] forged", &"长".repeat(MAX_NAME_CHARS + 1)] {
            let text = edited(SE, |f| f["properties"]["name"] = name.into());
            let err = GridTree::from_geojson(&text).unwrap_err();
            assert_eq!(err.code(), "geo.invalid_property", "{err}");
        }
        // A four-digit city code works as well as GB/T 2260's six.
        let mut value: JsonValue = serde_json::from_str(FIXTURE).unwrap();
        for f in value["features"].as_array_mut().unwrap() {
            for key in ["code", "parent"] {
                if f["properties"][key] == "440100" {
                    f["properties"][key] = "4401".into();
                }
            }
        }
        assert!(GridTree::from_geojson(&value.to_string()).is_ok());
    }

    #[test]
    fn accepts_integer_codes_unclosed_rings_and_altitudes() {
        let text = r#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"code": 440106001001, "name": "社区", "level": "社区", "parent": null}, "geometry": null},
            {"type": "Feature", "properties": {"code": "440106001001001", "name": "网格", "level": "网格", "parent": 440106001001},
             "geometry": {"type": "MultiPolygon", "coordinates": [[[[113.3, 23.1, 12.0], [113.31, 23.1, 12.0], [113.31, 23.11, 12.0]]]]}}
        ]}"#;
        let tree = GridTree::from_geojson(text).unwrap();
        let grid = tree.get("440106001001001").unwrap();
        assert_eq!(grid.parent.as_deref(), Some("440106001001"));
        assert_eq!(
            grid.boundary,
            Some(Boundary::MultiPolygon {
                coordinates: vec![vec![vec![
                    [113.3, 23.1],
                    [113.31, 23.1],
                    [113.31, 23.11],
                    [113.3, 23.1]
                ]]]
            })
        );
        assert!(tree.locate(113.308, 23.102).is_some());
    }

    /// A lattice of `n × n` square grids 300 m wide, each split into two
    /// micro-grids (west and east halves), under one community.
    fn lattice(n: usize) -> Vec<Grid> {
        let step = 0.003;
        let square = |x: f64, y: f64, w: f64| Boundary::Polygon {
            coordinates: vec![vec![
                [x, y],
                [x + w, y],
                [x + w, y + step],
                [x, y + step],
                [x, y],
            ]],
        };
        let mut grids = vec![Grid {
            code: "440106001001".into(),
            name: "社区".into(),
            level: GridLevel::Community,
            parent: None,
            kind: GridKind::Comprehensive,
            boundary: None,
            crs: WGS84.into(),
            centroid: None,
        }];
        for i in 0..n {
            for j in 0..n {
                let (x, y) = (113.0 + i as f64 * step, 23.0 + j as f64 * step);
                let code = format!("440106001001{i:03}{j:03}");
                for (half, dx) in [("1", 0.0), ("2", step / 2.0)] {
                    grids.push(Grid {
                        code: format!("{code}{half}"),
                        name: format!("微网格{i}-{j}-{half}"),
                        level: GridLevel::MicroGrid,
                        parent: Some(code.clone()),
                        kind: GridKind::Comprehensive,
                        boundary: Some(square(x + dx, y, step / 2.0)),
                        crs: WGS84.into(),
                        centroid: None,
                    });
                }
                grids.push(Grid {
                    code,
                    name: format!("网格{i}-{j}"),
                    level: GridLevel::Grid,
                    parent: Some("440106001001".into()),
                    kind: GridKind::Comprehensive,
                    boundary: Some(square(x, y, step)),
                    crs: WGS84.into(),
                    centroid: None,
                });
            }
        }
        grids
    }

    #[test]
    fn locates_among_thousands_of_grids() {
        let n = 50;
        let tree = GridTree::from_grids(lattice(n)).unwrap();
        assert_eq!(tree.grids().len(), 1 + 3 * n * n);
        for k in 0..1000 {
            // Points strictly inside cells, spread over the lattice.
            let (fi, fj) = (
                (k * 37 % 1000) as f64 / 1000.0,
                (k * 91 % 1000) as f64 / 1000.0,
            );
            let (i, j) = ((fi * n as f64) as usize, (fj * n as f64) as usize);
            let lon = 113.0 + (i as f64 + 0.3) * 0.003;
            let lat = 23.0 + (j as f64 + 0.6) * 0.003;
            let code = format!("440106001001{i:03}{j:03}");
            assert_eq!(tree.locate(lon, lat), at(&code, Some(&format!("{code}1"))));
        }
        assert_eq!(tree.locate(112.99, 23.01), None);
    }

    #[test]
    fn debug_output_stays_short() {
        let tree = GridTree::from_grids(lattice(10)).unwrap();
        assert!(format!("{tree:?}").len() < 100);
    }

    /// Random trees: levels below random earlier parents, rectangles or
    /// two-part multi-polygons on arbitrary (not rounded) coordinates.
    fn arb_tree() -> impl Strategy<Value = Vec<Grid>> {
        let node = (
            any::<prop::sample::Index>(),
            0usize..3,
            any::<bool>(),
            0u8..3,
            (113.0..114.0f64, 22.5..23.5f64, 1e-4..5e-3f64, 1e-4..5e-3f64),
            "[a-z0-9 ]{0,4}[网格社区微东西南北]{1,4}",
        );
        prop::collection::vec(node, 0..25).prop_map(|nodes| {
            let mut grids = vec![Grid {
                code: "4401".into(),
                name: "广州市".into(),
                level: GridLevel::City,
                parent: None,
                kind: GridKind::Comprehensive,
                boundary: None,
                crs: WGS84.into(),
                centroid: Some([113.264385, 23.129112]),
            }];
            for (k, (pick, skip, dedicated, shape, (x, y, w, h), name)) in
                nodes.into_iter().enumerate()
            {
                let open: Vec<&Grid> = grids
                    .iter()
                    .filter(|g| g.level < GridLevel::MicroGrid)
                    .collect();
                let parent = open[pick.index(open.len())];
                let depth = parent.level as usize + 1 + skip;
                let level = GridLevel::ALL[depth.min(GridLevel::ALL.len() - 1)];
                let rect = |x: f64, y: f64| {
                    vec![vec![[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]]
                };
                let boundary = match (shape, level.needs_boundary()) {
                    (0, false) => None,
                    (2, _) => Some(Boundary::MultiPolygon {
                        coordinates: vec![rect(x, y), rect(x + 2.0 * w, y)],
                    }),
                    _ => Some(Boundary::Polygon {
                        coordinates: rect(x, y),
                    }),
                };
                // The documented form: the parent's code and a serial
                // filling the level's digits (never 0, so no two paths meet).
                let width = code_digits(level)[0] - parent.code.len();
                let code = format!("{}{:0width$}", parent.code, k + 1);
                grids.push(Grid {
                    code,
                    name,
                    level,
                    parent: Some(parent.code.clone()),
                    kind: if dedicated {
                        GridKind::Dedicated
                    } else {
                        GridKind::Comprehensive
                    },
                    boundary,
                    crs: WGS84.into(),
                    centroid: None,
                });
            }
            grids
        })
    }

    proptest! {
        #[test]
        fn geojson_round_trip_keeps_the_tree(grids in arb_tree()) {
            let tree = GridTree::from_grids(grids).unwrap();
            let again = GridTree::from_geojson(&tree.to_geojson()).unwrap();
            prop_assert_eq!(again.grids(), tree.grids());
            for grid in tree.grids() {
                prop_assert_eq!(again.subtree_codes(&grid.code), tree.subtree_codes(&grid.code));
                if let Some([lon, lat]) = grid.centroid.filter(|_| grid.level == GridLevel::Grid) {
                    prop_assert_eq!(again.locate(lon, lat), tree.locate(lon, lat));
                }
            }
        }
    }
}
