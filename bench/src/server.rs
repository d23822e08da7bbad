//! A real `gridwork-server` process for the suites: the release binary
//! started on a free loopback port over a data directory (and, for
//! PostgreSQL, a database URL), waited for until `/readyz` answers, its
//! memory and CPU read from `/proc`; devices enrolled straight into its
//! storage; a console session signed in.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use gridwork_server::auth::{new_actor_hex, new_token};
use gridwork_server::storage::{NewDevice, ServedScope, Storage};

/// The environment variable that points a server at PostgreSQL.
pub const DATABASE_URL_ENV: &str = "GRIDWORK_DATABASE_URL";

/// The storage of `data` (and `database_url`, for PostgreSQL), made or
/// migrated if needed, as the server's admin commands open it.
pub fn open_storage(
    data: &Path,
    database_url: Option<&str>,
) -> Result<std::sync::Arc<dyn Storage>> {
    Ok(gridwork_server::storage::open(data, database_url, 4)?)
}

/// The release `gridwork-server` binary, built with the features the
/// bench itself was built with (both packages in one build, so nothing is
/// compiled twice); or the one `GRIDWORK_SERVER_BIN` names, as for the
/// tests (a build kept aside, to measure a change against it in one run).
pub fn binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("GRIDWORK_SERVER_BIN") {
        return Ok(PathBuf::from(path));
    }
    let built = escargot::CargoBuild::new()
        .package("gridwork-server")
        .bin("gridwork-server")
        .arg("--package")
        .arg("gridwork-bench")
        .release()
        .run()
        .context("building gridwork-server")?;
    Ok(built.path().to_path_buf())
}

/// A device enrolled straight into the server's database, as a login
/// would (a login's argon2 check is not what this suite measures).
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub token: String,
    pub actor: String,
}

/// Enrols `n` devices for `user` (whose grid is `grid`).
pub fn enrol(storage: &dyn Storage, user: &str, grid: &str, n: usize) -> Result<Vec<Enrolled>> {
    let path = storage
        .grid_path(grid)?
        .with_context(|| format!("grid {grid} is not in the data directory"))?;
    let scope = ServedScope {
        epoch: 0,
        root: grid.to_string(),
        grids_version: storage.grids_version()?,
        grids: storage.subtree_codes(&path)?,
    };
    let now = jiff::Timestamp::now().as_millisecond();
    let mut devices = Vec::with_capacity(n);
    for i in 0..n {
        let (token, token_hash) = new_token();
        let actor = new_actor_hex();
        storage.enrol_device(&NewDevice {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user.to_string(),
            name: format!("bench device {i}"),
            token_hash,
            actor: actor.clone(),
            created_at: now,
            scope: scope.clone(),
        })?;
        devices.push(Enrolled { token, actor });
    }
    Ok(devices)
}

/// A running server process; killed on drop.
#[derive(Debug)]
pub struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Starts `binary` on `data` (and `database_url`, for PostgreSQL),
    /// on a free loopback port, and waits for its "listening on" line.
    pub fn start(binary: &Path, data: &Path, database_url: Option<&str>) -> Result<Server> {
        let mut command = Command::new(binary);
        if let Some(url) = database_url {
            command.env(DATABASE_URL_ENV, url);
        }
        let mut child = command
            .arg("--data")
            .arg(data)
            .arg("--log-level")
            .arg("error")
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting gridwork-server")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        // Keep reading, so a later line never meets a closed pipe.
        std::thread::spawn(move || reader.lines().for_each(drop));
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            bail!("gridwork-server did not start: {line:?}");
        };
        Ok(Server {
            url: url.to_string(),
            child,
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Waits until `/readyz` answers ready (at most ten minutes), and
    /// says how long since `started`.
    pub async fn ready(&self, started: Instant) -> Result<Duration> {
        let http = reqwest::Client::new();
        let ready = format!("{}/readyz", self.url);
        loop {
            if let Ok(r) = http.get(&ready).send().await
                && r.status().is_success()
            {
                return Ok(started.elapsed());
            }
            ensure!(
                started.elapsed() < Duration::from_secs(600),
                "the server never got ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// CPU time (user + system) the process has used, in seconds.
    pub fn cpu_s(&self) -> Result<f64> {
        cpu_s(&format!("/proc/{}/stat", self.child.id()))
    }

    /// The process's resident memory, in MiB (`VmRSS`).
    pub fn rss_mib(&self) -> Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .context("no VmRSS in /proc/PID/status")?
            .parse()?;
        Ok(kib / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User + system CPU seconds from a `/proc/PID/stat` file (clock ticks of
/// 1/100 s, Linux's `USER_HZ`).
pub fn cpu_s(stat: &str) -> Result<f64> {
    let text = std::fs::read_to_string(stat)?;
    // Fields after the command name, which may hold spaces: state is the
    // first, utime the 12th, stime the 13th.
    let rest = text.rsplit_once(") ").context("a /proc stat line")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> Result<f64> {
        Ok(fields
            .get(i)
            .context("a short /proc stat line")?
            .parse::<f64>()?)
    };
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

/// A console session: the console API's base URL and the session cookie
/// a sign-in set.
#[derive(Debug, Clone)]
pub struct Console {
    pub http: reqwest::Client,
    pub base: String,
    cookie: String,
}

impl Console {
    /// Signs `user` in to the console of the server at `url`.
    pub async fn sign_in(url: &str, user: &str, password: &str) -> Result<Console> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(900))
            .build()?;
        let base = format!("{url}/console/api");
        let login = http
            .post(format!("{base}/login"))
            .header("x-gridwork-console", "1")
            .json(&serde_json::json!({"user": user, "password": password}))
            .send()
            .await?;
        ensure!(
            login.status().is_success(),
            "console sign-in: {}",
            login.status()
        );
        let cookie = login
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .context("a session cookie")?
            .to_string();
        Ok(Console { http, base, cookie })
    }

    /// `GET` a console API path (from `/dashboard` on): how long it took
    /// and the body; an error unless it succeeded.
    pub async fn timed(&self, path: &str) -> Result<(Duration, Vec<u8>)> {
        let started = Instant::now();
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await?;
        ensure!(r.status().is_success(), "{path}: {}", r.status());
        let body = r.bytes().await?.to_vec();
        Ok((started.elapsed(), body))
    }
}
