//! Visits (走访): who is due (a resident's care tags set a cycle), a blank
//! visit for the form, and recording one: the visit and its resident's
//! next due date, together in one transaction.

use serde::Serialize;

use super::forms::save_in;
use super::{WorkError, Worker, day_of};
use crate::model::{
    Meta, Projection, RecordKind, Resident, Visit, VisitForm, VisitKind, VisitTarget,
    VisitTargetKind,
};
use crate::store::{ListQuery, Store, StoreError, StoreTx};

/// Days ahead within which a visit counts as due soon (将到期).
pub const VISIT_DUE_SOON_DAYS: i64 = 7;

/// When `resident` is next due for a visit after one on `visited_on`: the
/// shortest cycle of their care tags later; `None` without tags (nobody
/// requires them to be visited).
pub fn next_visit_due(resident: &Resident, visited_on: jiff::civil::Date) -> Option<String> {
    let days = resident
        .distinct_care_tags()
        .iter()
        .map(|t| t.visit_cycle_days)
        .min()?;
    visited_on
        .checked_add(jiff::Span::new().days(i64::from(days)))
        .ok()
        .map(|d| d.to_string())
}

/// One row of the visits due list.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct DueVisit {
    /// The resident's masked list row (`due` is the date).
    pub resident: Projection,
    /// Days from today to the due date: negative when overdue.
    pub days_left: i64,
    pub overdue: bool,
}

/// The due list from residents' rows: overdue first (longest overdue at the
/// top), then due within [`VISIT_DUE_SOON_DAYS`] (soonest first); rows
/// without a due date or due later are left out.
pub fn due_visits(rows: Vec<Projection>, today: jiff::civil::Date) -> Vec<DueVisit> {
    let mut out: Vec<DueVisit> = rows
        .into_iter()
        .filter_map(|resident| {
            let due: jiff::civil::Date = resident.due.as_deref()?.parse().ok()?;
            let days_left = (due - today).get_days() as i64;
            (days_left <= VISIT_DUE_SOON_DAYS).then_some(DueVisit {
                resident,
                days_left,
                overdue: days_left < 0,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.days_left
            .cmp(&b.days_left)
            .then_with(|| a.resident.title.cmp(&b.resident.title))
    });
    out
}

/// A blank visit to `resident` by `user` now, for the form: a key-person
/// visit for management tags, a care visit otherwise; in person.
pub fn blank_visit(resident: &Resident, user: &str, now_ms: i64) -> Visit {
    let key = resident
        .distinct_care_tags()
        .iter()
        .any(|t| t.tag.is_restricted());
    Visit {
        meta: Meta::new(resident.meta.grid.clone(), user, now_ms),
        target: VisitTarget {
            kind: VisitTargetKind::Resident,
            id: resident.meta.id,
        },
        kind: if key {
            VisitKind::KeyPerson
        } else {
            VisitKind::Care
        },
        form: VisitForm::InPerson,
        visitor: user.to_string(),
        visited_at: now_ms,
        point: None,
        photos: Vec::new(),
        content: String::new(),
        measures: String::new(),
        next_due: None,
        review: Vec::new(),
    }
}

/// A visit to `resident` was recorded: the visit and the resident both
/// carry the next due date, counted from the visit's day (Asia/Shanghai).
/// A visit dated before the resident's current due date cannot pull it
/// back: two devices recording visits offline keep the later cycle.
pub fn visit_recorded(visit: &mut Visit, resident: &mut Resident) {
    let day = jiff::Timestamp::from_millisecond(visit.visited_at)
        .map(crate::calendar::shanghai_date)
        .unwrap_or(jiff::civil::date(1970, 1, 1));
    let next = next_visit_due(resident, day);
    visit.next_due = next.clone();
    if let Some(next) = next {
        let later = match resident.next_visit_due.as_deref() {
            Some(current) => next.as_str() > current,
            None => true,
        };
        if later {
            resident.next_visit_due = Some(next);
        }
    }
}

/// Residents due for a visit on `today`, as [`due_visits`] lists them.
pub fn due(store: &Store, today: jiff::civil::Date) -> Result<Vec<DueVisit>, StoreError> {
    let soon = today
        .checked_add(jiff::Span::new().days(VISIT_DUE_SOON_DAYS + 1))
        .ok();
    let q = ListQuery {
        kind: Some(RecordKind::Resident),
        due_before: soon,
        limit: Some(DUE_LIMIT),
        ..ListQuery::default()
    };
    Ok(due_visits(store.list(&q)?, today))
}

/// At most this many residents are read for the due list.
const DUE_LIMIT: u32 = 1000;

/// Records a visit in one transaction: the visit is saved as a form
/// ([`super::forms::save`]: created or updated, its visitor the worker),
/// and a visit to a resident moves the resident's next due date on
/// ([`visit_recorded`]). Both are written or neither: should the
/// resident's update fail, the visit is not saved either, and the form
/// on screen still holds what was typed.
pub fn record(
    store: &mut Store,
    worker: &Worker<'_>,
    visit: Visit,
    now_ms: i64,
) -> Result<Visit, WorkError> {
    store.write(|tx| record_in(tx, worker, visit, now_ms))
}

/// [`record`] inside a larger transaction (see
/// [`super::forms::save_in`]).
pub fn record_in(
    tx: &mut StoreTx<'_>,
    worker: &Worker<'_>,
    mut visit: Visit,
    now_ms: i64,
) -> Result<Visit, WorkError> {
    if visit.target.kind != VisitTargetKind::Resident {
        return save_in(tx, worker, visit, now_ms);
    }
    let resident_id = visit.target.id;
    let mut resident: Resident = tx
        .get(resident_id)?
        .ok_or(StoreError::NotFound(resident_id))?;
    visit_recorded(&mut visit, &mut resident);
    let visit = save_in(tx, worker, visit, now_ms)?;
    let next = resident.next_visit_due;
    tx.update::<Resident>(
        resident_id,
        &worker.author(now_ms),
        day_of(now_ms),
        |current| current.next_visit_due = next,
    )?;
    Ok(visit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{Author, RecordDoc};
    use crate::fieldwork::forms;
    use crate::fieldwork::testkit::{NOW, open_store, tagged, worker};
    use crate::model::CareTagKind::ElderlyLivingAlone;
    use crate::model::Record;
    use automerge::ActorId;

    #[test]
    fn the_next_visit_is_due_after_the_shortest_cycle() {
        use crate::model::CareTagKind::{CommunityCorrection, ElderlyLivingAlone};
        let r = tagged(&[(ElderlyLivingAlone, 30), (CommunityCorrection, 7)]);
        let day = jiff::civil::date(2026, 12, 28);
        assert_eq!(next_visit_due(&r, day).as_deref(), Some("2027-01-04"));
        assert_eq!(next_visit_due(&tagged(&[]), day), None);
    }

    #[test]
    fn recording_a_visit_moves_the_residents_due_date_forward_only() {
        use crate::model::CareTagKind::ElderlyLivingAlone;
        let mut r = tagged(&[(ElderlyLivingAlone, 30)]);
        r.next_visit_due = Some("2026-05-01".into());
        let mut v = blank_visit(&r, "gw-1", NOW); // 2026-05-17
        assert_eq!(v.kind, VisitKind::Care);
        visit_recorded(&mut v, &mut r);
        assert_eq!(v.next_due.as_deref(), Some("2026-06-16"));
        assert_eq!(r.next_visit_due.as_deref(), Some("2026-06-16"));
        // An older visit entered late does not pull the date back.
        let mut late = blank_visit(&r, "gw-1", NOW - 10 * 86_400_000);
        visit_recorded(&mut late, &mut r);
        assert_eq!(late.next_due.as_deref(), Some("2026-06-06"));
        assert_eq!(r.next_visit_due.as_deref(), Some("2026-06-16"));
    }

    #[test]
    fn two_tablets_visiting_offline_keep_the_later_due_date_without_asking() {
        use crate::model::CareTagKind::ElderlyLivingAlone;
        let r = tagged(&[(ElderlyLivingAlone, 30)]);
        // A's actor sorts higher, so Automerge alone would keep A's earlier date.
        let mut a =
            RecordDoc::create(&r, ActorId::from(vec![2; 16]), &Author::new("gw-1", NOW)).unwrap();
        let mut b = a.fork(ActorId::from(vec![1; 16]));
        // Tablet A visits on 2026-05-17, tablet B (the supervisor's) ten
        // days later; each moves the date from what it holds.
        for (doc, at, who) in [
            (&mut a, NOW, "gw-1"),
            (&mut b, NOW + 10 * 86_400_000, "sup-1"),
        ] {
            doc.update::<Resident>(&Author::new(who, at), |r| {
                let mut v = blank_visit(r, who, at);
                visit_recorded(&mut v, r);
            })
            .unwrap();
        }
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        for doc in [&mut a, &mut b] {
            let merged: Resident = doc.read().unwrap();
            assert_eq!(merged.next_visit_due.as_deref(), Some("2026-06-26"));
            assert!(
                doc.conflicts().is_empty(),
                "a rule settles it, nobody is asked"
            );
        }
    }

    #[test]
    fn a_tagged_resident_never_visited_is_due_from_the_day_of_tagging() {
        use crate::model::CareTagKind::ElderlyLivingAlone;
        let r = tagged(&[(ElderlyLivingAlone, 30)]);
        assert_eq!(r.next_visit_due, None);
        assert_eq!(r.projection().due.as_deref(), Some("2026-05-17"));
        assert_eq!(tagged(&[]).projection().due, None, "untagged: nobody asks");
        let list = due_visits(vec![r.projection()], jiff::civil::date(2026, 5, 20));
        assert_eq!(list.len(), 1);
        assert!(list[0].overdue);
    }

    #[test]
    fn the_due_list_puts_overdue_first_then_due_soon() {
        let today = jiff::civil::date(2026, 5, 17);
        let row = |title: &str, due: Option<&str>| {
            let r = tagged(&[]);
            let mut p = r.projection();
            p.title = title.into();
            p.due = due.map(str::to_string);
            p
        };
        let list = due_visits(
            vec![
                row("soon", Some("2026-05-20")),
                row("later", Some("2026-06-30")),
                row("none", None),
                row("overdue", Some("2026-05-10")),
                row("today", Some("2026-05-17")),
                row("week", Some("2026-05-24")),
            ],
            today,
        );
        let got: Vec<(&str, i64, bool)> = list
            .iter()
            .map(|d| (d.resident.title.as_str(), d.days_left, d.overdue))
            .collect();
        assert_eq!(
            got,
            [
                ("overdue", -7, true),
                ("today", 0, false),
                ("soon", 3, false),
                ("week", 7, false)
            ]
        );
    }

    fn visits(store: &Store) -> usize {
        let q = ListQuery {
            kind: Some(RecordKind::Visit),
            ..ListQuery::default()
        };
        store.list(&q).unwrap().len()
    }

    #[test]
    fn a_visit_and_its_residents_next_due_date_are_saved_together_by_the_worker() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open_store(&dir.path().join("device.sqlite"));
        let gw = worker("gw-1");
        let resident =
            forms::save(&mut store, &gw, tagged(&[(ElderlyLivingAlone, 30)]), NOW).unwrap();
        let listed = due(&store, day_of(NOW)).unwrap();
        assert_eq!(listed.len(), 1, "due from the day of tagging");

        let mut visit = blank_visit(&resident, "mallory", NOW);
        visit.content = "老人身体健康".into();
        let saved = record(&mut store, &gw, visit, NOW).unwrap();
        assert_eq!(saved.visitor, "gw-1", "the worker, not the form");
        assert_eq!(saved.meta.created_by, "gw-1");
        assert_eq!(saved.next_due.as_deref(), Some("2026-06-16"));
        let stored: Resident = store.get(resident.meta.id).unwrap().unwrap();
        assert_eq!(stored.next_visit_due.as_deref(), Some("2026-06-16"));
        assert_eq!(
            store.pending_count().unwrap(),
            3,
            "resident, visit, due date"
        );
        assert!(due(&store, day_of(NOW)).unwrap().is_empty(), "visited");
        assert_eq!(visits(&store), 1);
    }

    #[test]
    fn a_visit_whose_resident_cannot_be_updated_is_not_saved_either() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open_store(&dir.path().join("device.sqlite"));
        let gw = worker("gw-1");
        // A resident that arrived by sync in a state this device cannot
        // save again (no name): the second half of the write fails.
        let mut broken = tagged(&[(ElderlyLivingAlone, 30)]);
        broken.name = String::new();
        let mut doc = RecordDoc::create(
            &broken,
            ActorId::from(vec![3; 16]),
            &Author::new("cs-1", NOW),
        )
        .unwrap();
        store
            .apply_remote(broken.meta.id, doc.changes_since(&[]))
            .unwrap();

        let visit = blank_visit(&broken, "gw-1", NOW);
        let refused = record(&mut store, &gw, visit, NOW).unwrap_err();
        assert!(
            matches!(refused, WorkError::Store(StoreError::Invalid(_))),
            "{refused:?}"
        );
        assert_eq!(visits(&store), 0, "the visit written first is undone");
        assert_eq!(store.pending_count().unwrap(), 0, "nothing half-written");
        let stored: Resident = store.get(broken.meta.id).unwrap().unwrap();
        assert_eq!(stored.next_visit_due, None);

        let missing = blank_visit(&tagged(&[]), "gw-1", NOW);
        let err = record(&mut store, &gw, missing, NOW).unwrap_err();
        assert_eq!(err.code(), "not_found");
        assert_eq!(visits(&store), 0);
    }
}
