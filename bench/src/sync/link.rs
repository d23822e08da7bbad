//! The sync suite over a village's link: new devices, each behind its own
//! proxy (the tests' fault proxy, `gridwork_tests::proxy`) shaped as a
//! [`Link`] profile, with the real client, its real retry path
//! (`SyncClient::sync_with_retry`) and the real server.
//!
//! Every figure here is measured over the link asked for (`--link`, `2g`
//! by default) and over `lan` as the baseline, in the same run; a slow
//! link's steps run once each, and say how far they are on stderr.
//!
//! - [`first_syncs`], right after the suite's own first sync and before
//!   anything changes on the server: a new device pulls the grid over each
//!   link (`initial_sync_<link>_s`), then another pulls it over the asked
//!   link while the link is cut five times, at even steps of the bytes the
//!   clean pull took (`resent_bytes_after_cut`: the bytes the link carried
//!   beyond the clean pull's). These only read, so the suite's other
//!   figures stay as they were.
//! - [`day_syncs`], at the end of the suite: each link's device catches up
//!   straight with the server (not over its link: the day's sync carries
//!   the day's work only), then saves 20 household edits, 10 of them with
//!   a new door-plate photo of about 150 KB, and syncs records and photos
//!   over its link (`day_sync_<link>_s`).

use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use automerge::ActorId;
use gridwork_core::doc::Author;
use gridwork_core::model::{Household, PhotoRole};
use gridwork_core::store::Store;
use gridwork_core::sync::blobs::{BlobTransport, PhotoProgress, sync_photos};
use gridwork_core::sync::client::SyncClient;
use gridwork_core::sync::http::{HttpTransport, login};
use gridwork_tests::proxy::{Faults, Link, Proxy};
use tokio::runtime::Runtime;
use uuid::Uuid;

use super::{Counting, PASSWORD};
use crate::figure;

/// How often the pull over the asked link is cut.
const CUTS: u64 = 5;
/// A day's household edits, and how many of them bring a photo.
const DAY_EDITS: usize = 20;
const DAY_PHOTOS: usize = 10;
/// About how large a day's photo is, upload-ready.
const DAY_PHOTO_BYTES: usize = 150_000;

/// Where the link devices sync to, as whom.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub runtime: &'a Runtime,
    /// The server's own URL (the proxies forward to it).
    pub server: &'a str,
    pub worker: &'a str,
}

/// A new device behind a proxy of its own.
#[derive(Debug)]
pub struct LinkDevice {
    /// The link's profile name.
    name: String,
    proxy: Proxy,
    store: Store,
    transport: Counting,
    blobs: BlobTransport,
    token: String,
    _dir: tempfile::TempDir,
}

impl LinkDevice {
    /// Starts a proxy shaped as `name` and signs a new device in through it.
    fn enrol(target: Target, name: &str, seed: u64) -> Result<LinkDevice> {
        let link = Link::profile(name).with_context(|| format!("no link profile {name:?}"))?;
        let upstream = target
            .server
            .trim_start_matches("http://")
            .parse()
            .context("the server's address")?;
        let rt = target.runtime;
        let proxy = rt.block_on(Proxy::start(
            upstream,
            Faults {
                link,
                ..Faults::default()
            },
            seed,
        ))?;
        let login = rt.block_on(login(
            &proxy.url(),
            target.worker,
            PASSWORD,
            &format!("bench tablet on {name}"),
        ))?;
        let dir = tempfile::tempdir()?;
        let actor = ActorId::from(hex::decode(&login.actor_id)?);
        Ok(LinkDevice {
            name: name.to_string(),
            store: Store::open(dir.path().join("device.sqlite"), actor)?,
            transport: Counting::new(HttpTransport::new(&proxy.url(), &login.token)?),
            blobs: BlobTransport::new(&proxy.url(), &login.token)?,
            token: login.token,
            proxy,
            _dir: dir,
        })
    }

    /// Bytes the link carried so far, both ways, heads included.
    fn link_bytes(&self) -> (u64, u64) {
        (self.proxy.bytes_up(), self.proxy.bytes_down())
    }

    /// Pulls the whole grid of `docs` records through the retry path.
    fn pull(&mut self, rt: &Runtime, label: &str, docs: usize) -> Result<Pull> {
        let (up, down) = self.link_bytes();
        let started = Instant::now();
        let progress = rt.block_on(ticking(
            label,
            &self.proxy,
            SyncClient::default().sync_with_retry(&mut self.store, &self.transport, |_| {}),
        ))?;
        let took = started.elapsed();
        let pulled: BTreeSet<Uuid> = progress.changed.iter().copied().collect();
        ensure!(
            !progress.more && pulled.len() == docs,
            "the {label} pulled {} of {docs} records",
            pulled.len()
        );
        let largest = self.transport.take_largest();
        let kept_when_cut = self.transport.take_kept_when_failed();
        let (sent, received, trips) = self.transport.take();
        Ok(Pull {
            took,
            up: self.proxy.bytes_up() - up,
            down: self.proxy.bytes_down() - down,
            tries: progress.attempts,
            bodies: sent + received,
            trips,
            largest,
            kept_when_cut,
        })
    }
}

/// What one pull of the grid took.
#[derive(Debug, Clone)]
struct Pull {
    took: Duration,
    /// Bytes the link carried each way, heads included.
    up: u64,
    down: u64,
    tries: u32,
    /// Request and answer bodies, and round trips, of the exchanges that
    /// were answered.
    bodies: u64,
    trips: u64,
    /// The largest batch: a request with the first page of its answer,
    /// or a later page of a streamed answer.
    largest: u64,
    /// For each exchange that failed, the bytes of the whole pages it had
    /// carried (stored, never sent again).
    kept_when_cut: Vec<u64>,
}

/// Runs `work`, telling stderr every 15 s how far it is.
#[allow(clippy::print_stderr)] // progress of a minutes-long step, beside the figures
async fn ticking<T>(label: &str, proxy: &Proxy, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(15));
    tick.tick().await;
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick() => eprintln!(
                "# {label}: {:.0} s, {} bytes down and {} up over the link, {} cuts",
                started.elapsed().as_secs_f64(),
                proxy.bytes_down(),
                proxy.bytes_up(),
                proxy.cuts(),
            ),
        }
    }
}

/// What the clean pull over the asked link carried.
#[derive(Debug, Clone, Copy)]
struct Clean {
    up: u64,
    down: u64,
    /// The largest exchange on the link: its request and answer bodies,
    /// and the average heads of an exchange.
    batch: u64,
}

/// A new device's first pull of the grid over `lan` and over `link`, then
/// the pull over `link` cut [`CUTS`] times. `docs` is the grid's size.
/// Returns the devices of the clean pulls, for [`day_syncs`].
pub fn first_syncs(target: Target, link: &str, docs: usize) -> Result<Vec<LinkDevice>> {
    let mut names = vec!["lan"];
    if link != "lan" {
        names.push(link);
    }
    let mut devices = Vec::new();
    let mut clean = None;
    for (n, name) in names.into_iter().enumerate() {
        let mut device = LinkDevice::enrol(target, name, 0x11 + n as u64)?;
        let pull = device.pull(target.runtime, &format!("first sync over {name}"), docs)?;
        figure(
            &format!("initial_sync_{name}_s"),
            pull.took.as_secs_f64(),
            "s",
        );
        figure(
            &format!("initial_sync_{name}_link_bytes"),
            (pull.up + pull.down) as f64,
            "bytes",
        );
        figure(
            &format!("initial_sync_{name}_tries"),
            f64::from(pull.tries),
            "tries",
        );
        if name == link {
            let heads = (pull.up + pull.down).saturating_sub(pull.bodies) / pull.trips.max(1);
            clean = Some(Clean {
                up: pull.up,
                down: pull.down,
                batch: pull.largest + heads,
            });
        }
        devices.push(device);
    }
    let clean = clean.context("no clean pull over the asked link")?;
    cut_run(target, link, docs, clean)?;
    Ok(devices)
}

/// A new device pulls the grid over `link`, cut [`CUTS`] times at even
/// steps of the clean pull's downstream bytes; the retry path takes it
/// on. Prints what the cuts cost.
fn cut_run(target: Target, link: &str, docs: usize, clean: Clean) -> Result<()> {
    let mut device = LinkDevice::enrol(target, link, 0x5c)?;
    let down = device.proxy.bytes_down();
    let step = clean.down / (CUTS + 1);
    device.proxy.set_faults(Faults {
        link: Link::profile(link).context("the link's profile")?,
        cut_down_at: (1..=CUTS).map(|k| down + k * step).collect(),
        ..Faults::default()
    });
    let pull = device.pull(
        target.runtime,
        &format!("first sync over {link}, cut {CUTS} times"),
        docs,
    )?;
    ensure!(
        device.proxy.cuts() == CUTS,
        "the link was cut {} times, not {CUTS}",
        device.proxy.cuts()
    );
    let carried = pull.up + pull.down;
    // A cut exchange lost what it carried after its last whole page: the
    // pages before that were stored, and the next request asks from them.
    let cut = device.proxy.cut_exchange_bytes();
    ensure!(
        pull.kept_when_cut.len() == cut.len(),
        "{} exchanges failed for {} cuts",
        pull.kept_when_cut.len(),
        cut.len()
    );
    let lost: Vec<u64> = cut
        .iter()
        .zip(&pull.kept_when_cut)
        .map(|(carried, kept)| carried.saturating_sub(*kept))
        .collect();
    let within = lost.iter().filter(|&&b| b <= clean.batch).count();
    println!(
        "# cut {CUTS} times at every {step} bytes down: {} bytes of the cut exchanges each \
         after their last whole page (request and answer so far, heads included); one batch \
         is the clean pull's largest page, or a request with its answer's first",
        lost.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    figure(&format!("cut_sync_{link}_s"), pull.took.as_secs_f64(), "s");
    figure(
        &format!("cut_sync_{link}_tries"),
        f64::from(pull.tries),
        "tries",
    );
    figure(
        "resent_bytes_after_cut",
        carried.saturating_sub(clean.up + clean.down) as f64,
        "bytes",
    );
    figure(
        "resent_bytes_after_cut_max",
        lost.iter().copied().max().unwrap_or(0) as f64,
        "bytes",
    );
    figure("resent_batch_bytes", clean.batch as f64, "bytes");
    figure(
        "resent_cuts_within_one_batch",
        within as f64,
        &format!("of {CUTS} cuts"),
    );
    Ok(())
}

/// A day's work synced over each device's link: 20 household edits,
/// 10 of them with a new photo. `households` are records of the grid,
/// 20 for each device.
pub fn day_syncs(
    target: Target,
    devices: &mut [LinkDevice],
    households: &[Uuid],
    today: jiff::civil::Date,
) -> Result<()> {
    let rt = target.runtime;
    let side = photo_side_for(DAY_PHOTO_BYTES)?;
    let author = Author::new(target.worker, jiff::Timestamp::now().as_millisecond());
    for (n, device) in devices.iter_mut().enumerate() {
        let name = device.name.clone();
        // Caught up straight with the server, photos too.
        let direct = HttpTransport::new(target.server, &device.token)?;
        rt.block_on(SyncClient::default().sync(&mut device.store, &direct, |_| {}))?;
        let direct = BlobTransport::new(target.server, &device.token)?;
        rt.block_on(sync_photos(&mut device.store, &direct))?;

        let mine = households
            .get(n * DAY_EDITS..(n + 1) * DAY_EDITS)
            .context("too few households for the day's edits")?;
        let mut photo_bytes = 0;
        for (i, id) in mine.iter().enumerate() {
            let photo = if i < DAY_PHOTOS {
                // Odd seeds: the generator takes `seed | 1`.
                let seed = 2 * (100 * n + i) as u64 + 1;
                let original = gridwork_core::media::synthetic_photo(side, side * 3 / 4, seed);
                let photo = device.store.add_photo(&original, PhotoRole::Before, None)?;
                photo_bytes += photo.bytes;
                Some(photo)
            } else {
                None
            };
            device.store.update::<Household>(*id, &author, today, |h| {
                h.address.detail = format!("{}号门口有台阶", i + 1);
                if photo.is_some() {
                    h.door_plate_photo = photo;
                }
            })?;
        }

        let (up, down) = device.link_bytes();
        device.transport.take();
        let started = Instant::now();
        let records = rt.block_on(ticking(
            &format!("day sync over {name}"),
            &device.proxy,
            SyncClient::default().sync_with_retry(&mut device.store, &device.transport, |_| {}),
        ))?;
        ensure!(
            records.pending == 0 && records.rejected.is_empty(),
            "the day's edits over {name} were not all taken: {:?}",
            records.rejected.first()
        );
        let records_took = started.elapsed();
        let photos = rt.block_on(ticking(
            &format!("day photos over {name}"),
            &device.proxy,
            photos_with_retry(&mut device.store, &device.blobs),
        ))?;
        let took = started.elapsed();
        ensure!(
            photos.pending == 0 && photos.refused.is_empty(),
            "the day's photos over {name} did not all go: {photos:?}"
        );
        let (up, down) = (
            device.proxy.bytes_up() - up,
            device.proxy.bytes_down() - down,
        );
        ensure!(
            up >= photo_bytes,
            "{up} bytes went up over {name}, less than the day's {photo_bytes} bytes of photos"
        );
        if n == 0 {
            figure(
                "day_sync_photo_bytes_avg",
                (photo_bytes / DAY_PHOTOS as u64) as f64,
                "bytes",
            );
        }
        figure(&format!("day_sync_{name}_s"), took.as_secs_f64(), "s");
        figure(
            &format!("day_sync_{name}_records_s"),
            records_took.as_secs_f64(),
            "s",
        );
        figure(
            &format!("day_sync_{name}_link_bytes"),
            (up + down) as f64,
            "bytes",
        );
    }
    Ok(())
}

/// The smallest long side (in steps of 100 pixels, up to the upload
/// size) whose synthetic photo comes out upload-ready at `bytes` or more.
fn photo_side_for(bytes: usize) -> Result<u32> {
    for side in (400..gridwork_core::media::PHOTO_LONG_SIDE).step_by(100) {
        let original = gridwork_core::media::synthetic_photo(side, side * 3 / 4, 1);
        if gridwork_core::media::prepare(&original)?.photo.bytes.len() >= bytes {
            return Ok(side);
        }
    }
    Ok(gridwork_core::media::PHOTO_LONG_SIDE)
}

/// [`sync_photos`] again after a network failure, a second later, as the
/// app's next sync resumes it (at most ten tries).
async fn photos_with_retry(store: &mut Store, blobs: &BlobTransport) -> Result<PhotoProgress> {
    for _ in 0..10 {
        match sync_photos(store, blobs).await {
            Ok(progress) => return Ok(progress),
            Err(e) if e.is_retryable() => tokio::time::sleep(Duration::from_secs(1)).await,
            Err(e) => return Err(e.into()),
        }
    }
    bail!("the photos did not go in ten tries")
}
