//! What the field app's screens need from a record beyond the record
//! itself: blank records for a new form, incident numbers, the fields a
//! form must never overwrite, an incident's timeline, and ticking a task's
//! line.
//!
//! The app shell stays glue: it calls these and the store, and turns the
//! results into JSON. Nothing here touches the network or the disk.

use serde::Serialize;
use uuid::Uuid;

use crate::calendar::WorkCalendar;
use crate::doc::{Author, Conflict, DocError, RecordDoc};
use crate::geo::{GridTree, PatrolMetrics, TrackPoint, boundary_of, patrol_metrics};
use crate::model::grid::Grid;
use crate::model::{
    Address, CareTagKind, Category, CategoryMajor, CheckIn, EmergencyContact, Gender, GeoPoint,
    Household, HouseholdFlags, HouseholdUse, IdType, Incident, IncidentSource, Meta, Patrol,
    PopulationType, Projection, Relation, Resident, TASK_NOTE_MAX, Task, Urgency, Visit, VisitForm,
    VisitKind, VisitTarget, VisitTargetKind,
};
use crate::validate::Lang;
use crate::workflow::{self, Derived, Status, Transition};

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

/// Fields a form sends back that the form does not own: the review and
/// transition logs (appended by their own actions, possibly by a
/// supervisor since the form was opened) and the common fields. Copying
/// them from the stored record keeps a form save from undoing them.
pub trait FormOwned {
    /// Takes what the form does not own from `stored`.
    fn keep_stored(&mut self, stored: &Self);
}

impl FormOwned for Household {
    fn keep_stored(&mut self, stored: &Self) {
        self.meta = stored.meta.clone();
        self.review = stored.review.clone();
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
    }
}

impl FormOwned for Incident {
    fn keep_stored(&mut self, stored: &Self) {
        self.meta = stored.meta.clone();
        self.number = stored.number.clone();
        self.log = stored.log.clone();
    }
}

/// One step of an incident's timeline, as the detail screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct TimelineEntry {
    #[serde(flatten)]
    pub transition: Transition,
    /// Why the fold skipped this entry (two people acted at once and it
    /// came second), in the reader's language; `None` when it applied.
    pub skipped: Option<String>,
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
pub fn incident_view(incident: Incident, cal: &WorkCalendar, lang: Lang) -> IncidentView {
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
                .map(|s| s.reason.message(lang)),
        })
        .collect();
    IncidentView {
        status: derived.status,
        derived,
        incident,
        timeline,
    }
}

/// A patrol `worker` starts in `grid` at `now_ms`: running, nothing
/// recorded yet.
pub fn blank_patrol(grid: &str, worker: &str, now_ms: i64) -> Patrol {
    Patrol {
        meta: Meta::new(grid, worker, now_ms),
        worker: worker.to_string(),
        started_at: now_ms,
        ended_at: None,
        track: Vec::new(),
        check_ins: Vec::new(),
        notes: String::new(),
        incident_ids: Vec::new(),
    }
}

/// What the patrol screen records as the walk goes on.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PatrolEdit {
    /// A position: a GPS fix, or a tap on the map where there is none.
    Point { point: TrackPoint },
    /// A check-in with a note at a point, also a point of the track.
    CheckIn {
        point: GeoPoint,
        at: i64,
        #[serde(default)]
        note: String,
    },
    /// An incident reported from this patrol (also after it ended: the
    /// report may be finished later).
    Incident { id: Uuid },
    /// The end of the patrol, with its closing notes.
    Stop {
        at: i64,
        #[serde(default)]
        notes: String,
    },
    /// Save the fixes held in a [`TrackBuffer`] now (the app is hidden or
    /// closing); changes nothing else.
    Flush,
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

/// Held GPS fixes are saved once this many have come…
pub const TRACK_FLUSH_FIXES: usize = 12;
/// …or once the oldest held one is this old (milliseconds), whichever is
/// first. With a fix every 5 s both come to a minute: a 2-hour patrol is
/// about 120 changes instead of 1,440.
pub const TRACK_FLUSH_MS: i64 = 60_000;

/// GPS fixes of a running patrol not saved yet. Every save of a patrol is
/// one Automerge change that its document keeps for good, so saving each
/// fix made a long patrol's document grow by a change's overhead every
/// 5 seconds. Fixes are held here and saved together when
/// [`TrackBuffer::push`] says so, and always with a check-in, the stop, and
/// when the app is hidden or closed ([`PatrolEdit::Flush`]).
///
/// The price: the held fixes live only in memory, so a crash (or the
/// system killing the app without warning) loses at most the fixes of the
/// last [`TRACK_FLUSH_MS`] (at most [`TRACK_FLUSH_FIXES`] of them). Check-ins
/// and everything else a worker types are saved at once as before.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackBuffer {
    points: Vec<TrackPoint>,
    /// When (device clock) the oldest held fix was taken in.
    since_ms: Option<i64>,
}

impl TrackBuffer {
    /// Holds a fix taken in at `now_ms`; true when the held fixes should be
    /// saved now.
    pub fn push(&mut self, point: TrackPoint, now_ms: i64) -> bool {
        let since = *self.since_ms.get_or_insert(now_ms);
        self.points.push(point);
        self.points.len() >= TRACK_FLUSH_FIXES || now_ms - since >= TRACK_FLUSH_MS
    }

    /// The held fixes, oldest first, to save; the buffer is empty after.
    pub fn take(&mut self) -> Vec<TrackPoint> {
        self.since_ms = None;
        std::mem::take(&mut self.points)
    }

    /// The held fixes, to draw with the saved track.
    pub fn points(&self) -> &[TrackPoint] {
        &self.points
    }
}

/// An ended patrol takes no more points, check-ins or stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the patrol has already ended")]
pub struct PatrolEnded;

impl PatrolEnded {
    /// The stable code for the UI.
    pub const CODE: &'static str = "patrol_ended";
}

/// Applies one edit to a running patrol.
pub fn edit_patrol(patrol: &mut Patrol, edit: PatrolEdit) -> Result<(), PatrolEnded> {
    if let PatrolEdit::Incident { id } = edit {
        if !patrol.incident_ids.contains(&id) {
            patrol.incident_ids.push(id);
        }
        return Ok(());
    }
    if edit == PatrolEdit::Flush {
        return Ok(());
    }
    if patrol.ended_at.is_some() {
        return Err(PatrolEnded);
    }
    match edit {
        PatrolEdit::Incident { .. } | PatrolEdit::Flush => {}
        PatrolEdit::Point { point } => patrol.track.push(point),
        PatrolEdit::CheckIn { point, at, note } => {
            patrol.track.push(TrackPoint {
                lon: point.lon,
                lat: point.lat,
                t_ms: at,
            });
            patrol.check_ins.push(CheckIn {
                at,
                point,
                photo: None,
                qr: None,
                note,
            });
        }
        PatrolEdit::Stop { at, notes } => {
            // A device clock set back must not make an end before the start.
            patrol.ended_at = Some(at.max(patrol.started_at));
            patrol.notes = notes;
        }
    }
    Ok(())
}

/// A patrol with its figures, for the patrol screens.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct PatrolView {
    pub patrol: Patrol,
    /// Distance, time inside the grid and coverage so far; coverage is 0
    /// when the patrol's grid has no boundary among `grids`.
    pub metrics: PatrolMetrics,
    /// Milliseconds from start to end (or to `now_ms` while running).
    pub duration_ms: i64,
}

/// Derives a patrol's figures against its grid's boundary in `grids`.
pub fn patrol_view(patrol: Patrol, grids: &[Grid], now_ms: i64) -> PatrolView {
    let boundary = grids
        .iter()
        .find(|g| g.code == patrol.meta.grid)
        .and_then(boundary_of)
        .unwrap_or_else(|| ::geo::MultiPolygon::new(Vec::new()));
    let metrics = patrol_metrics(&patrol.track, &boundary);
    let duration_ms = (patrol.ended_at.unwrap_or(now_ms) - patrol.started_at).max(0);
    PatrolView {
        patrol,
        metrics,
        duration_ms,
    }
}

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
        crate::model::RecordKind::Household => true,
        crate::model::RecordKind::Incident => row.status.as_deref() != Some("closed"),
        _ => false,
    }
}

/// The marker of `row` at `point`, or `None` when the row does not belong on
/// the map or has no point yet.
pub fn map_feature(row: Projection, point: Option<&GeoPoint>) -> Option<MapFeature> {
    let p = point?;
    if !on_map(&row) || !p.lon.is_finite() || !p.lat.is_finite() {
        return None;
    }
    Some(MapFeature {
        row,
        lon: p.lon,
        lat: p.lat,
    })
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

/// Why a task's line could not be ticked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TickError {
    #[error("the task has no line {0}")]
    NoSuchLine(usize),
    #[error("a note is at most {TASK_NOTE_MAX} characters")]
    NoteTooLong,
}

impl TickError {
    /// The stable code for the UI.
    pub fn code(self) -> &'static str {
        match self {
            TickError::NoSuchLine(_) => "task_line_missing",
            TickError::NoteTooLong => "task_note_too_long",
        }
    }

    /// What went wrong, in the reader's language.
    pub fn message(self, lang: Lang) -> String {
        match (self, lang) {
            (TickError::NoSuchLine(_), Lang::ZhCn) => "任务中没有这一项，请刷新后重试".into(),
            (TickError::NoteTooLong, Lang::ZhCn) => {
                format!("备注最多 {TASK_NOTE_MAX} 字")
            }
            (TickError::NoSuchLine(_), _) => {
                "The task has no such line; refresh and try again".into()
            }
            (TickError::NoteTooLong, _) => format!("A note is at most {TASK_NOTE_MAX} characters"),
        }
    }
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

    /// What is wrong and what to do, in the reader's language.
    pub fn message(&self, lang: Lang) -> String {
        let (lon, lat) = (self.lon, self.lat);
        match lang {
            Lang::ZhCn => {
                format!("所选位置（{lon}, {lat}）不在您负责的网格内，请在网格范围内重新选点")
            }
            _ => format!("The point ({lon}, {lat}) is outside your grid: pick a point inside it"),
        }
    }
}

/// A task on the tablet's lists: its list row and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct TaskRow {
    pub row: Projection,
    pub done: usize,
    pub total: usize,
    pub open: bool,
    /// Past its due date (Asia/Shanghai) and not finished.
    pub overdue: bool,
}

/// The tablet's tasks as listed: open ones first, the earliest due first,
/// then by title; finished ones after.
pub fn task_rows(tasks: &[Task], today: jiff::civil::Date) -> Vec<TaskRow> {
    let mut rows: Vec<TaskRow> = tasks
        .iter()
        .map(|t| TaskRow {
            row: crate::model::Record::projection(t),
            done: t.done_count(),
            total: t.items.len(),
            open: !t.finished(),
            overdue: t.overdue(today),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.open
            .cmp(&a.open)
            .then_with(|| a.row.due.cmp(&b.row.due))
            .then_with(|| a.row.title.cmp(&b.row.title))
    });
    rows
}

/// Ticks (or unticks) line `index` of a task with a note: the one edit a
/// grid worker makes to a task from above (the server undoes any other,
/// see [`Task::worker_edit_only`]). Ticking records who and when; unticking
/// clears them.
pub fn tick_task(
    task: &mut Task,
    index: usize,
    done: bool,
    note: &str,
    user: &str,
    now_ms: i64,
) -> Result<(), TickError> {
    let note = note.trim();
    if note.chars().count() > TASK_NOTE_MAX {
        return Err(TickError::NoteTooLong);
    }
    let line = task
        .items
        .get_mut(index)
        .ok_or(TickError::NoSuchLine(index))?;
    if line.done != done {
        line.done = done;
        line.done_by = done.then(|| user.to_string());
        line.done_at = done.then_some(now_ms);
    }
    line.note = note.to_string();
    Ok(())
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

/// Why a conflict could not be settled as asked.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The field has one value now (settled meanwhile, maybe on another
    /// device), or the chosen value is no longer among its values.
    #[error("the conflict at {0} has changed; look at it again")]
    Changed(String),
    #[error(transparent)]
    Doc(#[from] DocError),
}

impl ResolveError {
    /// The stable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            ResolveError::Changed(_) => "conflict_changed",
            ResolveError::Doc(e) => e.code(),
        }
    }

    /// What went wrong, in the reader's language.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (ResolveError::Changed(_), Lang::ZhCn) => {
                "这处冲突已经变化（可能已在别的设备上处理），请重新查看".into()
            }
            (ResolveError::Changed(_), _) => {
                "This conflict has changed (perhaps settled on another device); look at it again"
                    .into()
            }
            (ResolveError::Doc(e), _) => e.to_string(),
        }
    }
}

/// Settles the same-field conflict at `path` with `chosen`, which must be
/// one of its current values: one ordinary change by `author`, synced like
/// any edit, after which every device sees that value alone.
pub fn resolve_conflict(
    doc: &mut RecordDoc,
    author: &Author,
    path: &str,
    chosen: &serde_json::Value,
) -> Result<(), ResolveError> {
    let conflicts: Vec<Conflict> = doc.conflicts();
    let found = conflicts
        .iter()
        .find(|c| c.path == path)
        .is_some_and(|c| c.values.iter().any(|v| &v.value == chosen));
    if !found {
        return Err(ResolveError::Changed(path.to_string()));
    }
    doc.resolve(author, path, chosen)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn task_rows_count_lines_flag_overdue_after_the_due_day_and_put_open_ones_first() {
        use crate::model::{TaskItem, TaskKind};
        let make = |title: &str, done: usize, total: usize, due: &str| {
            let mut items: Vec<TaskItem> =
                (0..total).map(|_| TaskItem::open("走访", None)).collect();
            for item in items.iter_mut().take(done) {
                item.done = true;
            }
            Task {
                meta: Meta::new("440106001001001", "cs-1", NOW),
                campaign: Uuid::now_v7(),
                title: title.into(),
                description: String::new(),
                kind: TaskKind::Checklist,
                due: due.into(),
                issued_by: "cs-1".into(),
                issued_at: NOW,
                filter: None,
                items,
            }
        };
        let day = |d: &str| d.parse::<jiff::civil::Date>().unwrap();
        let one = |t: Task, today: &str| task_rows(&[t], day(today)).remove(0);
        let row = one(make("a", 3, 4, "2026-12-01"), "2026-12-01");
        assert_eq!(
            (row.done, row.total, row.open, row.overdue),
            (3, 4, true, false)
        );
        assert!(one(make("a", 3, 4, "2026-12-01"), "2026-12-02").overdue);
        assert!(!one(make("a", 4, 4, "2026-12-01"), "2026-12-02").overdue);

        let ordered = task_rows(
            &[
                make("done", 1, 1, "2026-11-01"),
                make("later", 0, 1, "2026-12-09"),
                make("soon", 0, 1, "2026-12-02"),
            ],
            day("2026-12-01"),
        );
        let titles: Vec<&str> = ordered.iter().map(|r| r.row.title.as_str()).collect();
        assert_eq!(titles, ["soon", "later", "done"]);
    }

    #[test]
    fn a_worker_ticks_a_task_line_with_who_and_when_and_only_that() {
        let mut task = Task {
            meta: Meta::new("440106001001001", "cs-1", NOW),
            campaign: Uuid::now_v7(),
            title: "独居老人走访".into(),
            description: String::new(),
            kind: crate::model::TaskKind::Checklist,
            due: "2026-12-04".into(),
            issued_by: "cs-1".into(),
            issued_at: NOW,
            filter: None,
            items: vec![crate::model::TaskItem::open("走访", None)],
        };
        let before = task.clone();
        tick_task(&mut task, 0, true, " 老人身体好 ", "gw-1", NOW + 1).unwrap();
        assert!(task.items[0].done);
        assert_eq!(task.items[0].done_by.as_deref(), Some("gw-1"));
        assert_eq!(task.items[0].done_at, Some(NOW + 1));
        assert_eq!(task.items[0].note, "老人身体好");
        assert_eq!(
            before.worker_edit_only(&task, "gw-1"),
            task,
            "a tick is allowed"
        );
        tick_task(&mut task, 0, false, "", "gw-1", NOW + 2).unwrap();
        assert_eq!(task.items[0].done_by, None);
        assert_eq!(
            tick_task(&mut task, 3, true, "", "gw-1", NOW),
            Err(TickError::NoSuchLine(3))
        );
        let long = "字".repeat(TASK_NOTE_MAX + 1);
        assert_eq!(
            tick_task(&mut task, 0, true, &long, "gw-1", NOW),
            Err(TickError::NoteTooLong)
        );
        assert!(!task.items[0].done, "a refused tick changes nothing");
    }

    #[test]
    fn resolving_a_conflict_leaves_the_chosen_value_alone_on_every_device() {
        let h = blank_household("440106001001001", "gw-1", NOW);
        let actor = |n: u8| automerge::ActorId::from(vec![n; 16]);
        let mut a = RecordDoc::create(&h, actor(1), &Author::new("gw-1", NOW)).unwrap();
        let mut b = a.fork(actor(2));
        a.update::<Household>(&Author::new("gw-1", NOW), |h| {
            h.owner_name = "王芳芳".into()
        })
        .unwrap();
        b.update::<Household>(&Author::new("cs-1", NOW), |h| h.owner_name = "汪芳".into())
            .unwrap();
        a.merge(&mut b).unwrap();
        assert_eq!(a.conflicts().len(), 1);

        let stale = resolve_conflict(
            &mut a,
            &Author::new("gw-1", NOW),
            "owner_name",
            &"王方".into(),
        );
        assert_eq!(stale.unwrap_err().code(), "conflict_changed");
        let elsewhere =
            resolve_conflict(&mut a, &Author::new("gw-1", NOW), "usage", &"rented".into());
        assert_eq!(elsewhere.unwrap_err().code(), "conflict_changed");

        resolve_conflict(
            &mut a,
            &Author::new("gw-1", NOW),
            "owner_name",
            &"汪芳".into(),
        )
        .unwrap();
        assert!(a.conflicts().is_empty());
        b.merge(&mut a).unwrap();
        assert!(b.conflicts().is_empty(), "the choice syncs as an edit");
        assert_eq!(b.read::<Household>().unwrap().owner_name, "汪芳");
        // Settled: choosing again is refused, not written twice.
        let again = resolve_conflict(
            &mut a,
            &Author::new("gw-1", NOW),
            "owner_name",
            &"汪芳".into(),
        );
        assert!(again.is_err());
    }

    fn tagged(cycles: &[(crate::model::CareTagKind, u32)]) -> Resident {
        let h = blank_household("440106001001001", "gw-1", NOW);
        let mut r = blank_resident(&h, "gw-1", NOW);
        r.name = "李四".into();
        r.care_tags = cycles
            .iter()
            .map(|&(tag, visit_cycle_days)| crate::model::CareTag {
                tag,
                visit_cycle_days,
                since: NOW,
            })
            .collect();
        r
    }

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
    fn the_map_shows_households_and_open_incidents_with_a_point() {
        let at = GeoPoint {
            lon: 113.3,
            lat: 23.1,
            crs: "EPSG:4326".into(),
            accuracy_m: None,
        };
        let h = blank_household("440106001001001", "gw-1", NOW).projection();
        let f = map_feature(h.clone(), Some(&at)).expect("a household with a point");
        assert_eq!((f.lon, f.lat), (113.3, 23.1));
        assert!(map_feature(h, None).is_none(), "no point, no marker");
        let mut i = blank_incident("440106001001001", "gw-1", "dev-1", NOW).projection();
        i.status = Some("reported".into());
        assert!(map_feature(i.clone(), Some(&at)).is_some());
        i.status = Some("closed".into());
        assert!(
            map_feature(i, Some(&at)).is_none(),
            "closed incidents are left off"
        );
        let r = tagged(&[]).projection();
        assert!(
            map_feature(r, Some(&at)).is_none(),
            "residents are not drawn"
        );
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

    use super::*;
    use crate::model::{Record, Role, ValidateCtx};
    use crate::workflow::{Action, Actor};
    use automerge::ActorId;

    const NOW: i64 = 1_779_000_000_000; // 2026-05-17, Asia/Shanghai

    #[test]
    fn incident_numbers_carry_the_day_the_device_and_the_record() {
        let id = Uuid::parse_str("019a0000-0000-7000-8000-00000000beef").unwrap();
        assert_eq!(incident_number(&id, "3f9a-77", NOW), "SJ20260517-3F9A-BEEF");
        assert_eq!(incident_number(&id, "", NOW), "SJ20260517-0000-BEEF");
    }

    #[test]
    fn a_form_save_keeps_a_supervisors_transition_made_meanwhile() {
        let cal = WorkCalendar::bundled();
        let mut stored = blank_incident("440106001001001", "gw-1", "ab12", NOW);
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
        let view = incident_view(i, &cal, Lang::ZhCn);
        assert_eq!(view.status, Status::Reported);
        assert_eq!(view.timeline[0].skipped, None);
        let why = view.timeline[1].skipped.as_deref().unwrap();
        assert!(why.contains("已上报"), "{why}");
    }

    fn square_grid() -> Grid {
        // About 100 m × 110 m in Guangzhou.
        serde_json::from_value(serde_json::json!({
            "code": "440106001001001", "name": "第1网格", "level": "grid",
            "boundary": {"type": "Polygon", "coordinates": [[
                [113.327, 23.127], [113.328, 23.127], [113.328, 23.128],
                [113.327, 23.128], [113.327, 23.127]
            ]]},
            "crs": "EPSG:4326"
        }))
        .unwrap()
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
        assert!(err.message(Lang::ZhCn).contains("不在您负责的网格内"));
        assert!(err.message(Lang::En).contains("outside your grid"));
        assert_eq!(
            h.meta.grid, "440106001001001",
            "a refused point changes nothing"
        );

        let mut i = blank_incident("440106001001", "gw-1", "dev-1", NOW);
        i.point = Some(GeoPoint::wgs84(113.3275, 23.1275));
        place_incident(&mut i, &grids).unwrap();
        assert_eq!(i.meta.grid, "440106001001001", "an incident too");
        i.point = Some(GeoPoint::wgs84(113.3400, 23.1275));
        assert!(place_incident(&mut i, &grids).is_err());
    }

    #[test]
    fn held_fixes_are_saved_every_twelve_or_every_minute() {
        let fix = |t: i64| TrackPoint {
            lon: 113.3271,
            lat: 23.1275,
            t_ms: NOW + t,
        };
        let mut b = TrackBuffer::default();
        for i in 0..11 {
            assert!(!b.push(fix(i * 1_000), NOW + i * 1_000), "fix {i}");
        }
        assert!(b.push(fix(11_000), NOW + 11_000), "the twelfth");
        assert_eq!(b.take().len(), 12);
        assert!(b.points().is_empty());
        // Slow fixes: the minute comes first.
        assert!(!b.push(fix(0), NOW));
        assert!(!b.push(fix(30_000), NOW + 30_000));
        assert!(b.push(fix(60_000), NOW + 60_000));
        assert_eq!(b.points().len(), 3);
    }

    #[test]
    fn a_patrol_records_points_and_check_ins_until_it_stops() {
        let mut p = blank_patrol("440106001001001", "gw-1", NOW);
        assert_eq!(p.ended_at, None);
        let fix = |lon: f64, t: i64| PatrolEdit::Point {
            point: TrackPoint {
                lon,
                lat: 23.1275,
                t_ms: NOW + t,
            },
        };
        edit_patrol(&mut p, fix(113.3271, 0)).unwrap();
        edit_patrol(&mut p, fix(113.3279, 60_000)).unwrap();
        let at = GeoPoint {
            lon: 113.3279,
            lat: 23.1276,
            crs: "EPSG:4326".into(),
            accuracy_m: None,
        };
        edit_patrol(
            &mut p,
            PatrolEdit::CheckIn {
                point: at,
                at: NOW + 90_000,
                note: "消防通道畅通".into(),
            },
        )
        .unwrap();
        assert_eq!(p.track.len(), 3, "a check-in is a point of the track too");
        assert_eq!(p.check_ins[0].note, "消防通道畅通");
        // A clock set back cannot end it before it began.
        let stop = PatrolEdit::Stop {
            at: NOW - 5,
            notes: "无异常".into(),
        };
        edit_patrol(&mut p, stop.clone()).unwrap();
        assert_eq!(p.ended_at, Some(NOW));
        assert_eq!(edit_patrol(&mut p, stop), Err(PatrolEnded));
        assert_eq!(
            edit_patrol(&mut p, fix(113.3275, 100_000)),
            Err(PatrolEnded)
        );
        assert_eq!(p.track.len(), 3);
        // An incident found on the way is linked, once, even after the end.
        let found = Uuid::now_v7();
        edit_patrol(&mut p, PatrolEdit::Incident { id: found }).unwrap();
        edit_patrol(&mut p, PatrolEdit::Incident { id: found }).unwrap();
        assert_eq!(p.incident_ids, vec![found]);
    }

    #[test]
    fn a_patrol_view_measures_the_walk_against_its_grid() {
        let mut p = blank_patrol("440106001001001", "gw-1", NOW);
        for (i, lon) in [113.3271, 113.3275, 113.3279].into_iter().enumerate() {
            let point = TrackPoint {
                lon,
                lat: 23.1275,
                t_ms: NOW + i as i64 * 30_000,
            };
            edit_patrol(&mut p, PatrolEdit::Point { point }).unwrap();
        }
        let view = patrol_view(p.clone(), &[square_grid()], NOW + 120_000);
        assert!((75.0..90.0).contains(&view.metrics.distance_m), "{view:?}");
        assert!(view.metrics.coverage_share > 0.0 && view.metrics.coverage_share < 1.0);
        assert_eq!(view.duration_ms, 120_000, "running: up to now");
        // Without the grid's boundary, the distance still counts.
        let elsewhere = patrol_view(p, &[], NOW + 120_000);
        assert_eq!(elsewhere.metrics.distance_m, view.metrics.distance_m);
        assert_eq!(elsewhere.metrics.coverage_share, 0.0);
    }
}
