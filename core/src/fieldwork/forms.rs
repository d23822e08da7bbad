//! Forms: the blank record a new form starts from, the care tag choices
//! of the resident form, where a record with a point belongs (the grid
//! holding it), and saving what a form sent ([`save`]).

use serde::Serialize;

use super::{WorkError, Worker, day_of};
use crate::geo::GridTree;
use crate::model::grid::Grid;
use crate::model::{
    Address, CareTagKind, EmergencyContact, Gender, GeoPoint, Household, HouseholdFlags,
    HouseholdUse, IdType, Incident, Meta, PopulationType, Record, Relation, Resident, Visit,
};
use crate::problem::{Params, params};
use crate::store::{Store, StoreTx};

/// An empty household of `grid`, made by `user`, for a new form.
pub fn blank_household(grid: &str, user: &str, now_ms: i64) -> Household {
    Household {
        meta: Meta::new(grid, user, now_ms),
        address: Address::default(),
        point: None,
        usage: HouseholdUse::OwnerOccupied,
        owner_name: String::new(),
        owner_phone: None,
        owner_id_number: None,
        door_plate_photo: None,
        flags: HouseholdFlags::default(),
        last_visit_at: None,
        review: Vec::new(),
    }
}

/// An empty resident of `household`, for a new form.
pub fn blank_resident(household: &Household, user: &str, now_ms: i64) -> Resident {
    Resident {
        meta: Meta::new(household.meta.grid.clone(), user, now_ms),
        household_id: Some(household.meta.id),
        relation: Relation::Head,
        name: String::new(),
        gender: Gender::Unknown,
        birth_date: None,
        id_type: IdType::ResidentId,
        id_number: None,
        phone: None,
        ethnicity: "汉族".into(),
        education: None,
        registered_residence: String::new(),
        population_type: PopulationType::Registered,
        emergency_contact: EmergencyContact::default(),
        care_tags: Vec::new(),
        next_visit_due: None,
        review: Vec::new(),
    }
}

/// A record a form edits and [`save`] saves.
///
/// Fields a form sends back that the form does not own: the review and
/// transition logs (appended by their own actions, possibly by a
/// supervisor since the form was opened), the common fields and the
/// author fields. Copying them from the stored record keeps a form save
/// from undoing them, and a form from naming someone else its author.
pub trait FormOwned: Record {
    /// Takes what the form does not own from `stored`.
    fn keep_stored(&mut self, stored: &Self);

    /// Moves the record into the grid holding its point, among `grids`
    /// (see [`place_by_point`]); kinds placed otherwise keep their grid.
    fn place(&mut self, grids: &[Grid]) -> Result<(), OutsideGrid> {
        let _ = grids;
        Ok(())
    }

    /// Names `user` (the signed-in one) as the author of a new record,
    /// whatever the form sent.
    fn stamp_author(&mut self, user: &str) {
        self.meta_mut().created_by = user.to_string();
    }
}

impl FormOwned for Household {
    fn keep_stored(&mut self, stored: &Self) {
        self.meta = stored.meta.clone();
        self.review = stored.review.clone();
    }

    fn place(&mut self, grids: &[Grid]) -> Result<(), OutsideGrid> {
        place_household(self, grids)
    }
}

impl FormOwned for Resident {
    fn keep_stored(&mut self, stored: &Self) {
        self.meta = stored.meta.clone();
        self.review = stored.review.clone();
    }
}

impl FormOwned for Visit {
    fn keep_stored(&mut self, stored: &Self) {
        self.meta = stored.meta.clone();
        self.visitor = stored.visitor.clone();
        self.review = stored.review.clone();
    }

    fn stamp_author(&mut self, user: &str) {
        self.meta.created_by = user.to_string();
        self.visitor = user.to_string();
    }
}

impl FormOwned for Incident {
    fn keep_stored(&mut self, stored: &Self) {
        self.meta = stored.meta.clone();
        self.number = stored.number.clone();
        self.log = stored.log.clone();
    }

    fn place(&mut self, grids: &[Grid]) -> Result<(), OutsideGrid> {
        place_incident(self, grids)
    }
}

/// Saves what a form sent, in one transaction: the record is placed by
/// its point among the worker's grids, then inserted when new (its author
/// the worker, never the form's; not deleted) or, when stored, updated
/// with only what the form changed (what the form does not own kept as
/// stored, see [`FormOwned`]). Validated either way: nothing is written
/// when a field is wrong ([`StoreError::Invalid`]).
pub fn save<T: FormOwned>(
    store: &mut Store,
    worker: &Worker<'_>,
    record: T,
    now_ms: i64,
) -> Result<T, WorkError> {
    store.write(|tx| save_in(tx, worker, record, now_ms))
}

/// [`save`] inside a larger transaction (the app's save commands run it
/// in `Store::write_form`, which drops the form's draft with it).
pub fn save_in<T: FormOwned>(
    tx: &mut StoreTx<'_>,
    worker: &Worker<'_>,
    mut record: T,
    now_ms: i64,
) -> Result<T, WorkError> {
    record.place(worker.grids)?;
    let author = worker.author(now_ms);
    let today = day_of(now_ms);
    let id = record.meta().id;
    let saved = if tx.exists(id)? {
        tx.update::<T>(id, &author, today, |current| {
            record.keep_stored(current);
            *current = record;
        })?
    } else {
        record.stamp_author(worker.user);
        record.meta_mut().deleted = false;
        tx.insert(record, &author, today)?
    };
    Ok(saved)
}

/// A care tag kind as the resident form offers it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct CareTagOption {
    pub tag: CareTagKind,
    /// The cycle a new tag of this kind starts with.
    pub default_cycle_days: u32,
    /// Visible to restricted roles only.
    pub restricted: bool,
}

/// Every care tag kind with its default visit cycle, for the resident
/// form: the rule lives in core ([`CareTagKind::default_cycle_days`]).
pub fn care_tag_options() -> Vec<CareTagOption> {
    CareTagKind::ALL
        .into_iter()
        .map(|tag| CareTagOption {
            tag,
            default_cycle_days: tag.default_cycle_days(),
            restricted: tag.is_restricted(),
        })
        .collect()
}

/// A point outside every grid of the worker's subtree.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the point {lon}, {lat} is outside your grid")]
pub struct OutsideGrid {
    pub lon: f64,
    pub lat: f64,
}

impl OutsideGrid {
    /// The stable code for the UI.
    pub const CODE: &'static str = "point_outside_grid";

    /// The params of the UI's message: the point's `lon` and `lat`.
    pub fn params(&self) -> Params {
        params([("lon", self.lon.into()), ("lat", self.lat.into())])
    }
}

/// Places a household by its point: see [`place_by_point`].
pub fn place_household(household: &mut Household, grids: &[Grid]) -> Result<(), OutsideGrid> {
    place_by_point(&mut household.meta, household.point.as_ref(), grids)
}

/// Places an incident by its point (DOMAIN.md: the grid is assigned from
/// the point): see [`place_by_point`].
pub fn place_incident(incident: &mut Incident, grids: &[Grid]) -> Result<(), OutsideGrid> {
    place_by_point(&mut incident.meta, incident.point.as_ref(), grids)
}

/// A record with a point belongs to the grid holding the point, placed by
/// the one rule the hotline import and the server's check use too
/// ([`GridTree::locate`] over the worker's subtree; the server accepts
/// what it places, see [`GridTree::contains`]); a point outside the
/// worker's grids is refused and changes nothing. A record without a
/// point keeps its grid; so does one when no grid here has a boundary to
/// check against (or the grids cannot be read as a tree).
fn place_by_point(
    meta: &mut Meta,
    point: Option<&GeoPoint>,
    grids: &[Grid],
) -> Result<(), OutsideGrid> {
    let Some(point) = point else {
        return Ok(());
    };
    if !grids.iter().any(|g| g.boundary.is_some()) {
        return Ok(());
    }
    let tree = match GridTree::from_subtree(grids.to_vec()) {
        Ok(tree) => tree,
        Err(e) => {
            tracing::warn!(error = %e, "the device's grids are not a tree; the record keeps its grid");
            return Ok(());
        }
    };
    match tree.locate(point.lon, point.lat) {
        Some(location) => {
            meta.grid = location.grid;
            Ok(())
        }
        None => Err(OutsideGrid {
            lon: point.lon,
            lat: point.lat,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkCalendar;
    use crate::fieldwork::testkit::{GRID, NOW, household, open_store, square_grid, worker};
    use crate::model::{RecordKind, Role, ValidateCtx};
    use crate::store::ListQuery;
    use crate::store::StoreError;
    use crate::workflow::{self, Action, Actor};

    #[test]
    fn a_form_save_keeps_a_supervisors_transition_made_meanwhile() {
        let cal = WorkCalendar::bundled();
        let mut stored =
            crate::fieldwork::incidents::blank_incident("440106001001001", "gw-1", "ab12", NOW);
        let form = stored.clone();
        let worker = Actor {
            user: "gw-1",
            role: Role::GridWorker,
        };
        workflow::transition(&mut stored, &cal, worker, Action::Report, "", vec![], NOW).unwrap();
        let mut edited = form;
        edited.title = "楼道堆物".into();
        edited.keep_stored(&stored);
        assert_eq!(edited.log.len(), 1, "the report stays");
        assert_eq!(edited.title, "楼道堆物");
    }

    #[test]
    fn a_blank_resident_is_invalid_only_for_want_of_a_name() {
        let h = blank_household("440106001001001", "gw-1", NOW);
        let mut r = blank_resident(&h, "gw-1", NOW);
        let errors = r
            .normalize_and_validate(&ValidateCtx {
                today: jiff::civil::date(2026, 5, 17),
            })
            .unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name"]);
    }

    #[test]
    fn a_household_is_placed_in_the_grid_holding_its_point() {
        let grids = [square_grid()];
        let mut h = blank_household("440106001001", "gw-1", NOW);
        place_household(&mut h, &grids).unwrap();
        assert_eq!(h.meta.grid, "440106001001", "no point: the grid stays");

        h.point = Some(GeoPoint::wgs84(113.3275, 23.1275));
        place_household(&mut h, &grids).unwrap();
        assert_eq!(h.meta.grid, "440106001001001");

        h.point = Some(GeoPoint::wgs84(113.3400, 23.1275));
        let err = place_household(&mut h, &grids).unwrap_err();
        assert_eq!(err.lon, 113.34);
        assert_eq!(
            err.params(),
            params([("lon", 113.34.into()), ("lat", 23.1275.into())])
        );
        assert_eq!(
            h.meta.grid, "440106001001001",
            "a refused point changes nothing"
        );

        let mut i =
            crate::fieldwork::incidents::blank_incident("440106001001", "gw-1", "dev-1", NOW);
        i.point = Some(GeoPoint::wgs84(113.3275, 23.1275));
        place_incident(&mut i, &grids).unwrap();
        assert_eq!(i.meta.grid, "440106001001001", "an incident too");
        i.point = Some(GeoPoint::wgs84(113.3400, 23.1275));
        assert!(place_incident(&mut i, &grids).is_err());
    }

    fn count(store: &Store, kind: RecordKind) -> usize {
        let q = ListQuery {
            kind: Some(kind),
            ..ListQuery::default()
        };
        store.list(&q).unwrap().len()
    }

    #[test]
    fn a_new_form_is_inserted_by_the_worker_and_a_known_one_updated_whatever_it_claims() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open_store(&dir.path().join("device.sqlite"));
        let gw = worker("gw-1");
        let mut h = household();
        h.meta.created_by = "someone-else".into();
        h.owner_name = "王芳".into();
        h.meta.deleted = true;
        h.point = Some(GeoPoint::wgs84(113.3275, 23.1275));
        let saved = save(&mut store, &gw, h, NOW).unwrap();
        assert_eq!(saved.meta.created_by, "gw-1", "the worker, not the form");
        assert!(!saved.meta.deleted, "a new record is not born deleted");
        assert_eq!(saved.meta.grid, GRID, "placed by its point");
        assert_eq!(store.pending_count().unwrap(), 1);

        // The same form again, edited, claiming another author: an update
        // of what changed, the author kept.
        let mut again = saved.clone();
        again.owner_name = "王芳芳".into();
        again.meta.created_by = "mallory".into();
        let updated = save(&mut store, &gw, again, NOW + 1).unwrap();
        assert_eq!(updated.owner_name, "王芳芳");
        assert_eq!(updated.meta.created_by, "gw-1");
        assert_eq!(
            count(&store, RecordKind::Household),
            1,
            "updated, not inserted twice"
        );
        assert_eq!(store.pending_count().unwrap(), 2, "one change each");
        let stored: Household = store.get(saved.meta.id).unwrap().unwrap();
        assert_eq!(stored, updated);
    }

    #[test]
    fn a_form_refused_for_its_point_or_a_field_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open_store(&dir.path().join("device.sqlite"));
        let gw = worker("gw-1");
        let mut h = household();
        h.point = Some(GeoPoint::wgs84(113.3400, 23.1275));
        let outside = save(&mut store, &gw, h, NOW).unwrap_err();
        assert!(matches!(outside, WorkError::OutsideGrid(_)), "{outside:?}");
        assert_eq!(outside.code(), "point_outside_grid");

        let nameless = blank_resident(&blank_household(GRID, "gw-1", NOW), "gw-1", NOW);
        let invalid = save(&mut store, &gw, nameless, NOW).unwrap_err();
        match &invalid {
            WorkError::Store(StoreError::Invalid(errors)) => {
                assert_eq!(errors.0[0].field, "name");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(count(&store, RecordKind::Household), 0);
        assert_eq!(count(&store, RecordKind::Resident), 0);
        assert_eq!(store.pending_count().unwrap(), 0, "nothing written");
    }

    #[test]
    fn a_save_drops_its_forms_draft_with_it_and_a_failed_save_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.sqlite");
        let mut store = open_store(&path);
        let gw = worker("gw-1");
        let typed = serde_json::json!({ "owner_name": "王芳" });
        store.save_draft("household.new", &typed, NOW).unwrap();
        store.save_draft("household.other", &typed, NOW).unwrap();

        // Refused (a point outside the worker's grids): the draft stays,
        // and nothing else is written.
        let mut outside = household();
        outside.point = Some(GeoPoint::wgs84(113.3400, 23.1275));
        let refused = store
            .write_form(Some("household.new"), |tx| save_in(tx, &gw, outside, NOW))
            .unwrap_err();
        assert_eq!(refused.code(), "point_outside_grid");
        assert_eq!(store.draft("household.new").unwrap().unwrap().value, typed);
        assert_eq!(store.pending_count().unwrap(), 0);

        // A record the store refuses: its draft stays too.
        let nameless = blank_resident(&blank_household(GRID, "gw-1", NOW), "gw-1", NOW);
        store.save_draft("resident.new", &typed, NOW).unwrap();
        assert!(
            store
                .write_form(Some("resident.new"), |tx| save_in(tx, &gw, nameless, NOW))
                .is_err()
        );
        assert!(store.draft("resident.new").unwrap().is_some());

        // Saved: the record is in, its draft is gone, in one commit; the
        // other form's draft is left alone.
        let mut h = household();
        h.owner_name = "王芳".into();
        let saved = store
            .write_form(Some("household.new"), |tx| save_in(tx, &gw, h, NOW))
            .unwrap();
        drop(store);
        let store = open_store(&path);
        assert!(store.draft("household.new").unwrap().is_none());
        assert!(store.draft("household.other").unwrap().is_some());
        let stored: Household = store.get(saved.meta.id).unwrap().unwrap();
        assert_eq!(stored.owner_name, "王芳");
    }
}
