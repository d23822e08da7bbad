//! The grid reference record: one node of the grid tree (city → district →
//! street → community → grid → micro-grid), with its code, parent, kind and,
//! from grid level down, a WGS-84 boundary. Grids are reference data set up
//! by an admin, not documents edited in the field; [`crate::geo`] builds the
//! tree from them and answers "which grid is this point in".

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The coordinate reference system every stored boundary and centroid uses:
/// WGS-84 longitude/latitude (what GPS gives and what GeoJSON requires).
pub const WGS84: &str = "EPSG:4326";

/// A level of the grid tree, ordered from the top (city) to the bottom
/// (micro-grid): `City < District < … < MicroGrid`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum GridLevel {
    /// City (市).
    City,
    /// District or county (区/县).
    District,
    /// Street or town (街道/镇).
    Street,
    /// Community or village (社区/村).
    Community,
    /// Grid (网格): the unit one grid worker owns.
    Grid,
    /// Micro-grid (微网格): a part of a grid, often a few buildings.
    MicroGrid,
}

impl GridLevel {
    /// Every level, from the top of the tree down.
    pub const ALL: [GridLevel; 6] = [
        GridLevel::City,
        GridLevel::District,
        GridLevel::Street,
        GridLevel::Community,
        GridLevel::Grid,
        GridLevel::MicroGrid,
    ];

    /// The snake_case name used in JSON and GeoJSON (`"micro_grid"`).
    pub fn as_str(self) -> &'static str {
        match self {
            GridLevel::City => "city",
            GridLevel::District => "district",
            GridLevel::Street => "street",
            GridLevel::Community => "community",
            GridLevel::Grid => "grid",
            GridLevel::MicroGrid => "micro_grid",
        }
    }

    /// The Chinese label users know (市, 区县, 街道镇, 社区村, 网格, 微网格).
    pub fn label_zh(self) -> &'static str {
        match self {
            GridLevel::City => "市",
            GridLevel::District => "区县",
            GridLevel::Street => "街道镇",
            GridLevel::Community => "社区村",
            GridLevel::Grid => "网格",
            GridLevel::MicroGrid => "微网格",
        }
    }

    /// The level directly above this one, or `None` for a city.
    pub fn parent_level(self) -> Option<GridLevel> {
        match self {
            GridLevel::City => None,
            GridLevel::District => Some(GridLevel::City),
            GridLevel::Street => Some(GridLevel::District),
            GridLevel::Community => Some(GridLevel::Street),
            GridLevel::Grid => Some(GridLevel::Community),
            GridLevel::MicroGrid => Some(GridLevel::Grid),
        }
    }

    /// Whether a node at this level must have a boundary polygon: grids and
    /// micro-grids do, the administrative levels above may.
    pub fn needs_boundary(self) -> bool {
        self >= GridLevel::Grid
    }
}

impl fmt::Display for GridLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was neither a level name (`"grid"`) nor a Chinese label (`"网格"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown grid level {0:?} (expected city, district, street, community, grid, micro_grid or 市/区县/街道镇/社区村/网格/微网格)"
)]
pub struct ParseGridLevelError(pub String);

impl FromStr for GridLevel {
    type Err = ParseGridLevelError;

    /// Accepts the snake_case names and the Chinese labels, including the
    /// short forms admins type (区, 县, 街道, 镇, 乡, 社区, 村).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let level = match s.trim() {
            "city" | "市" => GridLevel::City,
            "district" | "county" | "区县" | "区" | "县" => GridLevel::District,
            "street" | "town" | "街道镇" | "街道" | "镇" | "乡" | "乡镇" => {
                GridLevel::Street
            }
            "community" | "village" | "社区村" | "社区" | "村" => GridLevel::Community,
            "grid" | "网格" => GridLevel::Grid,
            "micro_grid" | "microgrid" | "微网格" => GridLevel::MicroGrid,
            other => return Err(ParseGridLevelError(other.to_owned())),
        };
        Ok(level)
    }
}

/// Whether a grid covers everything in its area or serves one department or
/// site (a school, a hospital, an industrial park).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum GridKind {
    /// Comprehensive grid (综合网格): the default, one per area.
    #[default]
    Comprehensive,
    /// Dedicated grid (专属网格): a site or department with its own worker.
    Dedicated,
}

impl GridKind {
    /// The snake_case name used in JSON and GeoJSON.
    pub fn as_str(self) -> &'static str {
        match self {
            GridKind::Comprehensive => "comprehensive",
            GridKind::Dedicated => "dedicated",
        }
    }

    /// The Chinese label (综合, 专属).
    pub fn label_zh(self) -> &'static str {
        match self {
            GridKind::Comprehensive => "综合",
            GridKind::Dedicated => "专属",
        }
    }
}

impl fmt::Display for GridKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was neither a kind name nor its Chinese label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown grid kind {0:?} (expected comprehensive, dedicated, 综合 or 专属)")]
pub struct ParseGridKindError(pub String);

impl FromStr for GridKind {
    type Err = ParseGridKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "comprehensive" | "综合" | "综合网格" => Ok(GridKind::Comprehensive),
            "dedicated" | "专属" | "专属网格" => Ok(GridKind::Dedicated),
            other => Err(ParseGridKindError(other.to_owned())),
        }
    }
}

/// A GeoJSON `Polygon` or `MultiPolygon` geometry in WGS-84.
///
/// Serializes exactly as the GeoJSON geometry object
/// (`{"type": "Polygon", "coordinates": [[[lon, lat], …]]}`), so it can be
/// handed to a map as is. Every position is `[longitude, latitude]` in
/// degrees; the first ring of a polygon is its outline, the others are holes,
/// and each ring is closed (its last position repeats the first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(tag = "type")]
pub enum Boundary {
    /// One polygon: an outline ring followed by any hole rings.
    Polygon {
        /// Rings of `[lon, lat]` positions.
        coordinates: Vec<Vec<[f64; 2]>>,
    },
    /// Several polygons, for a grid split by a road or river.
    MultiPolygon {
        /// Polygons, each a list of rings of `[lon, lat]` positions.
        coordinates: Vec<Vec<Vec<[f64; 2]>>>,
    },
}

impl Boundary {
    /// The polygons as lists of rings, whichever variant this is.
    pub fn polygons(&self) -> Vec<&[Vec<[f64; 2]>]> {
        match self {
            Boundary::Polygon { coordinates } => vec![coordinates.as_slice()],
            Boundary::MultiPolygon { coordinates } => {
                coordinates.iter().map(|p| p.as_slice()).collect()
            }
        }
    }

    /// Every position of every ring.
    pub fn positions(&self) -> impl Iterator<Item = [f64; 2]> + '_ {
        self.polygons()
            .into_iter()
            .flat_map(|rings| rings.iter().flatten().copied())
    }
}

fn default_crs() -> String {
    WGS84.to_owned()
}

/// One node of the grid tree (网格), as set up by an admin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Grid {
    /// Unique code, by convention the parent's code plus a few digits
    /// (`"440106001001001"`: district 440106, street 001, community 001,
    /// grid 001).
    pub code: String,
    /// Name shown to users (`"石牌西第1网格"`).
    pub name: String,
    /// Level in the tree.
    pub level: GridLevel,
    /// Code of the parent node; `None` for the root of a tree.
    #[serde(default)]
    pub parent: Option<String>,
    /// Comprehensive (综合) or dedicated (专属).
    #[serde(default)]
    pub kind: GridKind,
    /// Boundary polygon in WGS-84; required from grid level down, optional
    /// above.
    #[serde(default)]
    pub boundary: Option<Boundary>,
    /// Coordinate reference system of `boundary` and `centroid`; always
    /// `"EPSG:4326"` (WGS-84). Base maps in GCJ-02 or BD-09 convert only for
    /// display.
    #[serde(default = "default_crs")]
    pub crs: String,
    /// Centroid of the boundary as `[lon, lat]`, computed when the tree is
    /// built; for a node without a boundary, whatever the admin gave.
    #[serde(default)]
    pub centroid: Option<[f64; 2]>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_by_depth_and_chain_up() {
        let mut level = GridLevel::MicroGrid;
        let mut chain = vec![level];
        while let Some(up) = level.parent_level() {
            assert!(up < level);
            chain.push(up);
            level = up;
        }
        chain.reverse();
        assert_eq!(chain, GridLevel::ALL);
    }

    #[test]
    fn levels_parse_from_names_and_chinese_labels() {
        for level in GridLevel::ALL {
            assert_eq!(level.as_str().parse::<GridLevel>(), Ok(level));
            assert_eq!(level.label_zh().parse::<GridLevel>(), Ok(level));
            let json = serde_json::to_string(&level).unwrap();
            assert_eq!(json, format!("\"{}\"", level.as_str()));
        }
        assert_eq!("社区".parse::<GridLevel>(), Ok(GridLevel::Community));
        assert!("neighbourhood".parse::<GridLevel>().is_err());
    }

    #[test]
    fn grid_serializes_boundary_as_geojson_geometry() {
        let grid = Grid {
            code: "440106001001001".into(),
            name: "石牌西第1网格".into(),
            level: GridLevel::Grid,
            parent: Some("440106001001".into()),
            kind: GridKind::Comprehensive,
            boundary: Some(Boundary::Polygon {
                coordinates: vec![vec![
                    [113.327, 23.127],
                    [113.33, 23.127],
                    [113.33, 23.13],
                    [113.327, 23.127],
                ]],
            }),
            crs: WGS84.into(),
            centroid: None,
        };
        let value = serde_json::to_value(&grid).unwrap();
        assert_eq!(value["boundary"]["type"], "Polygon");
        assert_eq!(value["boundary"]["coordinates"][0][1][0], 113.33);
        let back: Grid = serde_json::from_value(value).unwrap();
        assert_eq!(back, grid);

        let minimal: Grid =
            serde_json::from_str(r#"{"code": "440100", "name": "广州市", "level": "city"}"#)
                .unwrap();
        assert_eq!(minimal.crs, WGS84);
        assert_eq!(minimal.kind, GridKind::Comprehensive);
    }

    #[test]
    fn grid_has_a_json_schema() {
        let schema = schemars::schema_for!(Grid);
        let text = serde_json::to_string(&schema).unwrap();
        assert!(text.contains("MultiPolygon"));
        assert!(text.contains("micro_grid"));
    }
}
