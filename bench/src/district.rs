//! The district suite (issue #13): a district-sized demo (default
//! 1,000,000 records: several streets, their communities and grids) on
//! each backend asked for, with the console used as a district admin and
//! one grid's new device syncing.
//!
//! For each backend, every figure named `name[backend]`:
//! - `district_load_s`: `gridwork-server load-demo --records N`, the
//!   server's own admin command, from start to exit (the demo generated
//!   inside it); `district_records` what it stored;
//! - `server_ready_s`: the release server from start until `/readyz`
//!   answers ready; `server_rss_mb_ready` its memory then;
//! - `console_dashboard_p95_ms`: the district admin's dashboard, 20 times
//!   (the first included);
//! - `console_ledger_page_p95_ms`: ledger pages filtered by street,
//!   community or grid and by status, at several offsets, 4 rounds of 7;
//! - `console_export_xlsx_s`: the residents ledger of the first street
//!   as XLSX (about 100,000 rows at 1,000,000 records: a street holds
//!   about a sixth of the district), `console_export_xlsx_rows` its rows;
//! - `server_rss_mb`: the server's memory after all that;
//! - `initial_sync_s`: the first grid's worker on a new device pulling
//!   the grid, `initial_sync_records` what it pulled.
//!
//! PostgreSQL is a throwaway server of the bench's own (`postgres.rs`),
//! one database per run.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use automerge::ActorId;
use gridwork_core::store::Store;
use gridwork_core::sync::client::SyncClient;
use gridwork_core::sync::http::{HttpTransport, login};

use crate::postgres::Postgres;
use crate::server::{self, Console, Server};
use crate::{Backend, figure, name_figures_for, p95_ms};

/// The demo users' password.
const PASSWORD: &str = "bench-password";
/// Records when `--records` is not given.
const DEFAULT_RECORDS: usize = 1_000_000;
/// The district admin (the demo's, whose subtree is the district).
const ADMIN: &str = "admin";
/// The first street, its first community and grid (the demo's codes).
const STREET: &str = "440106001";
const COMMUNITY: &str = "440106001001";
const GRID: &str = "440106001001001";

/// The first grid's worker.
fn worker() -> String {
    format!("gw-{GRID}")
}

/// The ledger pages timed: each list filtered by street, community or
/// grid and by status, at several offsets.
fn ledger_pages() -> Vec<String> {
    vec![
        format!("/lists/incidents?grid={STREET}&limit=50&offset=0"),
        "/lists/incidents?status=closed&limit=50&offset=100".into(),
        format!("/lists/residents?grid={COMMUNITY}&limit=50&offset=200"),
        "/lists/households?status=pending&limit=50&offset=1000".into(),
        format!("/lists/residents?grid={STREET}&status=accepted&limit=50&offset=5000"),
        format!("/lists/households?grid={GRID}&limit=50&offset=50"),
        "/lists/queue?kind=resident&limit=50&offset=50".into(),
    ]
}

pub fn run(backend: Option<Backend>, records: Option<usize>, kept: Option<&Path>) -> Result<()> {
    let records = records.unwrap_or(DEFAULT_RECORDS);
    let backends = match backend {
        Some(b) => vec![b],
        None if crate::postgres::installed().is_some() => {
            vec![Backend::Sqlite, Backend::Postgres]
        }
        None => {
            println!("# PostgreSQL is not installed: SQLite only");
            vec![Backend::Sqlite]
        }
    };
    let binary = server::binary()?;
    for backend in backends {
        println!(
            "# district of about {records} records on {}",
            backend.as_str()
        );
        name_figures_for(Some(backend));
        let done = on(&binary, backend, records, kept);
        name_figures_for(None);
        done?;
    }
    Ok(())
}

/// The whole suite on one backend. Its data is removed at the end, unless
/// `kept` names a directory to keep the loaded SQLite server in: a later
/// run with the same directory reuses it (no `district_load_s`), and
/// PostgreSQL gets a copy of it (`district_copy_s`).
fn on(binary: &Path, backend: Backend, records: usize, kept: Option<&Path>) -> Result<()> {
    let temporary = tempfile::tempdir()?;
    let postgres = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(Postgres::start()?),
    };
    let database_url = match &postgres {
        Some(pg) => Some(pg.create_database("district")?),
        None => None,
    };
    let database_url = database_url.as_deref();

    let data = match kept {
        Some(dir) => {
            if dir.join(SQLITE_FILE).exists() {
                println!("# reusing the server loaded in {}", dir.display());
            } else {
                std::fs::create_dir_all(dir)?;
                load(binary, dir, None, records)?;
            }
            if let Some(url) = database_url {
                let started = Instant::now();
                admin(binary, dir, None, &["copy-to-postgres", "--to", url])?;
                figure("district_copy_s", started.elapsed().as_secs_f64(), "s");
            }
            dir
        }
        None => {
            load(binary, temporary.path(), database_url, records)?;
            temporary.path()
        }
    };

    let started = Instant::now();
    let server = Server::start(binary, data, database_url)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let ready = server.ready(started).await?;
        figure("server_ready_s", ready.as_secs_f64(), "s");
        figure("server_rss_mb_ready", server.rss_mib()?, "MiB");

        let console = Console::sign_in(server.url(), ADMIN, PASSWORD).await?;
        let mut samples = Vec::new();
        for _ in 0..20 {
            samples.push(console.timed("/dashboard").await?.0);
        }
        figure("console_dashboard_first_ms", ms(samples[0]), "ms");
        figure("console_dashboard_p95_ms", p95_ms(&mut samples), "ms");

        let mut samples = Vec::new();
        for _ in 0..4 {
            for page in ledger_pages() {
                samples.push(console.timed(&page).await?.0);
            }
        }
        figure("console_ledger_page_p95_ms", p95_ms(&mut samples), "ms");

        let (_, body) = console
            .timed(&format!("/lists/residents?grid={STREET}&limit=1"))
            .await?;
        let rows = serde_json::from_slice::<serde_json::Value>(&body)?["total"]
            .as_f64()
            .context("a ledger page's total")?;
        let (took, file) = console
            .timed(&format!(
                "/lists/residents/export?format=xlsx&grid={STREET}"
            ))
            .await?;
        figure("console_export_xlsx_s", took.as_secs_f64(), "s");
        figure("console_export_xlsx_rows", rows, "rows");
        figure("console_export_xlsx_bytes", file.len() as f64, "bytes");
        figure("server_rss_mb", server.rss_mib()?, "MiB");

        let (took, pulled) = initial_sync(server.url()).await?;
        figure("initial_sync_s", took.as_secs_f64(), "s");
        figure("initial_sync_records", pulled as f64, "records");
        Ok::<_, anyhow::Error>(())
    })?;
    drop(server);
    drop(postgres);
    Ok(())
}

/// The server's SQLite file in its data directory.
const SQLITE_FILE: &str = "gridwork.sqlite";

/// `gridwork-server load-demo --records N`, the admin command as an
/// operator would run it, into `data` (or the database at `url`), timed
/// as `district_load_s`.
fn load(binary: &Path, data: &Path, url: Option<&str>, records: usize) -> Result<()> {
    let started = Instant::now();
    let records = records.to_string();
    let said = admin(
        binary,
        data,
        url,
        &["load-demo", "--records", &records, "--password", PASSWORD],
    )?;
    figure("district_load_s", started.elapsed().as_secs_f64(), "s");
    if let Some(stored) = stored_records(&said) {
        figure("district_records", stored as f64, "records");
    }
    Ok(())
}

/// Runs an admin command of the server on `data` (and the database at
/// `url`): what it printed.
fn admin(binary: &Path, data: &Path, url: Option<&str>, args: &[&str]) -> Result<String> {
    let mut command = Command::new(binary);
    if let Some(url) = url {
        command.env(server::DATABASE_URL_ENV, url);
    }
    let out = command
        .arg("--data")
        .arg(data)
        .args(["--log-level", "error"])
        .args(args)
        .output()
        .with_context(|| format!("running gridwork-server {}", args[0]))?;
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure!(
        out.status.success(),
        "gridwork-server {} failed: {said}{}",
        args[0],
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(said)
}

/// The first grid's worker signs in on a new device and pulls the grid:
/// how long, and how many records came.
async fn initial_sync(url: &str) -> Result<(Duration, usize)> {
    let device = tempfile::tempdir()?;
    let login = login(url, &worker(), PASSWORD, "bench tablet").await?;
    let actor = ActorId::from(hex::decode(&login.actor_id)?);
    let mut store = Store::open(device.path().join("device.sqlite"), actor)?;
    let transport = HttpTransport::new(url, &login.token)?;
    let client = SyncClient::default();
    let started = Instant::now();
    let mut pulled = 0;
    loop {
        let progress = client.sync(&mut store, &transport, |_| {}).await?;
        pulled += progress.changed.len();
        if !progress.more {
            break;
        }
    }
    Ok((started.elapsed(), pulled))
}

/// The records `load-demo` says it stored (`records stored: N (…)`).
fn stored_records(said: &str) -> Option<u64> {
    said.lines()
        .find_map(|l| l.strip_prefix("records stored: "))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_count_is_read_from_load_demos_summary() {
        let said = "imported 120 grids\nrecords stored: 19876 (households 3000, residents 7800)\n";
        assert_eq!(stored_records(said), Some(19_876));
        assert_eq!(stored_records("records already there: 5 (x)\n"), None);
    }

    #[test]
    fn the_pages_filter_within_the_first_street() {
        assert!(COMMUNITY.starts_with(STREET) && GRID.starts_with(COMMUNITY));
        assert_eq!(worker(), "gw-440106001001001");
        assert!(ledger_pages().iter().all(|p| p.contains("limit=50")));
    }
}
