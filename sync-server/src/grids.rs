//! The grid tree: the server-owned reference data that scopes everything.
//!
//! Grids are imported from a GeoJSON FeatureCollection (one feature per
//! node, properties `code`, `name`, `level`, `parent`, `kind`) and stored
//! with their materialized path (`/city/district/…/code/`), so "the subtree
//! of a user's grid" is one range scan. This module parses and checks an
//! import on its own; the shared geometry code in `gridwork_core::geo` will
//! take over the polygon checks when it lands.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// A level of the grid tree, from the city down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GridLevel {
    City,
    District,
    Street,
    Community,
    Grid,
    MicroGrid,
}

impl GridLevel {
    /// The stable snake_case name.
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

    /// Parses [`GridLevel::as_str`]'s output.
    pub fn parse(s: &str) -> Option<GridLevel> {
        [
            GridLevel::City,
            GridLevel::District,
            GridLevel::Street,
            GridLevel::Community,
            GridLevel::Grid,
            GridLevel::MicroGrid,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
    }

    /// Grids and micro-grids are drawn on the map and must have a boundary.
    pub fn needs_boundary(self) -> bool {
        self >= GridLevel::Grid
    }
}

/// Comprehensive (综合) or dedicated (专属) grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GridKind {
    #[default]
    Comprehensive,
    Dedicated,
}

impl GridKind {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            GridKind::Comprehensive => "comprehensive",
            GridKind::Dedicated => "dedicated",
        }
    }

    /// Parses [`GridKind::as_str`]'s output.
    pub fn parse(s: &str) -> Option<GridKind> {
        match s {
            "comprehensive" => Some(GridKind::Comprehensive),
            "dedicated" => Some(GridKind::Dedicated),
            _ => None,
        }
    }
}

/// One node of the grid tree, as sent to devices at login.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    pub code: String,
    pub name: String,
    pub level: GridLevel,
    pub parent: Option<String>,
    pub kind: GridKind,
    /// GeoJSON geometry (Polygon or MultiPolygon, WGS-84), from grid level
    /// down.
    pub boundary: Option<serde_json::Value>,
}

/// Why a grid import was refused. Nothing is stored when any check fails.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("not a GeoJSON FeatureCollection: {0}")]
    NotGeoJson(String),
    #[error("feature {index}: {message}")]
    Feature { index: usize, message: String },
    #[error("grid code {0} appears more than once")]
    DuplicateCode(String),
    #[error("grid {code}: parent {parent} is neither in the file nor already imported")]
    MissingParent { code: String, parent: String },
    #[error("grid {code} (level {level}) cannot sit under {parent} (level {parent_level})")]
    LevelOrder {
        code: String,
        level: &'static str,
        parent: String,
        parent_level: &'static str,
    },
    #[error("grid {0} is its own ancestor")]
    Cycle(String),
}

/// Parses a FeatureCollection of grids and checks each feature on its own.
pub fn parse_geojson(text: &str) -> Result<Vec<Grid>, ImportError> {
    let collection: geojson::FeatureCollection = text
        .parse::<geojson::GeoJson>()
        .map_err(|e| ImportError::NotGeoJson(e.to_string()))
        .and_then(|g| {
            geojson::FeatureCollection::try_from(g)
                .map_err(|e| ImportError::NotGeoJson(e.to_string()))
        })?;
    collection
        .features
        .iter()
        .enumerate()
        .map(|(index, f)| {
            grid_from_feature(f).map_err(|message| ImportError::Feature { index, message })
        })
        .collect()
}

fn grid_from_feature(feature: &geojson::Feature) -> Result<Grid, String> {
    let text = |key: &str| -> Option<String> {
        feature
            .property(key)
            .and_then(|v| v.as_str())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let code = text("code").ok_or("property `code` is missing")?;
    if code.contains(['/', ',']) || code.chars().any(char::is_whitespace) {
        return Err(format!(
            "grid code {code:?} may not contain '/', ',' or spaces"
        ));
    }
    let name = text("name").ok_or_else(|| format!("grid {code}: property `name` is missing"))?;
    let level = text("level")
        .ok_or_else(|| format!("grid {code}: property `level` is missing"))
        .and_then(|l| {
            GridLevel::parse(&l).ok_or_else(|| {
                format!(
                    "grid {code}: unknown level {l:?} (city, district, street, community, grid, micro_grid)"
                )
            })
        })?;
    let kind = match text("kind") {
        None => GridKind::default(),
        Some(k) => GridKind::parse(&k)
            .ok_or_else(|| format!("grid {code}: unknown kind {k:?} (comprehensive, dedicated)"))?,
    };
    let boundary = match &feature.geometry {
        None => None,
        Some(geometry) => {
            check_geometry(&geometry.value).map_err(|e| format!("grid {code}: {e}"))?;
            Some(serde_json::to_value(geometry).map_err(|e| e.to_string())?)
        }
    };
    if boundary.is_none() && level.needs_boundary() {
        return Err(format!(
            "grid {code}: a {} needs a Polygon or MultiPolygon boundary",
            level.as_str()
        ));
    }
    Ok(Grid {
        code,
        name,
        level,
        parent: text("parent"),
        kind,
        boundary,
    })
}

fn check_geometry(value: &geojson::GeometryValue) -> Result<(), String> {
    use geojson::GeometryValue as G;
    match value {
        G::Polygon { coordinates } => check_polygon(coordinates),
        G::MultiPolygon { coordinates } if !coordinates.is_empty() => {
            coordinates.iter().try_for_each(check_polygon)
        }
        G::MultiPolygon { .. } => Err("an empty MultiPolygon".into()),
        other => Err(format!(
            "the boundary must be a Polygon or MultiPolygon, not a {}",
            other.type_name()
        )),
    }
}

fn check_polygon(rings: &geojson::PolygonType) -> Result<(), String> {
    if rings.is_empty() {
        return Err("a polygon without rings".into());
    }
    for ring in rings {
        if ring.len() < 4 {
            return Err("a ring needs at least 4 positions".into());
        }
        if ring.first() != ring.last() {
            return Err("a ring must end where it starts".into());
        }
        for position in ring {
            match position.as_slice() {
                [lon, lat, ..]
                    if (-180.0..=180.0).contains(lon) && (-90.0..=90.0).contains(lat) => {}
                other => return Err(format!("position {other:?} is not a WGS-84 lon/lat")),
            }
        }
    }
    Ok(())
}

/// A grid with its materialized path, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedGrid {
    pub grid: Grid,
    /// `/root/…/code/`
    pub path: String,
}

/// Checks an import against the grids already stored (`existing`, whose
/// nodes may be parents of new ones or be replaced by them) and computes
/// every path. Codes must be unique within the import, every parent must
/// exist, levels must go down, and the tree must have no cycle.
pub fn place(existing: &[Grid], import: &[Grid]) -> Result<Vec<PlacedGrid>, ImportError> {
    let mut seen = HashSet::new();
    for g in import {
        if !seen.insert(g.code.as_str()) {
            return Err(ImportError::DuplicateCode(g.code.clone()));
        }
    }
    // The import replaces stored nodes with the same code.
    let mut all: HashMap<&str, &Grid> = existing.iter().map(|g| (g.code.as_str(), g)).collect();
    for g in import {
        all.insert(g.code.as_str(), g);
    }
    for g in import {
        if let Some(parent) = &g.parent {
            let Some(p) = all.get(parent.as_str()) else {
                return Err(ImportError::MissingParent {
                    code: g.code.clone(),
                    parent: parent.clone(),
                });
            };
            if p.level >= g.level {
                return Err(ImportError::LevelOrder {
                    code: g.code.clone(),
                    level: g.level.as_str(),
                    parent: parent.clone(),
                    parent_level: p.level.as_str(),
                });
            }
        }
    }
    // Levels strictly go down, so a cycle is impossible once the order
    // check passed; the walk below still guards against one.
    let mut placed = Vec::with_capacity(all.len());
    for g in all.values() {
        let mut chain = vec![g.code.as_str()];
        let mut at = *g;
        while let Some(parent) = &at.parent {
            if chain.len() > all.len() {
                return Err(ImportError::Cycle(g.code.clone()));
            }
            chain.push(parent.as_str());
            at = all
                .get(parent.as_str())
                .ok_or_else(|| ImportError::MissingParent {
                    code: at.code.clone(),
                    parent: parent.clone(),
                })?;
        }
        chain.reverse();
        placed.push(PlacedGrid {
            grid: (*g).clone(),
            path: format!("/{}/", chain.join("/")),
        });
    }
    placed.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(placed)
}

/// The half-open range of paths `[lo, hi)` under `path`: every path that
/// starts with it. Paths end in `/`, and `0` is the next byte after `/`.
pub fn subtree_range(path: &str) -> (String, String) {
    let mut hi = path.strip_suffix('/').unwrap_or(path).to_string();
    hi.push('0');
    (path.to_string(), hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(lon: f64) -> serde_json::Value {
        serde_json::json!({"type": "Polygon", "coordinates": [[[lon, 23.0], [lon + 0.01, 23.0], [lon + 0.01, 23.01], [lon, 23.0]]]})
    }

    fn collection(features: &[serde_json::Value]) -> String {
        serde_json::json!({"type": "FeatureCollection", "features": features}).to_string()
    }

    fn feature(
        code: &str,
        level: &str,
        parent: Option<&str>,
        geometry: Option<serde_json::Value>,
    ) -> serde_json::Value {
        serde_json::json!({"type": "Feature", "geometry": geometry,
            "properties": {"code": code, "name": format!("{code}名"), "level": level, "parent": parent}})
    }

    #[test]
    fn a_tree_is_placed_with_paths() {
        let text = collection(&[
            feature("4401", "city", None, None),
            feature("440106", "district", Some("4401"), None),
            feature("440106001", "grid", Some("440106"), Some(square(113.3))),
        ]);
        let grids = parse_geojson(&text).unwrap();
        let placed = place(&[], &grids).unwrap();
        let paths: Vec<_> = placed.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["/4401/", "/4401/440106/", "/4401/440106/440106001/"]
        );
        let (lo, hi) = subtree_range("/4401/440106/");
        assert!(
            paths
                .iter()
                .filter(|p| **p >= lo.as_str() && **p < hi.as_str())
                .count()
                == 2
        );
        // A sibling whose code extends this one's is not inside it.
        assert!("/4401/4401060/" >= hi.as_str() || "/4401/4401060/" < lo.as_str());
    }

    #[test]
    fn bad_imports_say_what_is_wrong() {
        let missing_parent =
            collection(&[feature("g1", "grid", Some("nowhere"), Some(square(1.0)))]);
        let err = place(&[], &parse_geojson(&missing_parent).unwrap()).unwrap_err();
        assert!(matches!(err, ImportError::MissingParent { .. }), "{err}");

        let dup = collection(&[
            feature("c", "city", None, None),
            feature("c", "city", None, None),
        ]);
        assert!(matches!(
            place(&[], &parse_geojson(&dup).unwrap()),
            Err(ImportError::DuplicateCode(_))
        ));

        let upside_down = collection(&[
            feature("g", "grid", None, Some(square(1.0))),
            feature("c", "city", Some("g"), None),
        ]);
        assert!(matches!(
            place(&[], &parse_geojson(&upside_down).unwrap()),
            Err(ImportError::LevelOrder { .. })
        ));

        let no_boundary = collection(&[feature("g", "grid", None, None)]);
        assert!(parse_geojson(&no_boundary).is_err());

        let point = collection(&[feature(
            "g",
            "grid",
            None,
            Some(serde_json::json!({"type": "Point", "coordinates": [1.0, 2.0]})),
        )]);
        assert!(
            parse_geojson(&point)
                .unwrap_err()
                .to_string()
                .contains("Polygon")
        );

        assert!(matches!(
            parse_geojson("{}"),
            Err(ImportError::NotGeoJson(_))
        ));
    }
}
