//! `load-demo` end to end: the demo loaded into a fresh data directory, a
//! grid worker signs in over HTTP and a first sync brings exactly the
//! records of their grid.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use automerge::ActorId;
use gridwork_core::doc::RecordDoc;
use gridwork_core::geo::GridTree;
use gridwork_core::model::Role;
use gridwork_core::sync::api::Login;
use gridwork_core::sync::wire::{self, SyncRequest, SyncResponse};
use gridwork_demo::{DemoConfig, generate};
use gridwork_server::config::Settings;
use gridwork_server::storage::SqliteStorage;
use gridwork_server::{AppState, admin, auth};
use serde_json::json;
use uuid::Uuid;

const PASSWORD: &str = "demo password 8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_worker_gets_exactly_their_grids_demo_records() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(SqliteStorage::open(dir.path()).unwrap());
    // Small, but with two communities of two grids, each with its worker.
    let demo = generate(&DemoConfig {
        seed: 3,
        communities: 2,
        grids_per_community: 2,
        households_per_grid: 25,
        incidents_per_grid: 8,
        patrols_per_grid: 4,
        visits_per_grid: 6,
        ..DemoConfig::default()
    });
    let summary = admin::load_demo(storage.as_ref(), &demo, PASSWORD).unwrap();
    // Every kind reads back, so nothing is skipped.
    let skipped: usize = summary.skipped.values().map(|(n, _)| n).sum();
    assert!(summary.skipped.is_empty(), "{:?}", summary.skipped);
    assert_eq!(summary.stored_total() + skipped, demo.len());
    assert_eq!(summary.users_added.len(), demo.users.len());

    // Loading again stores nothing twice.
    let again = admin::load_demo(storage.as_ref(), &demo, PASSWORD).unwrap();
    assert_eq!(again.stored_total(), 0);
    assert_eq!(again.existing_total() + skipped, demo.len());
    assert_eq!(again.users_existing.len(), demo.users.len());

    let tree = GridTree::from_geojson(&demo.grid_tree_geojson).unwrap();
    let worker = summary.grid_worker.clone().unwrap();
    assert_eq!(worker.role, Role::GridWorker);
    let other_grid = demo
        .users
        .iter()
        .find(|u| u.role == Role::GridWorker && !tree.is_within(&u.grid, &worker.grid))
        .map(|u| u.grid.clone())
        .expect("the demo has a second grid with its own worker");

    // What the worker should get, from the demo itself.
    let mut expected: HashMap<Uuid, String> = HashMap::new();
    let mut expected_kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut others = 0;
    for record in demo.records() {
        let meta = record.meta();
        if summary.skipped.contains_key(record.kind().as_str()) {
            continue;
        }
        if tree.is_within(&meta.grid, &worker.grid) {
            expected.insert(meta.id, record.kind().as_str().to_string());
            *expected_kinds
                .entry(record.kind().as_str().to_string())
                .or_default() += 1;
        } else if tree.is_within(&meta.grid, &other_grid) {
            others += 1;
        }
    }
    assert!(!expected.is_empty() && others > 0);

    let settings = Settings {
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    };
    let state = AppState::new(storage.clone(), &settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gridwork_server::launch(listener, state, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();

    let resp = http
        .post(format!("{base}/v1/login"))
        .json(&json!({"user": worker.id, "password": PASSWORD, "device_name": "测试平板"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let login: Login = resp.json().await.unwrap();
    assert!(login.grids.iter().any(|g| g.code == worker.grid));
    assert!(login.grids.iter().all(|g| g.code != other_grid));

    // The server's pseudo-user cannot sign in.
    let resp = http
        .post(format!("{base}/v1/login"))
        .json(&json!({"user": auth::SERVER_USER, "password": "!", "device_name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // Sync from cursor 0 until nothing more.
    let mut changes: HashMap<Uuid, Vec<u8>> = HashMap::new();
    let mut cursor = 0;
    loop {
        let resp = http
            .post(format!("{base}/v1/sync"))
            .bearer_auth(&login.token)
            .header("content-type", "application/x-gridwork-sync")
            .body(wire::encode(&SyncRequest {
                cursor,
                ..SyncRequest::default()
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let answer: SyncResponse = wire::decode(&resp.bytes().await.unwrap()).unwrap();
        assert!(answer.rejected.is_empty());
        for doc in answer.pull {
            let bytes = changes.entry(doc.doc).or_default();
            for c in doc.changes {
                bytes.extend_from_slice(&c);
            }
        }
        cursor = answer.cursor;
        if !answer.more {
            break;
        }
    }

    let actor = ActorId::try_from(login.actor_id.as_str()).unwrap();
    let mut got_kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (id, bytes) in &changes {
        let doc = RecordDoc::load(bytes, actor.clone()).unwrap();
        assert_eq!(doc.id(), *id);
        let record = doc.read_any().unwrap();
        assert!(
            tree.is_within(&record.meta().grid, &worker.grid),
            "record {id} of grid {} reached {}",
            record.meta().grid,
            worker.id
        );
        assert_eq!(
            expected.get(id).map(String::as_str),
            Some(record.kind().as_str())
        );
        *got_kinds
            .entry(record.kind().as_str().to_string())
            .or_default() += 1;
    }
    assert_eq!(got_kinds, expected_kinds);
    assert_eq!(
        changes.keys().collect::<BTreeSet<_>>(),
        expected.keys().collect::<BTreeSet<_>>()
    );

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
