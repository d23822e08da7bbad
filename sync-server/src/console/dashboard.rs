//! The supervisors' figures (DOMAIN.md "What supervisors measure") over a
//! subtree, and for each figure the records it counts (the drill-down).
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
//!   15 m of any of the worker's tracks there, each track on its own
//!   ([`patrol_metrics`]'s rule, core's [`covered_cells`]: a gap over
//!   5 minutes joins nothing, and two patrols are never joined, since the
//!   line from one's end to the next one's start is no walk);
//! - **households visited within their cycle**: households with a resident
//!   carrying a care tag have a cycle (the shortest tag's); visited within
//!   it when the latest visit (the household's `last_visit_at`, or a visit
//!   record to the household or one of its residents) is no older than the
//!   cycle at the moment asked.
//!
//! **Where they are computed.** The database counts every figure over the
//! console's projection rows, kept at push time
//! (`crate::storage::projections`); a figure's SQL condition
//! (`projections::figure_condition` of its [`Figure`]) is the one rule it
//! is counted by and its drill-down listed by, so the two never disagree.
//! Here the groups the database returns are only added up ([`compute`]),
//! and the patrols' stored cells united. No document is decoded.

use std::collections::{BTreeMap, HashMap};

use geo::MultiPolygon;
#[cfg(doc)]
use gridwork_core::geo::patrol_metrics;
use gridwork_core::geo::{CoveredCells, boundary_key, boundary_of, covered_cells};
use gridwork_core::model::AnyRecord;
use gridwork_core::model::grid::Grid;
use serde::Serialize;

use crate::storage::projections::{DashboardRows, Figure, PatrolCells, PatrolCellsOf};
use crate::storage::{Storage, StorageError};

/// A count and the share it is of its base.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct Share {
    pub count: usize,
    pub of: usize,
    /// `count / of`, `None` when `of` is 0.
    pub rate: Option<f64>,
}

impl Share {
    pub fn new(count: usize, of: usize) -> Share {
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
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
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

/// The figures a map shades a grid by, over the records in that grid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct GridFigures {
    pub incidents: usize,
    pub resolved: Share,
    pub overdue: usize,
    pub satisfaction: Share,
    pub visited_in_cycle: Share,
}

/// Whether `figure` names a figure the lists can drill down to.
pub fn known(figure: &str) -> bool {
    Figure::parse(figure).is_some()
}

/// The figures of the rows the database computed for a subtree (every
/// kind the user may see), and each grid's; `grids` are the subtree's
/// grids (for boundaries). A patrol whose cells were laid on another
/// boundary than its grid's has them laid again from its document.
pub fn compute(
    rows: &DashboardRows,
    grids: &[Grid],
    storage: &dyn Storage,
) -> Result<(Dashboard, BTreeMap<String, GridFigures>), StorageError> {
    let n = |x: u64| x as usize;
    let sum = |f: &Figure| n(rows.incidents.iter().map(|g| g.count(f)).sum::<u64>());
    let incidents = n(rows.incidents.iter().map(|g| g.incidents).sum::<u64>());
    let resolved = sum(&Figure::Resolved);
    let mut by_status = BTreeMap::new();
    let mut by_category = BTreeMap::new();
    let mut by_grid = BTreeMap::new();
    let mut per_grid: BTreeMap<String, [u64; 5]> = BTreeMap::new();
    for g in &rows.incidents {
        *by_status.entry(g.status.clone()).or_insert(0) += n(g.incidents);
        *by_category.entry(g.category.clone()).or_insert(0) += n(g.incidents);
        *by_grid.entry(g.grid.clone()).or_insert(0) += n(g.incidents);
        let slot = per_grid.entry(g.grid.clone()).or_default();
        slot[0] += g.incidents;
        slot[1] += g.count(&Figure::Resolved);
        slot[2] += g.count(&Figure::Overdue);
        slot[3] += g.count(&Figure::Satisfied);
        slot[4] += g.count(&Figure::WithFeedback);
    }
    let mut grid_figures: BTreeMap<String, GridFigures> = per_grid
        .into_iter()
        .map(|(grid, [k, res, over, sat, fb])| {
            let f = GridFigures {
                incidents: n(k),
                resolved: Share::new(n(res), n(k)),
                overdue: n(over),
                satisfaction: Share::new(n(sat), n(fb)),
                visited_in_cycle: Share::default(),
            };
            (grid, f)
        })
        .collect();
    let (mut visited, mut with_cycle) = (0, 0);
    for c in &rows.cycles {
        visited += n(c.visited);
        with_cycle += n(c.with_cycle);
        let f = grid_figures.entry(c.grid.clone()).or_default();
        f.visited_in_cycle = Share::new(
            f.visited_in_cycle.count + n(c.visited),
            f.visited_in_cycle.of + n(c.with_cycle),
        );
    }
    let dashboard = Dashboard {
        incidents,
        by_status,
        by_category,
        by_grid,
        resolved: Share::new(resolved, incidents),
        on_the_spot: Share::new(sum(&Figure::OnTheSpot), resolved),
        within_village: Share::new(sum(&Figure::WithinVillage), resolved),
        within_town: Share::new(sum(&Figure::WithinTown), resolved),
        median_accept_ms: rows.median_accept_ms,
        median_close_ms: rows.median_close_ms,
        overdue: sum(&Figure::Overdue),
        due_soon: sum(&Figure::DueSoon),
        satisfaction: Share::new(sum(&Figure::Satisfied), sum(&Figure::WithFeedback)),
        patrols: patrols(rows, grids, storage)?,
        visited_in_cycle: Share::new(visited, with_cycle),
    };
    Ok((dashboard, grid_figures))
}

/// Each worker's patrols per grid: their number and hours, and the union
/// of their tracks' cells over the grid's cells.
fn patrols(
    rows: &DashboardRows,
    grids: &[Grid],
    storage: &dyn Storage,
) -> Result<Vec<WorkerPatrol>, StorageError> {
    let boundaries: HashMap<&str, MultiPolygon<f64>> = grids
        .iter()
        .filter_map(|g| Some((g.code.as_str(), boundary_of(g)?)))
        .collect();
    let mut cells: HashMap<(&str, &str), Vec<&PatrolCellsOf>> = HashMap::new();
    for p in &rows.patrol_cells {
        cells.entry((&p.worker, &p.grid)).or_default().push(p);
    }
    let mut out = Vec::with_capacity(rows.patrols.len());
    for g in &rows.patrols {
        let coverage = match boundaries.get(g.grid.as_str()) {
            None => None,
            Some(b) => {
                let key = boundary_key(b);
                let mut union: Option<CoveredCells> = None;
                for p in cells.get(&(&g.worker, &g.grid)).into_iter().flatten() {
                    let again;
                    let laid = match &p.cells {
                        Some(c) if c.boundary_key == key => c,
                        // Laid on another boundary (the grid was
                        // re-imported since) or on none: lay them again.
                        _ => match lay_again(storage, p, b)? {
                            Some(c) => {
                                again = c;
                                &again
                            }
                            None => continue,
                        },
                    };
                    union
                        .get_or_insert_with(|| CoveredCells {
                            cells_total: laid.cells_total,
                            visited: Vec::new(),
                        })
                        .add(&laid.visited);
                }
                Some(union.unwrap_or_else(|| covered_cells(&[], b)).share())
            }
        };
        out.push(WorkerPatrol {
            worker: g.worker.clone(),
            grid: g.grid.clone(),
            patrols: n_usize(g.patrols),
            hours: g.ms as f64 / 3_600_000.0,
            coverage,
        });
    }
    out.sort_by(|a, b| (&a.worker, &a.grid).cmp(&(&b.worker, &b.grid)));
    Ok(out)
}

fn n_usize(x: u64) -> usize {
    usize::try_from(x).unwrap_or(usize::MAX)
}

/// A patrol's cells laid on `boundary`, from its document.
fn lay_again(
    storage: &dyn Storage,
    p: &PatrolCellsOf,
    boundary: &MultiPolygon<f64>,
) -> Result<Option<PatrolCells>, StorageError> {
    tracing::warn!(
        patrol = %p.id,
        "a patrol's stored cells are not of its grid's boundary: run rebuild-projections"
    );
    let Some(stored) = storage.load_doc(p.id)? else {
        return Ok(None);
    };
    Ok(match crate::storage::read_snapshot(&stored.snapshot) {
        Ok(AnyRecord::Patrol(patrol)) => Some(PatrolCells::of(&patrol.track, boundary)),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(doc = %p.id, error = %e, "a stored document cannot be read");
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_is_known() {
        for (f, _) in FIGURES {
            assert!(known(f));
        }
        for f in [
            "dissatisfied",
            "with_cycle",
            "not_visited_in_cycle",
            "status:closed",
        ] {
            assert!(known(f), "{f}");
        }
        assert!(!known("nonsense") && !known("colour:red"));
    }
}
