//! The server's decoded view of stored records: a stored document read
//! into its record and (for an incident) its derived state ([`load`]),
//! and one summary line per record ([`Summary`]). Lists read the
//! projection rows (`crate::storage::projections`); the rows of a ledger
//! page or an export read their records from the JSON kept beside those
//! rows ([`ledger_records`]); a document is decoded only where the record
//! itself is written or shown whole (a record's page and history, a
//! decision), and nothing is kept between requests.
//!
//! Its own module, below [`crate::access`] (which decides who sees these)
//! and [`crate::console`] (which lists them): both read records through
//! here, so neither depends on the other for it, and `sync` → `access`,
//! `console` → `access`, `console` → `sync` stay one-way.

use automerge::AutoCommit;
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::RecordDoc;
use gridwork_core::model::{AnyRecord, RecordKind};
use gridwork_core::workflow::{self, Assignee, Derived, Level};
use serde::Serialize;
use uuid::Uuid;

use crate::storage::projections::ledger_record;
use crate::storage::{ProjectionRow, Storage, StorageError};

pub use crate::storage::projections::DUE_SOON_DAYS;

/// The kinds a supervisor reviews or handles.
pub const QUEUE_KINDS: [RecordKind; 3] = [
    RecordKind::Household,
    RecordKind::Resident,
    RecordKind::Incident,
];

/// What the queue shows of a record. Masked: no [PI] or [S] values in
/// clear.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Summary {
    pub id: Uuid,
    pub kind: RecordKind,
    pub grid: String,
    pub title: String,
    pub subtitle: String,
    /// Review state (`pending`, `accepted`, `returned`) or incident status.
    pub status: String,
    pub created_at: i64,
    pub created_by: String,
    /// Unix ms, server clock, of the last change the server stored.
    pub updated_at: i64,
    pub deleted: bool,
    /// The comment of the latest return, while returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentFacts>,
}

/// An incident's derived state, for lists.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct IncidentFacts {
    pub number: String,
    pub category: String,
    pub urgency: String,
    pub level: Level,
    pub assignee: Option<Assignee>,
    /// The working-day deadline, `YYYY-MM-DD`.
    pub deadline: Option<jiff::civil::Date>,
    pub escalations: u32,
}

/// Deadline flags, computed for the day they are shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Flags {
    pub overdue: bool,
    pub due_soon: bool,
}

impl Summary {
    /// The summary of a record last written at `updated_at`.
    pub fn of(record: &AnyRecord, derived: Option<&Derived>, updated_at: i64) -> Summary {
        Summary::from_row(ProjectionRow::of(record, derived), updated_at)
    }

    /// The summary a stored projection row gives.
    pub fn from_row(row: ProjectionRow, updated_at: i64) -> Summary {
        let name = |s: &str| serde_json::Value::String(s.to_string());
        let incident = row.incident.map(|i| IncidentFacts {
            number: i.number,
            category: row.category.clone().unwrap_or_default(),
            urgency: row.urgency.clone().unwrap_or_default(),
            level: serde_json::from_value(name(&i.level)).unwrap_or(Level::Grid),
            assignee: i.assignee.and_then(|(kind, id, name_zh)| {
                Some(Assignee {
                    kind: serde_json::from_value(name(&kind)).ok()?,
                    id,
                    name: name_zh,
                })
            }),
            deadline: i.deadline.and_then(|d| d.parse().ok()),
            escalations: i.escalations,
        });
        Summary {
            id: row.id,
            kind: row.kind,
            grid: row.grid,
            title: row.title,
            subtitle: row.subtitle,
            status: row.status,
            created_at: row.created_at,
            created_by: row.created_by,
            updated_at,
            deleted: row.deleted,
            return_comment: row.return_comment,
            incident,
        }
    }

    /// Overdue (已超期) or due soon (将到期) on `today`.
    pub fn flags(&self, today: jiff::civil::Date, cal: &WorkCalendar) -> Flags {
        let open = workflow::Status::parse(&self.status).is_some_and(workflow::Status::is_open);
        match self.incident.as_ref().and_then(|i| i.deadline) {
            Some(d) if open => Flags {
                overdue: today > d,
                due_soon: today <= d && cal.add_working_days(today, DUE_SOON_DAYS) >= d,
            },
            _ => Flags::default(),
        }
    }
}

/// A stored document, read.
#[derive(Debug)]
pub struct Loaded {
    pub doc: RecordDoc,
    pub record: AnyRecord,
    /// For incidents.
    pub derived: Option<Derived>,
}

/// Reads a stored snapshot into its record (and an incident's state).
pub fn load(snapshot: &[u8], cal: &WorkCalendar) -> Result<Loaded, String> {
    let am = AutoCommit::load(snapshot).map_err(|e| e.to_string())?;
    let doc = RecordDoc::from_automerge(am).map_err(|e| e.to_string())?;
    let record = doc.read_any().map_err(|e| e.to_string())?;
    Ok(Loaded {
        doc,
        derived: derived(&record, cal),
        record,
    })
}

/// An incident's state derived on `cal`; other records have none.
fn derived(record: &AnyRecord, cal: &WorkCalendar) -> Option<Derived> {
    match record {
        AnyRecord::Incident(i) => Some(workflow::derive(i, cal)),
        _ => None,
    }
}

/// The records of `ids` as the ledgers read them: each from its
/// [`ProjectionRow::ledger`], written with its projection row when its
/// document was stored (no document is decoded), with an incident's state
/// derived on `cal`, in the order of `ids`. An id without one is left out
/// (an incident without parties has no parties record); a record whose
/// JSON cannot be read is left out and logged.
pub fn ledger_records(
    storage: &dyn Storage,
    ids: &[Uuid],
    cal: &WorkCalendar,
) -> Result<Vec<(Uuid, AnyRecord, Option<Derived>)>, StorageError> {
    let stored = storage.ledger_records(ids)?;
    let mut out = Vec::with_capacity(stored.len());
    for (id, json) in stored {
        match ledger_record(&json) {
            Ok(record) => {
                let derived = derived(&record, cal);
                out.push((id, record, derived));
            }
            Err(e) => tracing::warn!(doc = %id, error = %e, "a ledger record cannot be read"),
        }
    }
    Ok(out)
}

/// A record as the console keeps it: its queue line, the record itself
/// and (for incidents) its derived state.
#[derive(Debug)]
pub struct Entry {
    pub summary: Summary,
    pub record: AnyRecord,
    pub derived: Option<Derived>,
}
