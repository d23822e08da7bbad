//! The console's dashboard against a real `gridwork-server` loaded with a
//! generated demo: every figure is computed again here, straight from the
//! generated records (the definitions are in the server's
//! `console::dashboard` docs), and every drill-down lists exactly the
//! records its figure counts.

mod console_support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Cursor;

use anyhow::{Context, Result};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use console_support::Console;
use gridwork_core::calendar::{WorkCalendar, shanghai_date};
use gridwork_core::geo::GridTree;
use gridwork_core::model::{Role, VisitTargetKind};
use gridwork_core::workflow::{self, Derived, Level, Satisfaction, Status};
use gridwork_demo::{DemoConfig, generate};
use gridwork_tests::Server;
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

const SEED: u64 = 11;
const RECORDS: usize = 1_500;

fn median(mut v: Vec<i64>) -> Option<i64> {
    v.sort();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2),
    }
}

fn is_resolved(d: &Derived) -> bool {
    [
        Status::Resolved,
        Status::Verified,
        Status::FeedbackGiven,
        Status::Closed,
    ]
    .contains(&d.status)
}

/// Ids a drill-down lists (every page).
async fn drill(console: &Console, url: &str) -> Result<BTreeSet<String>> {
    let page = console.get(&format!("{url}&limit=500")).await?.ok()?;
    let total = page["total"].as_u64().context("total")? as usize;
    let ids: BTreeSet<String> = page["rows"]
        .as_array()
        .context("rows")?
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect();
    anyhow::ensure!(
        ids.len() == total,
        "one page holds the drill-down ({total})"
    );
    Ok(ids)
}

/// The first sheet of an XLSX export, by name.
async fn first_sheet(console: &Console, url: &str) -> Result<(String, calamine::Range<Data>)> {
    let (status, _, bytes) = console.download(url).await?;
    anyhow::ensure!(status == StatusCode::OK, "{url}: {status}");
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))?;
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet)?;
    Ok((sheet, range))
}

fn share(v: &Value) -> (u64, u64) {
    (
        v["count"].as_u64().unwrap_or(u64::MAX),
        v["of"].as_u64().unwrap_or(u64::MAX),
    )
}

#[tokio::test]
async fn every_figure_matches_the_records_and_drills_down_to_them() -> Result<()> {
    let server = Server::start_with_demo(SEED, RECORDS)?;
    let config = DemoConfig::with_total_records(SEED, RECORDS);
    let demo = generate(&config);
    let tree = GridTree::from_geojson(&demo.grid_tree_geojson)?;
    let cal = WorkCalendar::bundled();
    let cs = demo
        .users
        .iter()
        .find(|u| u.role == Role::CommunitySupervisor)
        .context("a community supervisor")?;
    let mine = |grid: &str| tree.is_within(grid, &cs.grid);
    let console = Console::open(&server, &cs.id).await?;
    let at = config.now_ms;
    let dash = console.get(&format!("/dashboard?at={at}")).await?.ok()?;

    // Incidents: what the generator made in the community, folded.
    let today = shanghai_date(jiff::Timestamp::now());
    let incidents: Vec<(Uuid, String, String, Derived)> = demo
        .incidents
        .iter()
        .filter(|i| mine(&i.meta.grid) && !i.meta.deleted)
        .map(|i| {
            let category = serde_json::to_value(i.category.major).unwrap();
            (
                i.meta.id,
                i.meta.grid.clone(),
                category.as_str().unwrap().to_string(),
                workflow::derive(i, &cal),
            )
        })
        .filter(|(.., d)| d.status != Status::Draft)
        .collect();
    assert!(incidents.len() > 20, "a demo big enough to mean something");
    assert_eq!(dash["incidents"], incidents.len());
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_category: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_grid: BTreeMap<String, usize> = BTreeMap::new();
    for (_, grid, cat, d) in &incidents {
        *by_status.entry(d.status.as_str().into()).or_default() += 1;
        *by_category.entry(cat.clone()).or_default() += 1;
        *by_grid.entry(grid.clone()).or_default() += 1;
    }
    assert_eq!(dash["by_status"], serde_json::to_value(&by_status)?);
    assert_eq!(dash["by_category"], serde_json::to_value(&by_category)?);
    assert_eq!(dash["by_grid"], serde_json::to_value(&by_grid)?);

    let pick = |f: &dyn Fn(&Derived) -> bool| -> BTreeSet<String> {
        incidents
            .iter()
            .filter(|(.., d)| f(d))
            .map(|(id, ..)| id.to_string())
            .collect()
    };
    let open = |d: &Derived| {
        matches!(
            d.status,
            Status::Reported | Status::Accepted | Status::Dispatched | Status::InProgress
        )
    };
    let resolved = pick(&is_resolved);
    let on_spot = pick(&|d| is_resolved(d) && d.resolved_on_spot);
    let village = pick(&|d| is_resolved(d) && d.level == Level::Grid);
    let town = pick(&|d| is_resolved(d) && matches!(d.level, Level::Grid | Level::Street));
    let overdue = pick(&|d| open(d) && d.deadline.is_some_and(|dl| today > dl));
    let due_soon = pick(&|d| {
        open(d)
            && d.deadline
                .is_some_and(|dl| today <= dl && cal.add_working_days(today, 2) >= dl)
    });
    let feedback = pick(&|d| d.feedback.is_some());
    let satisfied = pick(&|d| {
        matches!(
            d.feedback,
            Some(Satisfaction::Satisfied | Satisfaction::VerySatisfied)
        )
    });
    assert!(!resolved.is_empty() && !feedback.is_empty() && !overdue.is_empty());
    let n = incidents.len() as u64;
    let r = resolved.len() as u64;
    assert_eq!(share(&dash["resolved"]), (r, n));
    assert_eq!(share(&dash["on_the_spot"]), (on_spot.len() as u64, r));
    assert_eq!(share(&dash["within_village"]), (village.len() as u64, r));
    assert_eq!(share(&dash["within_town"]), (town.len() as u64, r));
    assert_eq!(dash["overdue"], overdue.len());
    assert_eq!(dash["due_soon"], due_soon.len());
    assert_eq!(
        share(&dash["satisfaction"]),
        (satisfied.len() as u64, feedback.len() as u64)
    );
    let accept = median(
        incidents
            .iter()
            .filter_map(|(.., d)| Some(d.accepted_at? - d.reported_at?))
            .collect(),
    );
    let close = median(
        incidents
            .iter()
            .filter(|(.., d)| d.status == Status::Closed)
            .filter_map(|(.., d)| Some(d.closed_at? - d.reported_at?))
            .collect(),
    );
    assert!(accept.is_some() && close.is_some());
    assert_eq!(dash["median_accept_ms"].as_i64(), accept);
    assert_eq!(dash["median_close_ms"].as_i64(), close);

    // Patrol hours per worker and grid.
    let mut hours: BTreeMap<(String, String), i64> = BTreeMap::new();
    for p in demo
        .patrols
        .iter()
        .filter(|p| mine(&p.meta.grid) && !p.meta.deleted)
    {
        *hours
            .entry((p.worker.clone(), p.meta.grid.clone()))
            .or_default() += p.ended_at.map_or(0, |e| e - p.started_at);
    }
    let served = dash["patrols"].as_array().context("patrols")?;
    assert_eq!(served.len(), hours.len());
    for w in served {
        let key = (
            w["worker"].as_str().unwrap().to_string(),
            w["grid"].as_str().unwrap().to_string(),
        );
        let want = hours[&key] as f64 / 3_600_000.0;
        assert!((w["hours"].as_f64().unwrap() - want).abs() < 1e-9, "{w}");
        let c = w["coverage"]
            .as_f64()
            .context("every demo grid has a boundary")?;
        assert!((0.0..=1.0).contains(&c), "{w}");
    }
    assert!(served.iter().any(|w| w["coverage"].as_f64() > Some(0.0)));

    // Households visited within their cycle.
    let mut cycle: HashMap<Uuid, u32> = HashMap::new();
    let mut home: HashMap<Uuid, Uuid> = HashMap::new();
    for r in demo
        .residents
        .iter()
        .filter(|r| mine(&r.meta.grid) && !r.meta.deleted)
    {
        let Some(h) = r.household_id else { continue };
        home.insert(r.meta.id, h);
        for t in &r.care_tags {
            let c = cycle.entry(h).or_insert(t.visit_cycle_days);
            *c = (*c).min(t.visit_cycle_days);
        }
    }
    let mut last: HashMap<Uuid, i64> = HashMap::new();
    let households: BTreeSet<Uuid> = demo
        .households
        .iter()
        .filter(|h| mine(&h.meta.grid) && !h.meta.deleted)
        .map(|h| {
            if let Some(t) = h.last_visit_at {
                last.insert(h.meta.id, t);
            }
            h.meta.id
        })
        .collect();
    for v in demo
        .visits
        .iter()
        .filter(|v| mine(&v.meta.grid) && !v.meta.deleted)
    {
        let h = match v.target.kind {
            VisitTargetKind::Household => Some(v.target.id),
            VisitTargetKind::Resident => home.get(&v.target.id).copied(),
            VisitTargetKind::Incident => None,
        };
        if let Some(h) = h {
            let l = last.entry(h).or_insert(v.visited_at);
            *l = (*l).max(v.visited_at);
        }
    }
    let with_cycle: Vec<(Uuid, u32)> = cycle
        .into_iter()
        .filter(|(h, _)| households.contains(h))
        .collect();
    let in_cycle: BTreeSet<String> = with_cycle
        .iter()
        .filter(|(h, days)| {
            last.get(h)
                .is_some_and(|t| *t <= at && at - t <= i64::from(*days) * 86_400_000)
        })
        .map(|(h, _)| h.to_string())
        .collect();
    assert!(!in_cycle.is_empty() && in_cycle.len() < with_cycle.len());
    assert_eq!(
        share(&dash["visited_in_cycle"]),
        (in_cycle.len() as u64, with_cycle.len() as u64)
    );

    // Each figure drills down to exactly its records.
    let drills = &dash["drill"];
    for (figure, want) in [
        ("resolved", &resolved),
        ("on_the_spot", &on_spot),
        ("within_village", &village),
        ("within_town", &town),
        ("overdue", &overdue),
        ("due_soon", &due_soon),
        ("with_feedback", &feedback),
        ("satisfied", &satisfied),
        ("visited_in_cycle", &in_cycle),
    ] {
        let url = drills[figure].as_str().context(figure)?;
        assert_eq!(&drill(&console, url).await?, want, "drill-down of {figure}");
    }
    let closed = pick(&|d| d.status == Status::Closed);
    let url = drills["status:closed"].as_str().context("status:closed")?;
    assert_eq!(drill(&console, url).await?, closed);

    // The map's markers: the community's incidents with a point (read
    // from their projection rows), the overdue ones marked.
    let map = console.get("/map/incidents").await?.ok()?;
    let features = map["features"].as_array().context("features")?;
    let marked = |f: &&Value| f["properties"]["已超期"] == "是";
    let id = |f: &Value| f["id"].as_str().map(str::to_string);
    let placed: BTreeSet<String> = demo
        .incidents
        .iter()
        .filter(|i| mine(&i.meta.grid) && !i.meta.deleted && i.point.is_some())
        .map(|i| i.meta.id.to_string())
        .collect();
    assert_eq!(
        features.iter().filter_map(id).collect::<BTreeSet<_>>(),
        placed
    );
    let overdue_placed: BTreeSet<String> = overdue.intersection(&placed).cloned().collect();
    assert!(!overdue_placed.is_empty());
    assert_eq!(
        features
            .iter()
            .filter(marked)
            .filter_map(id)
            .collect::<BTreeSet<_>>(),
        overdue_placed
    );

    // A worker's patrol hours drill down to their patrols in that grid.
    for w in served {
        let (worker, grid) = (w["worker"].as_str().unwrap(), w["grid"].as_str().unwrap());
        let want: BTreeSet<String> = demo
            .patrols
            .iter()
            .filter(|p| !p.meta.deleted && p.worker == worker && p.meta.grid == grid)
            .map(|p| p.meta.id.to_string())
            .collect();
        let url = drills[format!("patrol:{worker}:{grid}")]
            .as_str()
            .context("a patrol drill-down")?;
        assert!(url.starts_with("/lists/patrols?"), "{url}");
        assert_eq!(
            drill(&console, url).await?,
            want,
            "patrols of {worker} in {grid}"
        );
    }

    // The patrol ledger: the track is [S], so a masked export places no
    // patrol on a map; revealed (a community supervisor may), each patrol
    // with a track is at its start point.
    let tracked = demo
        .patrols
        .iter()
        .filter(|p| mine(&p.meta.grid) && !p.meta.deleted && !p.track.is_empty())
        .count();
    assert!(tracked > 0);
    for (reveal, want) in [(false, 0), (true, tracked)] {
        let (status, _, bytes) = console
            .download(&format!(
                "/lists/patrols/export?format=geojson&reveal={reveal}"
            ))
            .await?;
        assert_eq!(status, StatusCode::OK);
        let fc: geojson::FeatureCollection = std::str::from_utf8(&bytes)?.parse()?;
        assert_eq!(fc.features.len(), want, "reveal {reveal}");
    }

    // An export decodes its records a chunk at a time (500 in the
    // server): the community's longest register comes out whole, in the
    // view's order, each record once.
    let households = demo
        .households
        .iter()
        .filter(|h| mine(&h.meta.grid))
        .count();
    let residents = demo.residents.iter().filter(|r| mine(&r.meta.grid)).count();
    let list = if households >= residents {
        "households"
    } else {
        "residents"
    };
    let view = console.get(&format!("/lists/{list}?limit=1")).await?.ok()?;
    let total = view["total"].as_u64().context("total")? as usize;
    assert!(total > 500, "{list}: more than one export chunk ({total})");
    let (_, exported) = first_sheet(&console, &format!("/lists/{list}/export?format=xlsx")).await?;
    assert_eq!(
        exported.height(),
        total + 1,
        "{list}: a header and every row"
    );
    let log = console.get("/access-log").await?.ok()?;
    let ids: BTreeSet<&str> = log[0]["record_ids"]
        .as_array()
        .context("the export's record ids")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(ids.len(), total, "{list}: each record once");

    // The dashboard as a ledger: the summary sheet says the same.
    let (sheet, rows) =
        first_sheet(&console, &format!("/dashboard/export?format=xlsx&at={at}")).await?;
    assert!(sheet.starts_with("指标汇总"), "{sheet}");
    let value = |label: &str| {
        rows.rows()
            .find(|r| r[0] == Data::String(label.into()))
            .map(|r| r[1].clone())
    };
    assert_eq!(value("事件总数"), Some(Data::Float(incidents.len() as f64)));
    assert_eq!(value("已超期"), Some(Data::Float(overdue.len() as f64)));
    let log = console.get("/access-log").await?.ok()?;
    assert_eq!(log[0]["target"], "dashboard");

    // The map's grid layer: every grid of the community with its count.
    let (status, _, bytes) = console.download("/map/grids").await?;
    assert_eq!(status, StatusCode::OK);
    let fc: geojson::FeatureCollection = std::str::from_utf8(&bytes)?.parse()?;
    for (grid, count) in &by_grid {
        let f = fc
            .features
            .iter()
            .find(|f| f.property("code").and_then(Value::as_str) == Some(grid))
            .with_context(|| format!("grid {grid} on the map"))?;
        assert_eq!(
            f.property("incidents").and_then(Value::as_u64),
            Some(*count as u64)
        );
    }

    // Figures outside the community (here the street above it) are not
    // the supervisor's to see.
    let other = demo
        .users
        .iter()
        .find(|u| !mine(&u.grid))
        .context("a grid outside the community")?;
    let r = console
        .get(&format!("/dashboard?grid={}", other.grid))
        .await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    Ok(())
}
