//! The local store over the 50,000-record demo: insert, list, search, and
//! the size of a household's document.

use std::time::{Duration, Instant};

use anyhow::Result;
use automerge::ActorId;
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::model::{AnyRecord, RecordKind};
use gridwork_core::store::{GridFilter, ListQuery, Store};
use gridwork_demo::{DemoConfig, generate};

use crate::{figure, p95_ms};

const RECORDS: usize = 50_000;

pub fn run() -> Result<()> {
    let cfg = DemoConfig::with_total_records(1, RECORDS);
    let today = cfg.today();
    let started = Instant::now();
    let demo = generate(&cfg);
    figure("demo_generate_50k_s", started.elapsed().as_secs_f64(), "s");
    let grids: Vec<String> = demo
        .households
        .iter()
        .map(|h| h.meta.grid.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();

    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path().join("bench.sqlite"), ActorId::random())?;
    let author = Author::new("bench", cfg.now_ms);
    let total = demo.len();
    let mut household_bytes = 0usize;
    let mut households = 0usize;
    for h in &demo.households {
        let mut doc = RecordDoc::create(h, ActorId::random(), &author)?;
        household_bytes += doc.save().len();
        households += 1;
    }
    let mut records: Vec<AnyRecord> = demo.into_records().collect();
    // A worker's save is one transaction with an fsync (synchronous=FULL):
    // time a few hundred of those on their own.
    let singles: Vec<AnyRecord> = records.drain(..300).collect();
    let mut samples = Vec::with_capacity(singles.len());
    for record in singles {
        let t = Instant::now();
        store.insert_all(vec![record], &author, today)?;
        samples.push(t.elapsed());
    }
    samples.sort();
    figure(
        "store_save_one_p50_ms",
        samples[samples.len() / 2].as_secs_f64() * 1000.0,
        "ms",
    );
    // The rest as an import (a new device's first load, a sync bundle),
    // in transactions of 1,000 records.
    let started = Instant::now();
    while !records.is_empty() {
        let batch: Vec<AnyRecord> = records.drain(..records.len().min(1_000)).collect();
        store.insert_all(batch, &author, today)?;
    }
    let imported = total - 300;
    figure(
        "store_insert_50k_s",
        started.elapsed().as_secs_f64() * total as f64 / imported as f64,
        "s",
    );
    figure("store_records", total as f64, "records");
    figure(
        "doc_bytes_household_avg",
        (household_bytes / households.max(1)) as f64,
        "bytes",
    );

    // Filtered lists a worker opens all day: by grid and kind, by status,
    // by category, due soon.
    let mut samples = Vec::new();
    for round in 0..200 {
        let grid = &grids[round % grids.len()];
        let query = match round % 4 {
            0 => ListQuery {
                kind: Some(RecordKind::Household),
                grids: GridFilter::In(vec![grid.clone()]),
                ..ListQuery::default()
            },
            1 => ListQuery {
                kind: Some(RecordKind::Incident),
                grids: GridFilter::In(vec![grid.clone()]),
                status: vec!["reported".into(), "dispatched".into()],
                ..ListQuery::default()
            },
            2 => ListQuery {
                kind: Some(RecordKind::Incident),
                category: Some("safety_hazard".into()),
                ..ListQuery::default()
            },
            _ => ListQuery {
                kind: Some(RecordKind::Resident),
                grids: GridFilter::Prefix(grid[..grid.len() - 3].to_string()),
                due_before: Some(today),
                ..ListQuery::default()
            },
        };
        let t = Instant::now();
        let rows = store.list(&query)?;
        samples.push(t.elapsed());
        std::hint::black_box(rows);
    }
    figure("store_list_p95_ms", p95_ms(&mut samples), "ms");

    // Full-text search in Chinese: names, addresses, two-character words.
    let terms = [
        "漏水",
        "阳光花园",
        "王",
        "纠纷",
        "噪音扰民",
        "3栋",
        "李",
        "楼道 杂物",
    ];
    let mut samples: Vec<Duration> = Vec::new();
    for round in 0..200 {
        let term = terms[round % terms.len()];
        let t = Instant::now();
        let rows = store.search(term, &ListQuery::default())?;
        samples.push(t.elapsed());
        std::hint::black_box(rows);
    }
    figure("store_search_p95_ms", p95_ms(&mut samples), "ms");
    patrol_document_sizes()
}

/// A 2-hour patrol with a GPS fix every 5 s (1,440 fixes), saved the way
/// the app did (every fix its own write) and the way it does now (held
/// fixes saved together, `TrackBuffer`): the patrol document's size and
/// its change count.
pub fn patrol_document_sizes() -> Result<()> {
    use gridwork_core::fieldwork::patrols::{PatrolEdit, TrackBuffer, blank_patrol, edit_patrol};
    use gridwork_core::geo::TrackPoint;
    use gridwork_core::model::Patrol;

    const FIXES: i64 = 2 * 3600 / 5;
    let today = jiff::civil::date(2026, 5, 17);
    let start = 1_779_000_000_000_i64;
    let fix = |i: i64| TrackPoint {
        lon: 113.3271 + i as f64 * 0.00001,
        lat: 23.1275 + (i % 40) as f64 * 0.00001,
        t_ms: start + i * 5_000,
    };
    for (name, batched) in [("per_fix", false), ("batched", true)] {
        let dir = tempfile::tempdir()?;
        let mut store = Store::open(dir.path().join("patrol.sqlite"), ActorId::random())?;
        let author = Author::new("gw-1", start);
        let patrol = blank_patrol("440106001001001", "gw-1", start);
        let id = patrol.meta.id;
        store.insert(patrol, &author, today)?;
        let mut held = TrackBuffer::default();
        let mut save = |points: Vec<TrackPoint>, at: i64| {
            store.update::<Patrol>(id, &Author::new("gw-1", at), today, |p| {
                for point in points {
                    edit_patrol(p, PatrolEdit::Point { point }).expect("running");
                }
            })
        };
        let saving = Instant::now();
        for i in 0..FIXES {
            let at = start + i * 5_000;
            if !batched {
                save(vec![fix(i)], at)?;
            } else if held.push(fix(i), at) {
                save(held.take(), at)?;
            }
        }
        save(held.take(), start + FIXES * 5_000)?;
        // Every save is a transaction with an fsync, and reads the patrol.
        let save_s = saving.elapsed().as_secs_f64();
        let mut doc = store.load(id)?.expect("the patrol");
        let mut changes = doc.changes_since(&[]);
        // What the sync sends and the server keeps: every change whole.
        let change_bytes: usize = changes.iter_mut().map(|c| c.raw_bytes().len()).sum();
        let loading = Instant::now();
        for _ in 0..20 {
            std::hint::black_box(store.load(id)?);
        }
        let load_ms = loading.elapsed().as_secs_f64() * 1000.0 / 20.0;
        figure(
            &format!("patrol_2h_changes_{name}"),
            changes.len() as f64,
            "changes",
        );
        figure(
            &format!("patrol_2h_change_bytes_{name}"),
            change_bytes as f64,
            "bytes",
        );
        // The compacted snapshot: Automerge's columnar format folds the
        // metadata of regular changes down to almost nothing.
        figure(
            &format!("patrol_2h_doc_bytes_{name}"),
            doc.save().len() as f64,
            "bytes",
        );
        figure(&format!("patrol_2h_load_ms_{name}"), load_ms, "ms");
        figure(&format!("patrol_2h_save_s_{name}"), save_s, "s");
    }
    Ok(())
}
