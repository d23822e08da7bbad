//! The console's projections: one plain row per stored record (and, for an
//! incident, one more with its derived workflow state), kept beside the
//! documents so the console lists, filters, counts and maps in SQL instead
//! of decoding documents.
//!
//! **One rule.** A row is made by [`ProjectionRow::of`] from core's
//! `Record::projection` (title, subtitle and status as lists show them,
//! masked) and, for an incident, `workflow::derive`. Every write of a
//! document carries its row ([`super::DocWrite::projection`]) and the
//! backend stores it in the transaction that stores the document, so the
//! two never disagree; [`rebuild`] makes every row again from the
//! documents (the admin command `rebuild-projections`, and the data
//! migration that fills the tables of a server older than them).
//!
//! **Time.** Rows hold what does not change with the clock: an incident's
//! working-day deadline as a date. Whether it is overdue or due soon is
//! computed by the query from that date and the day asked
//! ([`DeadlineWindow`]), so a list is right on any day without rewriting
//! rows. The deadline itself depends on the working calendar: a server
//! given another calendar rebuilds its projections.
//!
//! **Scope.** Rows keep the grid code, not its path: a query is given the
//! scope as a grid-path prefix ([`crate::access`] decides it) and joins the
//! grid table, so re-placing grids leaves no row behind.
//!
//! **Figures.** The dashboard's figures (`console::dashboard` defines them)
//! are counted here too: each [`Figure`] has one SQL condition
//! ([`figure_condition`]) that a list's drill-down filters by and
//! [`dashboard_statements`] sums by, so a figure and its list never
//! disagree. What a figure needs beyond a list's columns is kept with the
//! row at push time: a resident's visit cycle and a household's or visit's
//! time (`cycle_days`, `visit_at`), a patrol's worker, times and the cells
//! of its grid its track covers ([`PatrolRow`], laid on the grid's boundary
//! through [`Boundaries`]: the track itself, [S], is not copied). What
//! one row cannot say, a household's visit cycle (its residents' shortest
//! cycle, its latest visit), is kept in `visit_cycles` by every write of a
//! household, resident or visit row, in the write's transaction
//! ([`cycles_of`]). An incident's and a patrol's own row carry copies of
//! their record's grid, status, category and deleted flag, so the
//! incident and patrol figures read one index of one table ([`Rows`]).
//!
//! **Ledgers.** A ledger page or an export shows each listed record's
//! cells, masked for the reader (`console::ledger`, the one place of that
//! rule). So that it decodes no document, each row keeps its record as
//! JSON beside it ([`ProjectionRow::ledger`], table `ledger_records`),
//! written and rebuilt with the row; lists never read it, a page reads it
//! for its rows only ([`Projections::ledger_records`]). It is the whole
//! record, [PI] and [S] in clear as in the document beside it (a patrol's
//! track too: the patrols ledger shows its distance), so nothing but the
//! ledgers reads it, and they mask it as they masked a decoded record;
//! besides them, only the server's own task lists (campaigns, screening
//! lines) read tasks, households and residents from it.
//!
//! **Two backends, one SQL.** The statements (the conditions of every
//! filter, the flags, the upserts) and the row ⇄ column rules are below,
//! once; `sqlite_projections.rs` and `postgres/projections.rs` only bind
//! parameters and move values between their rows and [`Columns`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use geo::MultiPolygon;
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::geo::{TrackPoint, boundary_key, boundary_of, covered_cells};
use gridwork_core::model::{AnyRecord, RecordKind, enum_name, return_comment};
use gridwork_core::workflow::{self, Derived, Level, Satisfaction, Status};
use uuid::Uuid;

use super::{Storage, StorageError};

/// A record's projection, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionRow {
    pub id: Uuid,
    pub kind: RecordKind,
    pub grid: String,
    /// Masked, as lists show it.
    pub title: String,
    /// Masked, as lists show it.
    pub subtitle: String,
    /// Review state (`pending`, `accepted`, `returned`) or incident status;
    /// empty when the kind has none.
    pub status: String,
    pub category: Option<String>,
    pub urgency: Option<String>,
    pub parent_id: Option<Uuid>,
    pub created_at: i64,
    pub created_by: String,
    pub deleted: bool,
    /// The comment (reason) of the latest return, while returned.
    pub return_comment: Option<String>,
    /// WGS-84 longitude and latitude, when the record has one place.
    pub point: Option<(f64, f64)>,
    /// A resident's visit cycle in days (the shortest of their care
    /// tags'), when they have one and a household.
    pub cycle_days: Option<u32>,
    /// A household's last visit (`last_visit_at`), a visit's time.
    pub visit_at: Option<i64>,
    pub incident: Option<IncidentRow>,
    pub patrol: Option<PatrolRow>,
    /// The record as the ledgers read it: core's record as JSON
    /// ([`ledger_json`]), so a ledger page or an export builds its cells
    /// (masked by `console::ledger` as for a decoded record) without
    /// decoding the record's document. Stored beside the row
    /// (`ledger_records`) and read by id ([`Projections::ledger_records`]):
    /// lists do not read it (`None` in a [`ListedRow`]), every other read
    /// of whole rows does.
    pub ledger: Option<String>,
}

/// A record as [`ProjectionRow::ledger`] keeps it: core's record as JSON.
pub fn ledger_json(record: &AnyRecord) -> Option<String> {
    serde_json::to_string(record).ok()
}

/// A [`ProjectionRow::ledger`] read back into its record.
pub fn ledger_record(json: &str) -> Result<AnyRecord, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
}

/// A patrol's facts, as stored: who, when, and the cells its track covers.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolRow {
    pub worker: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// `None` when its grid has no boundary (or it was not read).
    pub cells: Option<PatrolCells>,
}

/// The cells of its grid a patrol's track covers (core's
/// [`covered_cells`]), and the boundary they were laid on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatrolCells {
    /// Core's [`boundary_key`] of the grid's boundary.
    pub boundary_key: i64,
    pub cells_total: u32,
    /// The bit set of core's `CoveredCells::visited`.
    pub visited: Vec<u8>,
}

impl PatrolCells {
    /// The cells `track` covers in `boundary`.
    pub fn of(track: &[TrackPoint], boundary: &MultiPolygon<f64>) -> PatrolCells {
        let c = covered_cells(track, boundary);
        PatrolCells {
            boundary_key: boundary_key(boundary),
            cells_total: c.cells_total,
            visited: c.visited,
        }
    }
}

/// Grid boundaries by code, each read once: what a patrol's row needs.
pub struct Boundaries<'a> {
    storage: &'a dyn Storage,
    known: HashMap<String, Option<MultiPolygon<f64>>>,
}

impl std::fmt::Debug for Boundaries<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Boundaries")
            .field("known", &self.known.len())
            .finish()
    }
}

impl<'a> Boundaries<'a> {
    /// Boundaries read from `storage` when first asked for.
    pub fn new(storage: &'a dyn Storage) -> Boundaries<'a> {
        Boundaries {
            storage,
            known: HashMap::new(),
        }
    }

    /// Every grid's boundary, read at once (for a rebuild).
    pub fn all(storage: &'a dyn Storage) -> Result<Boundaries<'a>, StorageError> {
        let known = storage
            .all_grids()?
            .iter()
            .map(|g| (g.code.clone(), boundary_of(g)))
            .collect();
        Ok(Boundaries { storage, known })
    }

    /// The boundary of grid `code`, `None` when it has none (or there is
    /// no such grid).
    pub fn of(&mut self, code: &str) -> Result<Option<&MultiPolygon<f64>>, StorageError> {
        if !self.known.contains_key(code) {
            let boundary = match self.storage.grid_path(code)? {
                None => None,
                Some(path) => self
                    .storage
                    .subtree(&path)?
                    .iter()
                    .find(|g| g.code == code)
                    .and_then(boundary_of),
            };
            self.known.insert(code.to_string(), boundary);
        }
        Ok(self.known.get(code).and_then(Option::as_ref))
    }
}

/// An incident's derived state, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRow {
    pub number: String,
    /// `grid`, `street`, `district`, `city`.
    pub level: String,
    /// `department` or `person`, with the id and name.
    pub assignee: Option<(String, String, String)>,
    /// `YYYY-MM-DD`.
    pub deadline: Option<String>,
    pub escalations: u32,
    pub resolved_on_spot: bool,
    pub feedback: Option<String>,
    pub reported_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
}

/// A row with when the server last stored its document.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProjection {
    pub row: ProjectionRow,
    /// Unix ms, server clock.
    pub updated_at: i64,
}

impl ProjectionRow {
    /// The row of a record; `derived` is an incident's state
    /// ([`ProjectionRow::read`] derives it).
    pub fn of(record: &AnyRecord, derived: Option<&Derived>) -> ProjectionRow {
        let p = record.projection();
        let (status, return_comment, incident) = match (record, derived) {
            (AnyRecord::Incident(i), Some(d)) => (
                d.status.as_str().to_string(),
                d.return_reason.clone(),
                Some(IncidentRow {
                    number: i.number.clone(),
                    level: enum_name(&d.level),
                    assignee: d
                        .assignee
                        .as_ref()
                        .map(|a| (enum_name(&a.kind), a.id.clone(), a.name.clone())),
                    deadline: d.deadline.map(|d| d.to_string()),
                    escalations: d.escalations,
                    resolved_on_spot: d.resolved_on_spot,
                    feedback: d.feedback.as_ref().map(enum_name),
                    reported_at: d.reported_at,
                    accepted_at: d.accepted_at,
                    resolved_at: d.resolved_at,
                    closed_at: d.closed_at,
                }),
            ),
            (AnyRecord::Household(h), _) => (
                p.status.clone().unwrap_or_default(),
                return_comment(&h.review).map(str::to_string),
                None,
            ),
            (AnyRecord::Resident(r), _) => (
                p.status.clone().unwrap_or_default(),
                return_comment(&r.review).map(str::to_string),
                None,
            ),
            _ => (p.status.clone().unwrap_or_default(), None, None),
        };
        let cycle_days = match record {
            AnyRecord::Resident(r) if r.household_id.is_some() => {
                r.care_tags.iter().map(|t| t.visit_cycle_days).min()
            }
            _ => None,
        };
        let visit_at = match record {
            AnyRecord::Household(h) => h.last_visit_at,
            AnyRecord::Visit(v) => Some(v.visited_at),
            _ => None,
        };
        let patrol = match record {
            AnyRecord::Patrol(p) => Some(PatrolRow {
                worker: p.worker.clone(),
                started_at: p.started_at,
                ended_at: p.ended_at,
                cells: None,
            }),
            _ => None,
        };
        ProjectionRow {
            id: p.id,
            kind: p.kind,
            grid: p.grid,
            title: p.title,
            subtitle: p.subtitle,
            status,
            category: p.category,
            urgency: p.urgency,
            parent_id: p.parent_id,
            created_at: p.created_at,
            created_by: p.created_by,
            deleted: p.deleted,
            return_comment,
            point: record.point().map(|g| (g.lon, g.lat)),
            cycle_days,
            visit_at,
            incident,
            patrol,
            ledger: ledger_json(record),
        }
    }

    /// The row of a record as stored: an incident's state derived on
    /// `cal`, a patrol's cells laid on its grid's boundary.
    pub fn read(
        record: &AnyRecord,
        cal: &WorkCalendar,
        boundaries: &mut Boundaries<'_>,
    ) -> Result<ProjectionRow, StorageError> {
        let derived = match record {
            AnyRecord::Incident(i) => Some(workflow::derive(i, cal)),
            _ => None,
        };
        let mut row = ProjectionRow::of(record, derived.as_ref());
        if let (AnyRecord::Patrol(p), Some(patrol)) = (record, row.patrol.as_mut()) {
            patrol.cells = boundaries
                .of(&p.meta.grid)?
                .map(|b| PatrolCells::of(&p.track, b));
        }
        Ok(row)
    }
}

/// The day a list is asked on, and the last day that counts as due soon
/// (将到期): an open incident is overdue when its deadline is before
/// `today`, due soon when it is from `today` to `soon`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineWindow {
    /// `YYYY-MM-DD`.
    pub today: String,
    /// `YYYY-MM-DD`.
    pub soon: String,
    /// The statuses in which an incident is open (flags apply).
    pub open: Vec<String>,
}

impl DeadlineWindow {
    /// The window of `today` on `cal`: due soon is within
    /// [`DUE_SOON_DAYS`] working days.
    pub fn on(today: jiff::civil::Date, cal: &WorkCalendar) -> DeadlineWindow {
        DeadlineWindow {
            today: today.to_string(),
            soon: cal.add_working_days(today, DUE_SOON_DAYS).to_string(),
            open: workflow::Status::ALL
                .iter()
                .filter(|s| s.is_open())
                .map(|s| s.as_str().to_string())
                .collect(),
        }
    }
}

/// Working days before a deadline when an incident counts as due soon
/// (将到期).
pub const DUE_SOON_DAYS: u32 = 2;

/// Which rows a console list holds, all conditions together.
#[derive(Debug, Clone, PartialEq)]
pub struct ListFilter {
    /// The grid path the rows' grids are under (`crate::access` decides
    /// it for the reader).
    pub scope_path: String,
    pub kinds: Vec<RecordKind>,
    /// Leave deleted records out.
    pub live: bool,
    /// Rows whose (kind, status) is one of these; `None` for any.
    pub statuses: Option<Vec<(RecordKind, String)>>,
    /// Only incidents dispatched to this reader (a department handler).
    pub dispatched_to: Option<Dispatchee>,
    /// Only records changed from a device after it was marked lost
    /// (`crate::devices`).
    pub from_lost_device: bool,
    /// The day the deadline flags are computed for.
    pub window: DeadlineWindow,
    /// Only the records a dashboard figure counts (its drill-down).
    pub figure: Option<Figure>,
    /// Unix ms visit cycles are judged at (for the cycle figures).
    pub at_ms: i64,
}

/// A dashboard figure whose records a list holds: the console's
/// `console::dashboard` defines each; [`figure_condition`] is its SQL, the
/// one the dashboard counts with and the drill-down lists with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Figure {
    Incidents,
    Resolved,
    OnTheSpot,
    WithinVillage,
    WithinTown,
    Overdue,
    DueSoon,
    WithFeedback,
    Satisfied,
    Dissatisfied,
    WithCycle,
    VisitedInCycle,
    NotVisitedInCycle,
    /// Incidents in this status.
    Status(String),
    /// Incidents of this category.
    Category(String),
    /// Incidents in this grid.
    Grid(String),
    /// This worker's patrols.
    Worker(String),
}

impl Figure {
    /// The figure a name (`resolved`, `status:closed`, …) names.
    pub fn parse(name: &str) -> Option<Figure> {
        Some(match name {
            "incidents" => Figure::Incidents,
            "resolved" => Figure::Resolved,
            "on_the_spot" => Figure::OnTheSpot,
            "within_village" => Figure::WithinVillage,
            "within_town" => Figure::WithinTown,
            "overdue" => Figure::Overdue,
            "due_soon" => Figure::DueSoon,
            "with_feedback" => Figure::WithFeedback,
            "satisfied" => Figure::Satisfied,
            "dissatisfied" => Figure::Dissatisfied,
            "with_cycle" => Figure::WithCycle,
            "visited_in_cycle" => Figure::VisitedInCycle,
            "not_visited_in_cycle" => Figure::NotVisitedInCycle,
            other => match other.split_once(':')? {
                ("status", s) => Figure::Status(s.to_string()),
                ("category", c) => Figure::Category(c.to_string()),
                ("grid", g) => Figure::Grid(g.to_string()),
                ("worker", w) => Figure::Worker(w.to_string()),
                _ => return None,
            },
        })
    }

    /// The kind of the records the figure counts.
    pub fn kind(&self) -> RecordKind {
        match self {
            Figure::WithCycle | Figure::VisitedInCycle | Figure::NotVisitedInCycle => {
                RecordKind::Household
            }
            Figure::Worker(_) => RecordKind::Patrol,
            _ => RecordKind::Incident,
        }
    }
}

/// A reader incidents can be dispatched to: the person, and their
/// department (see `crate::access::dispatched_to`, the rule this is the
/// SQL of).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispatchee {
    pub user_id: String,
    /// Empty when the reader has none.
    pub department: String,
}

/// A row of a list, with its deadline flags on the day asked.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedRow {
    pub projection: StoredProjection,
    pub overdue: bool,
    pub due_soon: bool,
}

/// One page of a list, and how many rows the whole list holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListPage {
    pub total: u64,
    pub rows: Vec<ListedRow>,
}

/// The projection queries the console needs, implemented by each backend.
pub trait Projections {
    /// The rows `filter` holds, oldest change first (then by id), from
    /// `offset`, at most `limit` (all with `None`), and their number.
    fn list_projections(
        &self,
        filter: &ListFilter,
        offset: u64,
        limit: Option<u64>,
    ) -> Result<ListPage, StorageError>;
    /// Every row of `kinds` in the subtree whose grid path starts with
    /// `scope_path`, oldest change first.
    fn projections_in(
        &self,
        scope_path: &str,
        kinds: &[RecordKind],
    ) -> Result<Vec<StoredProjection>, StorageError>;
    /// The stored rows whose ids are in `range`, with their
    /// [`ProjectionRow::ledger`], in id order (a check's page).
    fn projection_range(&self, range: IdRange) -> Result<Vec<StoredProjection>, StorageError>;
    /// Every stored row, in id order (tests).
    fn all_projections(&self) -> Result<Vec<StoredProjection>, StorageError> {
        self.projection_range(IdRange::ALL)
    }
    /// The [`ProjectionRow::ledger`] of each of `ids` that has one, in one
    /// read, in the order of `ids` (a ledger page's or an export chunk's
    /// records).
    fn ledger_records(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, StorageError>;
    /// How many rows are stored.
    fn projection_count(&self) -> Result<u64, StorageError>;
    /// Stores `rows`, each replacing the row with its id, in one
    /// transaction.
    fn put_projections(&self, rows: &[StoredProjection]) -> Result<(), StorageError>;
    /// Replaces the rows whose ids are in `range` with `rows` (whose ids
    /// are all in it), in one transaction.
    fn replace_projections(
        &self,
        range: IdRange,
        rows: &[StoredProjection],
    ) -> Result<(), StorageError>;
    /// Makes every household's visit cycle again from the stored rows
    /// ([`remake_statements`]), in one transaction.
    fn refill_visit_cycles(&self) -> Result<(), StorageError>;
    /// The rows of each of `statements` (this module's, read-only), all
    /// read in one snapshot.
    fn read_rows(&self, statements: &[Statement]) -> Result<Vec<Vec<Vec<Val>>>, StorageError>;
}

/// What [`rebuild`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub rows: usize,
    /// Documents that could not be read (logged, left without a row).
    pub unreadable: usize,
}

/// Ids after `after` (from the first when `None`) up to and including
/// `through` (to the last when `None`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IdRange {
    pub after: Option<Uuid>,
    pub through: Option<Uuid>,
}

impl IdRange {
    /// Every id.
    pub const ALL: IdRange = IdRange {
        after: None,
        through: None,
    };

    /// `range` as a condition on `column`.
    fn condition(&self, st: &mut Statement, column: &str) -> String {
        let mut parts = vec!["TRUE".to_string()];
        if let Some(after) = self.after {
            parts.push(format!("{column} > {}", st.bind(Arg::Id(after))));
        }
        if let Some(through) = self.through {
            parts.push(format!("{column} <= {}", st.bind(Arg::Id(through))));
        }
        parts.join(" AND ")
    }
}

/// Documents read and rows made at a time by [`rebuild`] and [`check`]:
/// their memory stays that of one page, whatever the number of records.
const DOCS_PER_PAGE: usize = 500;

/// Makes every projection row again from the stored documents and
/// replaces the stored rows with them, a page of documents at a time
/// (each page's rows in one transaction: a row of a document pushed
/// meanwhile is its push's, or this rebuild's made from the newer
/// document).
pub fn rebuild(storage: &dyn Storage, cal: &WorkCalendar) -> Result<Rebuilt, StorageError> {
    rebuild_paged(storage, cal, DOCS_PER_PAGE)
}

/// [`rebuild`], `page` documents at a time.
pub(crate) fn rebuild_paged(
    storage: &dyn Storage,
    cal: &WorkCalendar,
    page: usize,
) -> Result<Rebuilt, StorageError> {
    let mut out = Rebuilt::default();
    walk(storage, cal, page, |range, made, unreadable| {
        storage.replace_projections(range, &made)?;
        out.rows += made.len();
        out.unreadable += unreadable;
        Ok(())
    })?;
    Ok(out)
}

/// Lays the cells of every patrol again whose row was laid on a boundary
/// its grid no longer has, or on none while it has one now (after a
/// boundary import): its row is made again from its document. How many.
pub fn relay_patrols(storage: &dyn Storage, cal: &WorkCalendar) -> Result<usize, StorageError> {
    let mut boundaries = Boundaries::all(storage)?;
    let mut stale = Vec::new();
    for p in storage.projections_in("/", &[RecordKind::Patrol])? {
        let laid = p.row.patrol.as_ref().and_then(|r| r.cells.as_ref());
        let now = boundaries.of(&p.row.grid)?.map(boundary_key);
        if laid.map(|c| c.boundary_key) != now {
            stale.push((p.row.id, p.updated_at));
        }
    }
    for chunk in stale.chunks(DOCS_PER_PAGE) {
        let (rows, _) = made_rows(storage, cal, &mut boundaries, chunk)?;
        storage.put_projections(&rows)?;
    }
    Ok(stale.len())
}

/// The ids of the records whose stored row differs from the row their
/// document gives (missing, extra or changed), of the households whose
/// visit cycle differs from the one the rows make, and of the incidents
/// and patrols whose own row's copies ([`Rows`]) differ from their
/// record's row, in id order: what a rebuild would change.
pub fn check(storage: &dyn Storage, cal: &WorkCalendar) -> Result<Vec<Uuid>, StorageError> {
    check_paged(storage, cal, DOCS_PER_PAGE)
}

/// [`check`], `page` documents at a time.
pub(crate) fn check_paged(
    storage: &dyn Storage,
    cal: &WorkCalendar,
    page: usize,
) -> Result<Vec<Uuid>, StorageError> {
    let mut differ = BTreeSet::new();
    walk(storage, cal, page, |range, made, _| {
        let stored = storage.projection_range(range)?;
        let stored: BTreeMap<Uuid, &StoredProjection> =
            stored.iter().map(|r| (r.row.id, r)).collect();
        let made: BTreeMap<Uuid, &StoredProjection> = made.iter().map(|r| (r.row.id, r)).collect();
        let mut ids: BTreeSet<Uuid> = stored.keys().copied().collect();
        ids.extend(made.keys().copied());
        differ.extend(ids.into_iter().filter(|id| stored.get(id) != made.get(id)));
        Ok(())
    })?;
    // And the households whose visit cycle is not what those rows make,
    // the incidents and patrols whose copies are not their row's.
    let kept = [cycles_check_statement(), copies_check_statement()];
    for row in storage.read_rows(&kept)?.concat() {
        let id = row
            .first()
            .and_then(Val::bytes)
            .and_then(|b| Uuid::from_slice(b).ok())
            .ok_or_else(|| StorageError::Corrupt("a kept row's id".into()))?;
        differ.insert(id);
    }
    Ok(differ.into_iter().collect())
}

/// Walks every stored document in id order, `page` at a time: for each
/// page, the range of ids it covers (the last range open to the end), the
/// rows its documents make, and how many of them could not be read
/// (logged, left without a row).
fn walk(
    storage: &dyn Storage,
    cal: &WorkCalendar,
    page_size: usize,
    mut each: impl FnMut(IdRange, Vec<StoredProjection>, usize) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    let mut boundaries = Boundaries::all(storage)?;
    let mut after = None;
    loop {
        let page = storage.doc_ids_after(after, page_size)?;
        // A full page ends at its last id; the last page reaches the end,
        // so rows past the last document are dropped too.
        let last = page.last().map(|(id, _)| *id);
        let range = IdRange {
            after,
            through: last.filter(|_| page.len() == page_size),
        };
        let (made, unreadable) = made_rows(storage, cal, &mut boundaries, &page)?;
        each(range, made, unreadable)?;
        match range.through {
            Some(_) => after = last,
            None => return Ok(()),
        }
    }
}

/// The rows the documents of `docs` (each with when it last changed)
/// make, read in one query, and how many of them could not be read
/// (logged, left without a row).
fn made_rows(
    storage: &dyn Storage,
    cal: &WorkCalendar,
    boundaries: &mut Boundaries<'_>,
    docs: &[(Uuid, i64)],
) -> Result<(Vec<StoredProjection>, usize), StorageError> {
    let ids: Vec<Uuid> = docs.iter().map(|(id, _)| *id).collect();
    let updated: HashMap<Uuid, i64> = docs.iter().copied().collect();
    let mut made = Vec::with_capacity(ids.len());
    let mut unreadable = 0;
    for (id, stored) in storage.load_docs(&ids)? {
        match super::read_snapshot(&stored.snapshot) {
            Ok(record) => made.push(StoredProjection {
                row: ProjectionRow::read(&record, cal, boundaries)?,
                updated_at: updated[&id],
            }),
            Err(e) => {
                tracing::warn!(doc = %id, error = %e, "a stored document cannot be read");
                unreadable += 1;
            }
        }
    }
    Ok((made, unreadable))
}

// The statements both backends run. They are written once, with SQLite's
// numbered parameters `?N`; PostgreSQL runs the same text with `$N`
// ([`numbered`]). Every list condition is here, so a filter means the same
// on either backend; a backend only binds the parameters and moves values
// between its rows and [`Columns`].

/// A statement parameter, as either backend binds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Int(i64),
    /// A record's id (a BLOB on SQLite, a `uuid` on PostgreSQL).
    Id(Uuid),
}

/// A statement and its parameters, numbered in order from `?1`.
#[derive(Debug, Clone, Default)]
pub struct Statement {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl Statement {
    /// Adds a parameter; the placeholder that names it.
    fn bind(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("?{}", self.args.len())
    }

    fn text(&mut self, s: &str) -> String {
        self.bind(Arg::Text(s.to_string()))
    }
}

/// `sql` with its `?N` parameters written with `sign` instead of `?`
/// (`$` for PostgreSQL). The shared statements hold no other `?`.
pub(super) fn numbered(sql: &str, sign: char) -> String {
    sql.replace('?', &sign.to_string())
}

/// The columns [`Columns::read`] takes, in order: `p` the projections,
/// `i` the incident rows and `pp` the patrol rows (left-joined, their id
/// null for other kinds).
pub(super) const COLUMNS: &str = "p.id, p.kind, p.grid, p.title, p.subtitle, p.status, p.category,
    p.urgency, p.parent_id, p.created_at, p.created_by, p.updated_at, p.deleted,
    p.return_comment, p.lon, p.lat, i.id, i.number, i.level, i.assignee_kind, i.assignee_id,
    i.assignee_name, i.deadline, i.escalations, i.resolved_on_spot, i.feedback, i.reported_at,
    i.accepted_at, i.resolved_at, i.closed_at, p.cycle_days, p.visit_at, pp.id, pp.worker,
    pp.started_at, pp.ended_at, pp.boundary_key, pp.cells_total, pp.cells";

/// How many [`COLUMNS`] there are: a list's flags follow them.
pub(super) const COLUMN_COUNT: usize = 39;

const FROM: &str = "FROM projections p LEFT JOIN incident_projections i ON i.id = p.id
    LEFT JOIN patrol_projections pp ON pp.id = p.id";

/// Stores a row (`?1` … `?18`, [`Columns`] order without the incident and
/// patrol), replacing the one with its id.
pub(super) const UPSERT: &str = "INSERT INTO projections (id, kind, grid, title, subtitle,
        status, category, urgency, parent_id, created_at, created_by, updated_at, deleted,
        return_comment, lon, lat, cycle_days, visit_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, grid = excluded.grid,
        title = excluded.title, subtitle = excluded.subtitle, status = excluded.status,
        category = excluded.category, urgency = excluded.urgency,
        parent_id = excluded.parent_id, created_at = excluded.created_at,
        created_by = excluded.created_by, updated_at = excluded.updated_at,
        deleted = excluded.deleted, return_comment = excluded.return_comment,
        lon = excluded.lon, lat = excluded.lat, cycle_days = excluded.cycle_days,
        visit_at = excluded.visit_at";

/// Stores a patrol's row (`?1` the id, then [`PatrolColumns`] order, then
/// the record's grid, status, category and deleted flag: the copies
/// [`Rows::Patrols`] reads, bound from the [`Columns`] the record's own
/// row is stored from).
pub(super) const UPSERT_PATROL: &str = "INSERT INTO patrol_projections (id, worker, started_at,
        ended_at, boundary_key, cells_total, cells, grid, status, category, deleted)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
     ON CONFLICT (id) DO UPDATE SET worker = excluded.worker,
        started_at = excluded.started_at, ended_at = excluded.ended_at,
        boundary_key = excluded.boundary_key, cells_total = excluded.cells_total,
        cells = excluded.cells, grid = excluded.grid, status = excluded.status,
        category = excluded.category, deleted = excluded.deleted";

/// Drops the patrol row of `?1` (a record that is not a patrol).
pub(super) const DELETE_PATROL: &str = "DELETE FROM patrol_projections WHERE id = ?1";

/// Stores an incident's row (`?1` the id, then [`IncidentColumns`] order,
/// then the record's grid, status, category and deleted flag as in
/// [`UPSERT_PATROL`]).
pub(super) const UPSERT_INCIDENT: &str = "INSERT INTO incident_projections (id, number, level,
        assignee_kind, assignee_id, assignee_name, deadline, escalations, resolved_on_spot,
        feedback, reported_at, accepted_at, resolved_at, closed_at, grid, status, category,
        deleted)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
     ON CONFLICT (id) DO UPDATE SET number = excluded.number, level = excluded.level,
        assignee_kind = excluded.assignee_kind, assignee_id = excluded.assignee_id,
        assignee_name = excluded.assignee_name, deadline = excluded.deadline,
        escalations = excluded.escalations, resolved_on_spot = excluded.resolved_on_spot,
        feedback = excluded.feedback, reported_at = excluded.reported_at,
        accepted_at = excluded.accepted_at, resolved_at = excluded.resolved_at,
        closed_at = excluded.closed_at, grid = excluded.grid, status = excluded.status,
        category = excluded.category, deleted = excluded.deleted";

/// Drops the incident row of `?1` (a record that is not an incident).
pub(super) const DELETE_INCIDENT: &str = "DELETE FROM incident_projections WHERE id = ?1";

/// The rows in `range`, in id order, each with its
/// [`ProjectionRow::ledger`] after [`COLUMNS`].
pub(super) fn range_statement(range: IdRange) -> Statement {
    let mut st = Statement::default();
    let cond = range.condition(&mut st, "p.id");
    st.sql = format!(
        "SELECT {COLUMNS}, lr.record {FROM} LEFT JOIN ledger_records lr ON lr.id = p.id
          WHERE {cond} ORDER BY p.id"
    );
    st
}

/// Stores a row's [`ProjectionRow::ledger`] (`?1` the id, `?2` the JSON).
pub(super) const UPSERT_LEDGER: &str = "INSERT INTO ledger_records (id, record) VALUES (?1, ?2)
     ON CONFLICT (id) DO UPDATE SET record = excluded.record";

/// Drops the ledger record of `?1` (a row without one).
pub(super) const DELETE_LEDGER: &str = "DELETE FROM ledger_records WHERE id = ?1";

/// The ledger records of the ids in `?1`: SQLite is asked one id at a
/// time, PostgreSQL all at once ([`LEDGER_RECORDS_ANY`]).
pub(super) const LEDGER_RECORD: &str = "SELECT record FROM ledger_records WHERE id = ?1";

/// The ledger records of the ids in the array `$1` (PostgreSQL).
pub(super) const LEDGER_RECORDS_ANY: &str =
    "SELECT id, record FROM ledger_records WHERE id = ANY($1)";

/// Drops the rows in `range` from every projection table, children first
/// (a [`Projections::replace_projections`]).
pub(super) fn delete_statements(range: IdRange) -> Vec<Statement> {
    [
        "visit_cycles",
        "ledger_records",
        "incident_projections",
        "patrol_projections",
        "projections",
    ]
    .into_iter()
    .map(|table| {
        let mut st = Statement::default();
        let cond = range.condition(&mut st, "id");
        st.sql = format!("DELETE FROM {table} WHERE {cond}");
        st
    })
    .collect()
}

// Visit cycles. The dashboard counts the households with a visit cycle
// and those visited within it, per grid; computed from every resident and
// visit at each read, that was most of a district dashboard's time. So
// each household with a cycle has a row in `visit_cycles`, kept by every
// write of a household, resident or visit row in its transaction: the
// write names the households it may change ([`cycle_anchors`]), and each
// one's row is made again from the projection rows ([`remake_statements`]).
// The rule is [`cycles_of`], once: the writes, the refill and [`check`]
// all use it.

/// The kinds a household's visit cycle is made of.
const CYCLE_KINDS: [RecordKind; 3] = [
    RecordKind::Household,
    RecordKind::Resident,
    RecordKind::Visit,
];

/// The visit cycle of each household `households` (a condition over `hh`)
/// selects, as `visit_cycles` keeps it: its grid, the cycle (the shortest
/// of its residents' `cycle_days`) and when it was last seen (its own
/// `visit_at` or a visit to it or to one of its residents, the latest).
/// Only what is filed in the household's grid counts, so a reader who may
/// see the household is told nothing from another grid. Deleted rows do
/// not count; a household without a cycle has no row.
fn cycles_of(households: &str) -> String {
    let live = |a: &str| format!("NOT {a}.deleted AND {a}.grid = hh.grid");
    let (r, v) = (live("r"), live("v"));
    format!(
        "SELECT x.id, x.grid, x.days, x.seen_at FROM (
            SELECT hh.id AS id, hh.grid AS grid,
                (SELECT MIN(r.cycle_days) FROM projections r
                  WHERE r.kind = 'resident' AND r.parent_id = hh.id AND {r}) AS days,
                (SELECT MAX(s.t) FROM (
                    SELECT hh.visit_at AS t
                    UNION ALL
                    SELECT v.visit_at FROM projections v
                     WHERE v.kind = 'visit' AND v.parent_id = hh.id AND {v}
                    UNION ALL
                    SELECT v.visit_at FROM projections r JOIN projections v ON v.parent_id = r.id
                     WHERE r.kind = 'resident' AND r.parent_id = hh.id AND {r}
                       AND v.kind = 'visit' AND {v}
                ) s) AS seen_at
              FROM projections hh
             WHERE hh.kind = 'household' AND NOT hh.deleted AND {households}
         ) x WHERE x.days IS NOT NULL"
    )
}

/// What keeps the visit cycles needs of a backend's connection, inside
/// the transaction of a write.
pub(super) trait CycleWriter {
    /// The ids and parents (non-null) the rows of `st` hold.
    fn ids(&mut self, st: &Statement) -> Result<BTreeSet<Uuid>, StorageError>;
    /// Runs `st`.
    fn run(&mut self, st: &Statement) -> Result<(), StorageError>;
}

/// Stores a record's row with `put_row`, and makes the visit cycles of the
/// households it may change again: those its new and its replaced row
/// name ([`cycle_anchors`]).
pub(super) fn put_keeping_cycles<W: CycleWriter>(
    w: &mut W,
    row: &ProjectionRow,
    put_row: impl FnOnce(&mut W) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    let mut anchors = BTreeSet::new();
    if cycle_anchors(row).next().is_some() {
        let mut st = Statement::default();
        let cond = format!("id = {}", st.bind(Arg::Id(row.id)));
        anchors = w.ids(&anchors_where(st, &cond))?;
        anchors.extend(cycle_anchors(row));
    }
    put_row(w)?;
    keep_cycles(w, &anchors)
}

/// Replaces the rows in `range` with `rows` ([`delete_statements`], then
/// `put_row` each), and makes the visit cycles of the households the
/// rows dropped and stored name again.
pub(super) fn replace_keeping_cycles<W: CycleWriter>(
    w: &mut W,
    range: IdRange,
    rows: &[StoredProjection],
    mut put_row: impl FnMut(&mut W, &StoredProjection) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    let mut st = Statement::default();
    let cond = range.condition(&mut st, "id");
    let mut anchors = w.ids(&anchors_where(st, &cond))?;
    for delete in delete_statements(range) {
        w.run(&delete)?;
    }
    for r in rows {
        put_row(w, r)?;
        anchors.extend(cycle_anchors(&r.row));
    }
    keep_cycles(w, &anchors)
}

/// Makes every household's visit cycle again ([`remake_statements`]).
pub(super) fn refill_cycles(w: &mut impl CycleWriter) -> Result<(), StorageError> {
    for st in remake_statements(None) {
        w.run(&st)?;
    }
    Ok(())
}

/// The ids a write of `row` anchors ([`remake_statements`]): its own and
/// its parent's, when it is of a kind a visit cycle is made of. A write
/// anchors the ids its replaced row named too.
fn cycle_anchors(row: &ProjectionRow) -> impl Iterator<Item = Uuid> + use<> {
    let of = CYCLE_KINDS.contains(&row.kind);
    [Some(row.id), row.parent_id]
        .into_iter()
        .flatten()
        .filter(move |_| of)
}

/// The stored rows `cond` selects (over `id`, its parameters bound in
/// `st`) that a visit cycle is made of: their ids and parents, the
/// anchors of a write that replaces them (read before it).
fn anchors_where(mut st: Statement, cond: &str) -> Statement {
    st.sql = format!(
        "SELECT id, parent_id FROM projections WHERE {cond} AND kind IN ({})",
        kind_list(&CYCLE_KINDS)
    );
    st
}

/// Makes the visit cycles of the households `anchors` name again.
fn keep_cycles(w: &mut impl CycleWriter, anchors: &BTreeSet<Uuid>) -> Result<(), StorageError> {
    for anchor in anchors {
        for st in remake_statements(Some(*anchor)) {
            w.run(&st)?;
        }
    }
    Ok(())
}

/// Makes the `visit_cycles` row of the household `anchor` names again:
/// the anchor itself when it is a household, its household when it is a
/// resident (a visit names none: its parent is anchored too); with
/// `None`, every household's (a server whose rows predate the table). Run
/// after the write, in its transaction.
fn remake_statements(anchor: Option<Uuid>) -> [Statement; 2] {
    let of = |column: &str| match anchor {
        Some(_) => format!(
            "{column} IN (?1, (SELECT a.parent_id FROM projections a
                               WHERE a.id = ?1 AND a.kind = 'resident'))"
        ),
        None => "TRUE".into(),
    };
    let args: Vec<Arg> = anchor.map(Arg::Id).into_iter().collect();
    [
        Statement {
            sql: format!("DELETE FROM visit_cycles WHERE {}", of("id")),
            args: args.clone(),
        },
        Statement {
            sql: format!(
                "INSERT INTO visit_cycles (id, grid, days, seen_at) {}",
                cycles_of(&of("hh.id"))
            ),
            args,
        },
    ]
}

/// The households whose `visit_cycles` row differs from the one the
/// projection rows make (missing, extra or changed).
pub(super) fn cycles_check_statement() -> Statement {
    let fresh = cycles_of("TRUE");
    let kept = "SELECT c.id, c.grid, c.days, c.seen_at FROM visit_cycles c";
    Statement {
        sql: format!(
            "SELECT d.id FROM ({fresh} EXCEPT {kept}) d
             UNION
             SELECT d.id FROM ({kept} EXCEPT {fresh}) d"
        ),
        args: vec![],
    }
}

/// The incidents and patrols whose own row's copies of their record's
/// grid, status, category and deleted flag ([`Rows`]) differ from the
/// record's row.
pub(super) fn copies_check_statement() -> Statement {
    let differ = |table: &str| {
        format!(
            "SELECT k.id FROM {table} k JOIN projections p ON p.id = k.id
              WHERE k.grid <> p.grid OR k.status <> p.status
                 OR k.category IS DISTINCT FROM p.category OR k.deleted <> p.deleted"
        )
    };
    Statement {
        sql: format!(
            "{} UNION {}",
            differ("incident_projections"),
            differ("patrol_projections")
        ),
        args: vec![],
    }
}

/// `kinds` as a SQL list of quoted names (the names are core's own, never
/// user input).
fn kind_list(kinds: &[RecordKind]) -> String {
    if kinds.is_empty() {
        return "NULL".into();
    }
    kinds
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Which rows a statement reads a record's own columns from (its id,
/// grid, kind, status, category, deleted flag). Lists read `projections`
/// (`p`) with the incident and patrol rows left-joined ([`FROM`]). The
/// dashboard's incident and patrol figures read the kind's own row alone:
/// it carries copies of those columns, written with it from the same
/// projection ([`UPSERT_INCIDENT`], [`UPSERT_PATROL`]), so a figure reads
/// one index instead of five B-tree searches a record. Every condition
/// below is written over [`Rows::r`], so a filter or a figure is the same
/// rule on either.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Rows {
    Records,
    Incidents,
    Patrols,
}

impl Rows {
    /// The alias of the record's own columns.
    fn r(self) -> &'static str {
        match self {
            Rows::Records => "p",
            Rows::Incidents => "i",
            Rows::Patrols => "pp",
        }
    }

    fn from(self) -> &'static str {
        match self {
            Rows::Records => FROM,
            Rows::Incidents => "FROM incident_projections i",
            Rows::Patrols => "FROM patrol_projections pp",
        }
    }

    /// The one kind these rows are of, `None` for any.
    fn kind(self) -> Option<RecordKind> {
        match self {
            Rows::Records => None,
            Rows::Incidents => Some(RecordKind::Incident),
            Rows::Patrols => Some(RecordKind::Patrol),
        }
    }

    /// Whether the incident row's columns (`i`) can be read.
    fn with_incident(self) -> bool {
        self != Rows::Patrols
    }

    /// The rows of `kind`.
    fn of_kind(self, st: &mut Statement, kind: RecordKind) -> String {
        match self.kind() {
            None => format!("p.kind = {}", st.text(kind.as_str())),
            Some(k) => truth(k == kind),
        }
    }

    /// The rows of one of `kinds`.
    fn of_kinds(self, kinds: &[RecordKind]) -> String {
        match self.kind() {
            None => format!("p.kind IN ({})", kind_list(kinds)),
            Some(k) => truth(kinds.contains(&k)),
        }
    }
}

fn truth(b: bool) -> String {
    if b { "TRUE" } else { "FALSE" }.to_string()
}

/// The rows of `kinds` whose grid is under `scope_path`.
fn scope_condition(
    st: &mut Statement,
    rows: Rows,
    scope_path: &str,
    kinds: &[RecordKind],
) -> String {
    let (lo, hi) = crate::grids::subtree_range(scope_path);
    format!(
        "{} AND {}.grid IN (SELECT code FROM grids WHERE path >= {} AND path < {})",
        rows.of_kinds(kinds),
        rows.r(),
        st.text(&lo),
        st.text(&hi)
    )
}

/// The rows of `kinds` in the subtree of `scope_path`, oldest change first.
pub(super) fn in_statement(scope_path: &str, kinds: &[RecordKind]) -> Statement {
    let mut st = Statement::default();
    let cond = scope_condition(&mut st, Rows::Records, scope_path, kinds);
    st.sql = format!("SELECT {COLUMNS} {FROM} WHERE {cond} ORDER BY p.updated_at, p.id");
    st
}

/// The condition of `filter` (over `rows`): what [`ListFilter`]'s fields
/// say, in SQL.
fn list_condition(st: &mut Statement, rows: Rows, filter: &ListFilter) -> String {
    let r = rows.r();
    let mut sql = scope_condition(st, rows, &filter.scope_path, &filter.kinds);
    if filter.live {
        sql.push_str(&format!(" AND NOT {r}.deleted"));
    }
    if let Some(statuses) = &filter.statuses {
        if statuses.is_empty() {
            sql.push_str(" AND FALSE");
        } else {
            let pairs: Vec<String> = statuses
                .iter()
                .map(|(kind, status)| {
                    let of_kind = rows.of_kind(st, *kind);
                    format!("({of_kind} AND {r}.status = {})", st.text(status))
                })
                .collect();
            sql.push_str(&format!(" AND ({})", pairs.join(" OR ")));
        }
    }
    if filter.from_lost_device {
        sql.push_str(&format!(
            " AND {r}.id IN ({})",
            super::device_states::DOCS_FROM_LOST
        ));
    }
    if let Some(d) = &filter.dispatched_to {
        // Only an incident is dispatched.
        if rows.with_incident() {
            let user = st.text(&d.user_id);
            let dept = st.text(&d.department);
            sql.push_str(&format!(
                " AND ((i.assignee_kind = 'person' AND i.assignee_id = {user})
                   OR (i.assignee_kind = 'department' AND {dept} <> ''
                       AND (i.assignee_id = {dept} OR i.assignee_name = {dept})))"
            ));
        } else {
            sql.push_str(" AND FALSE");
        }
    }
    if let Some(figure) = &filter.figure {
        let cond = figure_condition(st, rows, filter, figure);
        sql.push_str(&format!(" AND ({cond})"));
    }
    sql
}

/// `names` as a SQL list of quoted names (core's own, never user input).
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("'{}'", n.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",")
}

/// An incident the dashboard counts: reported (any status but draft), not
/// deleted (over `rows` that read `i`).
fn counted(rows: Rows) -> String {
    let r = rows.r();
    let kind = match rows {
        Rows::Records => "p.kind = 'incident' AND ",
        _ => "",
    };
    format!(
        "({kind}i.id IS NOT NULL AND NOT {r}.deleted AND {r}.status <> '{}')",
        Status::Draft.as_str()
    )
}

/// A counted incident resolved (已办结 and after).
fn resolved(rows: Rows) -> String {
    let done = [
        Status::Resolved,
        Status::Verified,
        Status::FeedbackGiven,
        Status::Closed,
    ]
    .map(|s| s.as_str().to_string());
    format!(
        "({} AND {}.status IN ({}))",
        counted(rows),
        rows.r(),
        quoted(&done)
    )
}

fn levels(rows: Rows, ok: &[Level]) -> String {
    let names: Vec<String> = ok.iter().map(enum_name).collect();
    format!("({} AND i.level IN ({}))", resolved(rows), quoted(&names))
}

fn feedback(rows: Rows, ok: &[Satisfaction]) -> String {
    let names: Vec<String> = ok.iter().map(enum_name).collect();
    format!("({} AND i.feedback IN ({}))", counted(rows), quoted(&names))
}

/// The SQL condition (over `rows`) of the records `figure` counts, among
/// those `filter` scopes: the one rule the dashboard counts by and its
/// drill-down lists by (`console::dashboard` defines each).
pub(super) fn figure_condition(
    st: &mut Statement,
    rows: Rows,
    filter: &ListFilter,
    figure: &Figure,
) -> String {
    if rows.kind().is_some_and(|k| k != figure.kind()) {
        return truth(false);
    }
    let r = rows.r();
    let cycles = |st: &mut Statement, within: Option<bool>| {
        let sub = cycles_statement(st, filter);
        let pick = match within {
            None => String::new(),
            Some(true) => " WHERE cy.within = 1".into(),
            Some(false) => " WHERE cy.within = 0".into(),
        };
        format!("{r}.id IN (SELECT cy.h FROM ({sub}) cy{pick})")
    };
    match figure {
        Figure::Incidents => counted(rows),
        Figure::Resolved => resolved(rows),
        Figure::OnTheSpot => format!("({} AND i.resolved_on_spot)", resolved(rows)),
        Figure::WithinVillage => levels(rows, &[Level::Grid]),
        Figure::WithinTown => levels(rows, &[Level::Grid, Level::Street]),
        Figure::Overdue => {
            format!(
                "({} AND {})",
                counted(rows),
                overdue_expression(st, rows, &filter.window)
            )
        }
        Figure::DueSoon => {
            format!(
                "({} AND {})",
                counted(rows),
                due_soon_expression(st, rows, &filter.window)
            )
        }
        Figure::WithFeedback => format!("({} AND i.feedback IS NOT NULL)", counted(rows)),
        Figure::Satisfied => feedback(
            rows,
            &[Satisfaction::Satisfied, Satisfaction::VerySatisfied],
        ),
        Figure::Dissatisfied => feedback(rows, &[Satisfaction::Dissatisfied]),
        Figure::WithCycle => cycles(st, None),
        Figure::VisitedInCycle => cycles(st, Some(true)),
        Figure::NotVisitedInCycle => cycles(st, Some(false)),
        Figure::Status(s) => format!("({} AND {r}.status = {})", counted(rows), st.text(s)),
        // As the dashboard groups them: an incident without one under ''.
        Figure::Category(c) => format!(
            "({} AND COALESCE({r}.category, '') = {})",
            counted(rows),
            st.text(c)
        ),
        Figure::Grid(g) => format!("({} AND {r}.grid = {})", counted(rows), st.text(g)),
        Figure::Worker(w) => {
            let of_kind = rows.of_kind(st, RecordKind::Patrol);
            format!(
                "({of_kind} AND NOT {r}.deleted AND pp.worker = {})",
                st.text(w)
            )
        }
    }
}

/// Days in ms, for visit cycles.
const DAY_MS: i64 = 86_400_000;

/// The households of `filter`'s scope with a visit cycle: `h` the
/// household, `grid` its grid, `within` 1 when its latest visit is no
/// older than its cycle at `filter.at_ms`, else 0 (the cycle and the
/// visit as [`cycles_of`] keeps them). A reader narrowed to incidents
/// dispatched to them (`dispatched_to`) sees no household, resident or
/// visit.
fn cycles_statement(st: &mut Statement, filter: &ListFilter) -> String {
    let (lo, hi) = crate::grids::subtree_range(&filter.scope_path);
    let (lo, hi) = (st.text(&lo), st.text(&hi));
    let at = st.bind(Arg::Int(filter.at_ms));
    let seen = if filter.dispatched_to.is_some() {
        "FALSE"
    } else {
        "TRUE"
    };
    format!(
        "SELECT c.id AS h, c.grid AS grid,
            CASE WHEN c.seen_at <= {at} AND {at} - c.seen_at <= c.days * {DAY_MS}
                 THEN 1 ELSE 0 END AS within
         FROM visit_cycles c
         WHERE {seen} AND c.grid IN (SELECT code FROM grids WHERE path >= {lo} AND path < {hi})"
    )
}

/// The deadline flags of `w` as two SQL expressions (over `p` and `i`):
/// overdue, due soon.
fn flag_columns(st: &mut Statement, w: &DeadlineWindow) -> String {
    let overdue = overdue_expression(st, Rows::Records, w);
    let soon = due_soon_expression(st, Rows::Records, w);
    format!("{overdue}, {soon}")
}

/// `w`'s open statuses, as a SQL list of parameters.
fn open_list(st: &mut Statement, w: &DeadlineWindow) -> String {
    if w.open.is_empty() {
        "NULL".to_string()
    } else {
        w.open
            .iter()
            .map(|s| st.text(s))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Overdue (已超期) on `w`'s day: open, the deadline before the day.
fn overdue_expression(st: &mut Statement, rows: Rows, w: &DeadlineWindow) -> String {
    let open = open_list(st, w);
    let today = st.text(&w.today);
    let r = rows.r();
    format!("(i.deadline IS NOT NULL AND {r}.status IN ({open}) AND i.deadline < {today})")
}

/// Due soon (将到期) on `w`'s day: open, the deadline from the day to
/// `w.soon`.
fn due_soon_expression(st: &mut Statement, rows: Rows, w: &DeadlineWindow) -> String {
    let open = open_list(st, w);
    let today = st.text(&w.today);
    let soon = st.text(&w.soon);
    let r = rows.r();
    format!(
        "(i.deadline IS NOT NULL AND {r}.status IN ({open}) AND i.deadline >= {today}
          AND i.deadline <= {soon})"
    )
}

/// The statements of a list: how many rows `filter` holds (one column),
/// and the page from `offset`, at most `limit` ([`COLUMNS`], then the
/// overdue and due-soon flags).
pub(super) fn list_statements(
    filter: &ListFilter,
    offset: u64,
    limit: Option<u64>,
) -> (Statement, Statement) {
    let mut count = Statement::default();
    let cond = list_condition(&mut count, Rows::Records, filter);
    // Only a dispatch or a figure filters on the incident's or patrol's
    // columns; without them the count, and the page's choice of ids, read
    // the grid index alone (it ends with `updated_at, id`).
    let from = if filter.dispatched_to.is_some() || filter.figure.is_some() {
        FROM
    } else {
        "FROM projections p"
    };
    count.sql = format!("SELECT COUNT(*) {from} WHERE {cond}");
    // The page's ids are chosen first, then only their rows are read:
    // sorting every matching row whole (a street's 90,000 residents at a
    // million records) took most of a page's time.
    let mut page = Statement::default();
    let flags = flag_columns(&mut page, &filter.window);
    let cond = list_condition(&mut page, Rows::Records, filter);
    let limit = page.bind(Arg::Int(limit.map_or(i64::MAX, clamp)));
    let offset = page.bind(Arg::Int(clamp(offset)));
    page.sql = format!(
        "SELECT {COLUMNS}, {flags} {FROM} WHERE p.id IN (
            SELECT p.id {from} WHERE {cond}
             ORDER BY p.updated_at, p.id LIMIT {limit} OFFSET {offset})
          ORDER BY p.updated_at, p.id"
    );
    (count, page)
}

/// A value of a row the dashboard's statements read.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
    /// Bytes, and ids (their 16 bytes).
    Bytes(Vec<u8>),
}

impl Val {
    fn int(&self) -> Result<i64, StorageError> {
        match self {
            Val::Int(i) => Ok(*i),
            Val::Null => Ok(0),
            other => Err(StorageError::Corrupt(format!("a figure read {other:?}"))),
        }
    }

    fn opt_int(&self) -> Result<Option<i64>, StorageError> {
        match self {
            Val::Null => Ok(None),
            other => other.int().map(Some),
        }
    }

    fn text(&self) -> Result<String, StorageError> {
        match self {
            Val::Text(s) => Ok(s.clone()),
            Val::Null => Ok(String::new()),
            other => Err(StorageError::Corrupt(format!("a figure read {other:?}"))),
        }
    }

    fn bytes(&self) -> Option<&[u8]> {
        match self {
            Val::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

/// The incident figures [`dashboard_statements`] sum per group, in order.
pub const GROUP_FIGURES: [Figure; 8] = [
    Figure::Resolved,
    Figure::OnTheSpot,
    Figure::WithinVillage,
    Figure::WithinTown,
    Figure::Overdue,
    Figure::DueSoon,
    Figure::WithFeedback,
    Figure::Satisfied,
];

/// Counted incidents of one grid, status and category, and how many of
/// them each of [`GROUP_FIGURES`] counts.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentGroup {
    pub grid: String,
    pub status: String,
    /// Empty when the incident has none.
    pub category: String,
    pub incidents: u64,
    pub figures: [u64; GROUP_FIGURES.len()],
}

impl IncidentGroup {
    /// How many of the group `figure` counts (one of [`GROUP_FIGURES`]).
    pub fn count(&self, figure: &Figure) -> u64 {
        GROUP_FIGURES
            .iter()
            .position(|f| f == figure)
            .map_or(0, |k| self.figures[k])
    }
}

/// One worker's patrols in one grid.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolGroup {
    pub worker: String,
    pub grid: String,
    pub patrols: u64,
    /// The sum of ended patrols' durations.
    pub ms: i64,
}

/// A patrol's stored cells, for coverage.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolCellsOf {
    pub id: Uuid,
    pub worker: String,
    pub grid: String,
    pub cells: Option<PatrolCells>,
}

/// Households with a visit cycle in one grid, and those visited within it.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleGroup {
    pub grid: String,
    pub with_cycle: u64,
    pub visited: u64,
}

/// What the database computes of a dashboard: counts per group, the
/// medians, the patrols' sums and cells, the cycles per grid.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DashboardRows {
    pub incidents: Vec<IncidentGroup>,
    pub median_accept_ms: Option<i64>,
    pub median_close_ms: Option<i64>,
    pub patrols: Vec<PatrolGroup>,
    pub patrol_cells: Vec<PatrolCellsOf>,
    pub cycles: Vec<CycleGroup>,
}

/// The statements of a dashboard over the records `filter` holds (its
/// kinds, statuses and figure are left aside: each statement picks its
/// own), read in one snapshot by [`Projections::read_rows`].
pub fn dashboard_statements(filter: &ListFilter) -> Vec<Statement> {
    let base = ListFilter {
        kinds: RecordKind::ALL
            .into_iter()
            .filter(|k| filter.kinds.contains(k))
            .collect(),
        statuses: None,
        figure: None,
        live: true,
        ..filter.clone()
    };
    // The incident figures read the incident rows alone, the patrol
    // figures the patrol rows alone ([`Rows`]).
    let incidents = Rows::Incidents;
    let (i, from) = (incidents.r(), incidents.from());
    let mut groups = Statement::default();
    let sums: Vec<String> = GROUP_FIGURES
        .iter()
        .map(|f| {
            let cond = figure_condition(&mut groups, incidents, &base, f);
            format!("SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)")
        })
        .collect();
    let cond = list_condition(&mut groups, incidents, &base);
    groups.sql = format!(
        "SELECT {i}.grid, {i}.status, COALESCE({i}.category, ''), COUNT(*), {} {from}
          WHERE {cond} AND {}
          GROUP BY {i}.grid, {i}.status, COALESCE({i}.category, '')",
        sums.join(", "),
        counted(incidents)
    );
    let median = |of: &str, when: &str| {
        let mut st = Statement::default();
        let cond = list_condition(&mut st, incidents, &base);
        st.sql = format!(
            "SELECT x.d FROM (
                SELECT y.d, ROW_NUMBER() OVER (ORDER BY y.d) AS rn, COUNT(*) OVER () AS n
                  FROM (SELECT {of} AS d {from} WHERE {cond} AND {} AND {when}) y
             ) x WHERE x.rn = (x.n + 1) / 2 OR x.rn = (x.n + 2) / 2 ORDER BY x.d",
            counted(incidents)
        );
        st
    };
    let accept = median(
        "i.accepted_at - i.reported_at",
        "i.accepted_at IS NOT NULL AND i.reported_at IS NOT NULL",
    );
    let close = median(
        "i.closed_at - i.reported_at",
        &format!(
            "i.closed_at IS NOT NULL AND i.reported_at IS NOT NULL AND {i}.status = '{}'",
            Status::Closed.as_str()
        ),
    );
    let patrol_rows = Rows::Patrols;
    let (pp, from) = (patrol_rows.r(), patrol_rows.from());
    let mut patrols = Statement::default();
    let cond = list_condition(&mut patrols, patrol_rows, &base);
    patrols.sql = format!(
        "SELECT {pp}.worker, {pp}.grid, COUNT(*),
            CAST(SUM(CASE WHEN {pp}.ended_at IS NOT NULL AND {pp}.ended_at > {pp}.started_at
                          THEN {pp}.ended_at - {pp}.started_at ELSE 0 END) AS BIGINT)
           {from} WHERE {cond}
          GROUP BY {pp}.worker, {pp}.grid"
    );
    let mut cells = Statement::default();
    let cond = list_condition(&mut cells, patrol_rows, &base);
    cells.sql = format!(
        "SELECT {pp}.worker, {pp}.grid, {pp}.id, {pp}.boundary_key, {pp}.cells_total,
            {pp}.cells
           {from} WHERE {cond}"
    );
    let mut cycles = Statement::default();
    let sub = cycles_statement(&mut cycles, &base);
    cycles.sql =
        format!("SELECT cy.grid, COUNT(*), SUM(cy.within) FROM ({sub}) cy GROUP BY cy.grid");
    vec![groups, accept, close, patrols, cells, cycles]
}

/// The dashboard's rows of `filter`'s records ([`dashboard_statements`]).
pub fn dashboard_rows(
    storage: &dyn Storage,
    filter: &ListFilter,
) -> Result<DashboardRows, StorageError> {
    let read = storage.read_rows(&dashboard_statements(filter))?;
    let [groups, accept, close, patrols, cells, cycles] = <[_; 6]>::try_from(read)
        .map_err(|_| StorageError::Corrupt("the dashboard read too few results".into()))?;
    let short = || StorageError::Corrupt("a dashboard row too short".into());
    let median = |rows: Vec<Vec<Val>>| -> Result<Option<i64>, StorageError> {
        let values = rows
            .iter()
            .map(|r| r.first().ok_or_else(short)?.int())
            .collect::<Result<Vec<i64>, _>>()?;
        Ok(match values[..] {
            [] => None,
            [a] => Some(a),
            [a, b, ..] => Some((a + b) / 2),
        })
    };
    let incidents = groups
        .into_iter()
        .map(|r| {
            if r.len() != 4 + GROUP_FIGURES.len() {
                return Err(short());
            }
            let mut figures = [0u64; GROUP_FIGURES.len()];
            for (n, v) in figures.iter_mut().zip(&r[4..]) {
                *n = v.int()? as u64;
            }
            Ok(IncidentGroup {
                grid: r[0].text()?,
                status: r[1].text()?,
                category: r[2].text()?,
                incidents: r[3].int()? as u64,
                figures,
            })
        })
        .collect::<Result<_, StorageError>>()?;
    let patrols = patrols
        .into_iter()
        .map(|r| {
            let [worker, grid, n, ms] = &r[..] else {
                return Err(short());
            };
            Ok(PatrolGroup {
                worker: worker.text()?,
                grid: grid.text()?,
                patrols: n.int()? as u64,
                ms: ms.int()?,
            })
        })
        .collect::<Result<_, StorageError>>()?;
    let patrol_cells = cells
        .into_iter()
        .map(|r| {
            let [worker, grid, id, key, total, visited] = &r[..] else {
                return Err(short());
            };
            let id = id
                .bytes()
                .and_then(|b| Uuid::from_slice(b).ok())
                .ok_or_else(|| StorageError::Corrupt("a patrol's id".into()))?;
            let cells = match (key.opt_int()?, total.opt_int()?, visited.bytes()) {
                (Some(key), Some(total), Some(v)) => Some(PatrolCells {
                    boundary_key: key,
                    cells_total: u32::try_from(total).unwrap_or(u32::MAX),
                    visited: v.to_vec(),
                }),
                _ => None,
            };
            Ok(PatrolCellsOf {
                id,
                worker: worker.text()?,
                grid: grid.text()?,
                cells,
            })
        })
        .collect::<Result<_, StorageError>>()?;
    let cycles = cycles
        .into_iter()
        .map(|r| {
            let [grid, n, visited] = &r[..] else {
                return Err(short());
            };
            Ok(CycleGroup {
                grid: grid.text()?,
                with_cycle: n.int()? as u64,
                visited: visited.int()? as u64,
            })
        })
        .collect::<Result<_, StorageError>>()?;
    Ok(DashboardRows {
        incidents,
        median_accept_ms: median(accept)?,
        median_close_ms: median(close)?,
        patrols,
        patrol_cells,
        cycles,
    })
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored row as its columns ([`COLUMNS`] order): what a backend binds
/// and reads. The rules between a row and its columns are here, once.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Columns {
    pub id: Uuid,
    pub kind: String,
    pub grid: String,
    pub title: String,
    pub subtitle: String,
    pub status: String,
    pub category: Option<String>,
    pub urgency: Option<String>,
    pub parent_id: Option<Uuid>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub deleted: bool,
    pub return_comment: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub cycle_days: Option<i64>,
    pub visit_at: Option<i64>,
    pub incident: Option<IncidentColumns>,
    pub patrol: Option<PatrolColumns>,
    /// After [`COLUMNS`], where read ([`all_statement`]).
    pub ledger: Option<String>,
}

/// A patrol row as its columns (after `pp.id`, [`COLUMNS`] order).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PatrolColumns {
    pub worker: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub boundary_key: Option<i64>,
    pub cells_total: Option<i64>,
    pub cells: Option<Vec<u8>>,
}

/// An incident row as its columns (after `i.id`, [`COLUMNS`] order).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct IncidentColumns {
    pub number: String,
    pub level: String,
    pub assignee_kind: Option<String>,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub deadline: Option<String>,
    pub escalations: i64,
    pub resolved_on_spot: bool,
    pub feedback: Option<String>,
    pub reported_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
}

/// A stored row as a backend reads it: the value at an index of
/// [`COLUMNS`], `None` for NULL. [`Columns::read`] knows which column is
/// where; a backend only converts its own values.
pub(super) trait ColumnValues {
    fn text(&self, i: usize) -> Result<Option<String>, StorageError>;
    fn int(&self, i: usize) -> Result<Option<i64>, StorageError>;
    fn real(&self, i: usize) -> Result<Option<f64>, StorageError>;
    fn flag(&self, i: usize) -> Result<Option<bool>, StorageError>;
    fn id(&self, i: usize) -> Result<Option<Uuid>, StorageError>;
    fn bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StorageError>;
}

impl Columns {
    /// The [`COLUMNS`] of a stored row.
    pub(super) fn read(r: &impl ColumnValues) -> Result<Columns, StorageError> {
        fn set<T>(value: Option<T>, i: usize) -> Result<T, StorageError> {
            value.ok_or_else(|| {
                let name = COLUMNS.split(',').nth(i).unwrap_or("?").trim();
                StorageError::Corrupt(format!("projection column {name} is NULL"))
            })
        }
        let incident = match r.id(16)? {
            None => None,
            Some(_) => Some(IncidentColumns {
                number: set(r.text(17)?, 17)?,
                level: set(r.text(18)?, 18)?,
                assignee_kind: r.text(19)?,
                assignee_id: r.text(20)?,
                assignee_name: r.text(21)?,
                deadline: r.text(22)?,
                escalations: set(r.int(23)?, 23)?,
                resolved_on_spot: set(r.flag(24)?, 24)?,
                feedback: r.text(25)?,
                reported_at: r.int(26)?,
                accepted_at: r.int(27)?,
                resolved_at: r.int(28)?,
                closed_at: r.int(29)?,
            }),
        };
        let patrol = match r.id(32)? {
            None => None,
            Some(_) => Some(PatrolColumns {
                worker: set(r.text(33)?, 33)?,
                started_at: set(r.int(34)?, 34)?,
                ended_at: r.int(35)?,
                boundary_key: r.int(36)?,
                cells_total: r.int(37)?,
                cells: r.bytes(38)?,
            }),
        };
        Ok(Columns {
            id: set(r.id(0)?, 0)?,
            kind: set(r.text(1)?, 1)?,
            grid: set(r.text(2)?, 2)?,
            title: set(r.text(3)?, 3)?,
            subtitle: set(r.text(4)?, 4)?,
            status: set(r.text(5)?, 5)?,
            category: r.text(6)?,
            urgency: r.text(7)?,
            parent_id: r.id(8)?,
            created_at: set(r.int(9)?, 9)?,
            created_by: set(r.text(10)?, 10)?,
            updated_at: set(r.int(11)?, 11)?,
            deleted: set(r.flag(12)?, 12)?,
            return_comment: r.text(13)?,
            lon: r.real(14)?,
            lat: r.real(15)?,
            cycle_days: r.int(30)?,
            visit_at: r.int(31)?,
            incident,
            patrol,
            ledger: None,
        })
    }

    /// The columns of [`all_statement`]: [`COLUMNS`], then the ledger
    /// record.
    pub(super) fn read_whole(r: &impl ColumnValues) -> Result<Columns, StorageError> {
        Ok(Columns {
            ledger: r.text(COLUMN_COUNT)?,
            ..Columns::read(r)?
        })
    }

    pub(super) fn of(row: &ProjectionRow, updated_at: i64) -> Columns {
        Columns {
            id: row.id,
            kind: row.kind.as_str().to_string(),
            grid: row.grid.clone(),
            title: row.title.clone(),
            subtitle: row.subtitle.clone(),
            status: row.status.clone(),
            category: row.category.clone(),
            urgency: row.urgency.clone(),
            parent_id: row.parent_id,
            created_at: row.created_at,
            created_by: row.created_by.clone(),
            updated_at,
            deleted: row.deleted,
            return_comment: row.return_comment.clone(),
            lon: row.point.map(|p| p.0),
            lat: row.point.map(|p| p.1),
            cycle_days: row.cycle_days.map(i64::from),
            visit_at: row.visit_at,
            ledger: row.ledger.clone(),
            patrol: row.patrol.as_ref().map(|p| PatrolColumns {
                worker: p.worker.clone(),
                started_at: p.started_at,
                ended_at: p.ended_at,
                boundary_key: p.cells.as_ref().map(|c| c.boundary_key),
                cells_total: p.cells.as_ref().map(|c| i64::from(c.cells_total)),
                cells: p.cells.as_ref().map(|c| c.visited.clone()),
            }),
            incident: row.incident.as_ref().map(|i| {
                let (akind, aid, aname) = match &i.assignee {
                    Some((k, id, name)) => (Some(k.clone()), Some(id.clone()), Some(name.clone())),
                    None => (None, None, None),
                };
                IncidentColumns {
                    number: i.number.clone(),
                    level: i.level.clone(),
                    assignee_kind: akind,
                    assignee_id: aid,
                    assignee_name: aname,
                    deadline: i.deadline.clone(),
                    escalations: i64::from(i.escalations),
                    resolved_on_spot: i.resolved_on_spot,
                    feedback: i.feedback.clone(),
                    reported_at: i.reported_at,
                    accepted_at: i.accepted_at,
                    resolved_at: i.resolved_at,
                    closed_at: i.closed_at,
                }
            }),
        }
    }

    /// A list's row: these columns with the deadline flags read after them.
    pub(super) fn listed(self, overdue: bool, due_soon: bool) -> Result<ListedRow, StorageError> {
        Ok(ListedRow {
            projection: self.into_stored()?,
            overdue,
            due_soon,
        })
    }

    pub(super) fn into_stored(self) -> Result<StoredProjection, StorageError> {
        let id = self.id;
        let corrupt = |what: &str| StorageError::Corrupt(format!("projection of {id}: {what}"));
        let kind = RecordKind::parse(&self.kind)
            .ok_or_else(|| corrupt(&format!("unknown record kind {}", self.kind)))?;
        let incident = match self.incident {
            None => None,
            Some(i) => Some(IncidentRow {
                number: i.number,
                level: i.level,
                assignee: match (i.assignee_kind, i.assignee_id, i.assignee_name) {
                    (None, _, _) => None,
                    (Some(k), Some(id), Some(name)) => Some((k, id, name)),
                    _ => return Err(corrupt("an assignee without its id or name")),
                },
                deadline: i.deadline,
                escalations: u32::try_from(i.escalations)
                    .map_err(|_| corrupt("escalations out of range"))?,
                resolved_on_spot: i.resolved_on_spot,
                feedback: i.feedback,
                reported_at: i.reported_at,
                accepted_at: i.accepted_at,
                resolved_at: i.resolved_at,
                closed_at: i.closed_at,
            }),
        };
        let patrol = match self.patrol {
            None => None,
            Some(p) => Some(PatrolRow {
                worker: p.worker,
                started_at: p.started_at,
                ended_at: p.ended_at,
                cells: match (p.boundary_key, p.cells_total, p.cells) {
                    (None, _, _) => None,
                    (Some(key), Some(total), Some(visited)) => Some(PatrolCells {
                        boundary_key: key,
                        cells_total: u32::try_from(total)
                            .map_err(|_| corrupt("cells_total out of range"))?,
                        visited,
                    }),
                    _ => return Err(corrupt("a patrol's cells without their count")),
                },
            }),
        };
        let cycle_days = self
            .cycle_days
            .map(u32::try_from)
            .transpose()
            .map_err(|_| corrupt("cycle_days out of range"))?;
        Ok(StoredProjection {
            row: ProjectionRow {
                id,
                kind,
                grid: self.grid,
                title: self.title,
                subtitle: self.subtitle,
                status: self.status,
                category: self.category,
                urgency: self.urgency,
                parent_id: self.parent_id,
                created_at: self.created_at,
                created_by: self.created_by,
                deleted: self.deleted,
                return_comment: self.return_comment,
                point: self.lon.zip(self.lat),
                cycle_days,
                visit_at: self.visit_at,
                incident,
                patrol,
                ledger: self.ledger,
            },
            updated_at: self.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use gridwork_demo::{DemoConfig, generate};

    use super::*;
    use crate::storage::SqliteStorage;

    #[test]
    fn a_demo_load_writes_the_rows_a_rebuild_makes_and_a_changed_row_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        let demo = generate(&DemoConfig::with_total_records(3, 300));
        crate::admin::load_demo(&storage, &demo, "demo-password-1").unwrap();
        let cal = WorkCalendar::bundled();
        let stored = storage.all_projections().unwrap();
        assert_eq!(stored.len(), storage.doc_heads("/").unwrap().len());
        assert!(stored.iter().any(|r| r.row.incident.is_some()));
        assert!(stored.iter().any(|r| r.row.point.is_some()));
        assert_eq!(check(&storage, &cal).unwrap(), Vec::<Uuid>::new());

        // A row that no longer says what its document does is found, and
        // a rebuild puts it right.
        let mut changed = stored.clone();
        changed[0].row.title.push('!');
        changed.pop();
        storage.replace_projections(IdRange::ALL, &changed).unwrap();
        let differ = check(&storage, &cal).unwrap();
        assert_eq!(differ.len(), 2);
        assert!(differ.contains(&stored[0].row.id));
        let done = rebuild(&storage, &cal).unwrap();
        assert_eq!(done.rows, stored.len());
        assert_eq!(storage.all_projections().unwrap(), stored);
    }

    /// `geometry`'s coordinates moved east by `by` degrees.
    fn moved(geometry: &mut serde_json::Value, by: f64) {
        match geometry {
            serde_json::Value::Array(a) if a.len() == 2 && a.iter().all(|v| v.is_f64()) => {
                a[0] = (a[0].as_f64().unwrap() + by).into();
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|v| moved(v, by)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|v| moved(v, by)),
            _ => {}
        }
    }

    #[test]
    fn a_grids_new_boundary_lays_its_patrols_cells_again() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        let demo = generate(&DemoConfig::with_total_records(3, 300));
        crate::admin::load_demo(&storage, &demo, "demo-password-1").unwrap();
        let cal = WorkCalendar::bundled();
        let patrols = storage.projections_in("/", &[RecordKind::Patrol]).unwrap();
        let grid = patrols
            .iter()
            .find(|p| p.row.patrol.as_ref().is_some_and(|r| r.cells.is_some()))
            .expect("a patrol laid on its grid")
            .row
            .grid
            .clone();
        let of_grid = patrols.iter().filter(|p| p.row.grid == grid).count();

        // The same tree, the patrol's grid a little to the east.
        let mut tree: serde_json::Value = serde_json::from_str(&demo.grid_tree_geojson).unwrap();
        for f in tree["features"].as_array_mut().unwrap() {
            if f["properties"]["code"] == grid.as_str() {
                moved(&mut f["geometry"], 0.0005);
            }
        }
        let done = crate::admin::import_grids(&storage, &tree.to_string()).unwrap();
        assert_eq!(done.patrols_relaid, of_grid);

        // Every row is again what its document makes, the patrols' cells
        // laid on the new boundary; importing it once more lays none.
        assert_eq!(check(&storage, &cal).unwrap(), Vec::<Uuid>::new());
        let new_key = boundary_key(
            &boundary_of(
                &storage
                    .subtree("/")
                    .unwrap()
                    .into_iter()
                    .find(|g| g.code == grid)
                    .unwrap(),
            )
            .unwrap(),
        );
        for p in storage.projections_in("/", &[RecordKind::Patrol]).unwrap() {
            if p.row.grid == grid {
                let cells = p.row.patrol.unwrap().cells.unwrap();
                assert_eq!(cells.boundary_key, new_key);
            }
        }
        let again = crate::admin::import_grids(&storage, &tree.to_string()).unwrap();
        assert_eq!(again.patrols_relaid, 0);
    }
}
