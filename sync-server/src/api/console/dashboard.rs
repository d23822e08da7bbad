//! The dashboard of the user's subtree, its export, and the map's grid
//! layer (boundaries with each grid's figures).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use gridwork_core::calendar::shanghai_date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ledgers::{deliver, parse_format, reveal_for, scope_of, visible};
use super::{ConsoleApiError, ConsoleAuth};
use crate::AppState;
use crate::console::actions::ConsoleUser;
use crate::console::dashboard::{self, Dashboard, FIGURES, Facts, GridFigures, Share};
use crate::console::ledger::{Cell, Row, Table, status_label};

/// `?grid=&at=&format=`.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(optional_fields)]
pub struct DashQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<String>,
    /// Unix ms the visit cycles are judged at (default: now).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
    #[serde(skip_serializing)]
    pub format: Option<String>,
}

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

struct Computed {
    grid: String,
    at: i64,
    dashboard: Dashboard,
    per_grid: BTreeMap<String, GridFigures>,
    grids: Vec<crate::grids::Grid>,
}

fn compute(
    state: &AppState,
    who: &ConsoleUser,
    q: &DashQuery,
) -> Result<Computed, ConsoleApiError> {
    let storage = state.storage().as_ref();
    let cal = &state.sync_context().calendar;
    let scope = scope_of(storage, who, q.grid.as_deref())?;
    let grids = storage.subtree(&scope)?;
    let at =
        q.at.unwrap_or_else(|| jiff::Timestamp::now().as_millisecond());
    let today = shanghai_date(jiff::Timestamp::now());
    let all = visible(state, who, &scope, &gridwork_core::model::RecordKind::ALL)?;
    let facts = Facts::of(&all, at);
    let entries: Vec<_> = all
        .into_iter()
        .map(|e| {
            let f = e.summary.flags(today, cal);
            (e, f)
        })
        .collect();
    let grid = q
        .grid
        .clone()
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| who.session.user.grid.clone());
    Ok(Computed {
        dashboard: dashboard::compute(&entries, &grids, &facts),
        per_grid: dashboard::per_grid(&entries, &facts),
        grid,
        at,
        grids,
    })
}

/// The figures of the user's subtree (or a grid in it).
pub async fn view(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Query(q): Query<DashQuery>,
) -> Result<Json<DashboardPage>, ConsoleApiError> {
    let page = tokio::task::spawn_blocking(move || -> Result<_, ConsoleApiError> {
        let c = compute(&state, &who, &q)?;
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
        Ok(DashboardPage {
            grid_names: c
                .grids
                .iter()
                .map(|g| (g.code.clone(), g.name.clone()))
                .collect(),
            grid: c.grid,
            at: c.at,
            figures: c.dashboard,
            drill,
        })
    })
    .await??;
    Ok(Json(page))
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

/// The dashboard as a ledger: a summary sheet, counts by status, category
/// and grid, patrols; as GeoJSON, the grids with their figures.
pub async fn export(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Query(q): Query<DashQuery>,
) -> Result<Response, ConsoleApiError> {
    let format = parse_format(q.format.as_deref())?;
    let filter = serde_json::to_string(&q).unwrap_or_default();
    tokio::task::spawn_blocking(move || {
        let c = compute(&state, &who, &q)?;
        let tables = match format {
            crate::console::ledger::Format::GeoJson => vec![grid_layer(&c)],
            _ => sheets(&c),
        };
        deliver(
            state.storage().as_ref(),
            &who,
            "dashboard",
            filter,
            format,
            // Figures hold no personal data.
            reveal_for(&who, false),
            tables,
        )
    })
    .await?
}

/// The grids with a boundary and their figures, as GeoJSON for the map.
pub async fn map(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Query(q): Query<DashQuery>,
) -> Result<Response, ConsoleApiError> {
    let (bytes, _) = tokio::task::spawn_blocking(move || -> Result<_, ConsoleApiError> {
        let c = compute(&state, &who, &q)?;
        crate::console::ledger::Format::GeoJson
            .write(&[grid_layer(&c)])
            .map_err(|e| crate::error::ApiError::Internal(e).into())
    })
    .await??;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/geo+json")],
        bytes,
    )
        .into_response())
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

fn sheets(c: &Computed) -> Vec<Table> {
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
            counts(&d.by_status, &status_label),
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

fn grid_layer(c: &Computed) -> Table {
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
