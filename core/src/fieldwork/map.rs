//! The field app's grid map: households and open incidents that have a
//! point, read in one query over the store's list rows.

use serde::Serialize;

use crate::model::{Projection, RecordKind};
use crate::store::{Store, StoreError};

/// A marker on the field app's grid map: a household or an open incident
/// that has a point. Carries only the masked list row's text.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct MapFeature {
    /// The record's masked list row.
    pub row: Projection,
    /// WGS-84 longitude and latitude, as stored.
    pub lon: f64,
    pub lat: f64,
}

/// Whether a listed row belongs on the map: every household, and incidents
/// not yet closed (deleted rows are never listed).
pub fn on_map(row: &Projection) -> bool {
    match row.kind {
        RecordKind::Household => true,
        RecordKind::Incident => row.status.as_deref() != Some("closed"),
        _ => false,
    }
}

/// The marker of `row` at `lon`, `lat`, or `None` when the row does not
/// belong on the map or the point is no real place.
pub fn map_feature(row: Projection, lon: f64, lat: f64) -> Option<MapFeature> {
    if !on_map(&row) || !lon.is_finite() || !lat.is_finite() {
        return None;
    }
    Some(MapFeature { row, lon, lat })
}

/// The map's markers: every listed household and open incident with a
/// point, newest first, from one query ([`Store::located`]).
pub fn features(store: &Store) -> Result<Vec<MapFeature>, StoreError> {
    let rows = store.located(&[RecordKind::Household, RecordKind::Incident], MAP_LIMIT)?;
    Ok(rows
        .into_iter()
        .filter_map(|(row, lon, lat)| map_feature(row, lon, lat))
        .collect())
}

/// At most this many markers are drawn: a grid holds a few hundred
/// households, so this is a guard, not a page.
pub const MAP_LIMIT: u32 = 10_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fieldwork::forms::{self, blank_household};
    use crate::fieldwork::incidents::{self, blank_incident};
    use crate::fieldwork::testkit::{GRID, NOW, household, open_store, tagged, worker};
    use crate::model::{GeoPoint, Household, Record};

    #[test]
    fn the_map_shows_households_and_open_incidents_with_a_point() {
        let h = blank_household(GRID, "gw-1", NOW).projection();
        let f = map_feature(h.clone(), 113.3, 23.1).expect("a household with a point");
        assert_eq!((f.lon, f.lat), (113.3, 23.1));
        assert!(
            map_feature(h, f64::NAN, 23.1).is_none(),
            "no real point, no marker"
        );
        let mut i = blank_incident(GRID, "gw-1", "dev-1", NOW).projection();
        i.status = Some("reported".into());
        assert!(map_feature(i.clone(), 113.3, 23.1).is_some());
        i.status = Some("closed".into());
        assert!(
            map_feature(i, 113.3, 23.1).is_none(),
            "closed incidents are left off"
        );
        let r = tagged(&[]).projection();
        assert!(
            map_feature(r, 113.3, 23.1).is_none(),
            "residents are not drawn"
        );
    }

    #[test]
    fn the_map_comes_from_the_list_rows_points_also_after_an_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.sqlite");
        let mut store = open_store(&path);
        let gw = worker("gw-1");
        let at = |lon: f64| Some(GeoPoint::wgs84(lon, 23.1275));
        let mut placed = household();
        placed.point = at(113.3271);
        let placed = forms::save(&mut store, &gw, placed, NOW).unwrap();
        forms::save(&mut store, &gw, household(), NOW).unwrap();
        let mut gone = household();
        gone.point = at(113.3272);
        let gone = forms::save(&mut store, &gw, gone, NOW).unwrap();
        store
            .update::<Household>(
                gone.meta.id,
                &gw.author(NOW),
                super::super::day_of(NOW),
                |h| h.meta.deleted = true,
            )
            .unwrap();
        let mut open = blank_incident(GRID, "gw-1", "ab12", NOW);
        open.title = "楼道堆物".into();
        open.description = "三楼".into();
        open.point = at(113.3279);
        let open = incidents::report(&mut store, &gw, open, NOW).unwrap();
        forms::save(&mut store, &gw, tagged(&[]), NOW).unwrap();

        let drawn = |store: &Store| -> Vec<(uuid::Uuid, f64)> {
            let mut got: Vec<_> = features(store)
                .unwrap()
                .iter()
                .map(|f| (f.row.id, f.lon))
                .collect();
            got.sort_by(|a, b| a.1.total_cmp(&b.1));
            got
        };
        let expected = vec![(placed.meta.id, 113.3271), (open.meta.id, 113.3279)];
        assert_eq!(drawn(&store), expected);
        let row = &features(&store).unwrap()[0];
        assert_eq!(row.row.status.as_deref(), Some("reported"));

        // Rows written before points were kept: an older build's store.
        drop(store);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "UPDATE projections SET lon = NULL, lat = NULL; UPDATE projection_version SET version = 1;",
        )
        .unwrap();
        drop(conn);
        let store = open_store(&path);
        assert_eq!(
            drawn(&store),
            expected,
            "the rows are derived again at open"
        );
    }
}
