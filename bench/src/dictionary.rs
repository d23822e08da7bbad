//! The push dictionary (protocol version 3, `core/src/sync/push.dict`):
//! how small a one-field edit's request is with it, and how it is made.
//!
//! ```text
//! cargo run --release -p gridwork-bench -- dictionary [--write core/src/sync/push.dict]
//! ```
//!
//! The samples are one-field edits as a device pushes them: each a
//! demo record's document, one of its fields set to the value another
//! record of its kind holds there, the change compacted and framed as a
//! sync request's CBOR. The dictionary is trained on one seeded demo and
//! measured on another, so the figures are of edits it never saw:
//! `push_edit_body_bytes_p50` with the committed dictionary beside
//! `push_edit_body_bytes_p50_plain` without any, and the same for a
//! freshly trained one (`…_retrained`), which `--write` saves: the
//! samples are seeded, so it is the committed one again, byte for byte,
//! until the records or their encoding change. The dictionary is part of
//! the protocol: a device and a server must hold the same one, so a new
//! one needs a new protocol version.
//!
//! The demo's values (names, addresses) come from the same lists in both
//! demos, so the held-out figure is the best case for values; what the
//! dictionary saves on any edit is the change's columns and the
//! request's framing, which are the same whatever the worker typed.

use std::path::Path;

use anyhow::{Context, Result, ensure};
use automerge::ActorId;
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::model::AnyRecord;
use gridwork_core::sync::compact::compact;
use gridwork_core::sync::wire::{self, DocChanges, SyncRequest};
use gridwork_demo::{DemoConfig, generate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value as Json;

use crate::figure;

/// Records in each demo the edits are drawn from.
const RECORDS: usize = 4_000;
/// Edits drawn from each demo.
const EDITS: usize = 6_000;
/// The dictionary's size: the server and every device hold it.
const DICTIONARY_BYTES: usize = 8 * 1024;

pub fn run(write: Option<&Path>) -> Result<()> {
    let training = edits(11, EDITS)?;
    let held_out = edits(12, EDITS / 4)?;
    let trained = zstd::dict::from_samples(&training, DICTIONARY_BYTES)
        .context("training the push dictionary")?;
    figure("push_dictionary_samples", training.len() as f64, "edits");
    for (name, dictionary) in [
        ("push_edit_body_bytes_p50_plain", None),
        ("push_edit_body_bytes_p50", Some(wire::push_dictionary())),
        ("push_edit_body_bytes_p50_retrained", Some(&trained[..])),
    ] {
        let sizes = held_out
            .iter()
            .map(|cbor| wire::frame(cbor, dictionary).len())
            .collect();
        figure(name, median(sizes), "bytes");
    }
    if let Some(path) = write {
        std::fs::write(path, &trained).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {} ({} bytes)", path.display(), trained.len());
    }
    Ok(())
}

fn median(mut sizes: Vec<usize>) -> f64 {
    sizes.sort_unstable();
    sizes.get(sizes.len() / 2).copied().unwrap_or(0) as f64
}

/// `n` one-field edits of the records of a demo seeded `seed`, each as
/// the CBOR of the sync request that pushes it compact.
fn edits(seed: u64, n: usize) -> Result<Vec<Vec<u8>>> {
    let cfg = DemoConfig::with_total_records(seed, RECORDS);
    let demo = generate(&cfg);
    let records: Vec<(AnyRecord, Json)> = demo
        .records()
        .map(|r| {
            let json = serde_json::to_value(&r)?;
            Ok((r, json))
        })
        .collect::<Result<_>>()?;
    let worker = &demo.users[demo.users.len() / 2].id;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let actor = |rng: &mut ChaCha8Rng| ActorId::from(rng.random::<[u8; 16]>().as_slice());
    let server = actor(&mut rng);
    let mut out = Vec::with_capacity(n);
    let mut tries = 0;
    while out.len() < n {
        tries += 1;
        ensure!(tries < n * 20, "too few editable fields in the demo");
        let (record, json) = &records[rng.random_range(0..records.len())];
        let (donor, donor_json) = &records[rng.random_range(0..records.len())];
        if std::mem::discriminant(record) != std::mem::discriminant(donor) {
            continue;
        }
        let mut leaves = Vec::new();
        scalar_leaves(json, &mut String::new(), &mut leaves);
        leaves.retain(|p| !matches!(p.as_str(), "/kind" | "/meta/id"));
        if leaves.is_empty() {
            continue;
        }
        let path = &leaves[rng.random_range(0..leaves.len())];
        let Some(value) = donor_json.pointer(path) else {
            continue;
        };
        if json.pointer(path) == Some(value) {
            continue;
        }
        let mut edited = json.clone();
        *edited.pointer_mut(path).context("a leaf's path")? = value.clone();
        let Ok(after) = serde_json::from_value::<AnyRecord>(edited) else {
            continue;
        };
        if after.meta().id != record.meta().id {
            continue;
        }
        let device = actor(&mut rng);
        // Half the documents were made on the server (loaded, or another
        // device's), half on the pushing device itself.
        let maker = if rng.random_bool(0.5) {
            server.clone()
        } else {
            device.clone()
        };
        let made = Author::new(worker.clone(), cfg.now_ms - 86_400_000);
        let mut doc = RecordDoc::create_any(record, maker, &made)?;
        doc.set_actor(device.clone());
        let edit = Author::new(worker.clone(), cfg.now_ms + rng.random_range(0..86_400_000));
        let Some(hash) = doc.write_diff_any(&edit, record, &after)? else {
            continue;
        };
        let change = doc
            .automerge()
            .get_change_by_hash(&hash)
            .context("the edit's change")?
            .clone()
            .bytes()
            .to_vec();
        // A large change goes whole (Automerge compresses it): not an edit
        // the dictionary is for.
        let Some(small) = compact(&change, device.to_bytes(), worker) else {
            continue;
        };
        let request = SyncRequest {
            cursor: rng.random_range(1_000..5_000_000),
            push: vec![DocChanges {
                doc: record.meta().id,
                changes: vec![small],
            }],
            budget: None,
            ..SyncRequest::default()
        };
        out.push(wire::cbor(&request));
    }
    Ok(out)
}

/// The JSON pointers of every scalar in `json`.
fn scalar_leaves(json: &Json, at: &mut String, out: &mut Vec<String>) {
    let len = at.len();
    match json {
        Json::Object(map) => {
            for (key, value) in map {
                at.push('/');
                at.push_str(&key.replace('~', "~0").replace('/', "~1"));
                scalar_leaves(value, at, out);
                at.truncate(len);
            }
        }
        Json::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                at.push('/');
                at.push_str(&i.to_string());
                scalar_leaves(value, at, out);
                at.truncate(len);
            }
        }
        _ => out.push(at.clone()),
    }
}
