//! The dashboard as the console shows it ([`page`]), as a ledger to
//! export ([`sheets`]: a summary sheet, counts by status, category and
//! grid, patrols) and as the map's grid layer ([`grid_layer`]: the grids
//! with a boundary and their figures), over [`super::dashboard`]'s
//! figures of the records the user may see.

use std::collections::BTreeMap;

use gridwork_core::calendar::{WorkCalendar, shanghai_date};
use gridwork_core::model::RecordKind;
use serde::Serialize;
use uuid::Uuid;

use super::actions::{ConsoleError, ConsoleUser};
use super::dashboard::{self, Dashboard, FIGURES, GridFigures, Share};
use super::ledger::{Cell, Row, Table, status_label};
use super::queue;
use crate::access;
use crate::storage::Storage;
use crate::storage::projections::{DeadlineWindow, ListFilter, dashboard_rows};

/// The dashboard as the console shows it.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct DashboardPage {
    /// The grid the figures are of.
    pub grid: String,
    pub at: i64,
    #[serde(flatten)]
    pub figures: Dashboard,
    /// Grid code → name, for the per-grid counts.
    pub grid_names: BTreeMap<String, String>,
    /// Figure → the list query of its records (relative to `/console/api`).
    pub drill: BTreeMap<String, String>,
}

/// The figures of a subtree, with its grids.
#[derive(Debug)]
pub struct Computed {
    grid: String,
    at: i64,
    dashboard: Dashboard,
    per_grid: BTreeMap<String, GridFigures>,
    grids: Vec<crate::grids::Grid>,
}

/// The figures of `grid` (default: the user's own) in `who`'s subtree,
/// with visit cycles judged at `at` (default: `now`) and deadlines on
/// `now`'s day: counted by the database over the records the user may
/// see ([`dashboard::compute`]).
pub fn compute(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    who: &ConsoleUser,
    grid: Option<&str>,
    at: Option<i64>,
    now: jiff::Timestamp,
) -> Result<Computed, ConsoleError> {
    let scope = queue::scope_of(storage, who, grid)?;
    let grids = storage.subtree(&scope)?;
    let at = at.unwrap_or_else(|| now.as_millisecond());
    let filter = ListFilter {
        scope_path: scope,
        kinds: RecordKind::ALL
            .into_iter()
            .filter(|k| access::listable(*k))
            .collect(),
        live: true,
        statuses: None,
        dispatched_to: access::list_reader(&who.session.user),
        from_lost_device: false,
        window: DeadlineWindow::on(shanghai_date(now), calendar),
        figure: None,
        at_ms: at,
    };
    let rows = dashboard_rows(storage, &filter)?;
    let (dashboard, per_grid) = dashboard::compute(&rows, &grids, storage)?;
    let grid = grid
        .filter(|g| !g.is_empty())
        .map_or_else(|| who.session.user.grid.clone(), str::to_string);
    Ok(Computed {
        dashboard,
        per_grid,
        grid,
        at,
        grids,
    })
}

/// The page of the figures `c`: each with the list query of its records.
pub fn page(c: Computed) -> DashboardPage {
    let mut drill: BTreeMap<String, String> = FIGURES
        .iter()
        .map(|(f, list)| (f.to_string(), drill_url(list, f, &c.grid, c.at)))
        .collect();
    for s in c.dashboard.by_status.keys() {
        let f = format!("status:{s}");
        drill.insert(f.clone(), drill_url("incidents", &f, &c.grid, c.at));
    }
    for k in c.dashboard.by_category.keys() {
        let f = format!("category:{k}");
        drill.insert(f.clone(), drill_url("incidents", &f, &c.grid, c.at));
    }
    for g in c.dashboard.by_grid.keys() {
        let f = format!("grid:{g}");
        drill.insert(f.clone(), drill_url("incidents", &f, &c.grid, c.at));
    }
    // A worker's patrol hours and coverage in a grid: their patrols there.
    for p in &c.dashboard.patrols {
        let f = format!("worker:{}", p.worker);
        drill.insert(
            format!("patrol:{}:{}", p.worker, p.grid),
            drill_url("patrols", &f, &p.grid, c.at),
        );
    }
    DashboardPage {
        grid_names: c
            .grids
            .iter()
            .map(|g| (g.code.clone(), g.name.clone()))
            .collect(),
        grid: c.grid,
        at: c.at,
        figures: c.dashboard,
        drill,
    }
}

fn drill_url(list: &str, figure: &str, grid: &str, at: i64) -> String {
    format!(
        "/lists/{list}?figure={}&grid={}&at={at}",
        encode(figure),
        encode(grid)
    )
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn rate(s: &Share) -> Cell {
    s.rate
        .map_or(Cell::Empty, |r| Cell::Number((r * 1000.0).round() / 1000.0))
}

fn row(cells: Vec<Cell>) -> Row {
    Row {
        id: Uuid::nil(),
        cells,
        point: None,
        area: None,
    }
}

fn table(title: &str, headers: &[&str], rows: Vec<Row>) -> Table {
    Table {
        title: title.into(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        rows,
    }
}

fn hours(ms: Option<i64>) -> Cell {
    ms.map_or(Cell::Empty, |ms| {
        Cell::Number((ms as f64 / 36_000.0).round() / 100.0)
    })
}

/// The dashboard as a ledger: a summary sheet, counts by status,
/// category and grid, patrols.
pub fn sheets(c: &Computed) -> Vec<Table> {
    let d = &c.dashboard;
    let n = |x: usize| Cell::Number(x as f64);
    let share =
        |label: &str, s: &Share| row(vec![Cell::Text(label.into()), n(s.count), n(s.of), rate(s)]);
    let summary = vec![
        row(vec![
            Cell::Text("事件总数".into()),
            n(d.incidents),
            Cell::Empty,
            Cell::Empty,
        ]),
        share("化解率（已办结）", &d.resolved),
        share("就地解决占比", &d.on_the_spot),
        share("小事不出村占比", &d.within_village),
        share("大事不出镇占比", &d.within_town),
        row(vec![
            Cell::Text("受理用时中位数（小时）".into()),
            hours(d.median_accept_ms),
            Cell::Empty,
            Cell::Empty,
        ]),
        row(vec![
            Cell::Text("结案用时中位数（小时）".into()),
            hours(d.median_close_ms),
            Cell::Empty,
            Cell::Empty,
        ]),
        row(vec![
            Cell::Text("已超期".into()),
            n(d.overdue),
            Cell::Empty,
            Cell::Empty,
        ]),
        row(vec![
            Cell::Text("将到期".into()),
            n(d.due_soon),
            Cell::Empty,
            Cell::Empty,
        ]),
        share("满意率", &d.satisfaction),
        share("周期内走访户占比", &d.visited_in_cycle),
    ];
    let name = |code: &str| {
        c.grids
            .iter()
            .find(|g| g.code == code)
            .map_or(String::new(), |g| g.name.clone())
    };
    let counts = |m: &BTreeMap<String, usize>, label: &dyn Fn(&str) -> String| {
        m.iter()
            .map(|(k, v)| row(vec![Cell::Text(label(k)), n(*v)]))
            .collect()
    };
    let category = |k: &str| {
        serde_json::from_value::<gridwork_core::model::CategoryMajor>(k.into())
            .map_or_else(|_| k.to_string(), |c| c.label_zh().to_string())
    };
    let by_grid = d
        .by_grid
        .iter()
        .map(|(k, v)| row(vec![Cell::Text(k.clone()), Cell::Text(name(k)), n(*v)]))
        .collect();
    let patrols = d
        .patrols
        .iter()
        .map(|p| {
            row(vec![
                Cell::Text(p.worker.clone()),
                Cell::Text(p.grid.clone()),
                n(p.patrols),
                Cell::Number((p.hours * 100.0).round() / 100.0),
                p.coverage
                    .map_or(Cell::Empty, |r| Cell::Number((r * 1000.0).round() / 1000.0)),
            ])
        })
        .collect();
    vec![
        table(
            &format!("指标汇总 {}", c.grid),
            &["指标", "数值", "基数", "比率"],
            summary,
        ),
        table(
            "按状态",
            &["状态", "事件数"],
            counts(&d.by_status, &|s: &str| {
                status_label(RecordKind::Incident, s)
            }),
        ),
        table(
            "按类别",
            &["事件大类", "事件数"],
            counts(&d.by_category, &category),
        ),
        table("按网格", &["网格编码", "网格名称", "事件数"], by_grid),
        table(
            "巡查",
            &[
                "网格员",
                "网格编码",
                "巡查次数",
                "巡查时长（小时）",
                "覆盖率",
            ],
            patrols,
        ),
    ]
}

/// The grids with a boundary, each with its figures (GeoJSON rows).
pub fn grid_layer(c: &Computed) -> Table {
    let rows = c
        .grids
        .iter()
        .filter_map(|g| {
            let area = g
                .boundary
                .as_ref()?
                .polygons()
                .into_iter()
                .map(|p| p.to_vec())
                .collect();
            let f = c.per_grid.get(&g.code).cloned().unwrap_or_default();
            let n = |x: usize| Cell::Number(x as f64);
            Some(Row {
                id: Uuid::nil(),
                point: None,
                area: Some(area),
                cells: vec![
                    Cell::Text(g.code.clone()),
                    Cell::Text(g.name.clone()),
                    Cell::Text(g.level.as_str().into()),
                    Cell::Text(g.level.label_zh().into()),
                    n(f.incidents),
                    rate(&f.resolved),
                    n(f.overdue),
                    rate(&f.satisfaction),
                    rate(&f.visited_in_cycle),
                ],
            })
        })
        .collect();
    table(
        "网格",
        &[
            "code",
            "name",
            "level",
            "level_name",
            "incidents",
            "resolution_rate",
            "overdue",
            "satisfaction_rate",
            "visited_in_cycle_rate",
        ],
        rows,
    )
}
