//! The grid tree: the server-owned reference data that scopes everything.
//!
//! Grids are imported from a GeoJSON FeatureCollection (one feature per
//! node) and stored with their materialized path (`/city/district/…/code/`),
//! so "the subtree of a user's grid" is one range scan. Parsing and every
//! check (codes, parents, levels, boundaries) are core's
//! [`GridTree::from_geojson`], the same code the app runs; this module only
//! merges an import with what is stored and computes the paths.

use std::collections::HashSet;

pub use gridwork_core::geo::GeoError;
use gridwork_core::geo::GridTree;
pub use gridwork_core::model::grid::{Grid, GridKind, GridLevel};

/// A grid with its materialized path, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedGrid {
    pub grid: Grid,
    /// `/root/…/code/`
    pub path: String,
}

/// A checked import: the whole tree to store (stored grids merged with the
/// imported ones, which replace stored nodes with the same code), placed.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// How many grids the file held.
    pub imported: usize,
    /// Every grid of the merged tree, in path order.
    pub placed: Vec<PlacedGrid>,
}

/// Checks a GeoJSON import against the grids already stored (`existing`,
/// whose nodes may be parents of new ones or be replaced by them) and
/// places the merged tree.
///
/// The import's features come first in what core checks, so an error
/// about `features[i]` points at the file's own feature `i`.
pub fn import(existing: &[Grid], geojson: &str) -> Result<Import, GeoError> {
    let (tree, imported) = if existing.is_empty() {
        let tree = GridTree::from_geojson(geojson)?;
        let n = tree.grids().len();
        (tree, n)
    } else {
        merged_tree(existing, geojson)?
    };
    Ok(Import {
        imported,
        placed: place(&tree),
    })
}

/// The import's features followed by the stored grids it does not replace,
/// as one tree.
fn merged_tree(existing: &[Grid], geojson: &str) -> Result<(GridTree, usize), GeoError> {
    let mut value: serde_json::Value = match serde_json::from_str(geojson) {
        Ok(v) => v,
        // Not even JSON: core says why, in its words.
        Err(_) => return GridTree::from_geojson(geojson).map(|t| (t, 0)),
    };
    let Some(features) = value
        .get_mut("features")
        .and_then(serde_json::Value::as_array_mut)
    else {
        return GridTree::from_geojson(geojson).map(|t| (t, 0));
    };
    let imported = features.len();
    let replaced: HashSet<String> = features.iter().filter_map(feature_code).collect();
    let stored = GridTree::from_grids(existing.to_vec())?.to_geojson();
    let stored: serde_json::Value =
        serde_json::from_str(&stored).map_err(|e| GeoError::InvalidGeoJson {
            message: format!("the stored grids: {e}"),
        })?;
    if let Some(stored) = stored.get("features").and_then(|f| f.as_array()) {
        features.extend(
            stored
                .iter()
                .filter(|f| feature_code(f).is_none_or(|c| !replaced.contains(&c)))
                .cloned(),
        );
    }
    let tree = GridTree::from_geojson(&value.to_string())?;
    Ok((tree, imported))
}

/// A feature's `code` as core reads it (a string, trimmed, or a whole
/// number).
fn feature_code(feature: &serde_json::Value) -> Option<String> {
    match feature.get("properties")?.get("code")? {
        serde_json::Value::String(s) => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Every node of a checked tree with its path, in path order.
pub fn place(tree: &GridTree) -> Vec<PlacedGrid> {
    let mut placed: Vec<PlacedGrid> = tree
        .grids()
        .iter()
        .map(|g| {
            let mut chain: Vec<&str> = tree
                .ancestors(&g.code)
                .into_iter()
                .map(|a| a.code.as_str())
                .collect();
            chain.reverse();
            chain.push(&g.code);
            PlacedGrid {
                grid: g.clone(),
                path: format!("/{}/", chain.join("/")),
            }
        })
        .collect();
    placed.sort_by(|a, b| a.path.cmp(&b.path));
    placed
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

    fn paths(import: &Import) -> Vec<&str> {
        import.placed.iter().map(|p| p.path.as_str()).collect()
    }

    #[test]
    fn a_tree_is_placed_with_paths() {
        let text = collection(&[
            feature("4401", "city", None, None),
            feature("440106", "district", Some("4401"), None),
            feature(
                "440106001001001",
                "grid",
                Some("440106"),
                Some(square(113.3)),
            ),
        ]);
        let import = import(&[], &text).unwrap();
        assert_eq!(import.imported, 3);
        let paths = paths(&import);
        assert_eq!(
            paths,
            ["/4401/", "/4401/440106/", "/4401/440106/440106001001001/"]
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
    fn an_import_may_hang_under_stored_grids_and_replace_them() {
        let first = import(
            &[],
            &collection(&[
                feature("4401", "city", None, None),
                feature("440106", "district", Some("4401"), None),
            ]),
        )
        .unwrap();
        let stored: Vec<Grid> = first.placed.into_iter().map(|p| p.grid).collect();
        let mut renamed = feature("440106", "district", Some("4401"), None);
        renamed["properties"]["name"] = "天河区".into();
        let second = import(
            &stored,
            &collection(&[
                renamed,
                feature(
                    "440106001001001",
                    "grid",
                    Some("440106"),
                    Some(square(113.3)),
                ),
            ]),
        )
        .unwrap();
        assert_eq!(second.imported, 2);
        assert_eq!(
            paths(&second),
            ["/4401/", "/4401/440106/", "/4401/440106/440106001001001/"]
        );
        assert_eq!(second.placed[1].grid.name, "天河区");
        // Boundaries come back as core's type, with a centroid.
        assert!(second.placed[2].grid.centroid.is_some());
    }

    #[test]
    fn bad_imports_say_what_is_wrong() {
        let missing_parent = collection(&[feature(
            "440106001001001",
            "grid",
            Some("440106001001"),
            Some(square(113.0)),
        )]);
        let err = import(&[], &missing_parent).unwrap_err();
        assert!(matches!(err, GeoError::UnknownParent { .. }), "{err}");

        let dup = collection(&[
            feature("4401", "city", None, None),
            feature("4401", "city", None, None),
        ]);
        assert!(matches!(
            import(&[], &dup),
            Err(GeoError::DuplicateCode { .. })
        ));

        // A city cannot extend a grid's code.
        let upside_down = collection(&[
            feature("440106001001001", "grid", None, Some(square(113.0))),
            feature("4401", "city", Some("440106001001001"), None),
        ]);
        assert!(matches!(
            import(&[], &upside_down),
            Err(GeoError::InvalidCode { .. })
        ));

        // A code holding a slash would have become a root inside another
        // community's stored path.
        let slash = collection(&[
            feature("440106001001", "community", None, None),
            feature("440106001001/9", "grid", None, Some(square(113.0))),
        ]);
        assert!(matches!(
            import(&[], &slash),
            Err(GeoError::InvalidCode { index: 1, .. })
        ));

        let no_boundary = collection(&[feature("440106001001001", "grid", None, None)]);
        assert!(import(&[], &no_boundary).is_err());

        let point = collection(&[feature(
            "440106001001001",
            "grid",
            None,
            Some(serde_json::json!({"type": "Point", "coordinates": [113.0, 23.0]})),
        )]);
        assert!(import(&[], &point).is_err());

        assert!(import(&[], "{}").is_err());
        assert!(import(&[], "not json").is_err());
    }
}
