//! The sync suite: devices with real stores syncing with a real
//! `gridwork-server` process on loopback, byte counts taken at the
//! transport, and 500 simulated devices syncing at once.
//!
//! One server, one data directory, in this order:
//! 1. the data directory is filled with the server's own admin code
//!    (`load_demo`) with one grid of 2,000 households, 6,000 residents and
//!    1,000 incidents, and the release server is started on it;
//! 2. a new device (the grid worker's) pulls the grid: `initial_sync_*`,
//!    and `compacted_docs_bytes` (every pulled document's `save()`);
//! 3. it saves 1,000 new records and pushes them: `upload_1000_*`;
//! 4. with 10,000 documents on it, it syncs with nothing changed:
//!    `sync_idle_*`; the same documents with Automerge's per-document sync
//!    protocol: `automerge_per_doc_idle_body_bytes`;
//! 5. one small field edit: `sync_edit_*`;
//! 6. 500 simulated devices sync at once: `server_*`;
//! 7. the photo pipeline: `photo_upload_*` (one photo through the real
//!    server), `photo_prepare_*`.
//!
//! Between steps 2 and 3, new devices pull the grid over a village's link
//! and over `lan`, and at the end each syncs a day's work over its link
//! (`link.rs`: `initial_sync_<link>_s`, `resent_bytes_after_cut`,
//! `day_sync_<link>_s`).
//!
//! With `--backend postgres` the same, the server on a database of a
//! throwaway PostgreSQL (figures named `name[postgres]`), and after step 6
//! two more saturated runs of the 500 devices: through one process
//! (`one_process_syncs_per_s`), then through two processes over the same
//! database, every other device on each (`two_process_syncs_per_s`, and
//! their ratio `two_process_speedup`; the goal is at least 1.6).

mod link;
mod load;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use automerge::ActorId;
use automerge::sync::{State, SyncDoc};
use gridwork_core::doc::Author;
use gridwork_core::model::{AnyRecord, Household, PhotoRole};
use gridwork_core::store::Store;
use gridwork_core::sync::blobs::{BlobTransport, sync_photos};
use gridwork_core::sync::client::{Frames, SyncClient, Transport, TransportError};
use gridwork_core::sync::http::{HttpTransport, login};
use gridwork_demo::{DemoConfig, generate};
use uuid::Uuid;

use crate::server;
use crate::{Backend, figure, name_figures_for};

/// The demo users' password in the bench's data directory.
const PASSWORD: &str = "bench-password";

/// Counts request and response body bytes and round trips.
#[derive(Debug)]
struct Counting {
    inner: HttpTransport,
    tally: Arc<Mutex<Tally>>,
}

/// What [`Counting`] counted since it was last asked.
#[derive(Debug, Default)]
struct Tally {
    sent: u64,
    received: u64,
    trips: u64,
    /// The largest batch: a request's body with the first frame of its
    /// answer, or a later page of a streamed answer.
    largest: u64,
    /// The bytes of the exchange being read, up to its last whole page
    /// (each page with its 4-byte length): stored, so never sent again.
    kept: u64,
    /// For every exchange that failed, what it had kept by then.
    kept_when_failed: Vec<u64>,
}

impl Tally {
    /// A request of `sent` bytes leaves: a new exchange.
    fn start(&mut self, sent: usize) {
        self.sent += sent as u64;
        self.trips += 1;
        self.kept = 0;
    }

    /// A frame of `size` bytes taken from an answer (the first, to a
    /// request of `sent`), or `None`, the failure that ended it.
    fn take(&mut self, size: Option<usize>, first: bool, sent: usize) {
        match size {
            Some(size) => {
                let batch = if first { sent + size } else { size };
                self.received += size as u64;
                self.largest = self.largest.max(batch as u64);
                self.kept += size as u64 + 4;
            }
            None => self.kept_when_failed.push(self.kept),
        }
    }
}

impl Counting {
    fn new(inner: HttpTransport) -> Counting {
        Counting {
            inner,
            tally: Arc::default(),
        }
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// (request bytes, response bytes, round trips) since the last call.
    fn take(&self) -> (u64, u64, u64) {
        let mut t = self.tally();
        (
            std::mem::take(&mut t.sent),
            std::mem::take(&mut t.received),
            std::mem::take(&mut t.trips),
        )
    }

    /// The largest batch since the last call.
    fn take_largest(&self) -> u64 {
        std::mem::take(&mut self.tally().largest)
    }

    /// For every exchange that failed since the last call, the bytes it
    /// had carried of whole pages, which were stored.
    fn take_kept_when_failed(&self) -> Vec<u64> {
        std::mem::take(&mut self.tally().kept_when_failed)
    }

    fn count(&self, sent: usize, answer: &[u8]) {
        let mut t = self.tally();
        t.start(sent);
        t.take(Some(answer.len()), true, sent);
    }
}

impl Transport for Counting {
    async fn exchange(&self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        let sent = body.len();
        let answer = self.inner.exchange(body).await?;
        self.count(sent, &answer);
        Ok(answer)
    }

    async fn exchange_pages(&self, body: Vec<u8>) -> Result<Frames, TransportError> {
        let sent = body.len();
        self.tally().start(sent);
        let frames = self.inner.exchange_pages(body).await.inspect_err(|_| {
            self.tally().kept_when_failed.push(0);
        })?;
        let tally = self.tally.clone();
        let mut first = true;
        Ok(frames.watched(move |frame| {
            let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
            t.take(frame.as_ref().ok().map(Vec::len), first, sent);
            first = false;
        }))
    }

    async fn repair(&self, doc: uuid::Uuid, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        let sent = body.len();
        let answer = self.inner.repair(doc, body).await?;
        self.count(sent, &answer);
        Ok(answer)
    }
}

/// The grid a new device pulls: 2,000 households, about 6,000 residents,
/// 1,000 incidents, in one grid.
fn grid_config(seed: u64, households: u32, incidents: u32) -> DemoConfig {
    DemoConfig {
        seed,
        communities: 1,
        grids_per_community: 1,
        households_per_grid: households,
        residents_per_household: 3.04,
        incidents_per_grid: incidents,
        patrols_per_grid: 0,
        visits_per_grid: 0,
        ..DemoConfig::default()
    }
}

/// The suite; `link` names the village's link profile (`2g`, `3g`,
/// `lan`) measured beside `lan`.
pub fn run(backend: Backend, link: &str) -> Result<()> {
    let binary = server::binary()?;
    let data = tempfile::tempdir()?;
    let postgres = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(crate::postgres::Postgres::start()?),
    };
    let database_url = match &postgres {
        Some(pg) => Some(pg.create_database("sync")?),
        None => None,
    };
    let database_url = database_url.as_deref();
    name_figures_for((backend == Backend::Postgres).then_some(backend));
    let done = run_on(&binary, data.path(), database_url, link);
    name_figures_for(None);
    done?;
    drop(postgres);
    photos()
}

fn run_on(
    binary: &std::path::Path,
    data: &std::path::Path,
    database_url: Option<&str>,
    link: &str,
) -> Result<()> {
    let cfg = grid_config(1, 2_000, 1_000);
    let demo = generate(&cfg);
    figure("grid_households", demo.households.len() as f64, "records");
    figure("grid_residents", demo.residents.len() as f64, "records");
    figure("grid_incidents", demo.incidents.len() as f64, "records");
    let worker = demo
        .users
        .iter()
        .find(|u| u.role == gridwork_core::model::Role::GridWorker)
        .context("the demo has no grid worker")?
        .clone();
    let simulated = {
        let storage = server::open_storage(data, database_url)?;
        let started = Instant::now();
        let summary = gridwork_server::admin::load_demo(storage.as_ref(), &demo, PASSWORD)?;
        ensure!(
            summary.skipped.is_empty(),
            "load_demo skipped {:?}",
            summary.skipped
        );
        figure("server_load_demo_s", started.elapsed().as_secs_f64(), "s");
        server::enrol(storage.as_ref(), &worker.id, &worker.grid, load::DEVICES)?
    };
    let server = server::Server::start(binary, data, database_url)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    let device_dir = tempfile::tempdir()?;
    let mut store;
    let transport;
    let blobs;
    {
        let login = runtime.block_on(login(server.url(), &worker.id, PASSWORD, "bench tablet"))?;
        let actor = ActorId::from(hex::decode(&login.actor_id)?);
        store = Store::open(device_dir.path().join("device.sqlite"), actor)?;
        transport = Counting::new(HttpTransport::new(server.url(), &login.token)?);
        blobs = BlobTransport::new(server.url(), &login.token)?;
    }
    let client = SyncClient::default();

    // 2. A new device pulls the grid. CPU seconds beside the wall clock:
    // on a busy machine they say more than the wall clock does.
    let started = Instant::now();
    let (device_cpu, server_cpu) = (server::cpu_s("/proc/self/stat")?, server.cpu_s()?);
    let progress = runtime.block_on(client.sync(&mut store, &transport, |_| {}))?;
    let took = started.elapsed();
    figure(
        "initial_sync_device_cpu_s",
        server::cpu_s("/proc/self/stat")? - device_cpu,
        "s",
    );
    figure(
        "initial_sync_server_cpu_s",
        server.cpu_s()? - server_cpu,
        "s",
    );
    let (sent, received, trips) = transport.take();
    ensure!(!progress.more, "the first sync stopped early");
    figure("initial_sync_s", took.as_secs_f64(), "s");
    figure("initial_sync_body_bytes", (sent + received) as f64, "bytes");
    figure("initial_sync_round_trips", trips as f64, "round trips");
    let ids: Vec<Uuid> = demo.records().map(|r| r.meta().id).collect();
    ensure!(
        progress.changed.len() == ids.len(),
        "pulled {} of {} records",
        progress.changed.len(),
        ids.len()
    );
    figure(
        "initial_sync_body_bytes_per_doc",
        (sent + received) as f64 / ids.len() as f64,
        "bytes",
    );
    figure(
        "compacted_docs_bytes",
        compacted_bytes(&store, &ids)? as f64,
        "bytes",
    );

    // The same pull over a village's link and over lan, and cut.
    let target = link::Target {
        runtime: &runtime,
        server: server.url(),
        worker: &worker.id,
    };
    let mut link_devices = link::first_syncs(target, link, ids.len())?;

    // 3. 1,000 new records saved on the device, then pushed.
    let fresh: Vec<AnyRecord> = generate(&grid_config(2, 260, 0))
        .into_records()
        .take(1_000)
        .map(|mut r| {
            // New records as the worker saves them: no supervisor's
            // review yet (the server refuses a review in another's name).
            let meta = match &mut r {
                AnyRecord::Household(x) => {
                    x.review.clear();
                    &mut x.meta
                }
                AnyRecord::Resident(x) => {
                    x.review.clear();
                    &mut x.meta
                }
                AnyRecord::Incident(x) => &mut x.meta,
                AnyRecord::Patrol(x) => &mut x.meta,
                AnyRecord::Visit(x) => {
                    x.review.clear();
                    &mut x.meta
                }
                AnyRecord::Task(x) => &mut x.meta,
                AnyRecord::IncidentParties(x) => &mut x.meta,
            };
            meta.grid = worker.grid.clone();
            meta.created_by = worker.id.clone();
            r
        })
        .collect();
    let fresh_ids: Vec<Uuid> = fresh.iter().map(|r| r.meta().id).collect();
    let author = Author::new(worker.id.clone(), jiff::Timestamp::now().as_millisecond());
    store.insert_all(fresh, &author, cfg.today())?;
    let started = Instant::now();
    let progress = runtime.block_on(client.sync(&mut store, &transport, |_| {}))?;
    let took = started.elapsed();
    let (sent, received, trips) = transport.take();
    ensure!(
        progress.rejected.is_empty() && progress.pending == 0,
        "upload refused: {:?}",
        progress.rejected.first()
    );
    figure("upload_1000_s", took.as_secs_f64(), "s");
    figure("upload_1000_body_bytes", (sent + received) as f64, "bytes");
    figure("upload_1000_round_trips", trips as f64, "round trips");
    figure(
        "upload_1000_compacted_docs_bytes",
        compacted_bytes(&store, &fresh_ids)? as f64,
        "bytes",
    );

    // 4. Nothing changed, 10,000 documents on the device.
    let all: Vec<Uuid> = ids.iter().chain(&fresh_ids).copied().collect();
    figure("sync_idle_docs", all.len() as f64, "documents");
    runtime.block_on(client.sync(&mut store, &transport, |_| {}))?;
    let (sent, received, trips) = transport.take();
    figure("sync_idle_body_bytes", (sent + received) as f64, "bytes");
    figure("sync_idle_round_trips", trips as f64, "round trips");
    let (am_bytes, am_trips) = automerge_idle(&store, &all)?;
    figure(
        "automerge_per_doc_idle_body_bytes",
        am_bytes as f64,
        "bytes",
    );
    figure(
        "automerge_per_doc_idle_messages",
        am_trips as f64,
        "messages",
    );
    figure(
        "automerge_per_doc_idle_ratio",
        (am_bytes as f64 / (sent + received).max(1) as f64).round(),
        "x",
    );

    // 5. One small field edit.
    let household = demo.households[0].meta.id;
    store.update::<Household>(household, &author, cfg.today(), |h| {
        h.address.detail = "门口有台阶".into();
    })?;
    let progress = runtime.block_on(client.sync(&mut store, &transport, |_| {}))?;
    let (sent, received, trips) = transport.take();
    ensure!(progress.changes_sent == 1, "the edit was not sent alone");
    figure("sync_edit_body_bytes", sent as f64, "bytes");
    figure("sync_edit_response_bytes", received as f64, "bytes");
    figure("sync_edit_round_trips", trips as f64, "round trips");

    // 6. 500 devices at once.
    let cursor = store.sync_cursor()?;
    let edited: Vec<Uuid> = demo.households[1..].iter().map(|h| h.meta.id).collect();
    let plan = load::Plan::new(&store, &simulated, &edited, &worker.id, cursor)?;
    figure("server_rss_mb_start", server.rss_mib()?, "MiB");
    let cpu = server.cpu_s()?;
    let mut report = runtime.block_on(load::run(server.url(), &plan))?;
    let cpu = server.cpu_s()? - cpu;
    figure("server_rss_mb_end", server.rss_mib()?, "MiB");
    report.print();
    figure(
        "server_cpu_ms_per_sync",
        cpu * 1000.0 / report.syncs().max(1) as f64,
        "ms",
    );
    if database_url.is_some() {
        // One process, then two over the same database, in the same run.
        let second = server::Server::start(binary, data, database_url)?;
        runtime.block_on(second.ready(Instant::now()))?;
        println!("# the 500 devices saturating one process, then two over one database");
        let one = runtime.block_on(load::throughput(
            &[server.url()],
            &plan,
            &mut report.cursors,
            2,
        ))?;
        let two = runtime.block_on(load::throughput(
            &[server.url(), second.url()],
            &plan,
            &mut report.cursors,
            3,
        ))?;
        figure("one_process_syncs_per_s", one.round(), "syncs/s");
        figure("two_process_syncs_per_s", two.round(), "syncs/s");
        figure("two_process_speedup", two / one.max(f64::MIN_POSITIVE), "x");
    }

    // 7. Photos: one camera photo prepared on the device and uploaded.
    let original = gridwork_core::media::synthetic_photo(4000, 3000, 7);
    let photo = store.add_photo(&original, PhotoRole::Before, None)?;
    // Only photos a record references are uploaded: the door plate's,
    // its record synced first as the app does.
    store.update::<Household>(household, &author, cfg.today(), |h| {
        h.door_plate_photo = Some(photo);
    })?;
    runtime.block_on(client.sync(&mut store, &transport, |_| {}))?;
    let progress = runtime.block_on(sync_photos(&mut store, &blobs))?;
    ensure!(progress.sent > 0, "no photo was uploaded: {progress:?}");
    ensure!(
        progress.pending == 0 && progress.refused.is_empty(),
        "the photo upload did not finish: {progress:?}"
    );
    figure("photo_upload_bytes", progress.bytes_sent as f64, "bytes");
    figure("photo_upload_blobs", progress.sent as f64, "blobs");

    // A day's work over each link (each device catches up first).
    let households: Vec<Uuid> = demo.households[100..].iter().map(|h| h.meta.id).collect();
    link::day_syncs(target, &mut link_devices, &households, cfg.today())?;
    drop(link_devices);
    drop(server);
    Ok(())
}

/// The documents' compacted size: every `save()`, summed.
fn compacted_bytes(store: &Store, ids: &[Uuid]) -> Result<usize> {
    let mut total = 0;
    for id in ids {
        let mut doc = store
            .load(*id)?
            .with_context(|| format!("no record {id}"))?;
        total += doc.save().len();
    }
    Ok(total)
}

/// Automerge's per-document sync between two peers that are already in
/// sync, for every document: messages exchanged until neither has more,
/// their encoded bytes summed.
fn automerge_idle(store: &Store, ids: &[Uuid]) -> Result<(usize, usize)> {
    let mut bytes = 0;
    let mut messages = 0;
    for id in ids {
        let mut doc = store
            .load(*id)?
            .with_context(|| format!("no record {id}"))?;
        let mut peer = doc.fork(ActorId::random());
        let (a, b) = (doc.automerge(), peer.automerge());
        let (mut sa, mut sb) = (State::new(), State::new());
        for round in 0.. {
            if round > 10 {
                bail!("per-document sync of {id} did not settle");
            }
            let mut quiet = true;
            if let Some(m) = a.sync().generate_sync_message(&mut sa) {
                bytes += m.clone().encode().len();
                messages += 1;
                b.sync().receive_sync_message(&mut sb, m)?;
                quiet = false;
            }
            if let Some(m) = b.sync().generate_sync_message(&mut sb) {
                bytes += m.clone().encode().len();
                messages += 1;
                a.sync().receive_sync_message(&mut sa, m)?;
                quiet = false;
            }
            if quiet {
                break;
            }
        }
    }
    Ok((bytes, messages))
}

/// A 4000×3000 camera photo to an upload-ready JPEG and thumbnail.
fn photos() -> Result<()> {
    let mut samples = Vec::new();
    let mut bytes = 0;
    let mut photo = 0;
    for seed in 1..=5 {
        let original = gridwork_core::media::synthetic_photo(4000, 3000, seed);
        let started = Instant::now();
        let prepared = gridwork_core::media::prepare(&original)?;
        samples.push(started.elapsed());
        photo = prepared.photo.bytes.len();
        bytes = photo + prepared.thumbnail.bytes.len();
    }
    samples.sort();
    figure(
        "photo_prepare_ms",
        samples[samples.len() / 2].as_secs_f64() * 1000.0,
        "ms",
    );
    figure("photo_prepare_bytes", bytes as f64, "bytes");
    figure("photo_jpeg_bytes", photo as f64, "bytes");
    Ok(())
}
