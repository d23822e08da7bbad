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
//! **Two backends, one SQL.** The statements (the conditions of every
//! filter, the flags, the upserts) and the row ⇄ column rules are below,
//! once; `sqlite_projections.rs` and `postgres/projections.rs` only bind
//! parameters and move values between their rows and [`Columns`].

use gridwork_core::calendar::WorkCalendar;
use gridwork_core::model::{AnyRecord, RecordKind, enum_name, return_comment};
use gridwork_core::workflow::{self, Derived};
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
    pub incident: Option<IncidentRow>,
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
            incident,
        }
    }

    /// The row of a record, deriving an incident's state on `cal`.
    pub fn read(record: &AnyRecord, cal: &WorkCalendar) -> ProjectionRow {
        let derived = match record {
            AnyRecord::Incident(i) => Some(workflow::derive(i, cal)),
            _ => None,
        };
        ProjectionRow::of(record, derived.as_ref())
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
    /// Every stored row, in id order (for checks and the rebuild test).
    fn all_projections(&self) -> Result<Vec<StoredProjection>, StorageError>;
    /// How many rows are stored.
    fn projection_count(&self) -> Result<u64, StorageError>;
    /// Replaces every row with `rows`, in one transaction.
    fn replace_projections(&self, rows: &[StoredProjection]) -> Result<(), StorageError>;
}

/// What [`rebuild`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub rows: usize,
    /// Documents that could not be read (logged, left without a row).
    pub unreadable: usize,
}

/// Makes every projection row again from the stored documents and
/// replaces the stored rows with them.
pub fn rebuild(storage: &dyn Storage, cal: &WorkCalendar) -> Result<Rebuilt, StorageError> {
    let rows = read_all(storage, cal)?;
    let out = Rebuilt {
        rows: rows.0.len(),
        unreadable: rows.1,
    };
    storage.replace_projections(&rows.0)?;
    Ok(out)
}

/// The ids of the records whose stored row differs from the row their
/// document gives (missing, extra or changed), in id order: what a
/// rebuild would change.
pub fn check(storage: &dyn Storage, cal: &WorkCalendar) -> Result<Vec<Uuid>, StorageError> {
    let stored = storage.all_projections()?;
    let (made, _) = read_all(storage, cal)?;
    let stored: std::collections::BTreeMap<Uuid, &StoredProjection> =
        stored.iter().map(|r| (r.row.id, r)).collect();
    let made: std::collections::BTreeMap<Uuid, &StoredProjection> =
        made.iter().map(|r| (r.row.id, r)).collect();
    let mut ids: std::collections::BTreeSet<Uuid> = stored.keys().copied().collect();
    ids.extend(made.keys().copied());
    Ok(ids
        .into_iter()
        .filter(|id| stored.get(id) != made.get(id))
        .collect())
}

/// Every stored document's row, made from the document, in id order, and
/// how many documents could not be read.
pub fn read_all(
    storage: &dyn Storage,
    cal: &WorkCalendar,
) -> Result<(Vec<StoredProjection>, usize), StorageError> {
    let mut rows = Vec::new();
    let mut unreadable = 0;
    for head in storage.doc_heads("/")? {
        let Some(stored) = storage.load_doc(head.id)? else {
            continue;
        };
        match super::read_snapshot(&stored.snapshot) {
            Ok(record) => rows.push(StoredProjection {
                row: ProjectionRow::read(&record, cal),
                updated_at: head.updated_at,
            }),
            Err(e) => {
                tracing::warn!(doc = %head.id, error = %e, "a stored document cannot be read");
                unreadable += 1;
            }
        }
    }
    rows.sort_by_key(|r| r.row.id);
    Ok((rows, unreadable))
}

// The statements both backends run. They are written once, with SQLite's
// numbered parameters `?N`; PostgreSQL runs the same text with `$N`
// ([`numbered`]). Every list condition is here, so a filter means the same
// on either backend; a backend only binds the parameters and moves values
// between its rows and [`Columns`].

/// A statement parameter, as either backend binds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Arg {
    Text(String),
    Int(i64),
}

/// A statement and its parameters, numbered in order from `?1`.
#[derive(Debug, Clone, Default)]
pub(super) struct Statement {
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

/// The columns [`Columns::read`] takes, in order: `p` the projections and
/// `i` the incident rows (left-joined, `i.id` null for other kinds).
pub(super) const COLUMNS: &str = "p.id, p.kind, p.grid, p.title, p.subtitle, p.status, p.category,
    p.urgency, p.parent_id, p.created_at, p.created_by, p.updated_at, p.deleted,
    p.return_comment, p.lon, p.lat, i.id, i.number, i.level, i.assignee_kind, i.assignee_id,
    i.assignee_name, i.deadline, i.escalations, i.resolved_on_spot, i.feedback, i.reported_at,
    i.accepted_at, i.resolved_at, i.closed_at";

const FROM: &str = "FROM projections p LEFT JOIN incident_projections i ON i.id = p.id";

/// Stores a row (`?1` … `?16`, [`Columns`] order without the incident),
/// replacing the one with its id.
pub(super) const UPSERT: &str = "INSERT INTO projections (id, kind, grid, title, subtitle,
        status, category, urgency, parent_id, created_at, created_by, updated_at, deleted,
        return_comment, lon, lat)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, grid = excluded.grid,
        title = excluded.title, subtitle = excluded.subtitle, status = excluded.status,
        category = excluded.category, urgency = excluded.urgency,
        parent_id = excluded.parent_id, created_at = excluded.created_at,
        created_by = excluded.created_by, updated_at = excluded.updated_at,
        deleted = excluded.deleted, return_comment = excluded.return_comment,
        lon = excluded.lon, lat = excluded.lat";

/// Stores an incident's row (`?1` the id, then [`IncidentColumns`] order).
pub(super) const UPSERT_INCIDENT: &str = "INSERT INTO incident_projections (id, number, level,
        assignee_kind, assignee_id, assignee_name, deadline, escalations, resolved_on_spot,
        feedback, reported_at, accepted_at, resolved_at, closed_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
     ON CONFLICT (id) DO UPDATE SET number = excluded.number, level = excluded.level,
        assignee_kind = excluded.assignee_kind, assignee_id = excluded.assignee_id,
        assignee_name = excluded.assignee_name, deadline = excluded.deadline,
        escalations = excluded.escalations, resolved_on_spot = excluded.resolved_on_spot,
        feedback = excluded.feedback, reported_at = excluded.reported_at,
        accepted_at = excluded.accepted_at, resolved_at = excluded.resolved_at,
        closed_at = excluded.closed_at";

/// Drops the incident row of `?1` (a record that is not an incident).
pub(super) const DELETE_INCIDENT: &str = "DELETE FROM incident_projections WHERE id = ?1";

/// Every row, in id order.
pub(super) fn all_statement() -> String {
    format!("SELECT {COLUMNS} {FROM} ORDER BY p.id")
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

/// The rows of `kinds` whose grid is under `scope_path`.
fn scope_condition(st: &mut Statement, scope_path: &str, kinds: &[RecordKind]) -> String {
    let (lo, hi) = crate::grids::subtree_range(scope_path);
    format!(
        "p.kind IN ({}) AND p.grid IN (SELECT code FROM grids WHERE path >= {} AND path < {})",
        kind_list(kinds),
        st.text(&lo),
        st.text(&hi)
    )
}

/// The rows of `kinds` in the subtree of `scope_path`, oldest change first.
pub(super) fn in_statement(scope_path: &str, kinds: &[RecordKind]) -> Statement {
    let mut st = Statement::default();
    let cond = scope_condition(&mut st, scope_path, kinds);
    st.sql = format!("SELECT {COLUMNS} {FROM} WHERE {cond} ORDER BY p.updated_at, p.id");
    st
}

/// The condition of `filter` (over `p` and `i`): what [`ListFilter`]'s
/// fields say, in SQL.
fn list_condition(st: &mut Statement, filter: &ListFilter) -> String {
    let mut sql = scope_condition(st, &filter.scope_path, &filter.kinds);
    if filter.live {
        sql.push_str(" AND NOT p.deleted");
    }
    if let Some(statuses) = &filter.statuses {
        if statuses.is_empty() {
            sql.push_str(" AND FALSE");
        } else {
            let pairs: Vec<String> = statuses
                .iter()
                .map(|(kind, status)| {
                    format!(
                        "(p.kind = {} AND p.status = {})",
                        st.text(kind.as_str()),
                        st.text(status)
                    )
                })
                .collect();
            sql.push_str(&format!(" AND ({})", pairs.join(" OR ")));
        }
    }
    if filter.from_lost_device {
        sql.push_str(&format!(
            " AND p.id IN ({})",
            super::device_states::DOCS_FROM_LOST
        ));
    }
    if let Some(d) = &filter.dispatched_to {
        let user = st.text(&d.user_id);
        let dept = st.text(&d.department);
        sql.push_str(&format!(
            " AND ((i.assignee_kind = 'person' AND i.assignee_id = {user})
               OR (i.assignee_kind = 'department' AND {dept} <> ''
                   AND (i.assignee_id = {dept} OR i.assignee_name = {dept})))"
        ));
    }
    sql
}

/// The deadline flags of `w` as two SQL expressions (over `p` and `i`):
/// overdue, due soon.
fn flag_columns(st: &mut Statement, w: &DeadlineWindow) -> String {
    let open = if w.open.is_empty() {
        "NULL".to_string()
    } else {
        w.open
            .iter()
            .map(|s| st.text(s))
            .collect::<Vec<_>>()
            .join(",")
    };
    let today = st.text(&w.today);
    let soon = st.text(&w.soon);
    format!(
        "(i.deadline IS NOT NULL AND p.status IN ({open}) AND i.deadline < {today}),
         (i.deadline IS NOT NULL AND p.status IN ({open}) AND i.deadline >= {today}
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
    let cond = list_condition(&mut count, filter);
    count.sql = format!("SELECT COUNT(*) {FROM} WHERE {cond}");
    let mut page = Statement::default();
    let flags = flag_columns(&mut page, &filter.window);
    let cond = list_condition(&mut page, filter);
    let limit = page.bind(Arg::Int(limit.map_or(i64::MAX, clamp)));
    let offset = page.bind(Arg::Int(clamp(offset)));
    page.sql = format!(
        "SELECT {COLUMNS}, {flags} {FROM} WHERE {cond}
          ORDER BY p.updated_at, p.id LIMIT {limit} OFFSET {offset}"
    );
    (count, page)
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
    pub incident: Option<IncidentColumns>,
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

impl Columns {
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
                incident,
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
        storage.replace_projections(&changed).unwrap();
        let differ = check(&storage, &cal).unwrap();
        assert_eq!(differ.len(), 2);
        assert!(differ.contains(&stored[0].row.id));
        let done = rebuild(&storage, &cal).unwrap();
        assert_eq!(done.rows, stored.len());
        assert_eq!(storage.all_projections().unwrap(), stored);
    }
}
