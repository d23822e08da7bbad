//! Sync and uploads through a proxy that cuts connections at random bytes,
//! delays and drops them: three tablets still converge with no duplicate
//! and no lost record, and an upload cut in the middle resumes, resending
//! at most one chunk (counted at the proxy).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use automerge::ActorId;
use gridwork_core::doc::Author;
use gridwork_core::media::synthetic_photo;
use gridwork_core::model::{Household, PhotoRole, RecordKind, Role};
use gridwork_core::store::{GridFilter, ListQuery, Store};
use gridwork_core::sync::blobs::{BlobTransport, sync_photos};
use gridwork_core::sync::http::HttpTransport;
use gridwork_tests::proxy::{Faults, Proxy};
use gridwork_tests::{Device, NOW, Server, community, today};
use uuid::Uuid;

fn upstream(server: &Server) -> Result<SocketAddr> {
    server
        .url()
        .trim_start_matches("http://")
        .parse()
        .context("server address")
}

/// A new household without a door-plate photo: these stories sync records
/// alone.
fn new_household(grid: &str, worker: &str) -> Household {
    let mut h = gridwork_tests::new_household(grid, worker);
    h.door_plate_photo = None;
    h
}

/// Syncs until a sync completes, retrying what the network broke. Gives
/// up after many attempts: with faults at the rates below, that means a
/// sync that can never finish.
async fn sync_until_done(device: &mut Device) -> Result<u32> {
    for attempt in 1..=200 {
        match device.sync().await {
            Ok(_) => return Ok(attempt),
            Err(e) if e.is_retryable() => continue,
            Err(e) => bail!("sync failed for good: {e} ({})", e.code()),
        }
    }
    bail!("no sync got through in 200 attempts")
}

fn households(device: &Device, grid: &str) -> Result<Vec<Uuid>> {
    Ok(device
        .store
        .list(&ListQuery {
            kind: Some(RecordKind::Household),
            grids: GridFilter::In(vec![grid.to_string()]),
            limit: Some(10_000),
            ..ListQuery::default()
        })?
        .into_iter()
        .map(|p| p.id)
        .collect())
}

/// Three tablets of one grid each register households and edit a shared
/// one offline, then sync again and again through a proxy that cuts a
/// majority of the connections at a random byte, drops some as they open and
/// delays the rest. Every tablet ends with every household exactly once
/// and identical documents; a fresh tablet synced without faults agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)] // the fault counts, for whoever reads the log
async fn three_tablets_converge_through_a_cutting_proxy() -> Result<()> {
    let server = Server::start()?;
    let grid = community().households[0].meta.grid.clone();
    let worker = community()
        .users
        .iter()
        .find(|u| u.role == Role::GridWorker && grid.starts_with(&u.grid))
        .expect("a worker of the grid");
    let proxy = Proxy::start(
        upstream(&server)?,
        Faults {
            cut_per_mille: 600,
            cut_bytes: (40, 12_000),
            drop_per_mille: 200,
            delay: Duration::from_millis(1),
            ..Faults::default()
        },
        0x5eed_0001,
    )
    .await?;
    let mut tablets = Vec::new();
    for _ in 0..3 {
        let mut t = Device::enrol(&server, &worker.id).await?;
        t.transport = HttpTransport::new(&proxy.url(), &t.login.token)?;
        // Small answers: more round trips, more places to be cut.
        t.client.budget = Some(4_096);
        tablets.push(t);
    }

    // One shared household, known to all.
    let shared = new_household(&grid, &worker.id);
    let author = Author::new(&worker.id, NOW);
    tablets[0].store.insert(shared.clone(), &author, today())?;
    for t in tablets.iter_mut() {
        sync_until_done(t).await?;
    }

    // Offline: each registers eight households and edits the shared one.
    let mut created = BTreeSet::from([shared.meta.id]);
    for (n, t) in tablets.iter_mut().enumerate() {
        let author = Author::new(&worker.id, NOW + 60_000 * (n as i64 + 1));
        for _ in 0..8 {
            let h = new_household(&grid, &worker.id);
            created.insert(h.meta.id);
            t.store.insert(h, &author, today())?;
        }
        t.store
            .update::<Household>(shared.meta.id, &author, today(), |h| match n {
                0 => h.address.room = "1202".into(),
                1 => h.owner_name = "王建国".into(),
                _ => h.address.detail = "东门".into(),
            })?;
    }

    // Sync round after round through the faults; two full passes carry
    // everyone's changes to everyone.
    let mut attempts = 0;
    for _ in 0..2 {
        for t in tablets.iter_mut() {
            attempts += sync_until_done(t).await?;
        }
    }
    assert!(
        proxy.cuts() + proxy.drops() > 0,
        "the proxy must have broken something"
    );

    let reference = households(&tablets[0], &grid)?;
    for t in &tablets {
        let ids = households(t, &grid)?;
        let unique: BTreeSet<Uuid> = ids.iter().copied().collect();
        assert_eq!(ids.len(), unique.len(), "no duplicate records");
        assert!(created.is_subset(&unique), "nothing lost");
        assert_eq!(unique, reference.iter().copied().collect());
        assert_eq!(t.store.pending_count()?, 0, "everything acknowledged");
        for id in &created {
            assert_eq!(
                t.store.load(*id)?.unwrap().to_json(),
                tablets[0].store.load(*id)?.unwrap().to_json(),
                "identical documents"
            );
        }
    }
    let merged: Household = tablets[0].store.get(shared.meta.id)?.unwrap();
    assert_eq!(
        (
            merged.address.room.as_str(),
            merged.owner_name.as_str(),
            merged.address.detail.as_str()
        ),
        ("1202", "王建国", "东门"),
        "every tablet's edit survived"
    );

    // A fresh tablet straight to the server sees the same, once each.
    let mut fresh = Device::enrol(&server, &worker.id).await?;
    fresh.sync().await?;
    let ids = households(&fresh, &grid)?;
    assert_eq!(
        ids.iter().copied().collect::<BTreeSet<_>>(),
        reference.iter().copied().collect()
    );
    assert_eq!(ids.len(), reference.len());
    eprintln!(
        "faults: {} syncs attempted, {} connections cut, {} dropped",
        attempts,
        proxy.cuts(),
        proxy.drops()
    );
    Ok(())
}

/// A photo upload cut in the middle of a chunk, then the app restarted:
/// the upload resumes from the offset the server confirmed, and the
/// payload sent twice is at most one chunk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)] // the resent bytes, the figure DESIGN.md sets
async fn an_upload_cut_in_the_middle_resends_at_most_one_chunk() -> Result<()> {
    const CHUNK: usize = 16 * 1024;
    let server = Server::start()?;
    let grid = community().households[0].meta.grid.clone();
    let worker = community()
        .users
        .iter()
        .find(|u| u.role == Role::GridWorker && grid.starts_with(&u.grid))
        .expect("a worker of the grid");
    let tablet = Device::enrol(&server, &worker.id).await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("photos.sqlite");
    let actor = ActorId::random();

    let mut store = Store::open(&path, actor.clone())?;
    let photo = store.add_photo(
        &synthetic_photo(1000, 750, 21),
        PhotoRole::Evidence,
        Some(NOW),
    )?;
    // Only photos a record references are sent.
    let mut household = new_household(&grid, &worker.id);
    household.door_plate_photo = Some(photo.clone());
    store.insert(household, &Author::new(&worker.id, NOW), today())?;
    let payload: u64 = store.pending_photos()?.iter().map(|p| p.size).sum();
    assert!(
        photo.bytes > 3 * CHUNK as u64,
        "several chunks to cut between"
    );

    // Cut the connection once, halfway through the bytes to send.
    let proxy = Proxy::start(
        upstream(&server)?,
        Faults {
            cut_once_after_up: Some(payload / 2),
            ..Faults::default()
        },
        7,
    )
    .await?;
    let api = BlobTransport::new(&proxy.url(), &tablet.login.token)?.with_chunk_bytes(CHUNK);
    let err = sync_photos(&mut store, &api)
        .await
        .expect_err("the cut breaks the first run");
    assert!(err.is_retryable(), "{err}");
    assert_eq!(proxy.cuts(), 1);
    let confirmed: u64 = store.pending_photos()?.iter().map(|p| p.offset).sum();
    assert!(confirmed > 0, "some chunks were confirmed before the cut");
    drop(store);

    // The app restarts and syncs again.
    let mut store = Store::open(&path, actor)?;
    let resumed = store.pending_photos()?;
    assert!(
        resumed.iter().any(|p| p.offset > 0),
        "the offset survived the restart"
    );
    let api = BlobTransport::new(&proxy.url(), &tablet.login.token)?.with_chunk_bytes(CHUNK);
    let done = sync_photos(&mut store, &api).await?;
    assert_eq!(done.pending, 0, "{done:?}");
    assert!(store.pending_photos()?.is_empty());

    let sent = proxy.body_bytes_up();
    let resent = sent.saturating_sub(payload);
    eprintln!(
        "upload cut at {} of {payload} bytes: {sent} body bytes sent, {resent} resent (chunk {CHUNK})",
        payload / 2
    );
    assert!(sent >= payload, "every byte reached the server");
    assert!(
        resent <= CHUNK as u64,
        "resent {resent} bytes, more than one chunk"
    );

    // And the server holds the very photo.
    let check = BlobTransport::new(&server.url(), &tablet.login.token)?;
    assert!(check.remote(&photo.sha256).await?.complete);
    Ok(())
}
