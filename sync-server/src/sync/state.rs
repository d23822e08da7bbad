//! Rules on the state a push leaves a record in, besides who may touch it.
//!
//! - **Every pushed state is validated** (item 9 of issue #10), deleted or
//!   not, with the same [`Record::validate_state`] the device runs before
//!   it saves: a new record made already deleted is checked like any
//!   other. One exception keeps honest devices from wedging: a *pure
//!   delete* (the pushed state is the stored one with `deleted` set,
//!   nothing else) of a record stored before today's rules (an old record
//!   whose phone or length no longer passes) is accepted: it adds nothing
//!   to the record, and refusing it would leave the device's tombstone
//!   waiting forever.
//! - **A tombstone is final** (item 8). Deleted wins over concurrent edits
//!   ([`gridwork_core::doc`]), but a change made *after* seeing the
//!   tombstone can still write `deleted = false`. The server stores such a
//!   change and answers with a compensating change by its own actor that
//!   puts the record back as it was when deleted (the tombstone and every
//!   field), with a `record_deleted` notice, as it does for `created_by`.
//! - **Sizes** (item 10). A change over
//!   [`limits::MAX_CHANGE_BYTES`](gridwork_core::model::limits::MAX_CHANGE_BYTES)
//!   is refused (`change_too_large`), and so is a push after which the
//!   document would be over
//!   [`limits::MAX_DOCUMENT_BYTES`](gridwork_core::model::limits::MAX_DOCUMENT_BYTES)
//!   (`document_too_large`). The device's store refuses to make either.
//! - **A record's point lies in its grid** (item 11). Households and
//!   incidents carry the point they are placed by (the tablet places them
//!   with [`GridTree::locate`], the hotline import too): their point must
//!   lie in their grid's area by [`GridTree::contains`], the same rule, so
//!   whatever the tablet places the server accepts, even on an edge two
//!   grids share. Visits and patrols are not checked: a visit may be made
//!   by phone or at a hospital, and a patrol's track and check-ins leave
//!   the grid on the way. The check runs only when the point or the grid
//!   changed in the push, so an edit elsewhere in an old record is never
//!   refused for an old point; and only where the grid (or a grid below
//!   it) has a boundary. The tree of the stored grids is cached by
//!   `grids_version` ([`Places`]).
//! - **A record is created once** (found by the `sync_push` fuzz target,
//!   item 19). A change with no dependencies makes a document from
//!   nothing. Pushed for a document the server already holds, it is a
//!   second, independent creation: Automerge merges it, every field
//!   conflicts, and each nested list or map (an address, a review log, an
//!   incident's parties) exists twice, one hidden, so whatever a device
//!   later writes into the hidden one vanishes from view. No app makes a
//!   record twice (ids are random, a parties record's id is derived but
//!   only the incident's creator makes it), so such a push is refused
//!   whole (`record_created_twice`), and so is a push that makes a new
//!   document twice over.

use std::sync::{Arc, Mutex};

use automerge::Change;
use gridwork_core::geo::GridTree;
use gridwork_core::model::{AnyRecord, GeoPoint, ValidateCtx, limits};
use gridwork_core::problem::{Params, params};
use gridwork_core::sync::wire::{Notice, NoticeCode, RejectionCode};
use gridwork_core::validate::ValidationErrors;
use uuid::Uuid;

use super::refused::Refused;
use crate::storage::{Storage, StorageError};

/// Validates a pushed state; `Err` with the refusal, which names the
/// first error found (its field, code and params), as the device's own
/// form would.
pub(super) fn validate(
    before: Option<&AnyRecord>,
    after: &AnyRecord,
    ctx: &ValidateCtx,
) -> Result<(), Refused> {
    // Validation may normalize; the normalized copy is thrown away: the
    // device writes normalizations itself.
    let Err(errors) = after.clone().validate_state(ctx) else {
        return Ok(());
    };
    if let Some(before) = before
        && pure_delete(before, after)
    {
        tracing::info!(doc = %after.meta().id, "a record stored before today's rules was deleted as it was");
        return Ok(());
    }
    Err(invalid(&errors))
}

fn invalid(errors: &ValidationErrors) -> Refused {
    let mut named = Params::new();
    if let Some(first) = errors.0.first() {
        named = first.params();
        named.insert("field".into(), first.field.as_str().into());
        named.insert("error".into(), first.code.as_str().into());
    }
    // The log names fields and codes, never the values: a detail may be a
    // phone number or part of an ID number (the device has them already).
    let fields: Vec<String> = errors
        .0
        .iter()
        .map(|e| format!("{}: {}", e.field, e.code.as_str()))
        .collect();
    Refused::new(RejectionCode::InvalidRecord, named, fields.join("; "))
}

/// The pushed state is the stored one with the tombstone set.
fn pure_delete(before: &AnyRecord, after: &AnyRecord) -> bool {
    if before.meta().deleted || !after.meta().deleted {
        return false;
    }
    let mut undeleted = after.clone();
    set_deleted(&mut undeleted, false);
    undeleted == *before
}

fn set_deleted(record: &mut AnyRecord, deleted: bool) {
    match record {
        AnyRecord::Household(r) => r.meta.deleted = deleted,
        AnyRecord::Resident(r) => r.meta.deleted = deleted,
        AnyRecord::Incident(r) => r.meta.deleted = deleted,
        AnyRecord::Patrol(r) => r.meta.deleted = deleted,
        AnyRecord::Visit(r) => r.meta.deleted = deleted,
        AnyRecord::Task(r) => r.meta.deleted = deleted,
        AnyRecord::IncidentParties(r) => r.meta.deleted = deleted,
    }
}

/// Undoes a resurrection: when the stored record was deleted and the
/// pushed state is not, `corrected` becomes the stored record again and a
/// notice says why.
pub(super) fn keep_tombstone(
    doc: Uuid,
    before: Option<&AnyRecord>,
    corrected: &mut AnyRecord,
) -> Option<Notice> {
    let before = before.filter(|b| b.meta().deleted)?;
    if corrected.meta().deleted {
        return None;
    }
    *corrected = before.clone();
    Some(Notice::new(doc, NoticeCode::RecordDeleted, Params::new()))
}

/// `Some((code, message))` when `changes` would create the document again:
/// a change with no dependencies for a document the server holds
/// (`stored`), or more than one for a new one.
pub(super) fn created_once(stored: bool, changes: &[Change]) -> Option<Refused> {
    let roots = changes.iter().filter(|c| c.deps().is_empty()).count();
    (roots > usize::from(!stored)).then(|| {
        Refused::bare(
            RejectionCode::RecordCreatedTwice,
            format_args!("{roots} dependency-free changes; the record is stored: {stored}"),
        )
    })
}

/// The refusal of the first change over the size limit.
pub(super) fn change_sizes(sizes: impl IntoIterator<Item = usize>) -> Option<Refused> {
    sizes.into_iter().find_map(|bytes| {
        limits::check_change_bytes(bytes).err().map(|e| {
            Refused::new(
                RejectionCode::ChangeTooLarge,
                params([
                    ("bytes", bytes.into()),
                    ("max", limits::MAX_CHANGE_BYTES.into()),
                ]),
                e,
            )
        })
    })
}

/// The refusal of a document whose compacted size is over the limit.
pub(super) fn document_size(bytes: usize) -> Option<Refused> {
    limits::check_document_bytes(bytes).err().map(|e| {
        Refused::new(
            RejectionCode::DocumentTooLarge,
            params([
                ("bytes", bytes.into()),
                ("max", limits::MAX_DOCUMENT_BYTES.into()),
            ]),
            e,
        )
    })
}

/// The point a record is placed by, for the kinds whose point must lie
/// in their grid.
fn placed_point(record: &AnyRecord) -> Option<&GeoPoint> {
    match record {
        AnyRecord::Household(h) => h.point.as_ref(),
        AnyRecord::Incident(i) => i.point.as_ref(),
        _ => None,
    }
}

/// The tree of the stored grids, rebuilt when `grids_version` changes.
#[derive(Debug, Default)]
pub struct Places {
    cached: Mutex<Option<(i64, Arc<GridTree>)>>,
}

impl Places {
    /// `None` (and an error in the log) if the stored grids cannot be read
    /// as a tree: points are then not checked rather than every push
    /// failing.
    fn tree(&self, storage: &dyn Storage) -> Result<Option<Arc<GridTree>>, StorageError> {
        let version = storage.grids_version()?;
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((v, tree)) = cached.as_ref()
            && *v == version
        {
            return Ok(Some(tree.clone()));
        }
        match GridTree::from_subtree(storage.all_grids()?) {
            Ok(tree) => {
                let tree = Arc::new(tree);
                *cached = Some((version, tree.clone()));
                Ok(Some(tree))
            }
            Err(e) => {
                tracing::error!(error = %e, "the stored grids are not a tree; points are not checked");
                Ok(None)
            }
        }
    }

    /// The refusal of a pushed record whose point lies outside its grid
    /// (checked only when the point or the grid changed in the push).
    pub(super) fn check(
        &self,
        storage: &dyn Storage,
        before: Option<&AnyRecord>,
        after: &AnyRecord,
    ) -> Result<Option<Refused>, StorageError> {
        let Some(point) = placed_point(after) else {
            return Ok(None);
        };
        let grid = &after.meta().grid;
        let unchanged =
            before.is_some_and(|b| placed_point(b) == Some(point) && b.meta().grid == *grid);
        if unchanged {
            return Ok(None);
        }
        let Some(tree) = self.tree(storage)? else {
            return Ok(None);
        };
        Ok(match tree.contains(grid, point.lon, point.lat) {
            Some(false) => Some(Refused::new(
                RejectionCode::PointOutsideGrid,
                params([
                    ("lon", point.lon.into()),
                    ("lat", point.lat.into()),
                    ("grid", grid.as_str().into()),
                ]),
                "the point is outside the record's grid",
            )),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn household() -> AnyRecord {
        let demo = gridwork_demo::generate(&gridwork_demo::DemoConfig {
            households_per_grid: 1,
            ..Default::default()
        });
        AnyRecord::Household(demo.households[0].clone())
    }

    fn ctx() -> ValidateCtx {
        ValidateCtx {
            today: jiff::civil::date(2026, 12, 4),
        }
    }

    #[test]
    fn a_deleted_state_is_validated_unless_it_only_deletes_an_old_record() {
        let AnyRecord::Household(mut old) = household() else {
            unreachable!()
        };
        // Stored before today's rules: a phone no longer accepted.
        old.owner_phone = Some("12345".into());
        let before = AnyRecord::Household(old.clone());
        let mut deleted = old.clone();
        deleted.meta.deleted = true;
        let pure = AnyRecord::Household(deleted.clone());
        assert_eq!(validate(Some(&before), &pure, &ctx()), Ok(()));
        // Made deleted from the start, or deleted with an edit: checked.
        assert!(validate(None, &pure, &ctx()).is_err());
        deleted.owner_name = "<script>1</script>".into();
        let edited = AnyRecord::Household(deleted);
        let refused = validate(Some(&before), &edited, &ctx()).unwrap_err();
        assert_eq!(refused.code, RejectionCode::InvalidRecord);
        assert_eq!(refused.params["field"], "owner_name".into());
        assert_eq!(refused.params["error"], "name_invalid".into());
        assert_eq!(refused.params["character"], "<".into());
    }

    #[test]
    fn a_resurrection_puts_the_deleted_record_back() {
        let AnyRecord::Household(mut old) = household() else {
            unreachable!()
        };
        old.meta.deleted = true;
        let before = AnyRecord::Household(old.clone());
        let mut live = old.clone();
        live.meta.deleted = false;
        live.owner_name = "复活".into();
        let mut corrected = AnyRecord::Household(live);
        let notice = keep_tombstone(old.meta.id, Some(&before), &mut corrected).unwrap();
        assert_eq!(notice.code, NoticeCode::RecordDeleted.code());
        assert_eq!(corrected, before);
        // An edit that leaves it deleted (an older device's, merged) stays.
        let mut still = before.clone();
        assert!(keep_tombstone(old.meta.id, Some(&before), &mut still).is_none());
    }
}
