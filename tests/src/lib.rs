//! The harness for Gridwork's cross-crate stories: a real `gridwork-server`
//! process on a loopback port with its own data directory, and devices
//! that are real local stores syncing through the real HTTP client.

pub mod console;
pub mod proxy;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use automerge::ActorId;
use gridwork_core::store::Store;
use gridwork_core::sync::client::{Progress, SyncClient, SyncError};
use gridwork_core::sync::http::{HttpTransport, Login, login};
use gridwork_demo::{Demo, DemoConfig, generate};

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
fn demo_data(seed: u64, records: usize) -> Result<PathBuf> {
    let bin = server_binary();
    let meta = std::fs::metadata(bin)?;
    let built = meta
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let root = std::env::temp_dir().join("gridwork-demo-data");
    let ready = root.join(format!("{seed}-{records}-{}-{built}", meta.len()));
    if ready.is_dir() {
        return Ok(ready);
    }
    std::fs::create_dir_all(&root)?;
    let making = tempfile::tempdir_in(&root)?;
    let admin = |args: &[&str]| -> Result<()> {
        let out = Command::new(bin)
            .arg("--data")
            .arg(making.path())
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

/// A running `gridwork-server` process with a data directory of its own.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    data: tempfile::TempDir,
    port: u16,
    /// `http`, or `https` when the server terminates TLS itself.
    scheme: String,
    /// Everything the process wrote to standard error (its log), across
    /// restarts; also passed on to the test's own standard error.
    log: Arc<Mutex<Vec<u8>>>,
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
        let data = tempfile::tempdir()?;
        let demo = community();
        let grids = data.path().join("grids.geojson");
        std::fs::write(&grids, &demo.grid_tree_geojson)?;
        let mut server = Server {
            child: None,
            data,
            port: 0,
            scheme: "http".into(),
            log: Arc::default(),
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
    /// each server ([`demo_data`]): every test starts from the same bytes.
    pub fn start_with_demo(seed: u64, records: usize) -> Result<Server> {
        Server::start_with_demo_config(seed, records, "")
    }

    /// [`Server::start_with_demo`] with `config` (TOML settings, say
    /// `blob_partial_expiry_secs = 2`) as the data directory's
    /// `gridwork.toml`.
    pub fn start_with_demo_config(seed: u64, records: usize, config: &str) -> Result<Server> {
        let mut server = Server {
            child: None,
            data: tempfile::tempdir()?,
            port: 0,
            scheme: "http".into(),
            log: Arc::default(),
        };
        copy_dir(&demo_data(seed, records)?, server.data.path())?;
        if !config.is_empty() {
            std::fs::write(server.data.path().join("gridwork.toml"), config)?;
        }
        server.spawn()?;
        Ok(server)
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

    /// Every file under the server's blob folder, partial uploads included.
    pub fn blob_files(&self) -> Vec<String> {
        fn walk(dir: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
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

    /// Copies the data directory aside, as a nightly backup would, with the
    /// server stopped for the copy and started again after it.
    pub fn backup(&mut self) -> Result<tempfile::TempDir> {
        self.kill()?;
        let copy = tempfile::tempdir()?;
        copy_dir(self.data.path(), copy.path())?;
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
