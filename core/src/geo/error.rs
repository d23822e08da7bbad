//! Why a grid tree could not be built.

use crate::model::grid::GridLevel;

/// A grid tree could not be built from GeoJSON or grid records.
///
/// Every variant about one feature names it by its `code` (or, when the code
/// itself is missing, by its position in the `features` array and its name),
/// so an admin importing a file knows which row to fix. [`GeoError::code`]
/// gives a stable identifier the UI can translate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GeoError {
    /// The text is not GeoJSON at all.
    #[error("not valid GeoJSON: {message}")]
    InvalidGeoJson {
        /// What the parser said.
        message: String,
    },
    /// The GeoJSON is a single feature or geometry, not a collection.
    #[error("expected a GeoJSON FeatureCollection, found a {found}")]
    NotFeatureCollection {
        /// The GeoJSON type found instead.
        found: &'static str,
    },
    /// A feature has no usable `code` property.
    #[error(
        "features[{index}]{}: property `code` is missing, empty, or neither a string nor a whole number",
        name_hint(.name)
    )]
    MissingCode {
        /// Position of the feature in the `features` array (from 0).
        index: usize,
        /// The feature's `name` property, if it has one, to help find it.
        name: Option<String>,
    },
    /// A feature's `code` (or the `parent` it names) is not of the
    /// documented form ([`crate::geo::code_digits`]): digits only, as many
    /// as its level has, extending its parent's code.
    #[error("features[{index}]{}: code {code:?} {reason}", name_hint(.name))]
    InvalidCode {
        /// Position of the feature in the `features` array (from 0).
        index: usize,
        /// The feature's `name` property, if it has one.
        name: Option<String>,
        /// The code as written (quoted with escapes when shown).
        code: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A feature's boundary has more vertices, or rings, than one grid may.
    #[error("grid {code}: the boundary has {count} {what}, at most {max} are allowed")]
    TooLarge {
        /// Code of the offending node.
        code: String,
        /// `vertices` or `rings`.
        what: &'static str,
        /// How many it has.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The file as a whole holds more features or vertices than a tree may.
    #[error("the file holds more than {max} {what} (counted up to features[{index}])")]
    TooLargeInTotal {
        /// `features` or `vertices`.
        what: &'static str,
        /// The limit.
        max: usize,
        /// The feature at which the count went over.
        index: usize,
    },
    /// A property other than `code` is missing or has an unusable value.
    #[error("grid {code}: property `{property}` {reason}")]
    InvalidProperty {
        /// Code of the offending node.
        code: String,
        /// The property (`name`, `level`, `parent`, `kind`, `centroid`).
        property: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Two nodes share a code.
    #[error("grid {code}: code appears more than once")]
    DuplicateCode {
        /// The repeated code.
        code: String,
    },
    /// A node names a parent that is not in the tree.
    #[error("grid {code}: parent {parent} does not exist")]
    UnknownParent {
        /// Code of the offending node.
        code: String,
        /// The parent code it names.
        parent: String,
    },
    /// A node's parent is at the same level or below it.
    #[error(
        "grid {code}: its level {level} is not below its parent {parent}'s level {parent_level}"
    )]
    ParentNotAbove {
        /// Code of the offending node.
        code: String,
        /// Its level.
        level: GridLevel,
        /// Its parent's code.
        parent: String,
        /// Its parent's level.
        parent_level: GridLevel,
    },
    /// A grid or micro-grid has no boundary polygon.
    #[error("grid {code}: a {level} needs a Polygon or MultiPolygon boundary")]
    MissingBoundary {
        /// Code of the offending node.
        code: String,
        /// Its level.
        level: GridLevel,
    },
    /// The boundary is not a usable polygon.
    #[error("grid {code}: invalid boundary: {reason}")]
    InvalidGeometry {
        /// Code of the offending node.
        code: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A position lies outside China's rough bounding box, so it is not
    /// WGS-84 `[lon, lat]` for a place in China.
    #[error(
        "grid {code}: position [{lon}, {lat}] is outside China (lon 73–136, lat 3–54){}",
        swapped_hint(*.swapped)
    )]
    OutsideChina {
        /// Code of the offending node.
        code: String,
        /// The position's first number (should be the longitude).
        lon: f64,
        /// The position's second number (should be the latitude).
        lat: f64,
        /// Whether `[lat, lon]` would have been inside: the usual mistake.
        swapped: bool,
    },
    /// The record says its coordinates are not WGS-84.
    #[error("grid {code}: crs {crs:?} is not supported; store WGS-84 (EPSG:4326)")]
    UnsupportedCrs {
        /// Code of the offending node.
        code: String,
        /// The CRS it names.
        crs: String,
    },
}

impl GeoError {
    /// A stable identifier for the kind of error (`"geo.unknown_parent"`),
    /// for the `{code, message}` shape the app and server return.
    pub fn code(&self) -> &'static str {
        match self {
            GeoError::InvalidGeoJson { .. } => "geo.invalid_geojson",
            GeoError::NotFeatureCollection { .. } => "geo.not_feature_collection",
            GeoError::MissingCode { .. } => "geo.missing_code",
            GeoError::InvalidCode { .. } => "geo.invalid_code",
            GeoError::TooLarge { .. } => "geo.too_large",
            GeoError::TooLargeInTotal { .. } => "geo.too_large_in_total",
            GeoError::InvalidProperty { .. } => "geo.invalid_property",
            GeoError::DuplicateCode { .. } => "geo.duplicate_code",
            GeoError::UnknownParent { .. } => "geo.unknown_parent",
            GeoError::ParentNotAbove { .. } => "geo.parent_not_above",
            GeoError::MissingBoundary { .. } => "geo.missing_boundary",
            GeoError::InvalidGeometry { .. } => "geo.invalid_geometry",
            GeoError::OutsideChina { .. } => "geo.outside_china",
            GeoError::UnsupportedCrs { .. } => "geo.unsupported_crs",
        }
    }
}

fn name_hint(name: &Option<String>) -> String {
    match name {
        Some(name) => format!(" (name {name:?})"),
        None => String::new(),
    }
}

fn swapped_hint(swapped: bool) -> &'static str {
    if swapped {
        "; it looks like [lat, lon], but GeoJSON positions are [lon, lat]"
    } else {
        ""
    }
}
