//! Items 6 to 11: the history cannot be forged and a delete cannot be
//! undone. A pushed change must be made under the actor the server
//! assigned and name its own user; a tombstone is final; every pushed
//! state is validated, with a length on every string; a record's point
//! lies in its grid.

use anyhow::{Context, Result, ensure};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, ChangeHash, ROOT, ScalarValue};
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::geo::GridTree;
use gridwork_core::model::{GeoPoint, Household, Meta, User};
use gridwork_core::privacy::mask_name;
use gridwork_core::problem::{Param, Params};
use gridwork_core::store::Store;
use gridwork_core::sync::client::SyncClient;
use gridwork_core::sync::http::{self, HttpTransport};
use gridwork_core::sync::wire::{DocChanges, SyncRequest, SyncResponse};
use gridwork_tests::{Device, PASSWORD};
use serde_json::Value;
use uuid::Uuid;

use crate::harness::{Raw, Trial, demo, workers};

/// A grid worker other than the well-behaved tablet's.
fn worker() -> &'static User {
    workers()[1]
}

/// The community supervisor above `user`'s grid.
fn supervisor_of(user: &User) -> &'static User {
    demo()
        .supervisor_of(&user.grid)
        .expect("a community supervisor above the grid")
}

/// A new household in `user`'s grid, made by them.
fn household(user: &User) -> Household {
    let mut h = demo()
        .households
        .iter()
        .find(|h| h.meta.grid == user.grid && h.point.is_some())
        .expect("a household with a point in the grid")
        .clone();
    h.meta = Meta::new(
        &user.grid,
        &user.id,
        jiff::Timestamp::now().as_millisecond(),
    );
    h.review.clear();
    h
}

fn actor(hex: &str) -> Result<ActorId> {
    Ok(ActorId::from(
        hex::decode(hex).context("an actor id in hex")?,
    ))
}

/// Three days ago, on the device's clock: far enough from the server's
/// receipt time to tell them apart.
fn device_time() -> i64 {
    jiff::Timestamp::now().as_millisecond() - 3 * 86_400_000
}

/// The bytes of every change of `doc` after `heads`.
fn changes_since(doc: &mut RecordDoc, heads: &[ChangeHash]) -> Vec<Vec<u8>> {
    doc.changes_since(heads)
        .into_iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect()
}

/// Pushes `changes` of one document and returns the answer (pulling as
/// little as the server allows).
async fn push(raw: &Raw, doc: Uuid, changes: Vec<Vec<u8>>) -> Result<SyncResponse> {
    raw.sync(&SyncRequest {
        cursor: 0,
        push: vec![DocChanges { doc, changes }],
        budget: Some(1),
        ..SyncRequest::default()
    })
    .await?
    .sync_response()
}

/// Fails unless the answer refused `doc` with `code`; returns its params
/// (the server writes no sentence: the app translates the code).
fn refused(answer: &SyncResponse, doc: Uuid, code: &str) -> Result<Params> {
    let r = answer
        .rejected
        .iter()
        .find(|r| r.doc == doc)
        .with_context(|| format!("expected `{code}`, nothing was refused: {answer:?}"))?;
    ensure!(
        r.code == code,
        "expected `{code}`, got `{}`: {:?}",
        r.code,
        r.params
    );
    Ok(r.params.clone())
}

/// The text param `name`, or "" when there is none.
fn text<'a>(params: &'a Params, name: &str) -> &'a str {
    match params.get(name) {
        Some(Param::Text(t)) => t,
        _ => "",
    }
}

fn accepted(answer: &SyncResponse, doc: Uuid) -> Result<()> {
    ensure!(
        !answer.rejected.iter().any(|r| r.doc == doc),
        "refused: {:?}",
        answer.rejected
    );
    Ok(())
}

/// A new household pushed as it was made, by `raw` under its own actor.
async fn pushed_household(raw: &Raw, user: &User) -> Result<(Household, RecordDoc)> {
    let h = household(user);
    let mut doc = RecordDoc::create(
        &h,
        actor(&raw.actor_id)?,
        &Author::new(&user.id, device_time()),
    )?;
    let answer = push(raw, h.meta.id, changes_since(&mut doc, &[])).await?;
    accepted(&answer, h.meta.id)?;
    Ok((h, doc))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item06_a_change_naming_another_user_is_refused() -> Result<()> {
    let trial = Trial::start().await?;
    let w = worker();
    let raw = trial.login(&w.id).await?;
    let before = trial.digest()?;

    // The worker's own actor, but the message names their supervisor and
    // the time is 2017.
    let h = household(w);
    let in_2017 = 1_500_000_000_000;
    let mut doc = RecordDoc::create(
        &h,
        actor(&raw.actor_id)?,
        &Author::new(&supervisor_of(w).id, in_2017),
    )?;
    let answer = push(&raw, h.meta.id, changes_since(&mut doc, &[])).await?;
    let params = refused(&answer, h.meta.id, "author_mismatch")?;
    ensure!(text(&params, "author") == supervisor_of(w).id, "{params:?}");
    trial.unchanged(&before)?;
    trial.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item06_history_and_conflicts_show_the_bound_user_and_the_receipt_time() -> Result<()> {
    let trial = Trial::start().await?;
    let w = worker();
    let s = supervisor_of(w);
    let worker_raw = trial.login(&w.id).await?;
    let supervisor_raw = trial.login(&s.id).await?;
    let start = jiff::Timestamp::now().as_millisecond();

    let (h, mut made) = pushed_household(&worker_raw, w).await?;
    let created = made.heads();
    // Two concurrent edits of the owner's name: the worker's and the
    // supervisor's, each on their own device, their clocks days behind.
    let mut theirs = made.fork(actor(&supervisor_raw.actor_id)?);
    let device_w = device_time();
    let device_s = device_w + 60_000;
    made.update::<Household>(&Author::new(&w.id, device_w), |h| {
        h.owner_name = "王小芳".into()
    })?;
    theirs.update::<Household>(&Author::new(&s.id, device_s), |h| {
        h.owner_name = "汪芳".into()
    })?;
    accepted(
        &push(
            &supervisor_raw,
            h.meta.id,
            changes_since(&mut theirs, &created),
        )
        .await?,
        h.meta.id,
    )?;
    accepted(
        &push(&worker_raw, h.meta.id, changes_since(&mut made, &created)).await?,
        h.meta.id,
    )?;
    let end = jiff::Timestamp::now().as_millisecond();

    let console = trial.console(&s.id).await?;
    let detail = console
        .get(&format!("/console/api/records/{}", h.meta.id))
        .await?;
    detail.ok()?;
    let detail = detail.json();
    let received = |v: &Value| v.as_i64().is_some_and(|t| (start..=end).contains(&t));

    let history = detail["history"].as_array().context("a history")?;
    ensure!(history.len() == 3, "{history:?}");
    let users: Vec<&str> = history.iter().filter_map(|e| e["user"].as_str()).collect();
    ensure!(
        users.iter().filter(|u| **u == w.id).count() == 2,
        "{users:?}"
    );
    ensure!(users.contains(&s.id.as_str()), "{users:?}");
    for entry in history {
        ensure!(received(&entry["at"]), "the server's receipt time: {entry}");
        ensure!(
            !received(&entry["device_at"]),
            "the device's time beside it: {entry}"
        );
    }

    let conflicts = detail["conflicts"].as_array().context("conflicts")?;
    let owner = conflicts
        .iter()
        .find(|c| c["path"] == "owner_name")
        .context("the owner's name is in conflict")?;
    let values = owner["values"].as_array().context("values")?;
    ensure!(values.len() == 2, "{owner}");
    for v in values {
        // Masked as the page shows them (王**, 汪*): still told apart.
        let value = v["value"].as_str().unwrap_or_default();
        let (user, device_at) = if value == mask_name("王小芳") {
            (w.id.as_str(), device_w)
        } else if value == mask_name("汪芳") {
            (s.id.as_str(), device_s)
        } else {
            anyhow::bail!("an unexpected value {value:?}")
        };
        ensure!(v["user"] == user, "{v}");
        ensure!(received(&v["at"]), "{v}");
        ensure!(v["device_at"] == device_at / 1000 * 1000, "{v}");
    }
    trial.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item07_an_actor_the_server_did_not_assign_is_refused() -> Result<()> {
    let trial = Trial::start().await?;
    let w = worker();
    let raw = trial.login(&w.id).await?;
    let other = trial.login(&supervisor_of(w).id).await?;
    let before = trial.digest()?;

    for (why, chosen) in [
        ("an actor the device chose", ActorId::random()),
        ("another user's actor", actor(&other.actor_id)?),
    ] {
        let h = household(w);
        let mut doc = RecordDoc::create(&h, chosen, &Author::new(&w.id, device_time()))?;
        let answer = push(&raw, h.meta.id, changes_since(&mut doc, &[])).await?;
        refused(&answer, h.meta.id, "actor_mismatch").context(why)?;
    }
    trial.unchanged(&before)?;
    trial.finish().await
}

/// A tablet signed in again keeps what it saved before under its old
/// actor: the outbox goes out under the new enrolment and is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item07_a_relogin_keeps_what_the_outbox_holds() -> Result<()> {
    let trial = Trial::start().await?;
    let w = worker();
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("device.sqlite");
    let now = jiff::Timestamp::now();
    let today = gridwork_core::calendar::shanghai_date(now);

    let first = http::login(&trial.url(), &w.id, PASSWORD, "平板").await?;
    let mut store = Store::open(&path, actor(&first.actor_id)?)?;
    let h = store.insert(
        household(w),
        &Author::new(&w.id, now.as_millisecond()),
        today,
    )?;
    drop(store);

    // Signed in again (the app opens the same store with the new actor).
    let second = http::login(&trial.url(), &w.id, PASSWORD, "平板").await?;
    let mut store = Store::open(&path, actor(&second.actor_id)?)?;
    store.update::<Household>(
        h.meta.id,
        &Author::new(&w.id, now.as_millisecond() + 1000),
        today,
        |h| h.address.room = "902".into(),
    )?;
    let transport = HttpTransport::new(&trial.url(), &second.token)?;
    let progress = SyncClient::default()
        .sync(&mut store, &transport, |_| {})
        .await?;
    ensure!(progress.rejected.is_empty(), "{:?}", progress.rejected);
    ensure!(store.outbox(10)?.is_empty(), "everything was sent");

    let console = trial.console(&supervisor_of(w).id).await?;
    let detail = console
        .get(&format!("/console/api/records/{}", h.meta.id))
        .await?;
    detail.ok()?;
    let detail = detail.json();
    ensure!(detail["record"]["address"]["room"] == "902", "{detail}");
    ensure!(
        detail["history"]
            .as_array()
            .is_some_and(|h| h.len() == 2 && h.iter().all(|e| e["user"] == w.id.as_str())),
        "{detail}"
    );
    trial.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item08_a_deleted_record_cannot_come_back() -> Result<()> {
    let trial = Trial::start().await?;
    let w = worker();
    let raw = trial.login(&w.id).await?;
    let (h, mut doc) = pushed_household(&raw, w).await?;

    let heads = doc.heads();
    doc.delete(&Author::new(&w.id, device_time()))?;
    accepted(
        &push(&raw, h.meta.id, changes_since(&mut doc, &heads)).await?,
        h.meta.id,
    )?;
    // Seen the tombstone, then writes deleted = false with an edit.
    let heads = doc.heads();
    doc.update::<Household>(&Author::new(&w.id, device_time()), |h| {
        h.meta.deleted = false;
        h.owner_name = "复活".into();
    })?;
    ensure!(!doc.is_deleted(), "the pushed state is live");
    let answer = push(&raw, h.meta.id, changes_since(&mut doc, &heads)).await?;
    accepted(&answer, h.meta.id)?;
    let notice = answer
        .notices
        .iter()
        .find(|n| n.doc == h.meta.id)
        .context("a notice says why")?;
    ensure!(
        notice.code == "record_deleted" && notice.compensated,
        "{notice:?}"
    );

    // Every device reads it deleted again, as it was.
    let console = trial.console(&supervisor_of(w).id).await?;
    let detail = console
        .get(&format!("/console/api/records/{}", h.meta.id))
        .await?;
    detail.ok()?;
    let record = &detail.json()["record"];
    ensure!(record["deleted"] == true, "{record}");
    ensure!(
        record["owner_name"] == mask_name(&h.owner_name).as_str(),
        "{record}"
    );
    trial.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item09_a_record_made_deleted_is_validated() -> Result<()> {
    let trial = Trial::start().await?;
    let w = worker();
    let raw = trial.login(&w.id).await?;
    let before = trial.digest()?;

    let mut h = household(w);
    h.owner_phone = Some("12345".into());
    h.owner_name = "<script>1</script>".into();
    h.meta.deleted = true;
    let mut doc = RecordDoc::create(
        &h,
        actor(&raw.actor_id)?,
        &Author::new(&w.id, device_time()),
    )?;
    let answer = push(&raw, h.meta.id, changes_since(&mut doc, &[])).await?;
    // The first error found, as the worker's form would show it.
    let params = refused(&answer, h.meta.id, "invalid_record")?;
    let first = (text(&params, "field"), text(&params, "error"));
    ensure!(
        first == ("owner_name", "name_invalid") || first == ("owner_phone", "mobile_invalid"),
        "{params:?}"
    );
    trial.unchanged(&before)?;
    trial.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item10_a_200000_character_estate_name_is_refused() -> Result<()> {
    let trial = Trial::start().await?;
    let w = worker();
    let raw = trial.login(&w.id).await?;
    let before = trial.digest()?;

    // 200,000 characters are 600 KB: over the size of one change, refused
    // before the server even applies it.
    let mut h = household(w);
    h.address.estate = "长".repeat(200_000);
    let mut doc = RecordDoc::create(
        &h,
        actor(&raw.actor_id)?,
        &Author::new(&w.id, device_time()),
    )?;
    let answer = push(&raw, h.meta.id, changes_since(&mut doc, &[])).await?;
    refused(&answer, h.meta.id, "change_too_large")?;
    // 20,000 fit in a change; the field's limit names itself.
    let mut h = household(w);
    h.address.estate = "长".repeat(20_000);
    let mut doc = RecordDoc::create(
        &h,
        actor(&raw.actor_id)?,
        &Author::new(&w.id, device_time()),
    )?;
    let answer = push(&raw, h.meta.id, changes_since(&mut doc, &[])).await?;
    let params = refused(&answer, h.meta.id, "invalid_record")?;
    ensure!(
        // The field, the validation code and its limit: the tablet shows
        // the rejection in the worker's language by its code.
        text(&params, "field") == "address.estate"
            && text(&params, "error") == "too_long"
            && params.get("max") == Some(&Param::Number(100.0)),
        "{params:?}"
    );
    trial.unchanged(&before)?;
    trial.finish().await
}

/// Bytes no compressor shrinks.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Writes `bytes` of noise under a key no record has, as one change.
fn bulk(doc: &mut RecordDoc, user: &str, bytes: usize, seed: u64) -> Result<()> {
    let am = doc.automerge();
    am.put(
        ROOT,
        format!("bulk{seed}"),
        ScalarValue::Bytes(noise(bytes, seed)),
    )?;
    am.commit_with(CommitOptions::default().with_message(user.to_string()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item10_a_too_large_change_or_document_is_refused() -> Result<()> {
    let trial = Trial::start().await?;
    let w = worker();
    let raw = trial.login(&w.id).await?;
    let before = trial.digest()?;

    // One change of 300 KB.
    let h = household(w);
    let mut doc = RecordDoc::create(
        &h,
        actor(&raw.actor_id)?,
        &Author::new(&w.id, device_time()),
    )?;
    bulk(&mut doc, &w.id, 300_000, 1)?;
    let answer = push(&raw, h.meta.id, changes_since(&mut doc, &[])).await?;
    refused(&answer, h.meta.id, "change_too_large")?;

    // Ten changes of 240 KB: each allowed, the document not.
    let h = household(w);
    let mut doc = RecordDoc::create(
        &h,
        actor(&raw.actor_id)?,
        &Author::new(&w.id, device_time()),
    )?;
    for seed in 0..10 {
        bulk(&mut doc, &w.id, 240_000, seed + 2)?;
    }
    let answer = push(&raw, h.meta.id, changes_since(&mut doc, &[])).await?;
    refused(&answer, h.meta.id, "document_too_large")?;
    trial.unchanged(&before)?;
    trial.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item11_a_point_in_beijing_is_refused() -> Result<()> {
    let trial = Trial::start().await?;
    let w = worker();
    let raw = trial.login(&w.id).await?;
    let before = trial.digest()?;

    let mut h = household(w);
    h.point = Some(GeoPoint::wgs84(116.397, 39.909));
    let mut doc = RecordDoc::create(
        &h,
        actor(&raw.actor_id)?,
        &Author::new(&w.id, device_time()),
    )?;
    let answer = push(&raw, h.meta.id, changes_since(&mut doc, &[])).await?;
    refused(&answer, h.meta.id, "point_outside_grid")?;
    trial.unchanged(&before)?;
    trial.finish().await
}

/// A corner two grids of the demo share, and the two grids.
fn shared_corner() -> Result<(GeoPoint, String, String)> {
    let tree = GridTree::from_geojson(&demo().grid_tree_geojson)?;
    let mut seen: std::collections::HashMap<(u64, u64), String> = Default::default();
    for grid in tree
        .grids()
        .iter()
        .filter(|g| g.level == gridwork_core::model::grid::GridLevel::Grid)
    {
        let json = serde_json::to_value(&grid.boundary)?;
        let rings = json["coordinates"].as_array().context("a polygon")?;
        for corner in rings
            .iter()
            .flat_map(|ring| ring.as_array().cloned().unwrap_or_default())
        {
            let (lon, lat) = (corner[0].as_f64(), corner[1].as_f64());
            let (Some(lon), Some(lat)) = (lon, lat) else {
                continue;
            };
            let key = (lon.to_bits(), lat.to_bits());
            match seen.get(&key) {
                Some(other) if *other != grid.code => {
                    return Ok((GeoPoint::wgs84(lon, lat), other.clone(), grid.code.clone()));
                }
                _ => {
                    seen.insert(key, grid.code.clone());
                }
            }
        }
    }
    anyhow::bail!("no two demo grids share a corner")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item11_tablet_and_server_agree_on_a_shared_edge() -> Result<()> {
    let trial = Trial::start().await?;
    let (point, a, b) = shared_corner()?;
    for grid in [a, b] {
        let w = workers()
            .into_iter()
            .find(|w| w.grid == grid)
            .context("a worker of the grid")?;
        let mut device = Device::enrol(&trial.server, &w.id).await?;
        let mut h = household(w);
        h.point = Some(point.clone());
        // The tablet's placement: its grids, the core rule.
        gridwork_core::fieldwork::forms::place_household(&mut h, &device.login.grids)?;
        ensure!(h.meta.grid == grid, "placed in {}, not {grid}", h.meta.grid);
        let now = jiff::Timestamp::now();
        device.store.insert(
            h,
            &Author::new(&w.id, now.as_millisecond()),
            gridwork_core::calendar::shanghai_date(now),
        )?;
        let progress = device.sync().await?;
        ensure!(
            progress.rejected.is_empty(),
            "the server refused what the tablet placed: {:?}",
            progress.rejected
        );
    }
    trial.finish().await
}
