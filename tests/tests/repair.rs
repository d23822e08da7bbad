//! The repair path (Automerge's per-document sync over `/v1/repair/{doc}`)
//! against a real server: a document the batched sync cannot settle by
//! itself is put right, and nothing a worker saved is lost.

use anyhow::Result;
use gridwork_core::doc::Author;
use gridwork_core::model::{Household, Meta, Role, User};
use gridwork_core::store::Store;
use gridwork_core::sync::wire::RejectionCode;
use gridwork_tests::{Device, NOW, Server, community, today};
use uuid::Uuid;

fn user(role: Role) -> &'static User {
    community()
        .users
        .iter()
        .find(|u| u.role == role)
        .expect("the demo has the role")
}

fn new_household(grid: &str, by: &str) -> Household {
    let mut h = community().households[0].clone();
    h.meta = Meta::new(grid, by, NOW);
    h.address.room = "101".into();
    h.owner_phone = None;
    h.review.clear();
    h
}

/// The worker's tablet with a household registered on it, not yet synced.
async fn worker_registers(server: &Server, worker: &User) -> Result<(Device, Uuid)> {
    let mut tablet = Device::enrol(server, &worker.id).await?;
    let household = new_household(&worker.grid, &worker.id);
    let id = household.meta.id;
    let author = Author::new(worker.id.clone(), NOW);
    tablet.store.insert(household, &author, today())?;
    Ok((tablet, id))
}

fn edit(device: &mut Device, id: Uuid, room: &str, phone: Option<&str>) -> Result<()> {
    let author = Author::new(device.user(), NOW + 60_000);
    device
        .store
        .update::<Household>(id, &author, today(), |h| {
            h.address.room = room.into();
            if let Some(p) = phone {
                h.owner_phone = Some(p.into());
            }
        })?;
    Ok(())
}

/// A new connection after the server restarted (the old pooled one died
/// with the process).
/// The server is restored from last night's backup: it has lost a change
/// it had acknowledged. The worker's next edit builds on that change, so the
/// server refuses it for missing dependencies; the repair path finds what
/// the server lacks, the tablet pushes it again, and a supervisor's device
/// ends up with every edit.
#[tokio::test]
async fn a_server_restored_from_backup_gets_back_what_it_lost() -> Result<()> {
    let mut server = Server::start()?;
    let worker = user(Role::GridWorker);
    let (mut tablet, id) = worker_registers(&server, worker).await?;
    tablet.sync().await?;

    let backup = server.backup()?;
    tablet.reconnect(&server)?;
    edit(&mut tablet, id, "202", Some("13800138000"))?;
    let acked = tablet.sync().await?;
    assert_eq!(acked.pending, 0, "the edit was acknowledged: {acked:?}");

    server.restore(backup.path())?;
    tablet.reconnect(&server)?;
    edit(&mut tablet, id, "303", None)?;
    let progress = tablet.sync().await?;
    assert_eq!(progress.repaired, 1, "{progress:?}");
    assert_eq!(
        progress.pending, 0,
        "everything was pushed again: {progress:?}"
    );
    assert!(
        tablet
            .store
            .rejections()?
            .iter()
            .all(|r| r.code != RejectionCode::MissingDependencies.code()),
        "the refusal is cleared once repaired"
    );

    let supervisor = community()
        .supervisor_of(&worker.grid)
        .expect("the worker's community supervisor");
    let mut desk = Device::enrol(&server, &supervisor.id).await?;
    desk.sync().await?;
    let seen = desk.store.get::<Household>(id)?.expect("the household");
    assert_eq!(seen.address.room, "303");
    assert_eq!(
        seen.owner_phone.as_deref(),
        Some("13800138000"),
        "the edit the backup lost came back"
    );
    assert_eq!(
        desk.store.heads(id)?,
        tablet.store.heads(id)?,
        "both devices hold the same history"
    );
    Ok(())
}

/// A tablet holds a change whose predecessor it never received, and its
/// cursor is already past that predecessor (a store copied back from a
/// tablet backup): the batched sync has nothing more to send, so the
/// change would wait forever. The repair path fetches what is missing.
#[tokio::test]
async fn a_change_waiting_for_a_lost_predecessor_is_repaired() -> Result<()> {
    let server = Server::start()?;
    let worker = user(Role::GridWorker);
    let (mut tablet, id) = worker_registers(&server, worker).await?;
    edit(&mut tablet, id, "202", Some("13800138000"))?;
    tablet.sync().await?;
    let before_last = tablet.store.heads(id)?.expect("the household");
    edit(&mut tablet, id, "303", None)?;
    tablet.sync().await?;

    // A second tablet of the same worker that received only the last
    // change, with a cursor past all of them.
    let mut other = Device::enrol(&server, &worker.id).await?;
    other.sync().await?;
    let cursor = other.store.sync_cursor()?;
    let actor = other.store.actor().clone();
    let dir = tempfile::tempdir()?;
    let mut restored = Store::open(dir.path().join("device.sqlite"), actor)?;
    let last = tablet
        .store
        .load(id)?
        .expect("the household")
        .changes_since(&before_last);
    assert_eq!(last.len(), 1);
    let outcome = restored.apply_remote(id, last)?;
    assert_eq!(outcome.waiting, 1, "the change waits for its predecessors");
    restored.set_sync_cursor(cursor)?;
    assert_eq!(restored.divergent_docs(10)?, vec![id]);

    other.store = restored;
    let progress = other.sync().await?;
    assert_eq!(progress.repaired, 1, "{progress:?}");
    assert!(other.store.divergent_docs(10)?.is_empty());
    let seen = other.store.get::<Household>(id)?.expect("repaired");
    assert_eq!(seen.address.room, "303");
    assert_eq!(seen.owner_phone.as_deref(), Some("13800138000"));
    assert_eq!(other.store.heads(id)?, tablet.store.heads(id)?);
    Ok(())
}

/// The repair path answers a document outside the user's grid exactly like
/// one the server does not have: nothing of it reaches the device.
#[tokio::test]
async fn repair_leaks_nothing_outside_the_users_grid() -> Result<()> {
    let server = Server::start()?;
    let worker = user(Role::GridWorker);
    let stranger = community()
        .users
        .iter()
        .find(|u| u.role == Role::GridWorker && u.grid != worker.grid)
        .expect("a worker of another grid");
    let (mut tablet, id) = worker_registers(&server, worker).await?;
    tablet.sync().await?;

    let mut outsider = Device::enrol(&server, &stranger.id).await?;
    let client = outsider.client.clone();
    let repaired = client
        .repair(&mut &mut outsider.store, &outsider.transport, id)
        .await?;
    assert_eq!(repaired.received, 0, "{repaired:?}");
    assert!(outsider.store.load(id)?.is_none());
    Ok(())
}
