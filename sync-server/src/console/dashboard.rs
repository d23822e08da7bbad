//! The supervisors' figures (DOMAIN.md "What supervisors measure") over a
//! subtree, and for each figure the predicate that picks its records (the
//! drill-down).
//!
//! Definitions, all over records not deleted:
//! - an incident counts once reported (any status but draft);
//! - **resolved** (已办结 and after): status resolved, verified,
//!   feedback given or closed; **resolution rate** = resolved / counted;
//! - **on the spot** (就地解决): resolved straight from the report;
//!   **within the village** (小事不出村): resolved at grid level;
//!   **within the town** (大事不出镇): resolved at grid or street level;
//!   each share is of the resolved;
//! - **time to accept**: accepted − reported; **time to close**: closed −
//!   reported (closed incidents); medians in ms, the mean of the two
//!   middle values when their number is even;
//! - **overdue** / **due soon**: the deadline flags of open incidents on
//!   the day asked;
//! - **satisfaction rate**: satisfied or very satisfied / with feedback;
//! - **patrol hours** per worker and grid: the sum of ended patrols'
//!   durations; **coverage**: the share of the grid's 20 m cells within
//!   15 m of any of the worker's tracks there ([`patrol_metrics`] over the
//!   tracks in time order: a gap over 5 minutes joins nothing);
//! - **households visited within their cycle**: households with a resident
//!   carrying a care tag have a cycle (the shortest tag's); visited within
//!   it when the latest visit (the household's `last_visit_at`, or a visit
//!   record to the household or one of its residents) is no older than the
//!   cycle at the moment asked.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use gridwork_core::geo::{TrackPoint, boundary_of, patrol_metrics};
use gridwork_core::model::grid::Grid;
use gridwork_core::model::{AnyRecord, VisitTargetKind};
use gridwork_core::workflow::{Level, Satisfaction, Status};
use serde::Serialize;
use uuid::Uuid;

use super::index::{Entry, Flags};

const DAY_MS: i64 = 86_400_000;

/// A count and the share it is of its base.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct Share {
    pub count: usize,
    pub of: usize,
    /// `count / of`, `None` when `of` is 0.
    pub rate: Option<f64>,
}

impl Share {
    fn new(count: usize, of: usize) -> Share {
        Share {
            count,
            of,
            rate: (of > 0).then(|| count as f64 / of as f64),
        }
    }
}

/// Patrol figures of one worker in one grid.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct WorkerPatrol {
    pub worker: String,
    pub grid: String,
    pub patrols: usize,
    pub hours: f64,
    /// 0 to 1; `None` when the grid has no boundary.
    pub coverage: Option<f64>,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Dashboard {
    /// Incidents counted (reported, not draft).
    pub incidents: usize,
    pub by_status: BTreeMap<String, usize>,
    pub by_category: BTreeMap<String, usize>,
    pub by_grid: BTreeMap<String, usize>,
    pub resolved: Share,
    pub on_the_spot: Share,
    pub within_village: Share,
    pub within_town: Share,
    pub median_accept_ms: Option<i64>,
    pub median_close_ms: Option<i64>,
    pub overdue: usize,
    pub due_soon: usize,
    pub satisfaction: Share,
    pub patrols: Vec<WorkerPatrol>,
    pub visited_in_cycle: Share,
}

/// The figures that drill down to records, and the list they open.
pub const FIGURES: [(&str, &str); 10] = [
    ("incidents", "incidents"),
    ("resolved", "incidents"),
    ("on_the_spot", "incidents"),
    ("within_village", "incidents"),
    ("within_town", "incidents"),
    ("overdue", "incidents"),
    ("due_soon", "incidents"),
    ("with_feedback", "incidents"),
    ("satisfied", "incidents"),
    ("visited_in_cycle", "households"),
];

/// What is known of a subtree's records that drill-downs need besides the
/// record itself.
#[derive(Debug, Default)]
pub struct Facts {
    /// Households with a cycle, and whether they were visited within it.
    pub cycles: HashMap<Uuid, bool>,
}

impl Facts {
    /// Reads who was visited when, from the households, residents and
    /// visits of the subtree.
    pub fn of(entries: &[Arc<Entry>], at_ms: i64) -> Facts {
        let mut cycle: HashMap<Uuid, u32> = HashMap::new();
        let mut household_of: HashMap<Uuid, Uuid> = HashMap::new();
        for e in entries.iter().filter(|e| !e.summary.deleted) {
            if let AnyRecord::Resident(r) = &e.record
                && let Some(h) = r.household_id
            {
                household_of.insert(r.meta.id, h);
                if let Some(days) = r.care_tags.iter().map(|t| t.visit_cycle_days).min() {
                    let c = cycle.entry(h).or_insert(days);
                    *c = (*c).min(days);
                }
            }
        }
        let mut last: HashMap<Uuid, i64> = HashMap::new();
        let mut seen = |h: Uuid, t: i64| {
            let l = last.entry(h).or_insert(t);
            *l = (*l).max(t);
        };
        let mut households = HashSet::new();
        for e in entries.iter().filter(|e| !e.summary.deleted) {
            match &e.record {
                AnyRecord::Household(h) => {
                    households.insert(h.meta.id);
                    if let Some(t) = h.last_visit_at {
                        seen(h.meta.id, t);
                    }
                }
                AnyRecord::Visit(v) => {
                    let h = match v.target.kind {
                        VisitTargetKind::Household => Some(v.target.id),
                        VisitTargetKind::Resident => household_of.get(&v.target.id).copied(),
                        VisitTargetKind::Incident => None,
                    };
                    if let Some(h) = h {
                        seen(h, v.visited_at);
                    }
                }
                _ => {}
            }
        }
        let cycles = cycle
            .into_iter()
            .filter(|(h, _)| households.contains(h))
            .map(|(h, days)| {
                let within = last
                    .get(&h)
                    .is_some_and(|t| *t <= at_ms && at_ms - *t <= i64::from(days) * DAY_MS);
                (h, within)
            })
            .collect();
        Facts { cycles }
    }
}

fn counted(e: &Entry) -> bool {
    !e.summary.deleted
        && e.derived
            .as_ref()
            .is_some_and(|d| d.status != Status::Draft)
        && matches!(e.record, AnyRecord::Incident(_))
}

fn resolved(e: &Entry) -> bool {
    counted(e)
        && e.derived.as_ref().is_some_and(|d| {
            matches!(
                d.status,
                Status::Resolved | Status::Verified | Status::FeedbackGiven | Status::Closed
            )
        })
}

/// Whether a record belongs to a figure's drill-down. Figures of the form
/// `status:NAME`, `category:NAME` and `grid:CODE` pick incidents by those.
pub fn picks(figure: &str, e: &Entry, flags: Flags, facts: &Facts) -> bool {
    let d = e.derived.as_ref();
    let level = |ok: &[Level]| resolved(e) && d.is_some_and(|d| ok.contains(&d.level));
    match figure {
        "incidents" => counted(e),
        "resolved" => resolved(e),
        "on_the_spot" => resolved(e) && d.is_some_and(|d| d.resolved_on_spot),
        "within_village" => level(&[Level::Grid]),
        "within_town" => level(&[Level::Grid, Level::Street]),
        "overdue" => counted(e) && flags.overdue,
        "due_soon" => counted(e) && flags.due_soon,
        "with_feedback" => counted(e) && d.is_some_and(|d| d.feedback.is_some()),
        "satisfied" => counted(e) && d.is_some_and(|d| satisfied(d.feedback)),
        "dissatisfied" => {
            counted(e) && d.is_some_and(|d| d.feedback == Some(Satisfaction::Dissatisfied))
        }
        "with_cycle" => facts.cycles.contains_key(&e.summary.id),
        "visited_in_cycle" => facts.cycles.get(&e.summary.id) == Some(&true),
        "not_visited_in_cycle" => facts.cycles.get(&e.summary.id) == Some(&false),
        other => match other.split_once(':') {
            Some(("status", s)) => counted(e) && e.summary.status == s,
            Some(("category", c)) => {
                counted(e) && e.summary.incident.as_ref().is_some_and(|i| i.category == c)
            }
            Some(("grid", g)) => counted(e) && e.summary.grid == g,
            // A worker's patrols (the patrol table's drill-down).
            Some(("worker", w)) => {
                matches!(&e.record, AnyRecord::Patrol(p) if !p.meta.deleted && p.worker == w)
            }
            _ => false,
        },
    }
}

/// Whether `figure` names a figure [`picks`] knows.
pub fn known(figure: &str) -> bool {
    FIGURES.iter().any(|(f, _)| *f == figure)
        || matches!(
            figure,
            "dissatisfied" | "with_cycle" | "not_visited_in_cycle"
        )
        || figure
            .split_once(':')
            .is_some_and(|(k, _)| matches!(k, "status" | "category" | "grid" | "worker"))
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    })
}

fn satisfied(f: Option<Satisfaction>) -> bool {
    matches!(
        f,
        Some(Satisfaction::Satisfied | Satisfaction::VerySatisfied)
    )
}

/// The figures of `entries` (every kind of the subtree the user may see),
/// with their flags for the day asked; `grids` are the subtree's grids
/// (for boundaries), `at_ms` the moment visit cycles are judged at.
pub fn compute(entries: &[(Arc<Entry>, Flags)], grids: &[Grid], facts: &Facts) -> Dashboard {
    let incidents: Vec<&(Arc<Entry>, Flags)> = entries.iter().filter(|(e, _)| counted(e)).collect();
    let mut by_status = BTreeMap::new();
    let mut by_category = BTreeMap::new();
    let mut by_grid = BTreeMap::new();
    let mut accept = Vec::new();
    let mut close = Vec::new();
    let count = |figure: &str| {
        incidents
            .iter()
            .filter(|(e, f)| picks(figure, e, *f, facts))
            .count()
    };
    for (e, _) in &incidents {
        *by_status.entry(e.summary.status.clone()).or_insert(0) += 1;
        if let Some(i) = &e.summary.incident {
            *by_category.entry(i.category.clone()).or_insert(0) += 1;
        }
        *by_grid.entry(e.summary.grid.clone()).or_insert(0) += 1;
        if let Some(d) = &e.derived {
            if let (Some(r), Some(a)) = (d.reported_at, d.accepted_at) {
                accept.push(a - r);
            }
            if let (Some(r), Some(c), Status::Closed) = (d.reported_at, d.closed_at, d.status) {
                close.push(c - r);
            }
        }
    }
    let resolved_n = count("resolved");
    Dashboard {
        incidents: incidents.len(),
        by_status,
        by_category,
        by_grid,
        resolved: Share::new(resolved_n, incidents.len()),
        on_the_spot: Share::new(count("on_the_spot"), resolved_n),
        within_village: Share::new(count("within_village"), resolved_n),
        within_town: Share::new(count("within_town"), resolved_n),
        median_accept_ms: median(accept),
        median_close_ms: median(close),
        overdue: count("overdue"),
        due_soon: count("due_soon"),
        satisfaction: Share::new(count("satisfied"), count("with_feedback")),
        patrols: patrols(entries, grids),
        visited_in_cycle: Share::new(
            facts.cycles.values().filter(|v| **v).count(),
            facts.cycles.len(),
        ),
    }
}

/// The figures a map shades a grid by, over the records in that grid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct GridFigures {
    pub incidents: usize,
    pub resolved: Share,
    pub overdue: usize,
    pub satisfaction: Share,
    pub visited_in_cycle: Share,
}

/// [`GridFigures`] of every grid that holds records.
pub fn per_grid(entries: &[(Arc<Entry>, Flags)], facts: &Facts) -> BTreeMap<String, GridFigures> {
    let mut raw: BTreeMap<String, [usize; 7]> = BTreeMap::new();
    for (e, f) in entries {
        let slot = raw.entry(e.summary.grid.clone()).or_default();
        let hits = [
            "incidents",
            "resolved",
            "overdue",
            "satisfied",
            "with_feedback",
            "visited_in_cycle",
            "with_cycle",
        ]
        .map(|fig| picks(fig, e, *f, facts));
        for (n, hit) in slot.iter_mut().zip(hits) {
            *n += usize::from(hit);
        }
    }
    raw.into_iter()
        .map(|(grid, [n, resolved, overdue, sat, fb, vis, cyc])| {
            (
                grid,
                GridFigures {
                    incidents: n,
                    resolved: Share::new(resolved, n),
                    overdue,
                    satisfaction: Share::new(sat, fb),
                    visited_in_cycle: Share::new(vis, cyc),
                },
            )
        })
        .collect()
}

fn patrols(entries: &[(Arc<Entry>, Flags)], grids: &[Grid]) -> Vec<WorkerPatrol> {
    let mut by: BTreeMap<(String, String), (usize, i64, Vec<TrackPoint>)> = BTreeMap::new();
    for (e, _) in entries {
        if let AnyRecord::Patrol(p) = &e.record
            && !p.meta.deleted
        {
            let slot = by
                .entry((p.worker.clone(), p.meta.grid.clone()))
                .or_default();
            slot.0 += 1;
            if let Some(end) = p.ended_at {
                slot.1 += (end - p.started_at).max(0);
            }
            slot.2.extend(p.track.iter().copied());
        }
    }
    let boundaries: HashMap<&str, &Grid> = grids.iter().map(|g| (g.code.as_str(), g)).collect();
    by.into_iter()
        .map(|((worker, grid), (n, ms, mut track))| {
            track.sort_by_key(|p| p.t_ms);
            let coverage = boundaries
                .get(grid.as_str())
                .and_then(|g| boundary_of(g))
                .map(|b| patrol_metrics(&track, &b).coverage_share);
            WorkerPatrol {
                worker,
                grid,
                patrols: n,
                hours: ms as f64 / 3_600_000.0,
                coverage,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5, 1, 3]), Some(3));
        assert_eq!(median(vec![4, 1, 3, 10]), Some(3));
    }

    #[test]
    fn every_figure_is_known() {
        for (f, _) in FIGURES {
            assert!(known(f));
        }
        assert!(known("status:closed") && !known("nonsense"));
    }
}
