//! Incidents on the device: a new incident's number, the view the detail
//! screen shows (derived status and timeline), and the store-level steps:
//! take a workflow step, or save the form and report in one go (the form
//! alone, 暂存, is [`super::forms::save`]).

use serde::Serialize;
use uuid::Uuid;

use super::forms::save_in;
use super::{WorkError, Worker};
use crate::calendar::WorkCalendar;
use crate::model::{Category, CategoryMajor, Incident, IncidentSource, Meta, Urgency};
use crate::store::{Store, StoreError, StoreTx};
use crate::workflow::{self, Action, Derived, Status, Transition, TransitionError};

/// An empty incident found on patrol in `grid`, numbered for `device`.
pub fn blank_incident(grid: &str, user: &str, device: &str, now_ms: i64) -> Incident {
    let meta = Meta::new(grid, user, now_ms);
    let number = incident_number(&meta.id, device, now_ms);
    Incident {
        meta,
        number,
        title: String::new(),
        description: String::new(),
        category: Category {
            major: CategoryMajor::SafetyHazard,
            minor: String::new(),
        },
        source: IncidentSource::Patrol,
        urgency: Urgency::Medium,
        point: None,
        address: String::new(),
        happened_at: now_ms,
        photos: Vec::new(),
        hotline_order: None,
        patrol_id: None,
        mediation: None,
        log: Vec::new(),
    }
}

/// `SJ20261122-3F9A-0C1D`: the day (Asia/Shanghai), four hex digits of the
/// device and four of the record's random bits, so two devices never make
/// the same number offline and a person can read it out on the phone.
pub fn incident_number(id: &Uuid, device: &str, now_ms: i64) -> String {
    let day = jiff::Timestamp::from_millisecond(now_ms)
        .map(crate::calendar::shanghai_date)
        .unwrap_or(jiff::civil::date(1970, 1, 1));
    let device: String = device
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(4)
        .collect::<String>()
        .to_uppercase();
    let tail = id.simple().to_string();
    let tail = tail[tail.len() - 4..].to_uppercase();
    format!("SJ{}-{device:0>4}-{tail}", day.strftime("%Y%m%d"))
}

/// One step of an incident's timeline, as the detail screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct TimelineEntry {
    #[serde(flatten)]
    pub transition: Transition,
    /// Why the fold skipped this entry (two people acted at once and it
    /// came second), as a code and params the UI translates; `None` when
    /// it applied.
    pub skipped: Option<TransitionError>,
}

/// An incident with its derived state and its timeline.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct IncidentView {
    pub incident: Incident,
    pub status: Status,
    pub derived: Derived,
    pub timeline: Vec<TimelineEntry>,
}

/// Derives an incident's state and timeline.
pub fn incident_view(incident: Incident, cal: &WorkCalendar) -> IncidentView {
    let derived = workflow::derive(&incident, cal);
    let timeline = incident
        .log
        .iter()
        .enumerate()
        .map(|(index, t)| TimelineEntry {
            transition: t.clone(),
            skipped: derived
                .skipped
                .iter()
                .find(|s| s.index == index)
                .map(|s| s.reason.clone()),
        })
        .collect();
    IncidentView {
        status: derived.status,
        derived,
        incident,
        timeline,
    }
}

/// Takes a workflow step (上报, 就地解决 …) by the worker on incident
/// `id`, checked by the same rules the server runs
/// ([`workflow::transition`]); returns the incident as it now stands. A
/// step the rules refuse writes nothing.
pub fn step(
    store: &mut Store,
    worker: &Worker<'_>,
    id: Uuid,
    action: Action,
    opinion: &str,
    now_ms: i64,
) -> Result<Incident, WorkError> {
    store.write(|tx| step_in(tx, worker, id, action, opinion, now_ms))
}

/// Saves the form and reports the incident (上报), as one transaction: a
/// report the rules refuse leaves the form unsaved too, so what is stored
/// is never a half of what the worker asked for (the form on screen still
/// holds what was typed).
pub fn report(
    store: &mut Store,
    worker: &Worker<'_>,
    record: Incident,
    now_ms: i64,
) -> Result<Incident, WorkError> {
    store.write(|tx| report_in(tx, worker, record, now_ms))
}

/// [`report`] inside a larger transaction (see [`save_in`]).
pub fn report_in(
    tx: &mut StoreTx<'_>,
    worker: &Worker<'_>,
    record: Incident,
    now_ms: i64,
) -> Result<Incident, WorkError> {
    let saved = save_in(tx, worker, record, now_ms)?;
    step_in(tx, worker, saved.meta.id, Action::Report, "", now_ms)
}

fn step_in(
    tx: &mut StoreTx<'_>,
    worker: &Worker<'_>,
    id: Uuid,
    action: Action,
    opinion: &str,
    now_ms: i64,
) -> Result<Incident, WorkError> {
    let cal = tx.calendar();
    let mut doc = tx.load(id)?.ok_or(StoreError::NotFound(id))?;
    let mut outcome = Ok(());
    doc.update::<Incident>(&worker.author(now_ms), |incident| {
        outcome = workflow::transition(
            incident,
            cal,
            worker.actor(),
            action,
            opinion,
            Vec::new(),
            now_ms,
        )
        .map(|_| ());
    })?;
    outcome?;
    tx.save_doc(&mut doc)?;
    Ok(doc.read()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fieldwork::forms;
    use crate::fieldwork::testkit::{GRID, NOW, open_store, worker};
    use crate::model::{GeoPoint, RecordKind, Role};
    use crate::store::ListQuery;
    use crate::workflow::Actor;

    #[test]
    fn incident_numbers_carry_the_day_the_device_and_the_record() {
        let id = Uuid::parse_str("019a0000-0000-7000-8000-00000000beef").unwrap();
        assert_eq!(incident_number(&id, "3f9a-77", NOW), "SJ20260517-3F9A-BEEF");
        assert_eq!(incident_number(&id, "", NOW), "SJ20260517-0000-BEEF");
    }

    #[test]
    fn the_timeline_says_why_a_raced_transition_was_skipped() {
        let cal = WorkCalendar::bundled();
        let mut i = blank_incident("440106001001001", "gw-1", "ab12", NOW);
        let worker = Actor {
            user: "gw-1",
            role: Role::GridWorker,
        };
        workflow::transition(&mut i, &cal, worker, Action::Report, "", vec![], NOW).unwrap();
        // A second report appended offline by another device of the same worker.
        let mut again = i.log[0].clone();
        again.at += 1;
        i.log.push(again);
        let view = incident_view(i, &cal);
        assert_eq!(view.status, Status::Reported);
        assert_eq!(view.timeline[0].skipped, None);
        let why = view.timeline[1].skipped.as_ref().unwrap();
        assert_eq!(why.code(), "wrong_status");
        assert_eq!(
            why.params(),
            crate::problem::params([("action", "report".into()), ("status", "reported".into())])
        );
    }

    fn incidents(store: &Store) -> usize {
        let q = ListQuery {
            kind: Some(RecordKind::Incident),
            ..ListQuery::default()
        };
        store.list(&q).unwrap().len()
    }

    fn form(title: &str) -> Incident {
        let mut i = blank_incident(GRID, "gw-1", "ab12", NOW);
        i.title = title.into();
        i.description = "三楼楼道堆放杂物".into();
        i.point = Some(GeoPoint::wgs84(113.3275, 23.1275));
        i
    }

    #[test]
    fn reporting_saves_the_form_and_the_report_by_the_worker_in_one_write() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open_store(&dir.path().join("device.sqlite"));
        let gw = worker("gw-1");
        let mut claimed = form("楼道堆物");
        claimed.meta.created_by = "mallory".into();
        let reported = report(&mut store, &gw, claimed, NOW).unwrap();
        assert_eq!(reported.meta.created_by, "gw-1");
        assert_eq!(reported.log.len(), 1);
        assert_eq!(reported.log[0].actor, "gw-1");
        let view = incident_view(reported.clone(), store.calendar());
        assert_eq!(view.status, Status::Reported);
        assert_eq!(
            store.get::<Incident>(reported.meta.id).unwrap().unwrap(),
            reported
        );

        // A step on the stored incident, by the rules: a supervisor accepts.
        let cs = Worker {
            role: Role::CommunitySupervisor,
            ..worker("cs-1")
        };
        let accepted = step(
            &mut store,
            &cs,
            reported.meta.id,
            Action::Accept,
            "",
            NOW + 1,
        );
        let accepted = accepted.unwrap();
        assert_eq!(accepted.log.len(), 2);
        assert_eq!(accepted.log[1].actor, "cs-1");
        let pending = store.pending_count().unwrap();
        let again = step(
            &mut store,
            &gw,
            reported.meta.id,
            Action::Report,
            "",
            NOW + 2,
        )
        .unwrap_err();
        assert_eq!(again.code(), "wrong_status");
        assert_eq!(
            store.pending_count().unwrap(),
            pending,
            "a refused step writes nothing"
        );
    }

    #[test]
    fn a_refused_report_leaves_neither_the_report_nor_the_form() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open_store(&dir.path().join("device.sqlite"));
        let handler = Worker {
            role: Role::DepartmentHandler,
            ..worker("dh-1")
        };
        // New: the insert (first half) is undone with the refused report.
        let refused = report(&mut store, &handler, form("楼道堆物"), NOW).unwrap_err();
        assert!(matches!(refused, WorkError::Transition(_)), "{refused:?}");
        assert_eq!(refused.code(), "role_not_allowed");
        assert_eq!(incidents(&store), 0);
        assert_eq!(store.pending_count().unwrap(), 0, "nothing half-written");

        // Stored as a draft: the form's new title is not saved either.
        let draft = forms::save(&mut store, &handler, form("楼道堆物"), NOW).unwrap();
        let mut edited = draft.clone();
        edited.title = "消防通道堵塞".into();
        report(&mut store, &handler, edited, NOW + 1).unwrap_err();
        let stored: Incident = store.get(draft.meta.id).unwrap().unwrap();
        assert_eq!(stored.title, "楼道堆物");
        assert!(stored.log.is_empty());
        assert_eq!(
            store.pending_count().unwrap(),
            1,
            "the draft's change alone"
        );
    }
}
