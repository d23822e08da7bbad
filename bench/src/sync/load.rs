//! 500 simulated devices syncing at once against one server process.
//!
//! Every device is enrolled for the grid worker and starts at the cursor a
//! real device reached, so a sync carries only what happened since. One
//! device in ten is editing: each of its syncs pushes one small field edit
//! (a real Automerge change by its own actor, on a household only it
//! edits); the others push nothing and pull the editors' changes. A
//! simulated device is a loop of `POST /v1/sync` with framed bodies, as
//! the app's transport sends them: no store, so the bench's own CPU stays
//! small next to the server's on the same two cores.
//!
//! Two phases: **saturated**, every device syncing again as soon as its
//! answer arrives (500 requests always in flight), which gives the
//! server's throughput; then **paced**, every device syncing every half
//! second (1,000 syncs/s offered), which gives the latency devices see at
//! that load. On PostgreSQL, [`throughput`] then runs two more saturated
//! phases, the devices spread over one server process and then over two
//! (device i syncing through process i mod 2).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use automerge::ActorId;
use gridwork_core::doc::Author;
use gridwork_core::model::Household;
use gridwork_core::store::Store;
use gridwork_core::sync::wire::{self, DocChanges, SyncRequest, SyncResponse};
use uuid::Uuid;

use crate::figure;
use crate::server::Enrolled;

/// Simulated devices.
pub const DEVICES: usize = 500;
/// One device in this many is editing.
const EDITOR_EVERY: usize = 10;
/// Syncs per device in each phase.
const ROUNDS: usize = 10;
/// Phases a plan has edits for: saturated, paced, and the two
/// [`throughput`] phases.
const PHASES: usize = 4;
/// In the paced phase, each device syncs this often.
const PACE: Duration = Duration::from_millis(500);

/// One simulated device.
#[derive(Debug, Clone)]
struct Device {
    token: String,
    /// For an editing device: its document and one change per sync.
    edits: Option<(Uuid, Vec<Vec<u8>>)>,
}

/// The devices and where they start.
#[derive(Debug)]
pub struct Plan {
    devices: Vec<Device>,
    cursor: u64,
}

impl Plan {
    /// Prepares the devices: editors get a chain of edits of their own
    /// household, made from the store's copy with their own actor.
    pub fn new(
        store: &Store,
        enrolled: &[Enrolled],
        households: &[Uuid],
        user: &str,
        cursor: u64,
    ) -> Result<Plan> {
        let mut devices = Vec::with_capacity(enrolled.len());
        let mut next_household = households.iter();
        for (i, e) in enrolled.iter().enumerate() {
            let mut edits = None;
            if i % EDITOR_EVERY == 0 {
                let id = *next_household.next().context("too few households")?;
                let mut doc = store
                    .load(id)?
                    .with_context(|| format!("no household {id}"))?
                    .fork(ActorId::from(hex::decode(&e.actor)?));
                let mut changes = Vec::with_capacity(PHASES * ROUNDS);
                for round in 0..PHASES * ROUNDS {
                    let before = doc.heads();
                    let author = Author::new(user, jiff::Timestamp::now().as_millisecond());
                    doc.update::<Household>(&author, |h| {
                        h.address.detail = format!("第{round}次补充: 门口有台阶");
                    })?;
                    let mut new = doc.changes_since(&before);
                    ensure!(new.len() == 1, "an edit made {} changes", new.len());
                    changes.push(new[0].bytes().to_vec());
                }
                edits = Some((id, changes));
            }
            devices.push(Device {
                token: e.token.clone(),
                edits,
            });
        }
        Ok(Plan { devices, cursor })
    }
}

/// What one phase measured.
#[derive(Debug, Default)]
struct Phase {
    latencies: Vec<Duration>,
    elapsed: Duration,
    errors: u64,
    first_error: Option<String>,
    bytes: u64,
}

impl Phase {
    fn percentile_ms(&self, p: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        if sorted.is_empty() {
            return 0.0;
        }
        let index = ((sorted.len() as f64) * p).ceil() as usize;
        sorted[index.saturating_sub(1).min(sorted.len() - 1)].as_secs_f64() * 1000.0
    }

    fn per_s(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// Both phases' figures.
#[derive(Debug)]
pub struct Report {
    saturated: Phase,
    paced: Phase,
    /// Where each device's cursor stands after them.
    pub cursors: Vec<u64>,
}

impl Report {
    /// Syncs answered in both phases.
    pub fn syncs(&self) -> usize {
        self.saturated.latencies.len() + self.paced.latencies.len()
    }

    pub fn print(&self) {
        println!(
            "# server load: {DEVICES} devices on one server process, {} editing (one field \
             edit pushed per sync), {} pulling only; {ROUNDS} syncs each per phase",
            DEVICES / EDITOR_EVERY,
            DEVICES - DEVICES / EDITOR_EVERY
        );
        println!("# saturated: every device syncs again as soon as its answer arrives");
        figure(
            "server_syncs_per_s",
            self.saturated.per_s().round(),
            "syncs/s",
        );
        figure(
            "server_saturated_p50_ms",
            self.saturated.percentile_ms(0.50),
            "ms",
        );
        figure(
            "server_saturated_p99_ms",
            self.saturated.percentile_ms(0.99),
            "ms",
        );
        figure(
            "server_saturated_errors",
            self.saturated.errors as f64,
            "errors",
        );
        println!(
            "# paced: every device syncs every {} ms ({} syncs/s offered)",
            PACE.as_millis(),
            (DEVICES as f64 / PACE.as_secs_f64()).round()
        );
        figure(
            "server_paced_syncs_per_s",
            self.paced.per_s().round(),
            "syncs/s",
        );
        figure("server_p50_ms", self.paced.percentile_ms(0.50), "ms");
        figure("server_p99_ms", self.paced.percentile_ms(0.99), "ms");
        figure("server_paced_errors", self.paced.errors as f64, "errors");
        let syncs = self.syncs().max(1);
        figure(
            "server_body_bytes_per_sync",
            ((self.saturated.bytes + self.paced.bytes) as f64 / syncs as f64).round(),
            "bytes",
        );
        for (name, phase) in [("saturated", &self.saturated), ("paced", &self.paced)] {
            if let Some(e) = &phase.first_error {
                println!("# first {name} error: {e}");
            }
        }
    }
}

fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(DEVICES)
        .timeout(Duration::from_secs(60))
        .build()?)
}

fn sync_urls(servers: &[&str]) -> Vec<Arc<str>> {
    servers
        .iter()
        .map(|url| format!("{url}/v1/sync").into())
        .collect()
}

/// Runs both phases.
pub async fn run(url: &str, plan: &Plan) -> Result<Report> {
    let client = client()?;
    let urls = sync_urls(&[url]);
    let mut cursors = vec![plan.cursor; plan.devices.len()];
    let saturated = phase(&client, &urls, &plan.devices, &mut cursors, 0, None).await?;
    let paced = phase(
        &client,
        &urls,
        &plan.devices,
        &mut cursors,
        ROUNDS,
        Some(PACE),
    )
    .await?;
    Ok(Report {
        saturated,
        paced,
        cursors,
    })
}

/// After [`run`]: a saturated phase with the devices spread over
/// `servers` (processes over one database), from `cursors` on, as the
/// plan's `phase`th set of edits (2 or 3). Gives syncs per second, and
/// fails if any sync failed.
pub async fn throughput(
    servers: &[&str],
    plan: &Plan,
    cursors: &mut [u64],
    phase_index: usize,
) -> Result<f64> {
    ensure!(
        (2..PHASES).contains(&phase_index),
        "the plan has no edits for phase {phase_index}"
    );
    let client = client()?;
    let urls = sync_urls(servers);
    let done = phase(
        &client,
        &urls,
        &plan.devices,
        cursors,
        phase_index * ROUNDS,
        None,
    )
    .await?;
    ensure!(
        done.errors == 0,
        "{} syncs failed over {} processes, the first: {}",
        done.errors,
        servers.len(),
        done.first_error.unwrap_or_default()
    );
    Ok(done.per_s())
}

async fn phase(
    client: &reqwest::Client,
    urls: &[Arc<str>],
    devices: &[Device],
    cursors: &mut [u64],
    first_round: usize,
    pace: Option<Duration>,
) -> Result<Phase> {
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (device, cursor)) in devices.iter().zip(cursors.iter()).enumerate() {
        let url = urls[i % urls.len()].clone();
        let (client, device, cursor) = (client.clone(), device.clone(), *cursor);
        // Paced devices spread their syncs evenly over the period.
        let offset = pace.map(|p| p.mul_f64(i as f64 / devices.len() as f64));
        tasks.spawn(async move {
            let mut cursor = cursor;
            let mut out = Phase::default();
            for round in 0..ROUNDS {
                if let (Some(p), Some(offset)) = (pace, offset) {
                    tokio::time::sleep_until(start + offset + p * round as u32).await;
                }
                let push = match &device.edits {
                    Some((doc, changes)) => vec![DocChanges {
                        doc: *doc,
                        changes: vec![changes[first_round + round].clone()],
                    }],
                    None => Vec::new(),
                };
                let body = wire::encode(&SyncRequest::new(cursor, push, None));
                let sent = body.len() as u64;
                let t = Instant::now();
                match sync_once(&client, &url, &device.token, body).await {
                    Ok((answer, bytes)) => {
                        out.latencies.push(t.elapsed());
                        out.bytes += sent + bytes;
                        if let Some(r) = answer.rejected.first() {
                            out.errors += 1;
                            out.first_error
                                .get_or_insert_with(|| format!("{}: {:?}", r.code, r.params));
                        }
                        cursor = answer.cursor;
                    }
                    Err(e) => {
                        out.errors += 1;
                        out.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            (i, cursor, out)
        });
    }
    let mut total = Phase::default();
    while let Some(joined) = tasks.join_next().await {
        let (i, cursor, out) = joined?;
        cursors[i] = cursor;
        total.latencies.extend(out.latencies);
        total.errors += out.errors;
        total.bytes += out.bytes;
        if total.first_error.is_none() {
            total.first_error = out.first_error;
        }
    }
    total.elapsed = start.elapsed();
    Ok(total)
}

async fn sync_once(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: Vec<u8>,
) -> Result<(SyncResponse, u64)> {
    let response = client
        .post(url)
        .bearer_auth(token)
        .header(
            reqwest::header::CONTENT_TYPE,
            gridwork_core::sync::http::CONTENT_TYPE,
        )
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    ensure!(
        status.is_success(),
        "HTTP {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    Ok((wire::decode(&bytes)?, bytes.len() as u64))
}
