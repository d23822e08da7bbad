//! Protocol version 3's compact changes (issue #14): the server rebuilds
//! them from what it holds and the session, never from the payload, and
//! checks the rebuilt change exactly as a whole one. A compact change that
//! claims someone else's actor, user or dependency rebuilds to nothing
//! (`compact_unresolved`) or to a change the usual checks refuse; either
//! way nothing is stored. An honest device whose compact change the
//! server cannot rebuild sends it whole on its next round, by itself, and
//! loses nothing.

use anyhow::{Context, Result, ensure};
use automerge::ActorId;
use gridwork_core::doc::Author;
use gridwork_core::model::{Household, Meta, User};
use gridwork_core::sync::client::{Transport, TransportError};
use gridwork_core::sync::compact;
use gridwork_core::sync::http::HttpTransport;
use gridwork_core::sync::wire::{self, DocChanges, SyncRequest};
use gridwork_tests::Device;
use uuid::Uuid;

use crate::harness::{Raw, Trial, demo, workers};

/// A new household in `worker`'s grid, saved on `device` (not synced).
fn register(device: &mut Device, worker: &User) -> Result<Uuid> {
    let mut h = demo()
        .households
        .iter()
        .find(|h| h.meta.grid == worker.grid)
        .context("a household in the worker's grid")?
        .clone();
    let now = jiff::Timestamp::now();
    h.meta = Meta::new(&worker.grid, &worker.id, now.as_millisecond());
    h.review.clear();
    let id = h.meta.id;
    device.store.insert(
        h,
        &Author::new(&worker.id, now.as_millisecond()),
        gridwork_core::calendar::shanghai_date(now),
    )?;
    Ok(id)
}

/// A one-field edit of household `id` on `device` (not synced); the
/// change's bytes, as its outbox holds them.
fn edit(device: &mut Device, worker: &User, id: Uuid, detail: &str) -> Result<Vec<u8>> {
    let now = jiff::Timestamp::now();
    device.store.update::<Household>(
        id,
        &Author::new(&worker.id, now.as_millisecond()),
        gridwork_core::calendar::shanghai_date(now),
        |h| h.address.detail = detail.into(),
    )?;
    let mut outbox = device.store.outbox(10)?;
    ensure!(outbox.len() == 1, "one change waits: {outbox:?}");
    Ok(outbox.remove(0).bytes)
}

/// The refusal codes of pushing `changes` for `doc` as `raw`.
async fn push_codes(raw: &Raw, doc: Uuid, changes: Vec<Vec<u8>>) -> Result<Vec<String>> {
    let answer = raw
        .sync(&SyncRequest {
            cursor: 0,
            push: vec![DocChanges { doc, changes }],
            budget: None,
            ..SyncRequest::default()
        })
        .await?
        .sync_response()?;
    Ok(answer.rejected.into_iter().map(|r| r.code).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compact_edit_is_stored_whole_and_a_forged_one_is_refused_with_nothing_stored()
-> Result<()> {
    let trial = Trial::start().await?;
    let (a, b) = (workers()[1], workers()[2]);
    let mut device = Device::enrol(&trial.server, &a.id).await?;
    let id = register(&mut device, a)?;
    let progress = device.sync().await?;
    ensure!(progress.rejected.is_empty(), "{:?}", progress.rejected);
    let change = edit(&mut device, a, id, "门口有台阶")?;
    let a_actor = hex::decode(&device.login.actor_id)?;

    // Another worker pushes the edit compact, as theirs, as the first
    // worker's, and under a record it does not belong to.
    let other = trial.login(&b.id).await?;
    let b_actor = hex::decode(&other.actor_id)?;
    let as_a = compact::compact(&change, &a_actor, &a.id).context("compact")?;
    let as_b = compact::compact(&change, &b_actor, &b.id).context("compact")?;
    let before = trial.digest()?;
    let cases = [
        (
            "the first worker's actor and user left out: rebuilt with the second's, the checksum fails",
            id,
            as_a.clone(),
            "compact_unresolved",
        ),
        (
            "a dependency of another record's",
            Uuid::now_v7(),
            as_b.clone(),
            "compact_unresolved",
        ),
        (
            "rebuilt, and refused as the whole change would be",
            id,
            as_b,
            "actor_mismatch",
        ),
        ("the whole change", id, change.clone(), "actor_mismatch"),
    ];
    for (what, doc, bytes, code) in cases {
        let codes = push_codes(&other, doc, vec![bytes]).await?;
        ensure!(codes == [code], "{what}: refused with {codes:?}");
    }
    trial
        .unchanged(&before)
        .context("a forged compact change")?;

    // The device pushes it compact, compressed with the push dictionary
    // (flags 2): at most 100 bytes (issue #14), and the server stores
    // the very change (another tablet of the same worker receives it).
    let outgoing = device.client.prepare(&device.store)?;
    let whole = wire::encode(&SyncRequest {
        cursor: device.store.sync_cursor()?,
        push: vec![DocChanges {
            doc: id,
            changes: vec![change.clone()],
        }],
        budget: None,
        ..SyncRequest::default()
    });
    ensure!(
        outgoing.body[3] == 2 && outgoing.body.len() <= 100,
        "the push is framed with flags {} in {} bytes",
        outgoing.body[3],
        outgoing.body.len()
    );
    ensure!(
        outgoing.body.len() + 50 <= whole.len(),
        "the compact push is {} bytes, the whole one {}",
        outgoing.body.len(),
        whole.len()
    );
    let progress = device.sync().await?;
    ensure!(progress.rejected.is_empty(), "{:?}", progress.rejected);
    ensure!(progress.pending == 0, "{} changes wait", progress.pending);
    let mut second = Device::enrol(&trial.server, &a.id).await?;
    second.sync().await?;
    let got = second
        .store
        .get::<Household>(id)?
        .context("the household")?;
    ensure!(got.address.detail == "门口有台阶", "{:?}", got.address);
    let hash = automerge::Change::from_bytes(change)?.hash();
    let mut doc = second.store.load(id)?.context("the document")?;
    ensure!(
        doc.automerge().get_change_by_hash(&hash).is_some(),
        "the stored change is the device's, hash for hash"
    );
    trial.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compact_change_the_server_cannot_rebuild_goes_whole_on_the_next_round() -> Result<()> {
    let trial = Trial::start().await?;
    let a = workers()[1];
    let mut device = Device::enrol(&trial.server, &a.id).await?;
    let id = register(&mut device, a)?;
    device.sync().await?;
    // The worker signs in again; the tablet's store still writes with the
    // actor of its first enrolment, so its compact changes, which leave
    // that actor out, rebuild with the new one and fail their checksum.
    let again = Device::enrol(&trial.server, &a.id).await?;
    ensure!(
        ActorId::from(hex::decode(&again.login.actor_id)?) != *device.store.actor(),
        "a new enrolment has a new actor"
    );
    device.transport = HttpTransport::new(&trial.url(), &again.login.token)?;
    edit(&mut device, a, id, "门口有台阶")?;

    // One round: refused compact, kept, marked to go whole; the worker
    // sees no refusal.
    let outgoing = device.client.prepare(&device.store)?;
    let answer = device.transport.exchange(outgoing.body.clone()).await?;
    let response: wire::SyncResponse = wire::decode(&answer)?;
    let codes: Vec<&str> = response.rejected.iter().map(|r| r.code.as_str()).collect();
    ensure!(codes == ["compact_unresolved"], "refused with {codes:?}");
    let round = device
        .client
        .receive(&mut device.store, &outgoing, &answer)?;
    ensure!(round.rejected.is_empty(), "{:?}", round.rejected);
    let outbox = device.store.outbox(10)?;
    ensure!(
        outbox.len() == 1 && outbox[0].whole,
        "the change waits, to go whole: {outbox:?}"
    );
    ensure!(
        device.store.rejections()?.is_empty(),
        "nothing for the worker"
    );

    // The next sync sends it whole, and the server takes it (an earlier
    // enrolment's actor of the same user).
    let progress = device.sync().await?;
    ensure!(progress.rejected.is_empty(), "{:?}", progress.rejected);
    ensure!(progress.pending == 0, "{} changes wait", progress.pending);
    // (Not the enrolment it was pushed through: a device does not
    // receive what it pushed.)
    let mut third = Device::enrol(&trial.server, &a.id).await?;
    third.sync().await?;
    let got = third.store.get::<Household>(id)?.context("the household")?;
    ensure!(got.address.detail == "门口有台阶", "{:?}", got.address);
    trial.finish().await
}

/// An app not updated: it speaks the previous protocol version.
struct Previous(HttpTransport);

impl Transport for Previous {
    async fn exchange(&self, mut body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        body[2] = wire::PROTOCOL_VERSION - 1;
        self.0.exchange(body).await
    }

    async fn repair(&self, doc: Uuid, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        self.0.repair(doc, body).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_on_the_previous_version_is_told_to_update_and_keeps_its_outbox() -> Result<()> {
    let trial = Trial::start().await?;
    let a = workers()[1];
    let mut device = Device::enrol(&trial.server, &a.id).await?;
    let id = register(&mut device, a)?;
    let before = trial.digest()?;
    let previous = Previous(device.transport.clone());
    let err = device
        .client
        .sync(&mut device.store, &previous, |_| {})
        .await
        .err()
        .context("a version 2 request went through")?;
    // The app shows `update_app` for this code (src-tauri's errors).
    ensure!(err.code() == "unsupported_version", "{err}");
    ensure!(!err.is_retryable(), "not worth retrying: {err}");
    ensure!(
        device.store.pending_count()? == 1,
        "the outbox keeps the household"
    );
    trial.unchanged(&before)?;

    // Updated, the app sends the same household.
    let progress = device.sync().await?;
    ensure!(progress.rejected.is_empty(), "{:?}", progress.rejected);
    ensure!(progress.pending == 0, "{} changes wait", progress.pending);
    let mut other = Device::enrol(&trial.server, &a.id).await?;
    other.sync().await?;
    ensure!(
        other.store.get::<Household>(id)?.is_some(),
        "stored once updated"
    );
    trial.finish().await
}
