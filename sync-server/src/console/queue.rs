//! Which records a console list holds: the queue and the ledgers of the
//! user's subtree (or a grid in it), filtered by kind, status and a
//! dashboard figure, oldest change first, each with its deadline flags
//! for the day ([`select`]); the handlers only parse the query.
//!
//! The statuses are core's: a household's or resident's review state
//! (`gridwork_core::model::ReviewState`) and an incident's status
//! (`gridwork_core::workflow::Status`); the console's menus take their
//! list ([`statuses`]) from `GET /console/api/me` rather than keeping
//! their own.

use std::sync::Arc;

use gridwork_core::calendar::{WorkCalendar, shanghai_date};
use gridwork_core::model::{RecordKind, ReviewState};
use gridwork_core::workflow::Status;
use uuid::Uuid;

use super::actions::{ConsoleError, ConsoleUser};
use super::ledger::List;
use crate::access;
use crate::index::{Entry, Flags, QUEUE_KINDS, Summary};
use crate::storage::Storage;
use crate::storage::projections::{DeadlineWindow, Figure, ListFilter, ListedRow};

/// Every status a console list can be filtered by, each name once: the
/// review states, then the incident statuses in the closed loop's order
/// (`accepted` and `returned` name both).
pub fn statuses() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = ReviewState::ALL.iter().map(|s| s.as_str()).collect();
    for s in Status::ALL {
        if !names.contains(&s.as_str()) {
            names.push(s.as_str());
        }
    }
    names
}

/// Waiting for a decision: a household or resident pending review, an
/// incident whose status [`Status::awaits_decision`].
pub fn todo(s: &Summary) -> bool {
    match s.kind {
        RecordKind::Incident => Status::parse(&s.status).is_some_and(Status::awaits_decision),
        _ => s.status == ReviewState::Pending.as_str(),
    }
}

/// Whether a list line passes the kind and status filters: `todo`
/// ([`todo`]), `all`, or one status by name.
pub fn passes(s: &Summary, kind: Option<RecordKind>, status: &str) -> bool {
    !s.deleted
        && kind.is_none_or(|k| s.kind == k)
        && match status {
            "all" => true,
            "todo" => todo(s),
            other => s.status == other,
        }
}

/// A list's filters, parsed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    /// The queue's kind filter (a ledger holds its own kind).
    pub kind: Option<RecordKind>,
    /// A status name, `todo` or `all`; the queue's default is `todo`, the
    /// ledgers' `all`.
    pub status: Option<&'a str>,
    /// A grid code in the user's subtree.
    pub grid: Option<&'a str>,
    /// A dashboard figure whose records to list (`dashboard::known`).
    pub figure: Option<&'a str>,
    /// Unix ms the visit cycles are judged at (default: now).
    pub at: Option<i64>,
    /// Only records changed from a device after it was marked lost.
    pub from_lost_device: bool,
}

/// The list query of `list` for the user: the scope (and, for a
/// department handler, whom incidents must be dispatched to) as
/// [`access`] decides them, the kind and status filters as [`passes`]
/// reads them, the deadline flags on the day of `now`, a dashboard
/// figure's records (its drill-down, with visit cycles judged at
/// `filter.at`, default `now`): the list is then filtered and paged in the
/// database (`Projections::list_projections`).
pub fn list_filter(
    storage: &dyn Storage,
    cal: &WorkCalendar,
    who: &ConsoleUser,
    list: List,
    filter: &Filter<'_>,
    now: jiff::Timestamp,
) -> Result<ListFilter, ConsoleError> {
    let scope_path = scope_of(storage, who, filter.grid)?;
    let candidates: Vec<RecordKind> = match list {
        List::Queue => QUEUE_KINDS
            .into_iter()
            .filter(|k| filter.kind.is_none_or(|f| f == *k))
            .collect(),
        _ => list.kind().into_iter().collect(),
    };
    let kinds: Vec<RecordKind> = candidates
        .into_iter()
        .filter(|k| access::listable(*k))
        .collect();
    let default_status = if list == List::Queue { "todo" } else { "all" };
    let status = filter
        .status
        .filter(|s| !s.is_empty())
        .unwrap_or(default_status);
    let statuses = match status {
        "all" => None,
        "todo" => Some(
            kinds
                .iter()
                .flat_map(|&k| -> Vec<(RecordKind, String)> {
                    match k {
                        RecordKind::Incident => Status::ALL
                            .into_iter()
                            .filter(|s| s.awaits_decision())
                            .map(|s| (k, s.as_str().to_string()))
                            .collect(),
                        _ => vec![(k, ReviewState::Pending.as_str().to_string())],
                    }
                })
                .collect(),
        ),
        other => Some(kinds.iter().map(|k| (*k, other.to_string())).collect()),
    };
    Ok(ListFilter {
        scope_path,
        kinds,
        live: true,
        statuses,
        dispatched_to: access::list_reader(&who.session.user),
        from_lost_device: filter.from_lost_device,
        window: DeadlineWindow::on(shanghai_date(now), cal),
        figure: filter
            .figure
            .filter(|f| !f.is_empty())
            .and_then(Figure::parse),
        at_ms: filter.at.unwrap_or_else(|| now.as_millisecond()),
    })
}

/// A listed row as the queue shows it.
pub fn summary(row: ListedRow) -> (Summary, Flags) {
    (
        Summary::from_row(row.projection.row, row.projection.updated_at),
        Flags {
            overdue: row.overdue,
            due_soon: row.due_soon,
        },
    )
}

/// Records of a list with their deadline flags.
pub type Listed = Vec<(Arc<Entry>, Flags)>;

/// The listed rows' records (only these, in one read), with their flags:
/// read from the ledger records kept with their rows
/// ([`crate::index::ledger_records`]), so no document is decoded. A
/// record that cannot be read is left out and logged.
pub fn entries(
    storage: &dyn Storage,
    cal: &WorkCalendar,
    rows: Vec<ListedRow>,
) -> Result<Listed, ConsoleError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.projection.row.id).collect();
    let mut records: std::collections::HashMap<Uuid, _> =
        crate::index::ledger_records(storage, &ids, cal)?
            .into_iter()
            .map(|(id, record, derived)| (id, (record, derived)))
            .collect();
    if records.len() < ids.len() {
        // Every listed row has one, unless rows were written by a server
        // older than the ledger records and not migrated.
        tracing::warn!(
            listed = ids.len(),
            read = records.len(),
            "listed records without their ledger record (run rebuild-projections)"
        );
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Some((record, derived)) = records.remove(&row.projection.row.id) else {
            continue;
        };
        let (summary, flags) = summary(row);
        out.push((
            Arc::new(Entry {
                summary,
                record,
                derived,
            }),
            flags,
        ));
    }
    Ok(out)
}

/// The materialized path of the user's subtree, or of a grid in it;
/// `NotFound` for a grid outside it.
pub fn scope_of(
    storage: &dyn Storage,
    who: &ConsoleUser,
    grid: Option<&str>,
) -> Result<String, ConsoleError> {
    access::narrowed(storage, &who.scope_path, grid)?.ok_or(ConsoleError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_offer_every_review_state_and_incident_status_once() {
        let names = statuses();
        assert_eq!(&names[..3], ["pending", "accepted", "returned"]);
        for s in Status::ALL {
            assert_eq!(names.iter().filter(|n| **n == s.as_str()).count(), 1);
        }
        assert_eq!(names.len(), 3 + Status::ALL.len() - 2);
    }
}
