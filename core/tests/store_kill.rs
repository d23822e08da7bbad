//! A store killed at a random moment loses no acknowledged write and is
//! never torn.
//!
//! The test binary runs itself again as a writer (the `writer_child` test,
//! selected by an environment variable) that inserts, edits and deletes
//! households in a loop and prints each one only after its transaction
//! committed. The parent kills the writer with SIGKILL at a random moment,
//! reopens the store and checks it, several times over the same file.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use automerge::{ActorId, ChangeHash};
use gridwork_core::doc::Author;
use gridwork_core::model::{Address, Household, HouseholdUse, Meta, RecordKind};
use gridwork_core::store::{COMPACT_EVERY, ListQuery, Store};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// Set in the writer's environment: the store file to write to.
const WRITER_PATH: &str = "GRIDWORK_STORE_KILL_WRITER";
/// Set in the writer's environment: the seed of its choices.
const WRITER_SEED: &str = "GRIDWORK_STORE_KILL_SEED";
const ROUNDS: usize = 5;
const GRID: &str = "440305001001";

fn actor() -> ActorId {
    ActorId::from(&[7u8; 16][..])
}

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 11, 22)
}

/// A household whose content is a function of its version, so a reader can
/// tell a whole write from a torn one.
fn set_version(h: &mut Household, version: i64) {
    h.address.room = version.to_string();
    h.address.detail = format!("第{version}版");
    h.last_visit_at = Some(version);
}

fn version_of(h: &Household) -> i64 {
    let version = h.last_visit_at.expect("every household has a version");
    assert_eq!(h.address.room, version.to_string(), "torn record {h:?}");
    assert_eq!(
        h.address.detail,
        format!("第{version}版"),
        "torn record {h:?}"
    );
    version
}

fn new_household(n: i64) -> Household {
    let mut h = Household {
        meta: Meta::new(GRID, "wangfang", 1_795_000_000_000 + n),
        address: Address {
            estate: "阳光花园".into(),
            building: (n % 20).to_string(),
            ..Address::default()
        },
        point: None,
        usage: HouseholdUse::OwnerOccupied,
        owner_name: String::new(),
        owner_phone: None,
        owner_id_number: None,
        door_plate_photo: None,
        flags: Default::default(),
        last_visit_at: None,
        review: Vec::new(),
    };
    set_version(&mut h, 0);
    h
}

fn live_households(store: &Store) -> Vec<Uuid> {
    store
        .list(&ListQuery {
            kind: Some(RecordKind::Household),
            limit: Some(u32::MAX),
            ..ListQuery::default()
        })
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect()
}

/// The writer: runs only when the parent test starts this binary with
/// [`WRITER_PATH`] set. Prints `ack put <id> <version>` or `ack del <id>` after each
/// write committed, and never stops by itself before it is killed (a cap
/// keeps a forgotten writer from running for ever).
#[test]
fn writer_child() {
    let Ok(path) = std::env::var(WRITER_PATH) else {
        return;
    };
    let seed: u64 = std::env::var(WRITER_SEED).unwrap().parse().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut store = Store::open(&path, actor()).unwrap();
    // Oldest first, so the newest are at the end.
    let mut live = live_households(&store);
    live.reverse();
    let mut out = std::io::stdout().lock();
    let started = Instant::now();
    let mut n: i64 = 0;
    while started.elapsed() < Duration::from_secs(30) {
        n += 1;
        let author = Author::new("wangfang", 1_795_000_000_000 + n);
        let choice = rng.random_range(0..20);
        if live.is_empty() || choice < 3 {
            let saved = store.insert(new_household(n), &author, today()).unwrap();
            live.push(saved.meta.id);
            writeln!(out, "ack put {} 0", saved.meta.id).unwrap();
        } else if choice < 19 || live.len() < 2 {
            // Half to the oldest, so it gets compacted (more than once
            // over the rounds), half to the newest few.
            let pick = if rng.random_bool(0.5) {
                0
            } else {
                live.len() - 1 - rng.random_range(0..live.len().min(3))
            };
            let id = live[pick];
            let saved = store
                .update::<Household>(id, &author, today(), |h| {
                    let next = version_of(h) + 1;
                    set_version(h, next);
                })
                .unwrap();
            writeln!(out, "ack put {id} {}", version_of(&saved)).unwrap();
        } else {
            // Never the oldest: it is the one compacted.
            let id = live.remove(rng.random_range(1..live.len()));
            let mut doc = store.load(id).unwrap().unwrap();
            doc.delete(&author).unwrap();
            store.save_doc(&mut doc).unwrap();
            writeln!(out, "ack del {id}").unwrap();
        }
        out.flush().unwrap();
    }
}

/// What the writer acknowledged, or what the store held after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Version(i64),
    Deleted,
}

/// Finds an acknowledgement in a line of the writer's output. It need not
/// start the line: libtest prints `test writer_child ... ` before the test
/// runs, without a newline, so the first one follows that.
fn parse_ack(line: &str) -> Option<(Uuid, Known)> {
    let (_, ack) = line.split_once("ack ")?;
    let mut parts = ack.split(' ');
    match (parts.next()?, parts.next()?, parts.next()) {
        ("put", id, Some(v)) => Some((id.parse().ok()?, Known::Version(v.parse().ok()?))),
        ("del", id, None) => Some((id.parse().ok()?, Known::Deleted)),
        _ => None,
    }
}

/// Runs a writer on `path` until a random moment after a random number of
/// acknowledged writes, kills it, and returns what it acknowledged in order.
fn run_and_kill(path: &Path, seed: u64, rng: &mut ChaCha8Rng) -> Vec<(Uuid, Known)> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "writer_child", "--nocapture", "--test-threads=1"])
        .env(WRITER_PATH, path)
        .env(WRITER_SEED, seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(ack) = parse_ack(&line)
                && tx.send(ack).is_err()
            {
                break;
            }
        }
    });
    // A random number of writes, then a random moment within the next
    // few (a write takes milliseconds, most of it in the commit).
    let mut acks = Vec::new();
    for _ in 0..rng.random_range(30..80) {
        acks.push(
            rx.recv_timeout(Duration::from_secs(20))
                .expect("the writer stopped acknowledging"),
        );
    }
    std::thread::sleep(Duration::from_micros(rng.random_range(0..30_000)));
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    acks.extend(rx.try_iter());
    acks
}

/// Reopens the store after a kill and checks it against what was
/// acknowledged; returns what it holds now. `longest` is raised to the
/// most changes any document has.
fn check_after_kill(
    path: &Path,
    before: &BTreeMap<Uuid, Known>,
    acks: &[(Uuid, Known)],
    context: &str,
    longest: &mut usize,
) -> BTreeMap<Uuid, Known> {
    let mut store = Store::open(path, actor()).unwrap();
    assert_eq!(
        store.check_integrity().unwrap(),
        Vec::<String>::new(),
        "{context}"
    );

    // Every document matches its projection row and vice versa.
    let rows = store
        .list(&ListQuery {
            include_deleted: true,
            limit: Some(u32::MAX),
            ..ListQuery::default()
        })
        .unwrap();
    let mut held = BTreeMap::new();
    let mut all_changes: BTreeSet<ChangeHash> = BTreeSet::new();
    for row in &rows {
        let mut doc = store.load(row.id).unwrap().expect(context);
        assert_eq!(&store.projection(&doc).unwrap(), row, "{context}");
        let h: Household = doc.read().unwrap();
        let known = if h.meta.deleted {
            Known::Deleted
        } else {
            Known::Version(version_of(&h))
        };
        held.insert(row.id, known);
        let changes = doc.changes_since(&[]);
        *longest = (*longest).max(changes.len());
        all_changes.extend(changes.iter().map(|c| c.hash()));
    }
    // Nothing was acknowledged by a server, so the outbox holds exactly
    // every change of every document: no change without its entry, no
    // entry without its change.
    let outbox: BTreeSet<ChangeHash> = store
        .outbox(u32::MAX)
        .unwrap()
        .iter()
        .map(|e| e.hash)
        .collect();
    assert_eq!(outbox, all_changes, "{context}");

    // Every acknowledged write is there; at most one write (the one in
    // flight when the writer died) went further.
    let mut expected = before.clone();
    for (id, known) in acks {
        expected.insert(*id, *known);
    }
    let mut ahead = Vec::new();
    for (id, want) in &expected {
        let got = held.get(id).copied();
        match (want, got) {
            (w, Some(g)) if *w == g => {}
            (Known::Version(v), Some(Known::Version(g))) if g == v + 1 => ahead.push(*id),
            (Known::Version(_), Some(Known::Deleted)) => ahead.push(*id),
            _ => panic!("{context}: {id} acknowledged as {want:?}, store holds {got:?}"),
        }
    }
    for (id, got) in &held {
        if !expected.contains_key(id) {
            assert_eq!(*got, Known::Version(0), "{context}: unacknowledged {id}");
            ahead.push(*id);
        }
    }
    assert!(
        ahead.len() <= 1,
        "{context}: went past their acks: {:?}",
        ahead
            .iter()
            .map(|id| (id, before.get(id), held.get(id)))
            .collect::<Vec<_>>()
    );

    // Still writable.
    let author = Author::new("lisi", 1_796_000_000_000);
    let h = store.insert(new_household(-1), &author, today()).unwrap();
    let h = store
        .update::<Household>(h.meta.id, &author, today(), |h| set_version(h, 1))
        .unwrap();
    assert_eq!(version_of(&h), 1);
    held.insert(h.meta.id, Known::Version(1));
    assert_eq!(store.check_integrity().unwrap(), Vec::<String>::new());
    held
}

#[test]
fn a_killed_writer_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kill.db");
    let seed: u64 = rand::rng().random();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut held = BTreeMap::new();
    let mut writes = 0;
    let mut longest = 0;
    for round in 0..ROUNDS {
        let context = format!("seed {seed}, round {round}");
        let acks = run_and_kill(&path, rng.random(), &mut rng);
        writes += acks.len();
        held = check_after_kill(&path, &held, &acks, &context, &mut longest);
    }
    assert!(writes >= ROUNDS, "seed {seed}: only {writes} writes");
    assert!(
        longest >= COMPACT_EVERY as usize,
        "seed {seed}: no document was compacted ({longest} changes at most)"
    );
}
