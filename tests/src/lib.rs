//! The harness for Gridwork's cross-crate stories: a real `gridwork-server`
//! process on a loopback port with its own data directory, and devices
//! that are real local stores syncing through the real HTTP client.
//!
//! **On either backend.** When `GRIDWORK_TEST_POSTGRES` names a PostgreSQL
//! server (`scripts/test-postgres` starts one and sets it), every
//! [`Server`] stores in a fresh database of its own there
//! (`GRIDWORK_DATABASE_URL` for its process and its admin commands), with
//! its data directory still holding photo blobs and settings; otherwise in
//! SQLite in its data directory. The same stories then run on both.

pub mod console;
pub mod proxy;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use automerge::ActorId;
use gridwork_core::model::{Household, Incident, Meta, Role, User};
use gridwork_core::store::Store;
use gridwork_core::sync::client::{Progress, SyncClient, SyncError};
use gridwork_core::sync::http::{HttpTransport, Login, login};
use gridwork_demo::{Demo, DemoConfig, generate};
use gridwork_server::storage::postgres::testing::{self, TestDatabase};

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery";

/// The built server binary, built once per test process. It is built with
/// the whole workspace's features (`--workspace`), as `cargo nextest run
/// --workspace` built everything else, so nothing is compiled twice.
pub fn server_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // A binary built already (by `cargo build -p gridwork-server`
        // with the same feature set as the tests) saves a second build.
        if let Some(path) = std::env::var_os("GRIDWORK_SERVER_BIN") {
            return PathBuf::from(path);
        }
        escargot::CargoBuild::new()
            .arg("--workspace")
            .bin("gridwork-server")
            .current_release()
            .run()
            .expect("build gridwork-server")
            .path()
            .to_path_buf()
    })
}

/// A data directory holding `init` and `load-demo --seed --records` of
/// the current server binary, made once and kept under the system's temp
/// directory, named after the binary's size and time, so a rebuilt server
/// loads afresh. Made in a directory of its own and renamed into place,
/// so tests starting at once never see half of one.
///
/// For a server whose records are in PostgreSQL (`postgres` names the
/// server): the data directory (blobs, settings) as above, and beside it a
/// database, named after the directory ([`demo_template`]), that each
/// server's own database is copied from (`CREATE DATABASE … TEMPLATE`).
fn demo_data_on(seed: u64, records: usize, postgres: Option<&str>) -> Result<PathBuf> {
    let bin = server_binary();
    let meta = std::fs::metadata(bin)?;
    let built = meta
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let root = std::env::temp_dir().join("gridwork-demo-data");
    // A demo in PostgreSQL lives on one PostgreSQL server (each run of
    // scripts/test-postgres starts a new one): its directory is named
    // after that server's identity too.
    let backend = match postgres {
        Some(admin) => format!("pg{}-", testing::server_identity(admin)?),
        None => String::new(),
    };
    let ready = root.join(format!("{backend}{seed}-{records}-{}-{built}", meta.len()));
    if ready.is_dir() {
        return Ok(ready);
    }
    std::fs::create_dir_all(&root)?;
    let making = tempfile::tempdir_in(&root)?;
    // On PostgreSQL the demo is loaded into a database of its own, kept
    // (not dropped) and renamed to the template's name once complete.
    let database = postgres
        .map(TestDatabase::create)
        .transpose()
        .context("a database for the demo")?;
    let admin = |args: &[&str]| -> Result<()> {
        let out = Command::new(bin)
            .arg("--data")
            .arg(making.path())
            .envs(database.as_ref().map(|d| (DATABASE_URL_ENV, d.url())))
            .args(args)
            .output()?;
        if !out.status.success() {
            bail!(
                "gridwork-server {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    };
    admin(&["init"])?;
    admin(&[
        "load-demo",
        "--seed",
        &seed.to_string(),
        "--records",
        &records.to_string(),
        "--password",
        PASSWORD,
    ])?;
    if let (Some(admin), Some(database)) = (postgres, database) {
        let name = database.name().to_string();
        let url = database.url().to_string();
        let _ = database.keep();
        // Renaming is atomic: a template either exists whole or not at
        // all. When another test made it first, theirs stands.
        if testing::rename_database(admin, &name, &demo_template(&ready)).is_err() {
            testing::drop_database(admin, &name).context(url)?;
        }
    }
    let made = making.keep();
    if std::fs::rename(&made, &ready).is_err() {
        // Another test made it first: theirs stands.
        std::fs::remove_dir_all(&made)?;
        ensure!(
            ready.is_dir(),
            "the demo data at {} is missing",
            ready.display()
        );
    }
    Ok(ready)
}

/// The environment variable that points a server process at PostgreSQL.
const DATABASE_URL_ENV: &str = "GRIDWORK_DATABASE_URL";

/// The template database of the demo loaded into `ready` (on
/// PostgreSQL), named after the directory so a rebuilt server gets a new
/// one.
fn demo_template(ready: &Path) -> String {
    let dir = ready
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // PostgreSQL names are at most 63 bytes.
    let digest = <sha2::Sha256 as sha2::Digest>::digest(dir.as_bytes());
    format!("gridwork_demo_{}", hex::encode(&digest[..12]))
}

/// The PostgreSQL server stories store on, when one is named
/// (`GRIDWORK_TEST_POSTGRES`).
pub fn on_postgres() -> Option<String> {
    testing::test_server()
}

/// The small demo community the stories run in: its grid tree and users.
pub fn community() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        generate(&DemoConfig {
            households_per_grid: 2,
            incidents_per_grid: 1,
            patrols_per_grid: 1,
            visits_per_grid: 1,
            ..DemoConfig::default()
        })
    })
}

/// The stories' clock: a Sunday in May 2026, in Unix milliseconds.
pub const NOW: i64 = 1_779_000_000_000;

/// [`NOW`]'s date in Beijing.
pub fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 5, 17)
}

/// The first demo user with `role` whose subtree holds `grid`.
pub fn user_over(role: Role, grid: &str) -> &'static User {
    community()
        .users
        .iter()
        .find(|u| u.role == role && grid.starts_with(&u.grid))
        .expect("the demo has such a user")
}

/// A new household of `grid` registered by `worker`: a copy of one of the
/// grid's demo households with a new id, not yet reviewed.
pub fn new_household(grid: &str, worker: &str) -> Household {
    let mut h = community()
        .households
        .iter()
        .find(|h| h.meta.grid == grid)
        .expect("a household in the grid")
        .clone();
    h.meta = Meta::new(grid, worker, NOW);
    h.review.clear();
    h
}

/// A new incident of `grid` drafted by `worker`: a copy of one of the
/// grid's demo incidents with a new id and number, and no log yet.
pub fn new_incident(grid: &str, worker: &str) -> Incident {
    let mut i = community()
        .incidents
        .iter()
        .find(|i| i.meta.grid == grid)
        .expect("an incident in the grid")
        .clone();
    i.meta = Meta::new(grid, worker, NOW);
    i.number = format!("SJ-{}", i.meta.id.simple());
    i.log.clear();
    i
}

/// A running `gridwork-server` process with a data directory of its own.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    /// Shared with the other processes of [`Server::second_process`].
    data: Arc<tempfile::TempDir>,
    port: u16,
    /// `http`, or `https` when the server terminates TLS itself.
    scheme: String,
    /// Everything the process wrote to standard error (its log), across
    /// restarts; also passed on to the test's own standard error.
    log: Arc<Mutex<Vec<u8>>>,
    /// Its PostgreSQL database, when the stories run on PostgreSQL
    /// (shared with the other processes of [`Server::second_process`]).
    database: Option<Arc<TestDatabase>>,
    /// Copies of the database taken by [`Server::backup`], by the backup's
    /// directory.
    database_backups: Vec<(PathBuf, TestDatabase)>,
}

impl Server {
    /// Initializes a data directory with the demo community's grids and
    /// users (all with [`PASSWORD`]) and starts the server on a free port.
    pub fn start() -> Result<Server> {
        Server::start_with_config("")
    }

    /// [`Server::start`] with `config` (TOML settings) as the data
    /// directory's `gridwork.toml`.
    pub fn start_with_config(config: &str) -> Result<Server> {
        let data = Arc::new(tempfile::tempdir()?);
        let demo = community();
        let grids = data.path().join("grids.geojson");
        std::fs::write(&grids, &demo.grid_tree_geojson)?;
        let mut server = Server {
            child: None,
            data,
            port: 0,
            scheme: "http".into(),
            log: Arc::default(),
            database: on_postgres()
                .map(|admin| TestDatabase::create(&admin).map(Arc::new))
                .transpose()?,
            database_backups: Vec::new(),
        };
        server.admin(&["init"])?;
        server.admin(&["import-grids", grids.to_str().unwrap_or_default()])?;
        for user in &demo.users {
            let role = serde_json::to_value(user.role)?;
            let mut args = vec![
                "add-user",
                "--id",
                &user.id,
                "--name",
                &user.name,
                "--role",
                role.as_str().unwrap_or_default(),
                "--grid",
                &user.grid,
                "--password",
                PASSWORD,
            ];
            if let Some(department) = &user.department {
                args.extend(["--department", department]);
            }
            server.admin(&args)?;
        }
        if !config.is_empty() {
            std::fs::write(server.data.path().join("gridwork.toml"), config)?;
        }
        server.spawn()?;
        Ok(server)
    }

    /// Initializes a data directory with `load-demo --seed --records` (the
    /// demo's users get [`PASSWORD`]) and starts the server. The same demo
    /// is `generate(&DemoConfig::with_total_records(seed, records))`. The
    /// loaded directory is made once per server binary and copied for
    /// each server ([`demo_data_on`]): every test starts from the same bytes.
    pub fn start_with_demo(seed: u64, records: usize) -> Result<Server> {
        Server::start_with_demo_config(seed, records, "")
    }

    /// [`Server::start_with_demo`] with `config` (TOML settings, say
    /// `blob_partial_expiry_secs = 2`) as the data directory's
    /// `gridwork.toml`.
    pub fn start_with_demo_config(seed: u64, records: usize, config: &str) -> Result<Server> {
        Server::start_with_demo_on(seed, records, config, on_postgres())
    }

    /// [`Server::start_with_demo`] on SQLite in its data directory,
    /// whichever backend the other stories run on: where a story begins
    /// on SQLite ([`Server::move_to_postgres`]).
    pub fn start_with_demo_on_sqlite(seed: u64, records: usize) -> Result<Server> {
        Server::start_with_demo_on(seed, records, "", None)
    }

    fn start_with_demo_on(
        seed: u64,
        records: usize,
        config: &str,
        postgres: Option<String>,
    ) -> Result<Server> {
        let demo = demo_data_on(seed, records, postgres.as_deref())?;
        let mut server = Server {
            child: None,
            data: Arc::new(tempfile::tempdir()?),
            port: 0,
            scheme: "http".into(),
            log: Arc::default(),
            database: postgres
                .map(|admin| {
                    TestDatabase::create_from(&admin, Some(&demo_template(&demo))).map(Arc::new)
                })
                .transpose()?,
            database_backups: Vec::new(),
        };
        copy_dir(&demo, server.data.path())?;
        if !config.is_empty() {
            std::fs::write(server.data.path().join("gridwork.toml"), config)?;
        }
        server.spawn()?;
        Ok(server)
    }

    /// A second `gridwork-server` process over this one's PostgreSQL
    /// database and data directory (photo blobs, settings), on a port of
    /// its own: two processes behind one load balancer, as the README
    /// describes. The directory and the database stay until the last of
    /// the processes is dropped. PostgreSQL only: SQLite is one process's.
    pub fn second_process(&self) -> Result<Server> {
        ensure!(
            self.database.is_some(),
            "several processes share a PostgreSQL database, not a SQLite file"
        );
        let mut other = Server {
            child: None,
            data: self.data.clone(),
            port: 0,
            scheme: "http".into(),
            log: Arc::default(),
            database: self.database.clone(),
            database_backups: Vec::new(),
        };
        other.spawn()?;
        Ok(other)
    }

    /// The server process's peak resident memory so far (`VmHWM` in
    /// `/proc/<pid>/status`), in KiB; `None` when it is not running or
    /// the system has no `/proc`.
    pub fn peak_memory_kib(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// Every file under the server's blob folder, partial uploads included
    /// (not the empty lock files of `blobs/locks`, one per device that
    /// uploaded).
    pub fn blob_files(&self) -> Vec<String> {
        fn walk(dir: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() && path.file_name().is_some_and(|n| n == "locks") {
                    continue;
                } else if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path.display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.data_dir().join("blobs"), &mut out);
        out.sort();
        out
    }

    /// The server's base URL (`https://` when it serves TLS).
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }

    /// Runs an admin command against this server's data directory.
    pub fn admin(&self, args: &[&str]) -> Result<String> {
        let out = Command::new(server_binary())
            .arg("--data")
            .arg(self.data.path())
            .envs(self.database_env())
            .args(args)
            .output()?;
        if !out.status.success() {
            bail!(
                "gridwork-server {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The environment pointing a process at this server's database, if
    /// it is on PostgreSQL.
    fn database_env(&self) -> Option<(&'static str, String)> {
        self.database
            .as_ref()
            .map(|d| (DATABASE_URL_ENV, d.url().to_string()))
    }

    /// Whether this server stores in PostgreSQL (else SQLite in its data
    /// directory).
    pub fn is_on_postgres(&self) -> bool {
        self.database.is_some()
    }

    /// What the server has logged so far (its standard error, `warn`
    /// and above), as text.
    pub fn log(&self) -> String {
        let log = self.log.lock().map(|l| l.clone()).unwrap_or_default();
        String::from_utf8_lossy(&log).into_owned()
    }

    /// Starts the process: the first time on port 0, reading the port it
    /// got from the line it prints once bound (no race between picking a
    /// free port and binding it); later on that same port, since devices
    /// hold the URL.
    fn spawn(&mut self) -> Result<()> {
        let mut child = Command::new(server_binary())
            .arg("--data")
            .arg(self.data.path())
            .envs(self.database_env())
            .arg("--log-level")
            .arg("warn")
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("start gridwork-server")?;
        if let Some(stderr) = child.stderr.take() {
            let log = self.log.clone();
            std::thread::spawn(move || {
                let mut reader = std::io::BufReader::new(stderr);
                let mut line = Vec::new();
                while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                    let _ = std::io::stderr().write_all(&line);
                    if let Ok(mut log) = log.lock() {
                        log.extend_from_slice(&line);
                    }
                    line.clear();
                }
            });
        }
        let (bound, port) = std::sync::mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Some((scheme, port)) = line
                        .strip_prefix("listening on ")
                        .and_then(|url| url.split_once("://"))
                        .and_then(|(scheme, addr)| {
                            let (_, port) = addr.rsplit_once(':')?;
                            Some((scheme.to_string(), port.trim().parse::<u16>().ok()?))
                        })
                    {
                        let _ = bound.send((scheme, port));
                    }
                }
            });
        }
        self.child = Some(child);
        self.wait_ready(&port)
    }

    fn wait_ready(&mut self, bound: &std::sync::mpsc::Receiver<(String, u16)>) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("gridwork-server exited early: {status}");
            }
            if let Ok((scheme, port)) = bound.recv_timeout(Duration::from_millis(50)) {
                self.scheme = scheme;
                self.port = port;
                return Ok(());
            }
        }
        bail!("gridwork-server not ready after 30 s")
    }

    /// Kills the process with SIGKILL, as a power cut or an OOM kill would.
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Starts the process again on the same port and data.
    pub fn restart(&mut self) -> Result<()> {
        self.kill()?;
        self.spawn()
    }

    /// Moves a server on SQLite to a new database on the PostgreSQL server
    /// at `admin_url` as the README says: stops it, runs `copy-to-postgres`
    /// into the new database, and starts it again on that database (same
    /// data directory, same port); what the copy printed.
    pub fn move_to_postgres(&mut self, admin_url: &str) -> Result<String> {
        ensure!(
            self.database.is_none(),
            "the server is on PostgreSQL already"
        );
        self.kill()?;
        let database = TestDatabase::create(admin_url)?;
        let printed = self.admin(&["copy-to-postgres", "--to", database.url()])?;
        self.database = Some(Arc::new(database));
        self.spawn()?;
        Ok(printed)
    }

    /// Copies the data directory aside, as a nightly backup would, with the
    /// server stopped for the copy and started again after it.
    /// On PostgreSQL the database is copied too (as `pg_dump` would).
    pub fn backup(&mut self) -> Result<tempfile::TempDir> {
        self.kill()?;
        let copy = tempfile::tempdir()?;
        copy_dir(self.data.path(), copy.path())?;
        if let (Some(admin), Some(db)) = (on_postgres(), &self.database) {
            let saved = TestDatabase::create_from(&admin, Some(db.name()))?;
            self.database_backups
                .push((copy.path().to_path_buf(), saved));
        }
        self.spawn()?;
        Ok(copy)
    }

    /// Replaces the data directory with an earlier [`Server::backup`] and
    /// starts the server on it: whatever it stored since is gone.
    pub fn restore(&mut self, backup: &Path) -> Result<()> {
        self.kill()?;
        for entry in std::fs::read_dir(self.data.path())? {
            let path = entry?.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
        copy_dir(backup, self.data.path())?;
        if let Some(admin) = on_postgres() {
            let saved = self
                .database_backups
                .iter()
                .find(|(dir, _)| dir == backup)
                .map(|(_, db)| db.name().to_string())
                .context("no database was copied with this backup")?;
            // The old database is dropped with its connections.
            self.database = Some(Arc::new(TestDatabase::create_from(&admin, Some(&saved))?));
        }
        self.spawn()
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// A tablet: a real local store on disk and a login.
#[derive(Debug)]
pub struct Device {
    pub store: Store,
    pub login: Login,
    pub transport: HttpTransport,
    pub client: SyncClient,
    _dir: tempfile::TempDir,
}

impl Device {
    /// Logs `user` in on a new device with its own store.
    pub async fn enrol(server: &Server, user: &str) -> Result<Device> {
        let login = login(&server.url(), user, PASSWORD, &format!("{user}的平板")).await?;
        let dir = tempfile::tempdir()?;
        let actor = ActorId::from(hex_bytes(&login.actor_id)?);
        let store = Store::open(dir.path().join("device.sqlite"), actor)?;
        let transport = HttpTransport::new(&server.url(), &login.token)?;
        Ok(Device {
            store,
            login,
            transport,
            client: SyncClient::default(),
            _dir: dir,
        })
    }

    /// The user id this device is signed in as.
    pub fn user(&self) -> &str {
        &self.login.user.id
    }

    /// Runs one whole sync.
    /// A new connection to `server`, as after the app is restarted: the
    /// pooled one may point at a server process that is gone.
    pub fn reconnect(&mut self, server: &Server) -> Result<()> {
        self.transport = HttpTransport::new(&server.url(), &self.login.token)?;
        Ok(())
    }

    pub async fn sync(&mut self) -> Result<Progress, SyncError> {
        self.client
            .sync(&mut self.store, &self.transport, |_| {})
            .await
    }
}

fn hex_bytes(text: &str) -> Result<Vec<u8>> {
    hex::decode(text).context("actor id is not hex")
}

/// The repository's root.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where end-to-end runs save screenshots for a person to look at (not
/// committed): `<target>/e2e-screenshots`.
pub fn screenshots_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"))
        .join("e2e-screenshots")
}

/// Runs one of the console's browser scripts, `ui/e2e/<name>.mjs` (Debian's
/// Chromium through playwright-core), against the built console, with
/// `env` and `GW_SCREENSHOTS` set, and returns the JSON line it printed
/// last: what it saw. Fails with the script's output if it fails.
pub fn run_browser_script(name: &str, env: &[(&str, String)]) -> Result<serde_json::Value> {
    let ui = repo().join("ui");
    anyhow::ensure!(
        ui.join("dist-console/index.html").exists(),
        "the console is not built: run `npm run build:console` in ui/ (scripts/test does)"
    );
    let script = format!("e2e/{name}.mjs");
    let out = Command::new("node")
        .arg(&script)
        .current_dir(&ui)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("GW_SCREENSHOTS", screenshots_dir())
        .output()
        .with_context(|| format!("run node ui/{script}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(
        out.status.success(),
        "the browser run of {script} failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout
        .lines()
        .last()
        .context("the script prints what it saw")?;
    Ok(serde_json::from_str(last)?)
}
