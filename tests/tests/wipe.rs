//! Revoking and the lost-device wipe against a real `gridwork-server`
//! (see `sync-server/src/devices.rs`): an admin marks a tablet lost; at
//! its next sync the tablet pushes its outbox, which the server keeps and
//! flags for review, then erases its data folder and reports it; the
//! server shows the device wiped and its token is dead.

use anyhow::{Context, Result};
use automerge::ActorId;
use gridwork_core::doc::Author;
use gridwork_core::model::{Household, Meta, Role, User};
use gridwork_core::store::Store;
use gridwork_core::sync::client::SyncClient;
use gridwork_core::sync::http::{HttpTransport, login};
use gridwork_core::sync::wipe::{
    PENDING_REPORT_FILE, PendingReport, erase_and_report, report_pending,
};
use gridwork_tests::console::Console;
use gridwork_tests::{Device, NOW, PASSWORD, Server, community, today};

fn household(grid: &str, by: &str, room: &str) -> Household {
    let mut h = community().households[0].clone();
    h.meta = Meta::new(grid, by, NOW);
    h.address.room = room.into();
    h.review.clear();
    h
}

fn user(role: Role) -> &'static User {
    community()
        .users
        .iter()
        .find(|u| u.role == role)
        .expect("a user of the role")
}

/// The state `list-devices` prints for a device.
fn listed_state(server: &Server, device: &str) -> Result<String> {
    let out = server.admin(&["list-devices"])?;
    let line = out
        .lines()
        .find(|l| l.starts_with(device))
        .with_context(|| format!("{device} in {out}"))?;
    Ok(line
        .rsplit("  ")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string())
}

fn pending_report(server: &Server, token: &str) -> PendingReport {
    PendingReport {
        server_url: server.url(),
        trust: Default::default(),
        token: token.to_string(),
    }
}

#[tokio::test]
async fn a_lost_tablet_pushes_its_outbox_then_erases_itself_and_the_server_shows_wiped()
-> Result<()> {
    let server = Server::start()?;
    let worker = user(Role::GridWorker);
    let author = Author::new(worker.id.clone(), NOW);

    // A tablet with its own data folder: the store and a session file.
    let folder = tempfile::tempdir()?;
    let data = folder.path().join("data");
    std::fs::create_dir_all(data.join("photos"))?;
    let tablet = login(&server.url(), &worker.id, PASSWORD, "丢失的平板").await?;
    std::fs::write(data.join("session.json"), &tablet.token)?;
    std::fs::write(data.join("photos/a.jpg"), [0xff, 0xd8, 0xff, 0xe0])?;
    let actor = ActorId::from(hex::decode(&tablet.actor_id)?);
    let mut store = Store::open(data.join("device.sqlite"), actor)?;
    let transport = HttpTransport::new(&server.url(), &tablet.token)?;
    let client = SyncClient::default();
    let sent = store.insert(household(&worker.grid, &worker.id, "101"), &author, today())?;
    client.sync(&mut store, &transport, |_| {}).await?;
    assert_eq!(listed_state(&server, &tablet.device_id)?, "active");

    // Saved on the bus, never sent; then the tablet is gone.
    let unsent = store.insert(household(&worker.grid, &worker.id, "102"), &author, today())?;
    assert_eq!(store.pending_count()?, 1);
    let out = server.admin(&["mark-lost", &tablet.device_id])?;
    assert!(out.contains("marked lost"), "{out}");
    assert!(listed_state(&server, &tablet.device_id)?.starts_with("lost "));
    let again = server.admin(&["mark-lost", &tablet.device_id])?;
    assert!(again.contains("already"), "{again}");

    // The token opens nothing but the sync and the wipe report.
    let http = reqwest::Client::new();
    let refused = http
        .post(format!("{}/v1/access-log", server.url()))
        .bearer_auth(&tablet.token)
        .json(&serde_json::json!({"entries": []}))
        .send()
        .await?;
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await?;
    assert_eq!(body["code"], "device_lost");

    // The next sync: the outbox goes up, nothing comes down, the answer
    // says wipe.
    let progress = client.sync(&mut store, &transport, |_| {}).await?;
    assert!(progress.wipe, "{progress:?}");
    assert_eq!((progress.changes_sent, progress.pending), (1, 0));
    assert_eq!(progress.changes_received, 0);
    drop(store);
    let wiped = erase_and_report(&data, &pending_report(&server, &tablet.token)).await?;
    assert_eq!(
        std::fs::read_dir(&data)?.count(),
        0,
        "the data folder is empty"
    );
    assert!(wiped.wiped_at > 0);

    // The server kept the change: a supervisor's tablet receives it, and
    // the console shows it came from a lost device.
    let mut other = Device::enrol(&server, &worker.id).await?;
    other.sync().await?;
    assert!(other.store.get::<Household>(sent.meta.id)?.is_some());
    let kept = other
        .store
        .get::<Household>(unsent.meta.id)?
        .context("the lost tablet's last household reached the server")?;
    assert_eq!(kept.address.room, "102");
    let supervisor = user(Role::CommunitySupervisor);
    let console = Console::open(&server, &supervisor.id).await?;
    let page = console
        .get(&format!("/records/{}", unsent.meta.id))
        .await?
        .ok()?;
    let flagged = page["from_lost_device"].as_array().context("flag list")?;
    assert_eq!(flagged.len(), 1, "{page}");
    let history_hashes: Vec<&str> = page["history"]
        .as_array()
        .context("history")?
        .iter()
        .filter_map(|h| h["hash"].as_str())
        .collect();
    assert!(history_hashes.contains(&flagged[0].as_str().unwrap_or_default()));
    let before = console
        .get(&format!("/records/{}", sent.meta.id))
        .await?
        .ok()?;
    assert_eq!(
        before["from_lost_device"],
        serde_json::json!([]),
        "sent before"
    );
    // The queue narrowed to what came from lost devices: that household
    // alone, not the one sent before.
    let queued = |page: serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let all = queued(console.get("/queue?status=all").await?.ok()?);
    assert!(all.contains(&sent.meta.id.to_string()), "{all:?}");
    let lost = console
        .get("/queue?status=all&from_lost_device=true")
        .await?
        .ok()?;
    assert_eq!(lost["total"], 1, "{lost}");
    assert_eq!(queued(lost), [unsent.meta.id.to_string()]);

    // Wiped, with the server's time; the token is dead.
    assert!(listed_state(&server, &tablet.device_id)?.starts_with("wiped "));
    let mut empty = Store::open_in_memory(ActorId::random())?;
    let err = client
        .sync(&mut empty, &transport, |_| {})
        .await
        .expect_err("a wiped device's token is dead");
    assert_eq!(err.code(), "token_revoked");
    Ok(())
}

#[tokio::test]
async fn only_a_lost_device_reports_a_wipe_and_mark_lost_names_a_tablet() -> Result<()> {
    let server = Server::start()?;
    let worker = user(Role::GridWorker);
    let tablet = Device::enrol(&server, &worker.id).await?;
    let err = gridwork_core::sync::wipe::report(&tablet.transport)
        .await
        .expect_err("not lost");
    assert_eq!(err.code(), "device_not_lost");
    assert_eq!(listed_state(&server, &tablet.login.device_id)?, "active");

    let unknown = server.admin(&["mark-lost", "no-such-device"]);
    assert!(unknown.is_err(), "{unknown:?}");

    // Revoked, then lost: the token opens the push and the report again,
    // so the tablet still gets erased.
    server.admin(&["revoke-device", &tablet.login.device_id])?;
    assert!(listed_state(&server, &tablet.login.device_id)?.starts_with("revoked "));
    server.admin(&["mark-lost", &tablet.login.device_id])?;
    let mut store = Store::open_in_memory(ActorId::random())?;
    let progress = tablet
        .client
        .sync(&mut store, &tablet.transport, |_| {})
        .await?;
    assert!(progress.wipe);
    gridwork_core::sync::wipe::report(&tablet.transport).await?;
    assert!(listed_state(&server, &tablet.login.device_id)?.starts_with("wiped "));
    Ok(())
}

#[tokio::test]
async fn the_console_lists_devices_with_their_state_and_marks_one_lost_for_admins_only()
-> Result<()> {
    let server = Server::start()?;
    let worker = user(Role::GridWorker);
    let tablet = Device::enrol(&server, &worker.id).await?;
    let id = tablet.login.device_id.clone();

    let supervisor = Console::open(&server, &user(Role::CommunitySupervisor).id).await?;
    let refused = supervisor.get("/devices").await?;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (403, "admin_only")
    );
    let refused = supervisor
        .post(&format!("/devices/{id}/lost"), serde_json::json!({}))
        .await?;
    assert_eq!(refused.status.as_u16(), 403);

    let admin = Console::open(&server, &user(Role::Admin).id).await?;
    let list = admin.get("/devices").await?.ok()?;
    let row = list
        .as_array()
        .context("a list")?
        .iter()
        .find(|d| d["id"] == id.as_str())
        .context("the tablet is listed")?
        .clone();
    assert_eq!(row["state"], "active");
    assert_eq!(row["user_id"], worker.id.as_str());
    assert!(
        !list
            .as_array()
            .context("a list")?
            .iter()
            .any(|d| d["id"].as_str().unwrap_or_default().starts_with("console-")),
        "console sign-ins are sessions, not tablets"
    );

    let lost = admin
        .post(&format!("/devices/{id}/lost"), serde_json::json!({}))
        .await?
        .ok()?;
    assert_eq!(lost["state"], "lost");
    assert!(lost["lost_at"].as_i64().is_some());
    assert_eq!(listed_state(&server, &id)?.split(' ').next(), Some("lost"));
    let missing = admin
        .post("/devices/nobody/lost", serde_json::json!({}))
        .await?;
    assert_eq!(
        (missing.status.as_u16(), missing.code()),
        (404, "not_found")
    );

    let other = Device::enrol(&server, &worker.id).await?;
    let revoked = admin
        .post(
            &format!("/devices/{}/revoke", other.login.device_id),
            serde_json::json!({}),
        )
        .await?
        .ok()?;
    assert_eq!(revoked["state"], "revoked");
    Ok(())
}

#[tokio::test]
async fn a_wipe_report_cut_off_after_the_erase_is_sent_again_until_the_server_records_it()
-> Result<()> {
    let mut server = Server::start()?;
    let worker = user(Role::GridWorker);
    let author = Author::new(worker.id.clone(), NOW);
    let folder = tempfile::tempdir()?;
    let data = folder.path().join("data");
    std::fs::create_dir_all(&data)?;
    let tablet = login(&server.url(), &worker.id, PASSWORD, "断网的平板").await?;
    let actor = ActorId::from(hex::decode(&tablet.actor_id)?);
    let mut store = Store::open(data.join("device.sqlite"), actor)?;
    let transport = HttpTransport::new(&server.url(), &tablet.token)?;
    let client = SyncClient::default();
    let unsent = store.insert(household(&worker.grid, &worker.id, "303"), &author, today())?;
    server.admin(&["mark-lost", &tablet.device_id])?;
    let progress = client.sync(&mut store, &transport, |_| {}).await?;
    assert!(progress.wipe);
    drop(store);

    // The connection goes just after the sync: the erase happens, the
    // report does not arrive.
    server.kill()?;
    let err = erase_and_report(&data, &pending_report(&server, &tablet.token))
        .await
        .expect_err("the server is down");
    assert!(err.is_retryable(), "{err:?}");
    let left: Vec<String> = std::fs::read_dir(&data)?
        .map(|e| -> Result<String> { Ok(e?.file_name().to_string_lossy().into_owned()) })
        .collect::<Result<_>>()?;
    assert_eq!(left, [PENDING_REPORT_FILE], "only the report waits");
    let kept = std::fs::read(data.join(PENDING_REPORT_FILE))?;
    let id = unsent.meta.id.to_string();
    let in_records: [&[u8]; 3] = [worker.id.as_bytes(), b"303", id.as_bytes()];
    for clear in in_records {
        assert!(
            !kept.windows(clear.len()).any(|w| w == clear),
            "the pending report holds nothing of the records"
        );
    }

    // Still down at the next start: the report stays.
    assert!(report_pending(&data).await.is_err());
    assert!(data.join(PENDING_REPORT_FILE).exists());

    // The server is back: the next try gets through, once.
    server.restart()?;
    assert!(listed_state(&server, &tablet.device_id)?.starts_with("lost "));
    let wiped = report_pending(&data)
        .await?
        .context("the report was sent")?;
    assert!(wiped.wiped_at > 0);
    assert!(listed_state(&server, &tablet.device_id)?.starts_with("wiped "));
    assert_eq!(std::fs::read_dir(&data)?.count(), 0, "nothing is left");
    assert!(report_pending(&data).await?.is_none());

    // An answer lost after the server recorded the wipe: the next try
    // is told the token is dead, and the report is dropped, not retried.
    let folder2 = tempfile::tempdir()?;
    std::fs::write(
        folder2.path().join(PENDING_REPORT_FILE),
        serde_json::to_vec(&serde_json::json!({
            "server_url": server.url(),
            "token": tablet.token,
        }))?,
    )?;
    let err = report_pending(folder2.path())
        .await
        .expect_err("already recorded");
    assert_eq!(err.code(), "token_revoked");
    assert!(!folder2.path().join(PENDING_REPORT_FILE).exists());
    Ok(())
}
