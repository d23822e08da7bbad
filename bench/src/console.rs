//! The console suite: the supervisor dashboard over the 50,000-record demo.
//!
//! The demo (`DemoConfig::with_total_records(1, 50_000)`) is loaded with
//! the server's own admin code, the release server is started on it, and
//! the district admin (whose subtree is the whole demo) signs in to the
//! console. The console lists from the projection tables and reads no
//! document into memory at start: `console_ready_s` is how long from
//! start until `/readyz` answers ready, `console_server_rss_mb` the
//! server's memory then. `console_dashboard_first_ms` is the first
//! dashboard after that, `console_dashboard_ms` the median of the next
//! ones;
//! `console_export_incidents_xlsx_ms` one XLSX export of every incident.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use gridwork_core::model::Role;
use gridwork_demo::{DemoConfig, generate};

use crate::figure;
use crate::server;

const PASSWORD: &str = "bench-password";
const RECORDS: usize = 50_000;

pub fn run() -> Result<()> {
    let binary = server::binary()?;
    let data = tempfile::tempdir()?;
    let demo = generate(&DemoConfig::with_total_records(1, RECORDS));
    figure("console_demo_records", demo.len() as f64, "records");
    {
        let storage = gridwork_server::storage::SqliteStorage::open(data.path())?;
        let started = Instant::now();
        let summary = gridwork_server::admin::load_demo(&storage, &demo, PASSWORD)?;
        ensure!(
            summary.skipped.is_empty(),
            "load_demo skipped {:?}",
            summary.skipped
        );
        figure("console_load_demo_s", started.elapsed().as_secs_f64(), "s");
    }
    let admin = demo
        .users
        .iter()
        .find(|u| u.role == Role::Admin)
        .context("the demo has an admin")?
        .id
        .clone();
    let started = Instant::now();
    let server = server::Server::start(&binary, data.path(), None)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let ready = server.ready(started).await?;
        figure("console_ready_s", ready.as_secs_f64(), "s");
        figure("console_server_rss_mb", server.rss_mib()?, "MiB");
        let console = server::Console::sign_in(server.url(), &admin, PASSWORD).await?;
        let (first, body) = console.timed("/dashboard").await?;
        let dash: serde_json::Value = serde_json::from_slice(&body)?;
        figure(
            "console_dashboard_incidents",
            dash["incidents"].as_f64().unwrap_or(0.0),
            "records",
        );
        figure("console_dashboard_first_ms", ms(first), "ms");
        let mut warm = Vec::new();
        for _ in 0..5 {
            warm.push(console.timed("/dashboard").await?.0);
        }
        warm.sort();
        figure("console_dashboard_ms", ms(warm[warm.len() / 2]), "ms");
        let (export, bytes) = console.timed("/lists/incidents/export?format=xlsx").await?;
        figure("console_export_incidents_xlsx_ms", ms(export), "ms");
        figure(
            "console_export_incidents_xlsx_bytes",
            bytes.len() as f64,
            "bytes",
        );
        Ok::<_, anyhow::Error>(())
    })?;
    drop(server);
    Ok(())
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round()
}
