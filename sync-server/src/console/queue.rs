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

use super::actions::{ConsoleError, ConsoleUser};
use super::dashboard::{self, Facts};
use super::ledger::List;
use crate::access;
use crate::index::{Entry, Flags, Index, QUEUE_KINDS, Summary};
use crate::storage::Storage;

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
    /// A dashboard figure whose records to list ([`dashboard::known`]).
    pub figure: Option<&'a str>,
    /// Unix ms the visit cycles are judged at (default: now).
    pub at: Option<i64>,
}

/// The records of `list` the user may see, oldest change first, with
/// their deadline flags on the day of `now`.
pub fn select(
    storage: &dyn Storage,
    cal: &WorkCalendar,
    index: &Index,
    who: &ConsoleUser,
    list: List,
    filter: &Filter<'_>,
    now: jiff::Timestamp,
) -> Result<Vec<(Arc<Entry>, Flags)>, ConsoleError> {
    let scope = scope_of(storage, who, filter.grid)?;
    let kind = match list {
        List::Queue => filter.kind,
        _ => list.kind(),
    };
    let default_status = if list == List::Queue { "todo" } else { "all" };
    let status = filter
        .status
        .filter(|s| !s.is_empty())
        .unwrap_or(default_status);
    let figure = filter.figure.filter(|f| !f.is_empty());
    let today = shanghai_date(now);
    // Figures about visits need the residents and visits too.
    let kinds: &[RecordKind] = match (list, figure) {
        (List::Patrols, _) => &[RecordKind::Patrol],
        (_, Some(_)) => &RecordKind::ALL,
        _ => &QUEUE_KINDS,
    };
    let all = visible(storage, cal, index, who, &scope, kinds)?;
    let facts = match figure {
        Some(_) => Facts::of(&all, filter.at.unwrap_or(now.as_millisecond())),
        None => Facts::default(),
    };
    let mut rows: Vec<(Arc<Entry>, Flags)> = all
        .into_iter()
        .filter(|e| list.holds(e) && passes(&e.summary, kind, status))
        .map(|e| {
            let flags = e.summary.flags(today, cal);
            (e, flags)
        })
        .filter(|(e, f)| figure.is_none_or(|fig| dashboard::picks(fig, e, *f, &facts)))
        .collect();
    rows.sort_by_key(|(e, _)| (e.summary.updated_at, e.summary.id));
    Ok(rows)
}

/// Every record of `kinds` at `scope` the user may see.
pub fn visible(
    storage: &dyn Storage,
    cal: &WorkCalendar,
    index: &Index,
    who: &ConsoleUser,
    scope: &str,
    kinds: &[RecordKind],
) -> Result<Vec<Arc<Entry>>, ConsoleError> {
    Ok(index
        .entries(storage, scope, cal, kinds)?
        .into_iter()
        .filter(|e| access::listed(&who.session.user, &e.summary))
        .collect())
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
