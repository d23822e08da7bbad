//! The server's API end to end: the real router on a loopback listener, a
//! temporary data directory with real SQLite, and documents made with
//! `gridwork_core` the way the app makes them.

use std::sync::Arc;

use automerge::{ActorId, Change};
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::model::{
    Address, Category, CategoryMajor, GeoPoint, Household, HouseholdFlags, HouseholdUse, Incident,
    IncidentParties, IncidentSource, Meta, Party, Role, Urgency, User,
};
use gridwork_core::sync::api::Login;
use gridwork_core::sync::pages::PageReader;
use gridwork_core::sync::wire::{self, DocChanges, SyncRequest, SyncResponse};
use gridwork_core::workflow::{self, Action, Status, Transition};
use gridwork_server::config::Settings;
use gridwork_server::storage::postgres::testing::{self, TestDatabase};
use gridwork_server::storage::{self as storage_backend, Storage};
use gridwork_server::{AppState, admin};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;

const CITY: &str = "4401";
const STREET: &str = "440106001";
const COMMUNITY: &str = "440106001001";
const GRID_A: &str = "440106001001001";
const GRID_B: &str = "440106001001002";
const PASSWORD: &str = "correct horse 8";

fn square(lon: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[lon, 23.1], [lon + 0.002, 23.1], [lon + 0.002, 23.102], [lon, 23.1]]]})
}

fn grid_tree() -> String {
    let f = |code: &str, level: &str, parent: Option<&str>, geometry: Option<Value>| {
        json!({"type": "Feature", "geometry": geometry,
               "properties": {"code": code, "name": format!("网格{code}"), "level": level, "parent": parent}})
    };
    json!({"type": "FeatureCollection", "features": [
        f(CITY, "city", None, None),
        f("440106", "district", Some(CITY), None),
        f(STREET, "street", Some("440106"), None),
        f(COMMUNITY, "community", Some(STREET), None),
        f(GRID_A, "grid", Some(COMMUNITY), Some(square(113.33))),
        f(GRID_B, "grid", Some(COMMUNITY), Some(square(113.34))),
    ]})
    .to_string()
}

/// A server on 127.0.0.1:0 with a fresh data directory, two grids, a worker
/// in each, a grid leader of A and a community supervisor.
struct TestServer {
    base: String,
    http: reqwest::Client,
    storage: Arc<dyn Storage>,
    /// Its PostgreSQL database, when `GRIDWORK_TEST_POSTGRES` names a
    /// server (`scripts/test-postgres`); else SQLite in `_dir`.
    _database: Option<TestDatabase>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

/// Runs `f` on a thread of its own: the storage's synchronous PostgreSQL
/// client refuses to run on the test's async runtime (the server itself
/// calls storage from blocking threads).
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

impl TestServer {
    /// `f` over the server's storage, off the async runtime.
    fn storage<T: Send>(&self, f: impl FnOnce(&dyn Storage) -> T + Send) -> T {
        let storage = self.storage.clone();
        off_runtime(move || f(storage.as_ref()))
    }

    async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    async fn start_with(tweak: impl FnOnce(&mut Settings)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings {
            data_dir: dir.path().to_path_buf(),
            ..Settings::default()
        };
        tweak(&mut settings);
        let database = testing::test_server().map(|admin| TestDatabase::create(&admin).unwrap());
        let url = database.as_ref().map(|d| d.url().to_string());
        let (data_dir, pool) = (dir.path().to_path_buf(), settings.database_pool_size);
        let storage = off_runtime(move || {
            let storage = storage_backend::open(&data_dir, url.as_deref(), pool).unwrap();
            admin::import_grids(storage.as_ref(), &grid_tree()).unwrap();
            for (id, role, grid) in [
                ("gw-a", Role::GridWorker, GRID_A),
                ("gw-b", Role::GridWorker, GRID_B),
                ("leader-a", Role::GridLeader, GRID_A),
                ("sup", Role::CommunitySupervisor, COMMUNITY),
            ] {
                let user = User {
                    id: id.into(),
                    name: format!("用户{id}"),
                    phone: String::new(),
                    role,
                    grid: grid.into(),
                    department: None,
                };
                admin::add_user(storage.as_ref(), user, PASSWORD).unwrap();
            }
            storage
        });
        let state = AppState::new(storage.clone(), &settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(gridwork_server::launch(listener, state, async {
            let _ = rx.await;
        }));
        TestServer {
            base,
            http: reqwest::Client::new(),
            storage,
            _database: database,
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn login_raw(&self, user: &str, password: &str) -> reqwest::Response {
        self.http
            .post(self.url("/v1/login"))
            .json(&json!({"user": user, "password": password, "device_name": format!("{user}的平板")}))
            .send()
            .await
            .unwrap()
    }

    async fn login(&self, user: &str) -> Device {
        let resp = self.login_raw(user, PASSWORD).await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        let login: Login = resp.json().await.unwrap();
        Device {
            actor: ActorId::try_from(login.actor_id.as_str()).unwrap(),
            login,
            cursor: 0,
        }
    }

    async fn sync_raw(&self, token: &str, body: Vec<u8>) -> reqwest::Response {
        self.http
            .post(self.url("/v1/sync"))
            .bearer_auth(token)
            .header("content-type", "application/x-gridwork-sync")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn sync(&self, device: &Device, request: &SyncRequest) -> SyncResponse {
        let resp = self
            .sync_raw(&device.login.token, wire::encode(request))
            .await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        assert_eq!(
            resp.headers()["content-type"],
            "application/x-gridwork-sync"
        );
        wire::decode(&resp.bytes().await.unwrap()).unwrap()
    }

    /// Pushes `push`, then pulls until `more` is false; returns every
    /// response.
    async fn sync_all(&self, device: &mut Device, push: Vec<DocChanges>) -> Vec<SyncResponse> {
        let mut out = Vec::new();
        let mut request = SyncRequest {
            cursor: device.cursor,
            push,
            budget: None,
            ..SyncRequest::default()
        };
        loop {
            let resp = self.sync(device, &request).await;
            device.cursor = resp.cursor;
            let more = resp.more;
            out.push(resp);
            if !more {
                return out;
            }
            request = SyncRequest {
                cursor: device.cursor,
                ..SyncRequest::default()
            };
        }
    }

    async fn stop(mut self) {
        let _ = self.shutdown.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
    }

    /// What the server's database holds for a device's token.
    fn token_hash(&self, device_id: &str) -> Vec<u8> {
        const SQL: &str = "SELECT token_hash FROM devices WHERE id = $1";
        if let Some(db) = &self._database {
            let (url, id) = (db.url().to_string(), device_id.to_string());
            return off_runtime(move || {
                let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                client.query_one(SQL, &[&id]).unwrap().get(0)
            });
        }
        let conn = rusqlite::Connection::open(self._dir.path().join("gridwork.sqlite")).unwrap();
        conn.query_row(&SQL.replace('$', "?"), [device_id], |r| r.get(0))
            .unwrap()
    }

    /// How many changes the server's log holds.
    fn log_len(&self) -> i64 {
        if let Some(db) = &self._database {
            let url = db.url().to_string();
            return off_runtime(move || {
                let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                client
                    .query_one("SELECT count(*) FROM log", &[])
                    .unwrap()
                    .get(0)
            });
        }
        let conn = rusqlite::Connection::open(self._dir.path().join("gridwork.sqlite")).unwrap();
        conn.query_row("SELECT count(*) FROM log", [], |r| r.get(0))
            .unwrap()
    }
}

struct Device {
    login: Login,
    actor: ActorId,
    cursor: u64,
}

impl Device {
    fn author(&self) -> Author {
        Author::new(self.login.user.id.clone(), now_ms())
    }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// A point inside the grid's boundary (a record's point must lie in its grid).
fn point_in(grid: &str) -> GeoPoint {
    if grid == GRID_B {
        GeoPoint::wgs84(113.3415, 23.1005)
    } else {
        GeoPoint::wgs84(113.331, 23.101)
    }
}

fn household(grid: &str, user: &str, room: &str) -> Household {
    Household {
        meta: Meta::new(grid, user, now_ms()),
        address: Address {
            estate: "阳光花园".into(),
            building: "3".into(),
            unit: "2".into(),
            room: room.into(),
            ..Address::default()
        },
        point: Some(point_in(grid)),
        usage: HouseholdUse::OwnerOccupied,
        owner_name: "王芳".into(),
        owner_phone: Some("13812345678".into()),
        owner_id_number: None,
        door_plate_photo: None,
        flags: HouseholdFlags::default(),
        last_visit_at: None,
        review: Vec::new(),
    }
}

fn incident(grid: &str, user: &str) -> Incident {
    Incident {
        meta: Meta::new(grid, user, now_ms()),
        number: "SJ20260501-0001".into(),
        title: "3栋楼顶漏水".into(),
        description: "雨后楼顶漏水".into(),
        category: Category {
            major: CategoryMajor::SafetyHazard,
            minor: "房屋漏水".into(),
        },
        source: IncidentSource::Patrol,
        urgency: Urgency::Medium,
        point: Some(GeoPoint::wgs84(113.331, 23.101)),
        address: "阳光花园3栋".into(),
        happened_at: now_ms(),
        photos: Vec::new(),
        hotline_order: None,
        patrol_id: None,
        mediation: None,
        log: Vec::new(),
    }
}

/// Every change of a document, as the app pushes a new record.
fn all_changes(doc: &mut RecordDoc) -> DocChanges {
    DocChanges {
        doc: doc.id(),
        changes: doc
            .changes_since(&[])
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect(),
    }
}

/// The changes made since `heads`.
fn changes_since(doc: &mut RecordDoc, heads: &[automerge::ChangeHash]) -> DocChanges {
    DocChanges {
        doc: doc.id(),
        changes: doc
            .changes_since(heads)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect(),
    }
}

/// Rebuilds a document on another device from pulled changes.
fn rebuild(pulls: &[DocChanges], id: Uuid, actor: ActorId) -> RecordDoc {
    let mut am = automerge::AutoCommit::new().with_actor(actor);
    let changes: Vec<Change> = pulls
        .iter()
        .filter(|d| d.doc == id)
        .flat_map(|d| d.changes.iter())
        .map(|b| Change::from_bytes(b.clone()).unwrap())
        .collect();
    assert!(!changes.is_empty(), "no changes of {id} were pulled");
    am.apply_changes(changes).unwrap();
    RecordDoc::from_automerge(am).unwrap()
}

fn pulled(responses: &[SyncResponse]) -> Vec<DocChanges> {
    responses.iter().flat_map(|r| r.pull.clone()).collect()
}

fn pulled_docs(responses: &[SyncResponse]) -> Vec<Uuid> {
    let mut docs: Vec<Uuid> = pulled(responses).iter().map(|d| d.doc).collect();
    docs.dedup();
    docs
}

async fn error_code(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.expect("a JSON error body");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (status, body["code"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn login_enrols_a_device_and_returns_the_users_grid_subtree() {
    let server = TestServer::start().await;
    let sup = server.login("sup").await;
    assert_eq!(sup.login.user.role, Role::CommunitySupervisor);
    assert_eq!(sup.login.actor_id.len(), 32);
    assert_eq!(sup.login.token.len(), 43);
    let codes: Vec<&str> = sup.login.grids.iter().map(|g| g.code.as_str()).collect();
    assert_eq!(codes, [COMMUNITY, GRID_A, GRID_B]);
    assert!(sup.login.grids[1].boundary.is_some());

    let worker = server.login("gw-a").await;
    let codes: Vec<&str> = worker.login.grids.iter().map(|g| g.code.as_str()).collect();
    assert_eq!(codes, [GRID_A]);
    assert_ne!(worker.login.actor_id, sup.login.actor_id);

    // Two logins are two devices with their own tokens and actors.
    let again = server.login("gw-a").await;
    assert_ne!(again.login.device_id, worker.login.device_id);
    assert_ne!(again.login.token, worker.login.token);
    assert_eq!(
        server
            .storage(|s| s.list_devices(Some("gw-a")).unwrap())
            .len(),
        2
    );

    // The token is stored only hashed.
    let stored = server.token_hash(&worker.login.device_id);
    assert_ne!(stored, worker.login.token.as_bytes());
    assert_eq!(stored.len(), 32);
    server.stop().await;
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_get_the_same_answer() {
    let server = TestServer::start().await;
    let (status, code) = error_code(server.login_raw("gw-a", "wrong password").await).await;
    assert_eq!((status, code.as_str()), (401, "bad_credentials"));
    let (status, code) = error_code(server.login_raw("nobody", PASSWORD).await).await;
    assert_eq!((status, code.as_str()), (401, "bad_credentials"));
    let resp = server
        .http
        .post(server.url("/v1/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(resp).await, (400, "bad_request".to_string()));
    server.stop().await;
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_user() {
    let server = TestServer::start_with(|s| {
        s.login_per_user_per_minute = 3.try_into().unwrap();
    })
    .await;
    for _ in 0..3 {
        let (status, _) = error_code(server.login_raw("gw-a", "guess").await).await;
        assert_eq!(status, 401);
    }
    let resp = server.login_raw("gw-a", PASSWORD).await;
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(error_code(resp).await, (429, "rate_limited".to_string()));
    // Another user is not held up by it.
    server.login("gw-b").await;
    server.stop().await;
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_address() {
    let server = TestServer::start_with(|s| {
        s.login_per_ip_per_minute = 2.try_into().unwrap();
    })
    .await;
    server.login("gw-a").await;
    server.login("gw-b").await;
    let (status, code) = error_code(server.login_raw("sup", PASSWORD).await).await;
    assert_eq!((status, code.as_str()), (429, "rate_limited"));
    server.stop().await;
}

#[tokio::test]
async fn requests_need_a_live_token() {
    let server = TestServer::start().await;
    let body = wire::encode(&SyncRequest::default());
    let resp = server
        .http
        .post(server.url("/v1/sync"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(resp).await, (401, "unauthenticated".to_string()));
    let resp = server.sync_raw("not-a-token", body.clone()).await;
    assert_eq!(error_code(resp).await, (401, "unauthenticated".to_string()));

    let device = server.login("gw-a").await;
    assert_eq!(
        server
            .sync_raw(&device.login.token, body.clone())
            .await
            .status(),
        200
    );
    assert!(server.storage(|s| s.revoke_device(&device.login.device_id, now_ms()).unwrap()));
    let resp = server.sync_raw(&device.login.token, body).await;
    assert_eq!(error_code(resp).await, (401, "token_revoked".to_string()));
    let listed = server.storage(|s| s.list_devices(Some("gw-a")).unwrap());
    assert!(listed[0].revoked_at.is_some());
    server.stop().await;
}

#[tokio::test]
async fn a_pushed_household_reaches_other_devices_once() {
    let server = TestServer::start().await;
    let mut tablet = server.login("gw-a").await;
    let mut second = server.login("gw-a").await;
    let mut sup = server.login("sup").await;

    let h = household(GRID_A, "gw-a", "501");
    let mut doc = RecordDoc::create(&h, tablet.actor.clone(), &tablet.author()).unwrap();
    let push = all_changes(&mut doc);
    let responses = server.sync_all(&mut tablet, vec![push.clone()]).await;
    assert!(
        responses[0].rejected.is_empty(),
        "{:?}",
        responses[0].rejected
    );
    assert!(
        pulled(&responses).is_empty(),
        "a device's own changes are not sent back"
    );
    assert_eq!(server.log_len(), 1);
    let cursor = tablet.cursor;
    assert!(cursor > 0);

    // Pushing the same changes again is harmless.
    let again = server.sync_all(&mut tablet, vec![push.clone()]).await;
    assert!(again[0].rejected.is_empty());
    assert_eq!(server.log_len(), 1);
    assert_eq!(tablet.cursor, cursor);

    // The user's second tablet and the supervisor receive it.
    let mut copies = Vec::new();
    for device in [&mut second, &mut sup] {
        let responses = server.sync_all(device, vec![]).await;
        assert_eq!(pulled_docs(&responses), [h.meta.id]);
        let copy = rebuild(&pulled(&responses), h.meta.id, device.actor.clone());
        assert_eq!(copy.read::<Household>().unwrap(), h);
        copies.push(copy);
        // Nothing new: an idle sync is tiny and pulls nothing.
        let idle = server.sync_all(device, vec![]).await;
        assert!(pulled(&idle).is_empty());
        let body = wire::encode(&SyncRequest {
            cursor: device.cursor,
            ..SyncRequest::default()
        });
        let resp = server.sync_raw(&device.login.token, body.clone()).await;
        let answer = resp.bytes().await.unwrap();
        assert!(
            body.len() + answer.len() <= 40,
            "{} + {}",
            body.len(),
            answer.len()
        );
    }

    // An edit by the supervisor comes back to the worker as one change.
    let mut sup_copy = copies.pop().unwrap();
    let heads = sup_copy.heads();
    sup_copy
        .update::<Household>(&sup.author(), |h| h.usage = HouseholdUse::Rented)
        .unwrap();
    let edit = changes_since(&mut sup_copy, &heads);
    assert_eq!(edit.changes.len(), 1);
    let r = server.sync_all(&mut sup, vec![edit]).await;
    assert!(r[0].rejected.is_empty(), "{:?}", r[0].rejected);
    let back = server.sync_all(&mut tablet, vec![]).await;
    let pulled_back = pulled(&back);
    assert_eq!(pulled_back.len(), 1);
    assert_eq!(pulled_back[0].changes.len(), 1);
    let changes: Vec<Change> = pulled_back[0]
        .changes
        .iter()
        .map(|b| Change::from_bytes(b.clone()).unwrap())
        .collect();
    doc.apply_changes(changes).unwrap();
    assert_eq!(doc.read::<Household>().unwrap().usage, HouseholdUse::Rented);
    server.stop().await;
}

#[tokio::test]
async fn a_device_that_asks_gets_the_same_changes_packed_and_one_that_does_not_gets_them_whole() {
    let server = TestServer::start().await;
    let mut tablet = server.login("gw-a").await;
    // Households, and an incident edited by a second change that depends
    // on the first.
    let mut push = Vec::new();
    for room in ["101", "102", "103"] {
        let h = household(GRID_A, "gw-a", room);
        let mut doc = RecordDoc::create(&h, tablet.actor.clone(), &tablet.author()).unwrap();
        push.push(all_changes(&mut doc));
    }
    let i = incident(GRID_A, "gw-a");
    let mut doc = RecordDoc::create(&i, tablet.actor.clone(), &tablet.author()).unwrap();
    let heads = doc.heads();
    doc.update::<Incident>(&tablet.author(), |i| {
        i.description = "门口堆放杂物，已劝离".into()
    })
    .unwrap();
    assert_eq!(changes_since(&mut doc, &heads).changes.len(), 1);
    let both = all_changes(&mut doc);
    assert_eq!(both.changes.len(), 2);
    push.push(both);
    let r = server.sync_all(&mut tablet, push.clone()).await;
    assert!(r[0].rejected.is_empty(), "{:?}", r[0].rejected);

    let old = server.login("sup").await;
    let new = server.login("sup").await;
    let whole = server.sync(&old, &SyncRequest::default()).await;
    let packed = server
        .sync(
            &new,
            &SyncRequest {
                packed: true,
                ..SyncRequest::default()
            },
        )
        .await;
    assert!(
        whole.packed.is_empty(),
        "a device that did not ask gets `p`"
    );
    assert_eq!(whole.pull, push);
    assert!(packed.pull.is_empty(), "a device that asked gets `k` alone");
    assert!(!packed.packed.is_empty());
    assert_eq!(packed.cursor, whole.cursor);
    let mut unpacked = packed.clone();
    unpacked.unpack_pull().unwrap();
    assert_eq!(unpacked.pull, whole.pull, "the same changes, byte for byte");
    server.stop().await;
}

/// `n` households pushed by grid A's worker, and accepted: their changes
/// as pushed.
async fn households_pushed(server: &TestServer, n: usize) -> Vec<DocChanges> {
    let mut tablet = server.login("gw-a").await;
    let push: Vec<DocChanges> = (0..n)
        .map(|n| {
            let h = household(GRID_A, "gw-a", &n.to_string());
            all_changes(&mut RecordDoc::create(&h, tablet.actor.clone(), &tablet.author()).unwrap())
        })
        .collect();
    let r = server.sync_all(&mut tablet, push.clone()).await;
    assert!(r.iter().all(|r| r.rejected.is_empty()));
    push
}

#[tokio::test]
async fn a_device_gets_the_newest_packed_format_both_read_and_a_large_answer_in_xz() {
    let server = TestServer::start().await;
    // Enough households that the answer is large (64 KiB of CBOR on).
    let push = households_pushed(&server, 300).await;

    let mut pulled = Vec::new();
    // What the device reads, the frame's flags, the format it gets: a
    // device of a format newer than this server's gets the server's.
    for (reads, flags, format) in [
        (0, 1, 0),
        (1, 1, 1),
        (2, 3, 2),
        (3, 3, 3),
        (4, 3, 4),
        (9, 3, 4),
    ] {
        let device = server.login("gw-a").await;
        let request = SyncRequest {
            packed: reads > 0,
            reads,
            budget: Some(4 << 20),
            ..SyncRequest::default()
        };
        let resp = server
            .sync_raw(&device.login.token, wire::encode(&request))
            .await;
        assert_eq!(resp.status(), 200);
        let body = resp.bytes().await.unwrap();
        assert_eq!(
            body[3], flags,
            "a device reading format {reads}: frame flags"
        );
        let mut answer: SyncResponse = wire::decode(&body).unwrap();
        assert!(!answer.more, "one page");
        assert_eq!(answer.packed.first().copied().unwrap_or(0), format);
        answer.unpack_pull().unwrap();
        pulled.push(answer.pull);
    }
    assert_eq!(pulled[0], push, "the changes as pushed");
    assert_eq!(pulled[1], push, "format 1 unpacks to them byte for byte");
    assert_eq!(pulled[2], push, "and so does format 2, from xz");
    assert_eq!(pulled[3], push, "and format 3");
    assert_eq!(pulled[4], push, "and format 4");
    assert_eq!(pulled[5], push);
    server.stop().await;
}

#[tokio::test]
async fn a_streamed_answers_large_pages_continue_one_xz_stream_for_a_device_that_reads_it() {
    let server = TestServer::start().await;
    let push = households_pushed(&server, 900).await;

    // Pages of 256 KiB of changes: the middle ones are large (64 KiB of
    // CBOR on), the short ends are not.
    let answer = |reads| {
        let request = SyncRequest {
            packed: true,
            reads,
            budget: Some(256 << 10),
            pages: 16,
            ..SyncRequest::default()
        };
        let server = &server;
        async move {
            let device = server.login("gw-a").await;
            let resp = server
                .sync_raw(&device.login.token, wire::encode(&request))
                .await;
            assert_eq!(resp.status(), 200);
            frames_of(&resp.bytes().await.unwrap())
        }
    };
    let continued = answer(4).await;
    let flags: Vec<u8> = continued.iter().map(|f| f[3]).collect();
    assert!(flags.len() >= 4, "{flags:?}");
    let middle = &flags[1..flags.len() - 1];
    assert!(
        middle.len() >= 2 && middle.iter().all(|f| *f == 4),
        "{flags:?}"
    );
    let mut reader = wire::AnswerReader::default();
    let mut pulled = Vec::new();
    for frame in &continued {
        let mut page: SyncResponse = reader.decode(frame).unwrap();
        page.unpack_pull().unwrap();
        pulled.append(&mut page.pull);
    }
    assert_eq!(pulled, push, "every change once, in order, byte for byte");

    // A continued page reads only after the pages before it, and only as
    // a page of its answer.
    let second = &continued[2];
    assert!(
        wire::AnswerReader::default()
            .decode::<SyncResponse>(second)
            .is_err()
    );
    assert!(wire::decode::<SyncResponse>(second).is_err());

    // A device that reads format 3 gets each page compressed apart, and
    // more bytes for the same pages.
    let apart = answer(3).await;
    assert_eq!(apart.len(), continued.len());
    assert!(apart[1..apart.len() - 1].iter().all(|f| f[3] == 3));
    let size = |frames: &[Vec<u8>]| frames.iter().map(Vec::len).sum::<usize>();
    assert!(
        size(&continued) < size(&apart),
        "{} {}",
        size(&continued),
        size(&apart)
    );
    server.stop().await;
}

#[tokio::test]
async fn a_worker_cannot_push_into_another_grid_and_never_sees_it() {
    let server = TestServer::start().await;
    let mut a = server.login("gw-a").await;
    let mut b = server.login("gw-b").await;
    let mut sup = server.login("sup").await;

    // gw-a tries to create a household in grid B: refused, nothing stored.
    let intruder = household(GRID_B, "gw-a", "101");
    let mut doc = RecordDoc::create(&intruder, a.actor.clone(), &a.author()).unwrap();
    // In the same batch, a household of their own is stored.
    let own = household(GRID_A, "gw-a", "102");
    let mut own_doc = RecordDoc::create(&own, a.actor.clone(), &a.author()).unwrap();
    let r = server
        .sync_all(
            &mut a,
            vec![all_changes(&mut doc), all_changes(&mut own_doc)],
        )
        .await;
    assert_eq!(r[0].rejected.len(), 1);
    assert_eq!(r[0].rejected[0].doc, intruder.meta.id);
    assert_eq!(r[0].rejected[0].code, "outside_scope");
    assert_eq!(server.log_len(), 1);

    // Grid B's own record never reaches gw-a.
    let theirs = household(GRID_B, "gw-b", "201");
    let mut theirs_doc = RecordDoc::create(&theirs, b.actor.clone(), &b.author()).unwrap();
    let r = server
        .sync_all(&mut b, vec![all_changes(&mut theirs_doc)])
        .await;
    assert!(r[0].rejected.is_empty());
    assert!(pulled(&r).is_empty(), "gw-b sees nothing of grid A");
    let r = server.sync_all(&mut a, vec![]).await;
    assert!(pulled(&r).is_empty());
    // Not even from the beginning.
    let from_start = server.sync(&a, &SyncRequest::default()).await;
    assert!(
        from_start
            .pull
            .iter()
            .all(|d| d.doc != theirs.meta.id && d.doc != intruder.meta.id)
    );

    // The supervisor sees both grids' records, and not the refused one.
    let r = server.sync_all(&mut sup, vec![]).await;
    let mut docs = pulled_docs(&r);
    docs.sort();
    let mut expected = vec![own.meta.id, theirs.meta.id];
    expected.sort();
    assert_eq!(docs, expected);

    // Moving one's own record into grid B is refused too.
    let heads = own_doc.heads();
    own_doc
        .update::<Household>(&a.author(), |h| h.meta.grid = GRID_B.into())
        .unwrap();
    let r = server
        .sync_all(&mut a, vec![changes_since(&mut own_doc, &heads)])
        .await;
    assert_eq!(r[0].rejected[0].code, "outside_scope");
    assert_eq!(server.log_len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn changes_made_with_another_users_actor_are_refused() {
    let server = TestServer::start().await;
    let a = server.login("gw-a").await;
    let mut leader = server.login("leader-a").await;
    let h = household(GRID_A, "gw-a", "301");
    // Made with the worker's actor, pushed by the grid leader.
    let mut doc = RecordDoc::create(&h, a.actor.clone(), &leader.author()).unwrap();
    let r = server
        .sync_all(&mut leader, vec![all_changes(&mut doc)])
        .await;
    assert_eq!(r[0].rejected[0].code, "actor_mismatch");
    assert_eq!(server.log_len(), 0);
    // The worker's earlier enrolment (a re-login on the same tablet)
    // may still send what it made before.
    let mut doc = RecordDoc::create(&h, a.actor.clone(), &a.author()).unwrap();
    let mut again = server.login("gw-a").await;
    let r = server
        .sync_all(&mut again, vec![all_changes(&mut doc)])
        .await;
    assert!(r[0].rejected.is_empty(), "{:?}", r[0].rejected);
    assert_eq!(server.log_len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn invalid_records_and_forged_creators_are_refused() {
    let server = TestServer::start().await;
    let mut a = server.login("gw-a").await;
    let mut bad = household(GRID_A, "gw-a", "401");
    bad.owner_phone = Some("12345".into());
    let mut doc = RecordDoc::create(&bad, a.actor.clone(), &a.author()).unwrap();
    let forged = household(GRID_A, "sup", "402");
    let mut forged_doc = RecordDoc::create(&forged, a.actor.clone(), &a.author()).unwrap();
    let r = server
        .sync_all(
            &mut a,
            vec![all_changes(&mut doc), all_changes(&mut forged_doc)],
        )
        .await;
    let codes: Vec<&str> = r[0].rejected.iter().map(|x| x.code.as_str()).collect();
    assert_eq!(codes, ["invalid_record", "immutable_field"]);
    // The first field error, as code and params the app translates.
    let params = &r[0].rejected[0].params;
    assert_eq!(
        params.get("field"),
        Some(&"owner_phone".into()),
        "{params:?}"
    );
    assert_eq!(
        params.get("error"),
        Some(&"mobile_invalid".into()),
        "{params:?}"
    );
    assert_eq!(params.get("value"), Some(&"12345".into()), "{params:?}");
    assert_eq!(server.log_len(), 0);

    // A document whose id is not the one it is pushed under.
    let good = household(GRID_A, "gw-a", "403");
    let mut good_doc = RecordDoc::create(&good, a.actor.clone(), &a.author()).unwrap();
    let mut wrong = all_changes(&mut good_doc);
    wrong.doc = Uuid::now_v7();
    let r = server.sync_all(&mut a, vec![wrong]).await;
    assert_eq!(r[0].rejected[0].code, "doc_id_mismatch");
    // Garbage in place of a change.
    let r = server
        .sync_all(
            &mut a,
            vec![DocChanges {
                doc: good.meta.id,
                changes: vec![vec![1, 2, 3]],
            }],
        )
        .await;
    assert_eq!(r[0].rejected[0].code, "malformed_change");
    assert_eq!(server.log_len(), 0);
    server.stop().await;
}

#[tokio::test]
async fn unreadable_bodies_get_coded_errors_and_store_nothing() {
    let server = TestServer::start_with(|s| s.max_body_bytes = 64 * 1024).await;
    let device = server.login("gw-a").await;
    let token = device.login.token.clone();
    let h = household(GRID_A, "gw-a", "501");
    let mut doc = RecordDoc::create(&h, device.actor.clone(), &device.author()).unwrap();
    let good = wire::encode(&SyncRequest {
        cursor: 0,
        push: vec![all_changes(&mut doc)],
        budget: None,
        ..SyncRequest::default()
    });

    let mut wrong_version = good.clone();
    wrong_version[2] = 99;
    let mut bad_flags = good.clone();
    bad_flags[3] = 7;
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("empty", vec![], 400, "truncated"),
        ("json", b"{\"cursor\": 0}".to_vec(), 400, "bad_magic"),
        ("header only", good[..3].to_vec(), 400, "truncated"),
        ("cut in half", good[..good.len() / 2].to_vec(), 400, ""),
        ("wrong version", wrong_version, 400, "unsupported_version"),
        ("bad flags", bad_flags, 400, "malformed"),
        (
            "older version",
            [b"GW\x00\x00".as_slice(), &good[4..]].concat(),
            400,
            "unsupported_version",
        ),
        (
            "version 1, ids as text",
            [b"GW\x01\x00".as_slice(), &good[4..]].concat(),
            400,
            "unsupported_version",
        ),
        // A well-framed CBOR text string where a request map belongs.
        (
            "wrong shape",
            [b"GW".as_slice(), &[wire::PROTOCOL_VERSION, 0], b"\x65hello"].concat(),
            400,
            "malformed",
        ),
        (
            "bad compression",
            [
                b"GW".as_slice(),
                &[wire::PROTOCOL_VERSION, 1],
                b"\x28\xb5\x2f\xfd\x00\x01\x02",
            ]
            .concat(),
            400,
            "malformed",
        ),
        ("too large", vec![b'G'; 200 * 1024], 413, "too_large"),
    ];
    for (name, body, status, code) in cases {
        let resp = server.sync_raw(&token, body).await;
        let (got_status, got_code) = error_code(resp).await;
        assert_eq!(got_status, status, "{name}");
        if !code.is_empty() {
            assert_eq!(got_code, code, "{name}");
        } else {
            assert!(
                ["truncated", "malformed"].contains(&got_code.as_str()),
                "{name}: {got_code}"
            );
        }
    }
    assert_eq!(server.log_len(), 0);

    // The server still serves, and the good body is stored.
    assert_eq!(
        server
            .http
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let resp = server.sync_raw(&token, good).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(server.log_len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_worker_cannot_verify_their_own_report() {
    let server = TestServer::start().await;
    let mut worker = server.login("gw-a").await;
    let mut leader = server.login("leader-a").await;
    let cal = gridwork_core::calendar::WorkCalendar::bundled();
    let as_worker = workflow::Actor {
        user: "gw-a",
        role: Role::GridWorker,
    };

    // Reported and resolved on the spot by the worker: allowed.
    let mut inc = incident(GRID_A, "gw-a");
    workflow::transition(
        &mut inc,
        &cal,
        as_worker,
        Action::Report,
        "",
        vec![],
        now_ms(),
    )
    .unwrap();
    workflow::transition(
        &mut inc,
        &cal,
        as_worker,
        Action::ResolveOnSpot,
        "已修好",
        vec!["ab".repeat(32)],
        now_ms(),
    )
    .unwrap();
    let mut doc = RecordDoc::create(&inc, worker.actor.clone(), &worker.author()).unwrap();
    let r = server
        .sync_all(&mut worker, vec![all_changes(&mut doc)])
        .await;
    assert!(r[0].rejected.is_empty(), "{:?}", r[0].rejected);

    // The worker appends a verification of their own report, bypassing the
    // device's check: stored, answered, and skipped by the fold everywhere.
    let heads = doc.heads();
    doc.update::<Incident>(&worker.author(), |i| {
        i.log.push(Transition {
            action: Action::Verify,
            actor: "gw-a".into(),
            role: Role::GridWorker,
            from: Status::Resolved,
            to: Status::Verified,
            opinion: String::new(),
            photos: vec![],
            at: now_ms(),
            received_at: None,
        })
    })
    .unwrap();
    let before = server.log_len();
    let r = server
        .sync_all(&mut worker, vec![changes_since(&mut doc, &heads)])
        .await;
    assert!(r[0].rejected.is_empty(), "{:?}", r[0].rejected);
    assert_eq!(r[0].notices.len(), 1, "{:?}", r[0].notices);
    assert_eq!(r[0].notices[0].code, "transition_refused");
    assert_eq!(
        server.log_len(),
        before + 2,
        "stored (so the document is not wedged), with the server's receipt time"
    );

    let pulls = server.sync_all(&mut leader, vec![]).await;
    let copy = rebuild(&pulled(&pulls), inc.meta.id, leader.actor.clone());
    let seen: Incident = copy.read().unwrap();
    assert_eq!(seen.log.len(), 3);
    let state = workflow::derive(&seen, &cal);
    assert_eq!(
        state.status,
        Status::Resolved,
        "the verification does not count"
    );
    assert_eq!(state.skipped.len(), 1);

    // An entry in someone else's name is refused outright.
    let heads = doc.heads();
    doc.update::<Incident>(&worker.author(), |i| {
        i.log.push(Transition {
            action: Action::Verify,
            actor: "sup".into(),
            role: Role::CommunitySupervisor,
            from: Status::Resolved,
            to: Status::Verified,
            opinion: String::new(),
            photos: vec![],
            at: now_ms(),
            received_at: None,
        })
    })
    .unwrap();
    let before = server.log_len();
    let r = server
        .sync_all(&mut worker, vec![changes_since(&mut doc, &heads)])
        .await;
    assert_eq!(r[0].rejected[0].code, "transition_forged");
    assert_eq!(server.log_len(), before);
    server.stop().await;
}

#[tokio::test]
async fn a_grid_leader_cannot_verify_an_incident_they_resolved() {
    let server = TestServer::start().await;
    let mut leader = server.login("leader-a").await;
    let cal = gridwork_core::calendar::WorkCalendar::bundled();
    let me = workflow::Actor {
        user: "leader-a",
        role: Role::GridLeader,
    };
    let mut inc = incident(GRID_A, "leader-a");
    workflow::transition(&mut inc, &cal, me, Action::Report, "", vec![], now_ms()).unwrap();
    workflow::transition(
        &mut inc,
        &cal,
        me,
        Action::ResolveOnSpot,
        "",
        vec!["cd".repeat(32)],
        now_ms(),
    )
    .unwrap();
    // The device's own guard would refuse this; push it anyway.
    let state = workflow::derive(&inc, &cal);
    assert!(workflow::check(&state, "leader-a", me, &Action::Verify, "", &[]).is_err());
    inc.log.push(Transition {
        action: Action::Verify,
        actor: "leader-a".into(),
        role: Role::GridLeader,
        from: Status::Resolved,
        to: Status::Verified,
        opinion: String::new(),
        photos: vec![],
        at: now_ms(),
        received_at: None,
    });
    let mut doc = RecordDoc::create(&inc, leader.actor.clone(), &leader.author()).unwrap();
    let r = server
        .sync_all(&mut leader, vec![all_changes(&mut doc)])
        .await;
    assert!(r[0].rejected.is_empty(), "{:?}", r[0].rejected);
    assert_eq!(r[0].notices.len(), 1);
    assert_eq!(r[0].notices[0].code, "transition_refused");
    // Why, as params the app translates: the workflow's refusal and its
    // own params.
    assert_eq!(
        r[0].notices[0].params,
        gridwork_core::problem::params([("error", "own_work".into()), ("action", "verify".into())]),
    );
    assert!(!r[0].notices[0].compensated);
    // The device's change and the server's receipt times.
    assert_eq!(server.log_len(), 2);
    server.stop().await;
}

/// Twelve households pushed by grid A's worker, in the order made, and
/// the bytes of the longest one's changes.
async fn twelve_households(server: &TestServer) -> (Vec<Uuid>, usize) {
    let mut worker = server.login("gw-a").await;
    let mut ids = Vec::new();
    let mut push = Vec::new();
    for room in 0..12 {
        let h = household(GRID_A, "gw-a", &format!("{}", 100 + room));
        ids.push(h.meta.id);
        let mut doc = RecordDoc::create(&h, worker.actor.clone(), &worker.author()).unwrap();
        push.push(all_changes(&mut doc));
    }
    let longest = push
        .iter()
        .map(|d| d.changes.iter().map(Vec::len).sum())
        .max()
        .unwrap_or(0);
    server.sync_all(&mut worker, push).await;
    (ids, longest)
}

#[tokio::test]
async fn a_small_budget_pages_the_log_and_loses_nothing() {
    let server = TestServer::start().await;
    let (ids, _) = twelve_households(&server).await;

    let mut sup = server.login("sup").await;
    let mut got = Vec::new();
    let mut pages = 0;
    loop {
        let resp = server
            .sync(
                &sup,
                &SyncRequest {
                    cursor: sup.cursor,
                    push: vec![],
                    budget: Some(1),
                    ..SyncRequest::default()
                },
            )
            .await;
        pages += 1;
        got.extend(resp.pull.iter().map(|d| d.doc));
        // At least one position per page, even over budget.
        assert!(!resp.pull.is_empty() || !resp.more);
        sup.cursor = resp.cursor;
        if !resp.more {
            break;
        }
    }
    assert_eq!(pages, 12, "one household per page");
    assert_eq!(got, ids);
    server.stop().await;
}

/// The frames of a streamed answer's whole body.
fn frames_of(body: &[u8]) -> Vec<Vec<u8>> {
    let mut reader = PageReader::default();
    reader.push(body);
    let mut frames = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        frames.push(frame);
    }
    reader.finish().unwrap();
    frames
}

#[tokio::test]
async fn a_device_that_asks_gets_the_pages_streamed_and_a_later_page_confirms_nothing() {
    let server = TestServer::start().await;
    let (ids, _) = twelve_households(&server).await;

    // One household a page, five pages an answer: 5, 5, then the last 2.
    let sup = server.login("sup").await;
    let mut cursor = 0;
    let mut got = Vec::new();
    for (answer, pages) in [(1, 5), (2, 5), (3, 2)] {
        let request = SyncRequest {
            cursor,
            budget: Some(1),
            packed: true,
            reads: 2,
            pages: 5,
            ..SyncRequest::default()
        };
        let resp = server
            .sync_raw(&sup.login.token, wire::encode(&request))
            .await;
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["content-type"],
            "application/x-gridwork-sync-pages"
        );
        let frames = frames_of(&resp.bytes().await.unwrap());
        assert_eq!(frames.len(), pages, "answer {answer}");
        for (n, frame) in frames.iter().enumerate() {
            let mut page: SyncResponse = wire::decode(frame).unwrap();
            page.unpack_pull().unwrap();
            assert_eq!(page.pull.len(), 1, "one household a page");
            assert!(page.cursor > cursor, "each page moves the cursor");
            assert_eq!(page.more, answer < 3 || n + 1 < pages);
            got.push(page.pull[0].doc);
            cursor = page.cursor;
        }
        // The pages after the first answer no request: the server holds
        // the cursor the device sent, not one it has not stored yet.
        let devices = server.storage(|s| s.list_devices(Some("sup")).unwrap());
        assert_eq!(devices[0].cursor, request.cursor, "answer {answer}");
    }
    assert_eq!(got, ids, "every household once, in order");

    // A device that does not ask gets one page, framed as ever.
    let resp = server
        .sync(
            &sup,
            &SyncRequest {
                budget: Some(1),
                ..SyncRequest::default()
            },
        )
        .await;
    assert!(resp.more && resp.pull.len() == 1);
    server.stop().await;
}

#[tokio::test]
async fn a_streamed_answer_starts_and_ends_with_a_short_page_and_loses_nothing() {
    let server = TestServer::start().await;
    let (ids, largest) = twelve_households(&server).await;

    // A page of sixteen households' bytes: the first page and the end of
    // the last are a sixteenth of it, a household or two.
    let sup = server.login("sup").await;
    let request = SyncRequest {
        budget: Some(16 * largest as u32),
        packed: true,
        reads: 3,
        pages: 16,
        ..SyncRequest::default()
    };
    let resp = server
        .sync_raw(&sup.login.token, wire::encode(&request))
        .await;
    assert_eq!(resp.status(), 200);
    let pages: Vec<SyncResponse> = frames_of(&resp.bytes().await.unwrap())
        .iter()
        .map(|frame| {
            let mut page: SyncResponse = wire::decode(frame).unwrap();
            page.unpack_pull().unwrap();
            page
        })
        .collect();
    let sizes: Vec<usize> = pages.iter().map(|p| p.pull.len()).collect();
    assert_eq!(
        sizes.len(),
        3,
        "a short page, the rest, a short end: {sizes:?}"
    );
    assert!(sizes[0] <= 2 && sizes[2] <= 2 && sizes[1] >= 8, "{sizes:?}");
    let more: Vec<bool> = pages.iter().map(|p| p.more).collect();
    assert_eq!(more, [true, true, false]);
    let got: Vec<Uuid> = pages.iter().flat_map(|p| &p.pull).map(|d| d.doc).collect();
    assert_eq!(got, ids, "every household once, in order");

    // A device that takes one page an answer gets it whole.
    let single = server
        .sync(
            &sup,
            &SyncRequest {
                budget: Some(16 * largest as u32),
                ..SyncRequest::default()
            },
        )
        .await;
    assert_eq!(single.pull.len(), 12);
    assert!(!single.more);
    server.stop().await;
}

#[tokio::test]
async fn a_lost_answer_is_resent_because_the_cursor_only_moves_when_confirmed() {
    let server = TestServer::start().await;
    let mut worker = server.login("gw-a").await;
    let h = household(GRID_A, "gw-a", "601");
    let mut doc = RecordDoc::create(&h, worker.actor.clone(), &worker.author()).unwrap();
    server
        .sync_all(&mut worker, vec![all_changes(&mut doc)])
        .await;

    let other = server.login("gw-a").await;
    let first = server.sync(&other, &SyncRequest::default()).await;
    assert_eq!(first.pull.len(), 1);
    // The answer was lost: the device asks again with its old cursor.
    let again = server.sync(&other, &SyncRequest::default()).await;
    assert_eq!(again.pull, first.pull);
    assert_eq!(again.cursor, first.cursor);
    let devices = server.storage(|s| s.list_devices(Some("gw-a")).unwrap());
    let confirmed = devices
        .iter()
        .find(|d| d.id == other.login.device_id)
        .unwrap();
    assert_eq!(confirmed.cursor, 0);
    server.stop().await;
}

#[tokio::test]
async fn a_user_given_a_new_grid_receives_its_existing_records() {
    let server = TestServer::start().await;
    let mut a = server.login("gw-a").await;
    let mut b = server.login("gw-b").await;
    let theirs = household(GRID_B, "gw-b", "701");
    let mut doc = RecordDoc::create(&theirs, b.actor.clone(), &b.author()).unwrap();
    server.sync_all(&mut b, vec![all_changes(&mut doc)]).await;
    // gw-a is up to date and sees nothing of grid B.
    assert!(pulled(&server.sync_all(&mut a, vec![]).await).is_empty());
    let old_cursor = a.cursor;
    assert!(old_cursor > 0);

    // gw-a is moved up to the whole community.
    server.storage(|s| s.set_user_grid("gw-a", COMMUNITY).unwrap());
    let first = server
        .sync(
            &a,
            &SyncRequest {
                cursor: old_cursor,
                ..SyncRequest::default()
            },
        )
        .await;
    assert_eq!(pulled_docs(std::slice::from_ref(&first)), [theirs.meta.id]);
    // The answer was lost; the old cursor still brings grid B's records.
    let again = server
        .sync(
            &a,
            &SyncRequest {
                cursor: old_cursor,
                ..SyncRequest::default()
            },
        )
        .await;
    assert_eq!(again.pull, first.pull);
    // With the new cursor there is nothing more.
    let next = server
        .sync(
            &a,
            &SyncRequest {
                cursor: first.cursor,
                ..SyncRequest::default()
            },
        )
        .await;
    assert!(next.pull.is_empty());
    assert_eq!(next.cursor, first.cursor);
    server.stop().await;
}

#[tokio::test]
async fn a_record_moved_into_a_grid_arrives_there_whole() {
    let server = TestServer::start().await;
    let mut a = server.login("gw-a").await;
    let mut b = server.login("gw-b").await;
    let mut sup = server.login("sup").await;
    let h = household(GRID_A, "gw-a", "801");
    let mut doc = RecordDoc::create(&h, a.actor.clone(), &a.author()).unwrap();
    server.sync_all(&mut a, vec![all_changes(&mut doc)]).await;
    assert!(pulled(&server.sync_all(&mut b, vec![]).await).is_empty());

    // The supervisor moves it to grid B.
    let mut copy = rebuild(
        &pulled(&server.sync_all(&mut sup, vec![]).await),
        h.meta.id,
        sup.actor.clone(),
    );
    let heads = copy.heads();
    copy.update::<Household>(&sup.author(), |h| {
        h.meta.grid = GRID_B.into();
        h.point = Some(point_in(GRID_B));
    })
    .unwrap();
    let r = server
        .sync_all(&mut sup, vec![changes_since(&mut copy, &heads)])
        .await;
    assert!(r[0].rejected.is_empty(), "{:?}", r[0].rejected);

    // gw-b gets the creation (made before the move) and the move.
    let r = server.sync_all(&mut b, vec![]).await;
    let theirs = rebuild(&pulled(&r), h.meta.id, b.actor.clone());
    assert_eq!(theirs.read::<Household>().unwrap().meta.grid, GRID_B);
    assert_eq!(theirs.read::<Household>().unwrap().address.room, "801");
    server.stop().await;
}

#[tokio::test]
async fn an_incident_moved_into_a_grid_takes_its_parties_along() {
    let server = TestServer::start().await;
    let mut a = server.login("gw-a").await;
    let mut b = server.login("gw-b").await;
    let mut sup = server.login("sup").await;
    let mut inc = incident(GRID_A, "gw-a");
    inc.point = Some(point_in(GRID_A));
    let parties = IncidentParties::of(
        &inc,
        vec![Party {
            name: "张三".into(),
            phone: "13812345678".into(),
            id_number: "11010519491231002X".into(),
            role: "当事人".into(),
        }],
        "gw-a",
        now_ms(),
    );
    let mut doc = RecordDoc::create(&inc, a.actor.clone(), &a.author()).unwrap();
    let mut pdoc = RecordDoc::create(&parties, a.actor.clone(), &a.author()).unwrap();
    let r = server
        .sync_all(&mut a, vec![all_changes(&mut doc), all_changes(&mut pdoc)])
        .await;
    assert!(r[0].rejected.is_empty(), "{:?}", r[0].rejected);
    assert!(pulled(&server.sync_all(&mut b, vec![]).await).is_empty());

    // The supervisor moves the incident to grid B; the parties follow.
    let mut copy = rebuild(
        &pulled(&server.sync_all(&mut sup, vec![]).await),
        inc.meta.id,
        sup.actor.clone(),
    );
    let heads = copy.heads();
    copy.update::<Incident>(&sup.author(), |i| {
        i.meta.grid = GRID_B.into();
        i.point = Some(point_in(GRID_B));
    })
    .unwrap();
    let r = server
        .sync_all(&mut sup, vec![changes_since(&mut copy, &heads)])
        .await;
    assert!(r[0].rejected.is_empty(), "{:?}", r[0].rejected);

    let r = server.sync_all(&mut b, vec![]).await;
    let got = pulled(&r);
    let theirs = rebuild(&got, parties.meta.id, b.actor.clone());
    let held = theirs.read::<IncidentParties>().unwrap();
    assert_eq!(held.meta.grid, GRID_B);
    assert_eq!(held.parties, parties.parties);
    assert_eq!(
        rebuild(&got, inc.meta.id, b.actor.clone())
            .read::<Incident>()
            .unwrap()
            .meta
            .grid,
        GRID_B
    );
    server.stop().await;
}

#[tokio::test]
async fn health_readiness_and_unknown_routes() {
    let server = TestServer::start().await;
    let get = |p: &str| server.http.get(server.url(p)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    let ready: Value = get("/readyz").await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(
        error_code(get("/v2/nothing").await.unwrap()).await,
        (404, "not_found".to_string())
    );
    server.stop().await;
}

#[tokio::test]
async fn shutdown_waits_for_a_sync_in_flight() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let server = TestServer::start().await;
    let device = server.login("gw-a").await;
    let h = household(GRID_A, "gw-a", "901");
    let mut doc = RecordDoc::create(&h, device.actor.clone(), &device.author()).unwrap();
    let body = wire::encode(&SyncRequest {
        cursor: 0,
        push: vec![all_changes(&mut doc)],
        budget: None,
        ..SyncRequest::default()
    });
    // A sync whose body is still arriving when the server is told to stop.
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /v1/sync HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\ncontent-type: application/x-gridwork-sync\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        device.login.token,
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let TestServer {
        shutdown,
        task,
        _dir,
        _database,
        ..
    } = server;
    let _ = shutdown.unwrap().send(());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let task = task.unwrap();
    assert!(
        !task.is_finished(),
        "the server waits for the sync in flight"
    );

    conn.write_all(&body[10..]).await.unwrap();
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    task.await.unwrap().unwrap();
    // And the change was stored.
    let stored = off_runtime(|| {
        storage_backend::open_existing(_dir.path(), _database.as_ref().map(|d| d.url()), 1)
            .unwrap()
            .load_doc(h.meta.id)
            .unwrap()
    });
    assert!(stored.is_some());
}
