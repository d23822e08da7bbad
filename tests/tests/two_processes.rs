//! Two `gridwork-server` processes on two ports over one PostgreSQL
//! database and one data directory, as behind a load balancer without
//! sticky sessions (issue #13, item 3): devices syncing through either at
//! random converge and skip nothing, a console session and a photo upload
//! move between them, the login limits count across both, and a device
//! pulling while both take pushes at once ends with every change.
//!
//! PostgreSQL only (`scripts/test-postgres` runs it): without
//! `GRIDWORK_TEST_POSTGRES` each test says it was skipped and passes,
//! unless `GRIDWORK_REQUIRE_POSTGRES=1`, where it fails.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Result, ensure};
use gridwork_core::doc::Author;
use gridwork_core::media::{sha256_hex, synthetic_photo};
use gridwork_core::model::{Household, Role};
use gridwork_core::store::ListQuery;
use gridwork_core::sync::blobs::BlobTransport;
use gridwork_core::sync::http::login;
use gridwork_tests::console::Console;
use gridwork_tests::{Device, NOW, PASSWORD, Server, community, on_postgres, today, user_over};
use uuid::Uuid;

/// Attempts a minute one user may make from one address: low enough
/// that the test reaches it, high enough for the logins it makes.
const PER_USER: u32 = 6;

/// Owners' names the records' rules accept.
const NAMES: [&str; 5] = ["王建国", "汪建国", "李明", "张伟", "陈静"];

/// The two processes, or `None` (and a line saying so) without a
/// PostgreSQL server to run on.
#[allow(clippy::print_stderr)] // a skipped test says so
fn two_processes() -> Result<Option<(Server, Server)>> {
    if on_postgres().is_none() {
        ensure!(
            std::env::var("GRIDWORK_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "GRIDWORK_REQUIRE_POSTGRES=1 but GRIDWORK_TEST_POSTGRES is not set"
        );
        eprintln!(
            "skipped: several processes share a PostgreSQL database; set GRIDWORK_TEST_POSTGRES (scripts/test-postgres does)"
        );
        return Ok(None);
    }
    let a = Server::start_with_config(&format!(
        "login_per_user_per_minute = {PER_USER}\nlogin_per_ip_per_minute = 1000\n"
    ))?;
    let b = a.second_process()?;
    ensure!(a.url() != b.url(), "two ports");
    Ok(Some((a, b)))
}

/// A small seeded generator (splitmix64): the run is repeated by its seed.
struct Rng(u64);

impl Rng {
    /// From `GRIDWORK_TEST_SEED`, else from the clock; printed either way.
    #[allow(clippy::print_stderr)] // the seed, to repeat a failing run
    fn seeded(test: &str) -> Rng {
        let seed = std::env::var("GRIDWORK_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| jiff::Timestamp::now().as_nanosecond() as u64);
        eprintln!("{test}: seed {seed} (GRIDWORK_TEST_SEED={seed} repeats this run)");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A new household of `grid` in room `100 + n`, one a test can tell apart.
fn household_in_room(grid: &str, by: &str, n: u64) -> Household {
    let mut h = gridwork_tests::new_household(grid, by);
    h.address.room = format!("{}", 100 + n);
    h
}

/// Every record a device holds (deleted ones too) with its document
/// heads, sorted.
fn holdings(device: &Device) -> Result<BTreeMap<Uuid, Vec<String>>> {
    let all = device.store.list(&ListQuery {
        include_deleted: true,
        limit: Some(1_000_000),
        ..ListQuery::default()
    })?;
    let mut out = BTreeMap::new();
    for p in all {
        let mut heads: Vec<String> = device
            .store
            .heads(p.id)?
            .unwrap_or_default()
            .iter()
            .map(|h| h.to_string())
            .collect();
        heads.sort();
        out.insert(p.id, heads);
    }
    Ok(out)
}

/// Syncs `device` through `server`; nothing may be refused.
async fn sync_through(device: &mut Device, server: &Server) -> Result<()> {
    device.reconnect(server)?;
    let progress = device.sync().await?;
    ensure!(
        progress.rejected.is_empty(),
        "refused: {:?}",
        progress.rejected
    );
    Ok(())
}

/// Three tablets of one grid and their supervisor make offline edits of
/// the same households (the same fields, concurrently) and sync each time
/// through one of the two processes at random; at the end every device
/// holds the same records with the same document heads, and nothing waits
/// to be sent. The supervisor's console session, signed in on each
/// process, works on the other; a photo upload begun on one process ends
/// on the other; and logins split between the processes are refused at
/// the limit the two count together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_syncing_through_either_process_converge() -> Result<()> {
    let Some((a, b)) = two_processes()? else {
        return Ok(());
    };
    let servers = [&a, &b];
    let mut rng = Rng::seeded("devices_syncing_through_either_process_converge");
    let grid = community().households[0].meta.grid.clone();
    let worker = user_over(Role::GridWorker, &grid);
    let supervisor = user_over(Role::CommunitySupervisor, &grid);

    let mut devices = Vec::new();
    for user in [&worker.id, &worker.id, &worker.id, &supervisor.id] {
        let server = servers[rng.below(2)];
        devices.push(Device::enrol(server, user).await?);
    }
    let mut ids = Vec::new();
    for n in 0..4 {
        let h = household_in_room(&grid, &worker.id, n);
        ids.push(h.meta.id);
        let author = Author::new(devices[0].user(), NOW);
        devices[0].store.insert(h, &author, today())?;
    }
    let mut created = ids.len() as u64;
    for round in 0..10 {
        // Offline: each device edits a few records, often the same ones
        // and the same fields as another device this round.
        for (i, d) in devices.iter_mut().enumerate() {
            for _ in 0..rng.below(3) {
                let author = Author::new(d.user(), NOW + 1_000 * round);
                if rng.below(6) == 0 {
                    created += 1;
                    let h = household_in_room(&grid, d.user(), created);
                    ids.push(h.meta.id);
                    d.store.insert(h, &author, today())?;
                    continue;
                }
                let id = ids[rng.below(ids.len())];
                let Some(_) = d.store.load(id)? else {
                    continue; // not here yet
                };
                let value = format!("r{round}d{i}n{}", rng.below(1000));
                match rng.below(3) {
                    0 => d
                        .store
                        .update::<Household>(id, &author, today(), |h| h.address.room = value)?,
                    1 => {
                        let name = NAMES[rng.below(NAMES.len())];
                        d.store.update::<Household>(id, &author, today(), |h| {
                            h.owner_name = name.into()
                        })?
                    }
                    _ => d
                        .store
                        .update::<Household>(id, &author, today(), |h| h.address.detail = value)?,
                };
            }
        }
        // Online, in a random order, each through a random process.
        let mut order: Vec<usize> = (0..devices.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        for i in order {
            if rng.below(4) > 0 {
                sync_through(&mut devices[i], servers[rng.below(2)]).await?;
            }
        }
    }
    // Two passes, so every device hears the others' last edits.
    for _ in 0..2 {
        for d in devices.iter_mut() {
            sync_through(d, servers[rng.below(2)]).await?;
        }
    }
    let reference = holdings(&devices[0])?;
    let made: BTreeSet<Uuid> = ids.iter().copied().collect();
    assert_eq!(
        reference.keys().copied().collect::<BTreeSet<_>>(),
        made,
        "every record made reached the first device"
    );
    for (i, d) in devices.iter().enumerate() {
        assert_eq!(
            d.store.pending_count()?,
            0,
            "device {i} has sent everything"
        );
        assert_eq!(holdings(d)?, reference, "device {i} differs from device 0");
    }

    // A console session signed in on each process works on the other:
    // the session is a row in the database, not a process's memory.
    for (here, there) in [(&a, &b), (&b, &a)] {
        let console = Console::open(here, &supervisor.id).await?;
        let me = console.on(there).get("/me").await?.ok()?;
        assert_eq!(me["user"]["id"], supervisor.id.as_str(), "{me}");
        console
            .on(there)
            .post("/logout", serde_json::json!({}))
            .await?;
        let after = console.get("/me").await?;
        assert_eq!(
            after.status, 401,
            "signed out on one process is signed out on both"
        );
    }

    // A photo upload begun on A (its first chunk) ends on B.
    let photo = synthetic_photo(800, 600, 7);
    let sha = sha256_hex(&photo);
    let token = &devices[1].login.token;
    let on_a = BlobTransport::new(&a.url(), token)?;
    let on_b = BlobTransport::new(&b.url(), token)?;
    let half = photo.len() / 2;
    let total = photo.len() as u64;
    let first = on_a
        .send_chunk(&sha, 0, total, photo[..half].to_vec())
        .await?;
    assert_eq!((first.offset, first.complete), (half as u64, false));
    let seen = on_b.remote(&sha).await?;
    assert_eq!(
        (seen.offset, seen.complete),
        (half as u64, false),
        "B sees the part A received"
    );
    let last = on_b
        .send_chunk(&sha, seen.offset, total, photo[half..].to_vec())
        .await?;
    assert!(last.complete, "{last:?}");
    let done = on_a.remote(&sha).await?;
    assert_eq!(
        (done.offset, done.complete),
        (total, true),
        "A sees it whole"
    );

    // Logins split between the processes count together: PER_USER tries
    // pass, the next is refused, whichever process it reaches (each
    // process alone has heard only about half of them).
    let tried = community()
        .users
        .iter()
        .find(|u| u.role == Role::GridWorker && u.id != worker.id)
        .expect("another worker");
    for n in 0..PER_USER {
        let server = servers[n as usize % 2];
        login(&server.url(), &tried.id, PASSWORD, "平板")
            .await
            .map_err(|e| anyhow::anyhow!("try {n} on {}: {e}", server.url()))?;
    }
    for server in servers {
        let refused = login(&server.url(), &tried.id, PASSWORD, "平板").await;
        let text = format!("{:?}", refused.as_ref().err());
        assert!(
            refused.is_err() && text.contains("rate_limited"),
            "the try past the limit on {} is refused: {text}",
            server.url()
        );
    }
    Ok(())
}

/// Many devices push at once through both processes while another pulls
/// again and again, alternating between them: every change is committed
/// at a position after every position some pull has already read past,
/// so one more pull at the end brings the puller everything, with each
/// record's heads as its author holds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)] // how many pulls ran during the pushes
async fn a_pull_during_concurrent_pushes_on_both_processes_misses_nothing() -> Result<()> {
    let Some((a, b)) = two_processes()? else {
        return Ok(());
    };
    let servers = Arc::new([a, b]);
    let mut rng = Rng::seeded("a_pull_during_concurrent_pushes_on_both_processes_misses_nothing");
    let grid = community().households[0].meta.grid.clone();
    let worker = user_over(Role::GridWorker, &grid);
    let supervisor = user_over(Role::CommunitySupervisor, &grid);

    let mut puller = Device::enrol(&servers[0], &supervisor.id).await?;
    let mut pushers = Vec::new();
    for i in 0..4 {
        pushers.push(Device::enrol(&servers[i % 2], &worker.id).await?);
    }
    let done = Arc::new(AtomicBool::new(false));
    let pulling = {
        let servers = servers.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut pulls = 0u32;
            while !done.load(Ordering::SeqCst) {
                sync_through(&mut puller, &servers[pulls as usize % 2]).await?;
                pulls += 1;
            }
            anyhow::Ok((puller, pulls))
        })
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (p, mut device) in pushers.into_iter().enumerate() {
        let servers = servers.clone();
        let grid = grid.clone();
        let mut rng = Rng(rng.next());
        tasks.spawn(async move {
            let mut made = Vec::new();
            for n in 0..8u64 {
                let author = Author::new(device.user(), NOW + n as i64);
                let h = household_in_room(&grid, device.user(), 1000 * p as u64 + n);
                made.push(h.meta.id);
                device.store.insert(h, &author, today())?;
                if n % 3 == 2 {
                    // An edit of an earlier one, in the same push.
                    let id = made[rng.below(made.len())];
                    device
                        .store
                        .update::<Household>(id, &author, today(), |h| {
                            h.owner_name = NAMES[(p + n as usize) % NAMES.len()].into()
                        })?;
                }
                sync_through(&mut device, &servers[rng.below(2)]).await?;
            }
            anyhow::Ok((device, made))
        });
    }
    let mut expected = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (device, made) = joined??;
        let held = holdings(&device)?;
        for id in made {
            expected.insert(id, held[&id].clone());
        }
    }
    done.store(true, Ordering::SeqCst);
    let (mut puller, pulls) = pulling.await??;
    eprintln!(
        "{} records pushed while the puller pulled {pulls} times",
        expected.len()
    );
    assert!(pulls >= 2, "the puller pulled during the pushes");
    sync_through(&mut puller, &servers[1]).await?;
    assert_eq!(
        holdings(&puller)?,
        expected,
        "the puller holds every change"
    );
    Ok(())
}
