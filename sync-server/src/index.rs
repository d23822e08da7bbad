//! The server's decoded view of stored records: a stored document read
//! into its record and (for an incident) its derived state ([`load`]),
//! one summary line per record ([`Summary`]), and the cache that keeps
//! them by revision ([`Index`]).
//!
//! Its own module, below [`crate::access`] (which decides who sees these)
//! and [`crate::console`] (which lists them): both read records through
//! here, so neither depends on the other for it, and `sync` → `access`,
//! `console` → `access`, `console` → `sync` stay one-way.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use automerge::AutoCommit;
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::RecordDoc;
use gridwork_core::model::{AnyRecord, RecordKind};
use gridwork_core::workflow::{self, Assignee, Derived, Level};
use serde::Serialize;
use uuid::Uuid;

use crate::storage::{DocHead, ProjectionRow, Storage, StorageError, StoredDoc};

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
    let derived = match &record {
        AnyRecord::Incident(i) => Some(workflow::derive(i, cal)),
        _ => None,
    };
    Ok(Loaded {
        doc,
        record,
        derived,
    })
}

/// A record as the console keeps it: its queue line, the record itself
/// and (for incidents) its derived state.
#[derive(Debug)]
pub struct Entry {
    pub summary: Summary,
    pub record: AnyRecord,
    pub derived: Option<Derived>,
}

/// Every record of the server, read, kept by document revision.
#[derive(Debug, Default)]
pub struct Index {
    docs: Mutex<HashMap<Uuid, (i64, Arc<Entry>)>>,
    /// Held while stale documents are read and decoded, so two listings
    /// (or a listing and the warm-up at start) never decode the same
    /// documents twice: the second waits, then finds them fresh.
    filling: Mutex<()>,
    /// Every document has been read once (the warm-up finished).
    warm: AtomicBool,
}

impl Index {
    /// Reads every document of the server into the index: the warm-up at
    /// start. Returns how many records it holds.
    pub fn warm_up(
        &self,
        storage: &dyn Storage,
        cal: &WorkCalendar,
    ) -> Result<usize, StorageError> {
        let n = self.entries(storage, "/", cal, &RecordKind::ALL)?.len();
        self.warm.store(true, Ordering::Release);
        Ok(n)
    }

    /// Whether the warm-up has finished.
    pub fn is_warm(&self) -> bool {
        self.warm.load(Ordering::Acquire)
    }

    /// Every household, resident and incident in the subtree at
    /// `scope_path`, decoding only documents written since the last call.
    pub fn list(
        &self,
        storage: &dyn Storage,
        scope_path: &str,
        cal: &WorkCalendar,
    ) -> Result<Vec<Arc<Entry>>, StorageError> {
        self.entries(storage, scope_path, cal, &QUEUE_KINDS)
    }

    /// Every record of `kinds` in the subtree at `scope_path`, decoding
    /// only documents written since the last call.
    pub fn entries(
        &self,
        storage: &dyn Storage,
        scope_path: &str,
        cal: &WorkCalendar,
        kinds: &[RecordKind],
    ) -> Result<Vec<Arc<Entry>>, StorageError> {
        let heads: Vec<_> = storage
            .doc_heads(scope_path)?
            .into_iter()
            .filter(|h| RecordKind::parse(&h.kind).is_some_and(|k| kinds.contains(&k)))
            .collect();
        let _filling = self.filling.lock().unwrap_or_else(|p| p.into_inner());
        let stale: Vec<_> = {
            let docs = self.lock();
            heads
                .iter()
                .filter(|h| docs.get(&h.id).is_none_or(|(rev, _)| *rev != h.rev))
                .collect()
        };
        // Reading is one connection's work; decoding Automerge is the cost,
        // spread over the cores (a first listing of 50,000 documents).
        let mut stored = Vec::with_capacity(stale.len());
        for head in stale {
            if let Some(doc) = storage.load_doc(head.id)? {
                stored.push((head, doc));
            }
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = stored.len().div_ceil(threads).max(256);
        let fresh: Vec<(Uuid, i64, Arc<Entry>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = stored
                .chunks(chunk)
                .map(|part| scope.spawn(move || decode(part, cal)))
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        });
        let mut docs = self.lock();
        for (id, rev, entry) in fresh {
            docs.insert(id, (rev, entry));
        }
        Ok(heads
            .iter()
            .filter_map(|h| docs.get(&h.id).map(|(_, s)| s.clone()))
            .collect())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (i64, Arc<Entry>)>> {
        // A panic while holding the lock leaves a cache, not a broken
        // invariant: keep using it.
        self.docs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Decodes stored documents into entries, skipping (and logging) any that
/// cannot be read.
fn decode(part: &[(&DocHead, StoredDoc)], cal: &WorkCalendar) -> Vec<(Uuid, i64, Arc<Entry>)> {
    part.iter()
        .filter_map(|(head, stored)| match load(&stored.snapshot, cal) {
            Ok(l) => Some((
                head.id,
                stored.rev,
                Arc::new(Entry {
                    summary: Summary::of(&l.record, l.derived.as_ref(), head.updated_at),
                    record: l.record,
                    derived: l.derived,
                }),
            )),
            Err(e) => {
                tracing::warn!(doc = %head.id, error = %e, "a stored document cannot be read");
                None
            }
        })
        .collect()
}
