//! What every trust case shares: a real server on demo data, a
//! well-behaved tablet syncing beside the case the whole time, a digest of
//! everything the server stores, and raw clients that send hand-made
//! requests.
//!
//! A case goes:
//!
//! ```ignore
//! let trial = Trial::start().await?;
//! let raw = trial.login("gw-440106001001001").await?;
//! let before = trial.digest()?;
//! let answer = raw.sync_bytes(b"not cbor".to_vec()).await?;
//! answer.refused(400, "bad_body")?;
//! trial.unchanged(&before)?;
//! trial.finish().await
//! ```
//!
//! The well-behaved tablet is a grid worker's (the first grid's) real
//! local store and sync client, on a thread of its own: it registers a
//! household now and then, edits its own households, and syncs every
//! 100 ms or so. [`Trial::finish`] fails unless every one of its syncs
//! succeeded with nothing refused, so a bad request that starves, breaks
//! or slows honest devices into failure fails its case.
//!
//! The digest reads the server's SQLite file (read-only, one snapshot) and
//! its blob folder while the server runs. It leaves out what the
//! well-behaved tablet causes (rows naming its device, its actor or the
//! records it made) and the pure bookkeeping that any request may move
//! ([`BOOKKEEPING`]: cursors and served scopes, the login limits' counts,
//! the blob folder's lock files). Everything else counts:
//! documents, the change log, actors, users, devices, grids, the access log,
//! and every table added later.

#![allow(dead_code)] // Each case module uses its own part.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use gridwork_core::calendar::shanghai_date;
use gridwork_core::doc::Author;
use gridwork_core::model::{Household, Meta, Role, User};
use gridwork_core::sync::http::CONTENT_TYPE;
use gridwork_core::sync::wire::{self, SyncRequest, SyncResponse};
use gridwork_demo::{Demo, DemoConfig, generate};
use gridwork_tests::{Device, PASSWORD, Server};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// The demo every trial's server is loaded with: two communities of three
/// grids, about 3,000 records, users of every role.
pub const SEED: u64 = 10;
pub const RECORDS: usize = 3000;

/// Tables any request may move without storing anything a person made:
/// left out of the digest. `login_limits` counts login attempts, bad
/// ones included: moving it is the limits doing their work.
pub const BOOKKEEPING: &[&str] = &["device_cursors", "login_limits"];

/// Folders of the blob folder left out of the digest: `locks` holds one
/// empty lock file per device that sent a chunk (`FsBlobStore`).
pub const BOOKKEEPING_FOLDERS: &[&str] = &["locks"];

/// The demo loaded into every trial's server (the same records, users
/// and grid tree as `load-demo --seed SEED --records RECORDS`).
pub fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| generate(&DemoConfig::with_total_records(SEED, RECORDS)))
}

/// The demo's first user of `role`.
pub fn user(role: Role) -> &'static User {
    demo()
        .users
        .iter()
        .find(|u| u.role == role)
        .unwrap_or_else(|| panic!("the demo has a {role:?}"))
}

/// The demo's grid workers, one per grid, in grid order.
pub fn workers() -> Vec<&'static User> {
    let mut w: Vec<&User> = demo()
        .users
        .iter()
        .filter(|u| u.role == Role::GridWorker)
        .collect();
    w.sort_by(|a, b| a.grid.cmp(&b.grid));
    w
}

/// A real server on the demo, and a well-behaved tablet syncing beside
/// whatever the case does.
#[derive(Debug)]
pub struct Trial {
    pub server: Server,
    honest: Option<Honest>,
}

impl Trial {
    /// Starts a server on the demo data and the well-behaved tablet (the
    /// first grid's worker), after its first sync.
    pub async fn start() -> Result<Trial> {
        Trial::start_with_config("").await
    }

    /// [`Trial::start`] with settings for the server (TOML, as in its
    /// `gridwork.toml`).
    pub async fn start_with_config(config: &str) -> Result<Trial> {
        let server = Server::start_with_demo_config(SEED, RECORDS, config)?;
        let honest = Honest::start(&server, workers()[0]).await?;
        Ok(Trial {
            server,
            honest: Some(honest),
        })
    }

    /// The server's base URL.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Signs `user` in on a new device through `/v1/login`.
    pub async fn login(&self, user: &str) -> Result<Raw> {
        Raw::login(&self.url(), user).await
    }

    /// Signs `user` in to the console.
    pub async fn console(&self, user: &str) -> Result<Raw> {
        Raw::console(&self.url(), user).await
    }

    /// The well-behaved tablet's user.
    pub fn honest_user(&self) -> &'static User {
        workers()[0]
    }

    /// Everything the server stores, less the well-behaved tablet's own
    /// rows and [`BOOKKEEPING`].
    pub fn digest(&self) -> Result<Digest> {
        let markers = self
            .honest
            .as_ref()
            .map(Honest::markers)
            .unwrap_or_default();
        Digest::of(self.server.data_dir(), &markers)
    }

    /// Fails, naming what changed, unless what the server stores is as it
    /// was at `before`.
    pub fn unchanged(&self, before: &Digest) -> Result<()> {
        self.digest()?.same_as(before)
    }

    /// Stops the well-behaved tablet; fails unless it synced at least once
    /// during the case and every one of its syncs succeeded.
    pub async fn finish(mut self) -> Result<()> {
        let honest = self.honest.take().context("finished twice")?;
        let report = honest.stop()?;
        ensure!(
            report.failures.is_empty(),
            "the well-behaved tablet's syncs failed during the case ({} of {}): {:#?}",
            report.failures.len(),
            report.syncs,
            report.failures
        );
        ensure!(
            report.syncs > 0,
            "the well-behaved tablet never synced during the case"
        );
        Ok(())
    }
}

/// What the well-behaved tablet did.
#[derive(Debug, Default)]
struct Report {
    syncs: usize,
    failures: Vec<String>,
}

/// The well-behaved tablet: a thread with its own runtime and store.
#[derive(Debug)]
struct Honest {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Report>>,
    device_id: String,
    actor: String,
    /// Records it made, as the digest must leave them out.
    made: Arc<Mutex<BTreeSet<Uuid>>>,
}

impl Honest {
    async fn start(server: &Server, user: &'static User) -> Result<Honest> {
        let mut device = Device::enrol(server, &user.id).await?;
        let first = device.sync().await?;
        ensure!(
            first.rejected.is_empty(),
            "the well-behaved tablet's first sync was refused: {:?}",
            first.rejected
        );
        let device_id = device.login.device_id.clone();
        let actor = device.login.actor_id.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let made = Arc::new(Mutex::new(BTreeSet::new()));
        let thread = {
            let stop = stop.clone();
            let made = made.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the well-behaved tablet");
                runtime.block_on(behave(device, user, stop, made))
            })
        };
        Ok(Honest {
            stop,
            thread: Some(thread),
            device_id,
            actor,
            made,
        })
    }

    /// Strings and bytes whose rows belong to the well-behaved tablet.
    fn markers(&self) -> Markers {
        let made = self.made.lock().map(|m| m.clone()).unwrap_or_default();
        let mut text = vec![self.device_id.clone(), self.actor.clone()];
        text.extend(made.iter().map(Uuid::to_string));
        let bytes = made.iter().map(|id| id.as_bytes().to_vec()).collect();
        Markers { text, bytes }
    }

    fn stop(mut self) -> Result<Report> {
        self.stop.store(true, Ordering::SeqCst);
        let thread = self.thread.take().context("stopped twice")?;
        thread
            .join()
            .map_err(|_| anyhow::anyhow!("the well-behaved tablet's thread panicked"))
    }
}

impl Drop for Honest {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The well-behaved tablet's day: register, edit, sync, until told to stop.
async fn behave(
    mut device: Device,
    user: &'static User,
    stop: Arc<AtomicBool>,
    made: Arc<Mutex<BTreeSet<Uuid>>>,
) -> Report {
    let mut report = Report::default();
    let template = demo()
        .households
        .iter()
        .find(|h| h.meta.grid == user.grid)
        .cloned();
    let mut mine: Vec<Uuid> = Vec::new();
    let mut round = 0u32;
    while !stop.load(Ordering::SeqCst) {
        round += 1;
        let now = jiff::Timestamp::now();
        let author = Author::new(&user.id, now.as_millisecond());
        let today = shanghai_date(now);
        if round % 3 == 1
            && let Some(template) = &template
        {
            let mut h = template.clone();
            h.meta = Meta::new(&user.grid, &user.id, now.as_millisecond());
            h.review.clear();
            h.address.room = format!("{}", 100 + round);
            let id = h.meta.id;
            // Marked before it can reach the server.
            if let Ok(mut m) = made.lock() {
                m.insert(id);
            }
            match device.store.insert(h, &author, today) {
                Ok(_) => mine.push(id),
                Err(e) => report
                    .failures
                    .push(format!("round {round}: registering a household: {e}")),
            }
        } else if let Some(&id) = mine.last() {
            let edited = device.store.update::<Household>(id, &author, today, |h| {
                h.address.unit = format!("{}单元", round % 9 + 1);
            });
            if let Err(e) = edited {
                report
                    .failures
                    .push(format!("round {round}: editing a household: {e}"));
            }
        }
        match device.sync().await {
            Ok(p) if p.rejected.is_empty() => report.syncs += 1,
            Ok(p) => report.failures.push(format!(
                "round {round}: the server refused: {:?}",
                p.rejected
            )),
            Err(e) => report
                .failures
                .push(format!("round {round}: sync failed: {} ({e})", e.code())),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    report
}

/// What marks a row as the well-behaved tablet's.
#[derive(Debug, Clone, Default)]
struct Markers {
    text: Vec<String>,
    bytes: Vec<Vec<u8>>,
}

impl Markers {
    fn text_is_ours(&self, s: &str) -> bool {
        self.text.iter().any(|m| s.contains(m.as_str()))
    }

    fn bytes_are_ours(&self, b: &[u8]) -> bool {
        self.bytes
            .iter()
            .any(|m| b.windows(m.len()).any(|w| w == m.as_slice()))
            || std::str::from_utf8(b).is_ok_and(|s| self.text_is_ours(s))
    }
}

/// Everything the server stores, as a multiset of row hashes per table
/// and the blob folder's files with their hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// Table name → sorted hashes of its rows (hex), with a sample of
    /// each row for the message when they differ.
    tables: BTreeMap<String, BTreeMap<String, String>>,
    /// Path under the data directory → SHA-256 of the file.
    files: BTreeMap<String, String>,
}

impl Digest {
    fn of(data: &Path, markers: &Markers) -> Result<Digest> {
        let db = data.join("gridwork.sqlite");
        let conn = rusqlite::Connection::open_with_flags(
            &db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("open {} read-only", db.display()))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // One snapshot for every table.
        conn.execute_batch("BEGIN")?;
        let names: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut tables = BTreeMap::new();
        for name in names {
            if BOOKKEEPING.contains(&name.as_str()) {
                continue;
            }
            let mut stmt = conn.prepare(&format!("SELECT * FROM \"{name}\""))?;
            let columns = stmt.column_count();
            let mut rows = stmt.query([])?;
            let mut hashes = BTreeMap::new();
            'rows: while let Some(row) = rows.next()? {
                let mut hasher = Sha256::new();
                let mut sample = String::new();
                for i in 0..columns {
                    use rusqlite::types::ValueRef;
                    let value = row.get_ref(i)?;
                    match value {
                        ValueRef::Null => {
                            hasher.update([0]);
                            sample.push_str("NULL|");
                        }
                        ValueRef::Integer(n) => {
                            hasher.update([1]);
                            hasher.update(n.to_le_bytes());
                            sample.push_str(&format!("{n}|"));
                        }
                        ValueRef::Real(f) => {
                            hasher.update([2]);
                            hasher.update(f.to_le_bytes());
                            sample.push_str(&format!("{f}|"));
                        }
                        ValueRef::Text(t) => {
                            if markers.bytes_are_ours(t) {
                                continue 'rows;
                            }
                            hasher.update([3]);
                            hasher.update((t.len() as u64).to_le_bytes());
                            hasher.update(t);
                            let t = String::from_utf8_lossy(t);
                            sample.extend(t.chars().take(60));
                            sample.push('|');
                        }
                        ValueRef::Blob(b) => {
                            if markers.bytes_are_ours(b) {
                                continue 'rows;
                            }
                            hasher.update([4]);
                            hasher.update((b.len() as u64).to_le_bytes());
                            hasher.update(b);
                            sample.push_str(&format!("<{} bytes>|", b.len()));
                        }
                    }
                }
                let hash = hex::encode(hasher.finalize());
                // Identical rows (a table without a key) still count twice.
                let mut key = hash.clone();
                let mut n = 1;
                while hashes.contains_key(&key) {
                    n += 1;
                    key = format!("{hash}#{n}");
                }
                hashes.insert(key, sample);
            }
            tables.insert(name, hashes);
        }
        conn.execute_batch("COMMIT")?;

        let mut files = BTreeMap::new();
        let blobs = data.join("blobs");
        walk(&blobs, &blobs, &mut files)?;
        Ok(Digest { tables, files })
    }

    /// The digest without `tables` (say, a log the case expects to grow).
    pub fn without(mut self, tables: &[&str]) -> Digest {
        for t in tables {
            self.tables.remove(*t);
        }
        self
    }

    /// The digest without these files of the blob folder (paths relative
    /// to it, say a blob the case expects to be stored).
    pub fn without_files(mut self, files: &[String]) -> Digest {
        for f in files {
            self.files.remove(f);
        }
        self
    }

    /// Fails, naming each table or file that differs, unless equal.
    pub fn same_as(&self, before: &Digest) -> Result<()> {
        let mut diffs = Vec::new();
        let names: BTreeSet<&String> = self.tables.keys().chain(before.tables.keys()).collect();
        for name in names {
            let empty = BTreeMap::new();
            let now = self.tables.get(name).unwrap_or(&empty);
            let was = before.tables.get(name).unwrap_or(&empty);
            let added: Vec<&String> = now
                .iter()
                .filter(|(k, _)| !was.contains_key(*k))
                .map(|(_, s)| s)
                .collect();
            let removed: Vec<&String> = was
                .iter()
                .filter(|(k, _)| !now.contains_key(*k))
                .map(|(_, s)| s)
                .collect();
            if !added.is_empty() || !removed.is_empty() {
                diffs.push(format!(
                    "table {name}: {} rows added {:?}, {} removed {:?}",
                    added.len(),
                    added.iter().take(3).collect::<Vec<_>>(),
                    removed.len(),
                    removed.iter().take(3).collect::<Vec<_>>()
                ));
            }
        }
        for (path, hash) in &self.files {
            match before.files.get(path) {
                None => diffs.push(format!("file {path} appeared")),
                Some(h) if h != hash => diffs.push(format!("file {path} changed")),
                Some(_) => {}
            }
        }
        for path in before.files.keys() {
            if !self.files.contains_key(path) {
                diffs.push(format!("file {path} disappeared"));
            }
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            bail!("what the server stores changed:\n{}", diffs.join("\n"))
        }
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        let bookkeeping = path
            .file_name()
            .is_some_and(|n| BOOKKEEPING_FOLDERS.iter().any(|f| n == *f));
        if path.is_dir() && bookkeeping {
            continue;
        } else if path.is_dir() {
            walk(root, &path, out)?;
        } else {
            let bytes = std::fs::read(&path).unwrap_or_default();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            out.insert(rel, hex::encode(Sha256::digest(&bytes)));
        }
    }
    Ok(())
}

/// An answer to a raw request.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The error code of a JSON error body (`""` when there is none).
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }

    /// The body as text, for messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, if any.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// Fails unless the answer is `status` with error code `code`.
    pub fn refused(&self, status: u16, code: &str) -> Result<()> {
        ensure!(
            self.status == status && self.code() == code,
            "expected {status} `{code}`, got {} `{}`: {}",
            self.status,
            self.code(),
            self.text().chars().take(500).collect::<String>()
        );
        Ok(())
    }

    /// Fails unless the answer is a success.
    pub fn ok(&self) -> Result<&Answer> {
        ensure!(
            (200..300).contains(&self.status),
            "expected success, got {}: {}",
            self.status,
            self.text().chars().take(500).collect::<String>()
        );
        Ok(self)
    }

    /// The body as a sync answer (CBOR frame).
    pub fn sync_response(&self) -> Result<SyncResponse> {
        self.ok()?;
        wire::decode(&self.body).context("decode the sync answer")
    }
}

/// A client that sends hand-made requests: a device token or a console
/// cookie.
#[derive(Debug, Clone)]
pub struct Raw {
    http: reqwest::Client,
    base: String,
    /// `Authorization` (device) or `Cookie` (console) and its value.
    auth: (HeaderName, HeaderValue),
    pub user: String,
    /// Device logins only: the enrolment and its assigned actor (hex).
    pub token: String,
    pub device_id: String,
    pub actor_id: String,
}

impl Raw {
    fn client() -> Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?)
    }

    /// A device login through `/v1/login`.
    pub async fn login(base: &str, user: &str) -> Result<Raw> {
        let http = Raw::client()?;
        let response = http
            .post(format!("{base}/v1/login"))
            .json(&serde_json::json!({
                "user": user,
                "password": PASSWORD,
                "device_name": format!("{user} trial"),
            }))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        ensure!(status.is_success(), "{user} cannot log in: {status} {body}");
        let token = body["token"].as_str().context("a token")?.to_string();
        Ok(Raw {
            http,
            base: base.to_string(),
            auth: (
                reqwest::header::AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {token}"))?,
            ),
            user: user.to_string(),
            token,
            device_id: body["device_id"].as_str().unwrap_or_default().into(),
            actor_id: body["actor_id"].as_str().unwrap_or_default().into(),
        })
    }

    /// A console sign-in; the client sends its cookie and the console's
    /// request header.
    pub async fn console(base: &str, user: &str) -> Result<Raw> {
        let http = Raw::client()?;
        let response = http
            .post(format!("{base}/console/api/login"))
            .header("x-gridwork-console", "1")
            .json(&serde_json::json!({"user": user, "password": PASSWORD}))
            .send()
            .await?;
        let status = response.status();
        let cookie = response
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .map(str::to_string);
        let body = response.text().await.unwrap_or_default();
        let Some(cookie) = cookie.filter(|_| status.is_success()) else {
            bail!("{user} cannot sign in to the console: {status} {body}");
        };
        Ok(Raw {
            http,
            base: base.to_string(),
            auth: (reqwest::header::COOKIE, HeaderValue::from_str(&cookie)?),
            user: user.to_string(),
            token: String::new(),
            device_id: String::new(),
            actor_id: String::new(),
        })
    }

    /// The same client without credentials.
    pub fn anonymous(&self) -> Raw {
        let mut raw = self.clone();
        raw.auth = (
            HeaderName::from_static("x-anonymous"),
            HeaderValue::from_static("1"),
        );
        raw
    }

    /// An absolute URL for `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends any request with this client's credentials (and the console
    /// header, harmless on the device API).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Answer> {
        let mut request = self
            .http
            .request(method, self.url(path))
            .header(self.auth.0.clone(), self.auth.1.clone())
            .header("x-gridwork-console", "1");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// `POST /v1/sync` with an encoded request.
    pub async fn sync(&self, request: &SyncRequest) -> Result<Answer> {
        self.sync_bytes(wire::encode(request)).await
    }

    /// `POST /v1/sync` with any bytes as the body.
    pub async fn sync_bytes(&self, body: Vec<u8>) -> Result<Answer> {
        self.post("/v1/sync", CONTENT_TYPE, body).await
    }

    pub async fn get(&self, path: &str) -> Result<Answer> {
        self.send(reqwest::Method::GET, path, &[], None).await
    }

    pub async fn head(&self, path: &str) -> Result<Answer> {
        self.send(reqwest::Method::HEAD, path, &[], None).await
    }

    pub async fn patch(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Answer> {
        self.send(reqwest::Method::PATCH, path, headers, Some(body))
            .await
    }

    pub async fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> Result<Answer> {
        self.send(
            reqwest::Method::POST,
            path,
            &[("content-type", content_type)],
            Some(body),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Result<Answer> {
        self.post(path, "application/json", serde_json::to_vec(body)?)
            .await
    }

    /// Pulls everything the device may see, round after round, and
    /// returns the raw answer bodies (to search their bytes) and the
    /// decoded answers.
    pub async fn pull_all(&self) -> Result<Vec<(Vec<u8>, SyncResponse)>> {
        let mut cursor = 0;
        let mut out = Vec::new();
        let started = Instant::now();
        loop {
            let answer = self
                .sync(&SyncRequest {
                    cursor,
                    push: Vec::new(),
                    budget: None,
                    ..SyncRequest::default()
                })
                .await?;
            let response = answer.sync_response()?;
            cursor = response.cursor;
            let more = response.more;
            out.push((answer.body, response));
            if !more {
                return Ok(out);
            }
            ensure!(
                started.elapsed() < Duration::from_secs(120),
                "pulling everything took over two minutes"
            );
        }
    }
}
