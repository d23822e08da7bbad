//! The tablet's access log against a real `gridwork-server`: a reveal of
//! a masked field made with the server down is kept on the device, reaches
//! the server's access log at the next sync with the device's id, and is
//! stored there once even when the upload is retried after its answer was
//! lost. The server keeps its own user and the record's own kind, and
//! refuses a reveal of a record outside the device's scope, which the
//! device then keeps to itself.

mod console_support;

use anyhow::{Context, Result};
use console_support::{Console, NOW, two_communities, worker_reports};
use gridwork_core::model::{RecordKind, Role};
use gridwork_core::store::{Protection, RevealEntry};
use gridwork_core::sync::access_log::{REFUSED_OUTSIDE_SCOPE, RevealUpload, upload_reveals};
use gridwork_tests::{Device, Server, community};
use serde_json::Value;
use uuid::Uuid;

fn user(role: Role) -> &'static gridwork_core::model::User {
    community()
        .users
        .iter()
        .find(|u| u.role == role)
        .expect("the demo has such a user")
}

/// The server's reveal rows about `record`.
async fn reveals_of(console: &Console, record: Uuid) -> Result<Vec<Value>> {
    let log = console.get("/access-log?limit=1000").await?.ok()?;
    let rows = log.as_array().context("the access log is a list")?;
    Ok(rows
        .iter()
        .filter(|r| {
            r["action"] == "reveal"
                && r["record_ids"]
                    .as_array()
                    .is_some_and(|ids| ids.iter().any(|i| i == record.to_string().as_str()))
        })
        .cloned()
        .collect())
}

#[tokio::test]
async fn a_reveal_made_offline_reaches_the_server_access_log_once() -> Result<()> {
    let mut server = Server::start()?;
    let worker = user(Role::GridWorker);
    let (mut tablet, household, _) = worker_reports(&server, worker).await?;

    // The network is gone; the worker reveals the owner's ID number.
    server.kill()?;
    let reveal = RevealEntry::new(
        &worker.id,
        RecordKind::Household,
        household,
        "owner_id_number",
        Protection::S,
        NOW,
    );
    tablet.store.record_reveal(&reveal)?;
    let offline = upload_reveals(&mut tablet.store, &tablet.transport, NOW).await;
    assert!(
        offline.as_ref().is_err_and(|e| e.is_retryable()),
        "{offline:?}"
    );
    assert_eq!(tablet.store.unsent_reveal_count()?, 1, "kept while offline");

    // Back online. The first upload reaches the server, but its answer is
    // lost on the way back: the device still holds the entry as unsent.
    server.restart()?;
    let lost = tablet
        .transport
        .upload_reveals(&RevealUpload {
            entries: vec![reveal.clone()],
        })
        .await?;
    assert_eq!((lost.added, lost.stored.clone()), (1, vec![reveal.id]));
    assert_eq!(tablet.store.unsent_reveal_count()?, 1);

    // The next sync sends it again: the server adds nothing and the device
    // marks it sent; a third sync sends nothing at all.
    tablet.sync().await?;
    assert_eq!(
        upload_reveals(&mut tablet.store, &tablet.transport, NOW).await?,
        0
    );
    assert_eq!(tablet.store.unsent_reveal_count()?, 0);
    assert!(tablet.store.unsent_reveals(10)?.is_empty());

    let admin = Console::open(&server, &user(Role::Admin).id).await?;
    let rows = reveals_of(&admin, household).await?;
    assert_eq!(rows.len(), 1, "stored once: {rows:?}");
    let row = &rows[0];
    assert_eq!(row["user_id"], worker.id.as_str());
    assert_eq!(row["device_id"], tablet.login.device_id.as_str());
    assert_eq!(row["target"], "household");
    assert_eq!(row["revealed"], "s");
    let filter: Value = serde_json::from_str(row["filter"].as_str().unwrap_or_default())?;
    assert_eq!(filter["field"], "owner_id_number");
    assert_eq!(filter["device_at"], NOW);

    Ok(())
}

#[tokio::test]
async fn the_server_keeps_its_own_user_and_kind_and_refuses_records_outside_scope() -> Result<()> {
    let server = Server::start()?;
    let (a, b) = two_communities();
    let (mut tablet, mine, _) = worker_reports(&server, a).await?;
    let (_, theirs, _) = worker_reports(&server, b).await?;
    let supervisor = user(Role::StreetSupervisor);

    // Both entries claim to be the supervisor's and about a resident.
    let claim = |record| {
        RevealEntry::new(
            &supervisor.id,
            RecordKind::Resident,
            record,
            "id_number",
            Protection::S,
            NOW,
        )
    };
    let (own, other) = (claim(mine), claim(theirs));
    tablet.store.record_reveal(&own)?;
    tablet.store.record_reveal(&other)?;
    let receipt = tablet
        .transport
        .upload_reveals(&RevealUpload {
            entries: vec![own.clone(), other.clone()],
        })
        .await?;
    assert_eq!(receipt.stored, vec![own.id]);
    assert_eq!(receipt.refused.len(), 1, "{receipt:?}");
    assert_eq!(receipt.refused[0].id, other.id);
    assert_eq!(receipt.refused[0].code, REFUSED_OUTSIDE_SCOPE);

    // The client marks both: the refused one is kept here, not resent.
    upload_reveals(&mut tablet.store, &tablet.transport, NOW).await?;
    assert_eq!(tablet.store.unsent_reveal_count()?, 0);
    assert_eq!(
        tablet.store.reveal_refusal(other.id)?.as_deref(),
        Some(REFUSED_OUTSIDE_SCOPE)
    );

    let admin = Console::open(&server, &user(Role::Admin).id).await?;
    assert!(reveals_of(&admin, theirs).await?.is_empty());
    let rows = reveals_of(&admin, mine).await?;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["user_id"], a.id.as_str());
    assert_eq!(rows[0]["target"], "household");
    assert!(
        !rows[0]["filter"]
            .as_str()
            .unwrap_or_default()
            .contains(&supervisor.id),
        "{rows:?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_entry_naming_no_field_is_refused_and_nothing_is_stored() -> Result<()> {
    let server = Server::start()?;
    let worker = user(Role::GridWorker);
    let tablet = Device::enrol(&server, &worker.id).await?;
    let record = Uuid::now_v7();
    let good = RevealEntry::new(
        &worker.id,
        RecordKind::Household,
        record,
        "owner_phone",
        Protection::Pi,
        NOW,
    );
    let mut blank = good.clone();
    blank.id = Uuid::now_v7();
    blank.field = " ".into();
    let refused = tablet
        .transport
        .upload_reveals(&RevealUpload {
            entries: vec![good, blank],
        })
        .await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.code() == "bad_request" && e.to_string().contains("field")),
        "{refused:?}"
    );
    let admin = Console::open(&server, &user(Role::Admin).id).await?;
    assert!(reveals_of(&admin, record).await?.is_empty());
    Ok(())
}
