//! The local store over the 50,000-record demo: save, import, list,
//! search, photos, and the size of a household's document. The figures
//! the app is held to are measured on the app's store, encrypted
//! (SQLCipher, `Store::open_encrypted`), under their plain names
//! (`store_list_p95_ms` …), and in the same run on a store in clear, the
//! baseline, under the same names ending in `_plain`, with what
//! encryption costs in percent (`…_encryption_overhead_pct`); then
//! `unlock_ms`, from a PIN entered to the first list shown.
//!
//! Compare figures of one run only: the machines are shared and noisy,
//! and both stores are measured back to back on the same data.

use std::time::{Duration, Instant};

use anyhow::Result;
use automerge::ActorId;
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::media::synthetic_photo;
use gridwork_core::model::{AnyRecord, PhotoRole, RecordKind};
use gridwork_core::store::{GridFilter, ListQuery, Store};
use gridwork_core::vault::pin::Pin;
use gridwork_core::vault::{DataKey, KdfParams, KeyFile};
use gridwork_demo::{DemoConfig, generate};

use crate::{figure, p95_ms};

const RECORDS: usize = 50_000;
/// Camera photos (4000 × 3000) taken into each store.
const PHOTOS: usize = 5;

/// One store's figures, in ms.
struct Figures {
    list_p95: f64,
    search_p95: f64,
    save_p50: f64,
    photo_p50: f64,
}

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

    let author = Author::new("bench", cfg.now_ms);
    let mut household_bytes = 0usize;
    let mut households = 0usize;
    for h in &demo.households {
        let mut doc = RecordDoc::create(h, ActorId::random(), &author)?;
        household_bytes += doc.save().len();
        households += 1;
    }
    figure(
        "doc_bytes_household_avg",
        (household_bytes / households.max(1)) as f64,
        "bytes",
    );
    let records: Vec<AnyRecord> = demo.into_records().collect();
    figure("store_records", records.len() as f64, "records");
    // Camera photos, made once for both stores (each a different picture,
    // so none is stored twice).
    let photos: Vec<Vec<u8>> = (0..PHOTOS)
        .map(|i| synthetic_photo(4000, 3000, 7 + i as u64))
        .collect();
    let dir = tempfile::tempdir()?;
    let plain = Store::open(dir.path().join("plain.sqlite"), ActorId::random())?;
    let base = measure(
        plain,
        records.clone(),
        &grids,
        &author,
        today,
        &photos,
        "_plain",
    )?;
    let key = DataKey::generate();
    let path = dir.path().join("encrypted.sqlite");
    let encrypted = Store::open_encrypted(&path, ActorId::random(), &key)?;
    let enc = measure(encrypted, records, &grids, &author, today, &photos, "")?;
    for (name, plain, encrypted) in [
        ("store_list_p95_ms", base.list_p95, enc.list_p95),
        ("store_search_p95_ms", base.search_p95, enc.search_p95),
        ("store_save_one_p50_ms", base.save_p50, enc.save_p50),
        ("photo_prepare_ms", base.photo_p50, enc.photo_p50),
    ] {
        let name = name.trim_end_matches("_ms");
        figure(
            &format!("{name}_encryption_overhead_pct"),
            (encrypted / plain - 1.0) * 100.0,
            "%",
        );
    }
    unlock(dir.path(), &path, &key, &grids[0])?;
    patrol_document_sizes()
}

/// From a PIN entered to the first list shown: the key file read, the
/// PIN's argon2id (the app's parameters), the store opened, one list.
fn unlock(dir: &std::path::Path, path: &std::path::Path, key: &DataKey, grid: &str) -> Result<()> {
    let pin = Pin::parse("135792")?;
    // Without a platform keystore: with one, the unlock adds an HKDF and
    // the keystore's answer (a D-Bus call on Linux).
    KeyFile::new(dir).set_pin(key, &pin, KdfParams::DEFAULT, None)?;
    let mut samples = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut file = KeyFile::load(dir)?.ok_or_else(|| anyhow::anyhow!("no key file"))?;
        let key = file.unlock(&pin, 0, None)?;
        let store = Store::open_encrypted(path, ActorId::random(), &key)?;
        let rows = store.list(&ListQuery {
            kind: Some(RecordKind::Household),
            grids: GridFilter::In(vec![grid.to_string()]),
            ..ListQuery::default()
        })?;
        samples.push(t.elapsed());
        std::hint::black_box(rows);
    }
    samples.sort();
    figure(
        "unlock_ms",
        samples[samples.len() / 2].as_secs_f64() * 1000.0,
        "ms",
    );
    Ok(())
}

/// Saves, imports, lists, searches and takes photos on `store`; prints
/// the figures with `suffix` and returns them.
fn measure(
    mut store: Store,
    mut records: Vec<AnyRecord>,
    grids: &[String],
    author: &Author,
    today: jiff::civil::Date,
    photos: &[Vec<u8>],
    suffix: &str,
) -> Result<Figures> {
    let total = records.len();
    // A worker's save is one transaction with an fsync (synchronous=FULL):
    // time a few hundred of those on their own.
    let singles: Vec<AnyRecord> = records.drain(..300).collect();
    let mut samples = Vec::with_capacity(singles.len());
    for record in singles {
        let t = Instant::now();
        store.insert_all(vec![record], author, today)?;
        samples.push(t.elapsed());
    }
    samples.sort();
    let save_p50 = samples[samples.len() / 2].as_secs_f64() * 1000.0;
    figure(&format!("store_save_one_p50_ms{suffix}"), save_p50, "ms");
    // The rest as an import (a new device's first load, a sync bundle),
    // in transactions of 1,000 records.
    let started = Instant::now();
    while !records.is_empty() {
        let batch: Vec<AnyRecord> = records.drain(..records.len().min(1_000)).collect();
        store.insert_all(batch, author, today)?;
    }
    let imported = total - 300;
    figure(
        &format!("store_insert_50k_s{suffix}"),
        started.elapsed().as_secs_f64() * total as f64 / imported as f64,
        "s",
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
    let list_p95 = p95_ms(&mut samples);
    figure(&format!("store_list_p95_ms{suffix}"), list_p95, "ms");

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
    let search_p95 = p95_ms(&mut samples);
    figure(&format!("store_search_p95_ms{suffix}"), search_p95, "ms");

    // A camera photo made upload-ready (long side 1600 px, a thumbnail)
    // and stored, both waiting for upload: what the worker waits for
    // after taking one.
    let mut samples = Vec::with_capacity(photos.len());
    for photo in photos {
        let t = Instant::now();
        std::hint::black_box(store.add_photo(photo, PhotoRole::Before, None)?);
        samples.push(t.elapsed());
    }
    samples.sort();
    let photo_p50 = samples[samples.len() / 2].as_secs_f64() * 1000.0;
    figure(&format!("photo_prepare_ms{suffix}"), photo_p50, "ms");
    Ok(Figures {
        list_p95,
        search_p95,
        save_p50,
        photo_p50,
    })
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
