//! Devices and a supervisor against a real `gridwork-server` process:
//! offline edits of every kind, synced in every order, converge and lose
//! nothing; a server killed mid-push loses nothing it acknowledged.

use anyhow::Result;
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::Author;
use gridwork_core::model::{Household, HouseholdUse, Incident, Role};
use gridwork_core::workflow::{self, Action, Actor, Status};
use gridwork_tests::{
    Device, NOW, Server, community, new_household, new_incident, today, user_over,
};
use uuid::Uuid;

fn author(device: &Device) -> Author {
    Author::new(device.user(), NOW + 60_000)
}

fn json_of(device: &Device, id: Uuid) -> serde_json::Value {
    device
        .store
        .load(id)
        .unwrap()
        .expect("the record reached the device")
        .to_json()
}

/// Three tablets of the same grid and their community supervisor make
/// offline edits of the same records (different fields, the same field,
/// workflow transitions, a delete against an edit), then sync in the given
/// order, twice over. Every device must end with identical records, with
/// every edit kept and the conflict visible everywhere.
async fn offline_edits_converge(devices: &mut [Device], order: [usize; 4]) -> Result<()> {
    let grid = community().households[0].meta.grid.clone();
    let worker = user_over(Role::GridWorker, &grid);
    let supervisor = user_over(Role::CommunitySupervisor, &grid);
    let cal = WorkCalendar::bundled();

    // Online: the first tablet registers two households and reports an incident.
    let h = new_household(&grid, &worker.id);
    let gone = new_household(&grid, &worker.id);
    let mut incident = new_incident(&grid, &worker.id);
    let worker_actor = Actor {
        user: &worker.id,
        role: Role::GridWorker,
    };
    workflow::transition(
        &mut incident,
        &cal,
        worker_actor,
        Action::Report,
        "",
        vec![],
        NOW,
    )?;
    let first = author(&devices[0]);
    devices[0].store.insert(h.clone(), &first, today())?;
    devices[0].store.insert(gone.clone(), &first, today())?;
    devices[0].store.insert(incident.clone(), &first, today())?;
    for d in devices.iter_mut() {
        d.sync().await?;
    }
    for d in devices.iter() {
        assert!(
            d.store.get::<Household>(h.meta.id)?.is_some(),
            "everyone has the household"
        );
    }

    // Offline, all at once.
    let a = author(&devices[0]);
    devices[0]
        .store
        .update::<Household>(h.meta.id, &a, today(), |h| h.address.room = "1202".into())?;
    let b = author(&devices[1]);
    devices[1]
        .store
        .update::<Household>(h.meta.id, &b, today(), |h| h.usage = HouseholdUse::Rented)?;
    devices[1]
        .store
        .update::<Household>(h.meta.id, &b, today(), |h| h.owner_name = "王建国".into())?;
    let s = author(&devices[3]);
    devices[3]
        .store
        .update::<Household>(h.meta.id, &s, today(), |h| h.owner_name = "汪建国".into())?;
    // A delete on one tablet against an edit on another.
    let c = author(&devices[2]);
    let mut doc = devices[2].store.load(gone.meta.id)?.unwrap();
    doc.delete(&c)?;
    devices[2].store.save_doc(&mut doc)?;
    devices[0]
        .store
        .update::<Household>(gone.meta.id, &a, today(), |h| {
            h.address.detail = "东门".into()
        })?;
    // The supervisor accepts the incident while a tablet resolves it on the spot.
    let sup_actor = Actor {
        user: &supervisor.id,
        role: Role::CommunitySupervisor,
    };
    let mut doc = devices[3].store.load(incident.meta.id)?.unwrap();
    doc.update::<Incident>(&s, |i| {
        workflow::transition(i, &cal, sup_actor, Action::Accept, "", vec![], NOW).unwrap();
    })?;
    devices[3].store.save_doc(&mut doc)?;
    let mut doc = devices[1].store.load(incident.meta.id)?.unwrap();
    let photo = vec!["ab".repeat(32)];
    doc.update::<Incident>(&b, |i| {
        workflow::transition(i, &cal, worker_actor, Action::ResolveOnSpot, "", photo, NOW).unwrap();
    })?;
    devices[1].store.save_doc(&mut doc)?;

    // Back online, in the given order, twice over: after the first pass
    // the early devices have not yet seen the later ones' edits.
    // The server stores a transition that lost the race and answers it
    // with a `transition_refused` notice (kept in the timeline, not
    // applied), so the worker learns why; nothing may be refused.
    let mut raced = 0;
    for _ in 0..2 {
        for &i in &order {
            let progress = devices[i].sync().await?;
            assert!(progress.rejected.is_empty(), "{:?}", progress.rejected);
            for n in &progress.notices {
                assert_eq!(n.code, "transition_refused", "{n:?}");
                assert_eq!(n.doc, incident.meta.id);
                raced += 1;
            }
        }
    }
    assert!(
        raced <= 1,
        "only the second of the two transitions lost the race"
    );

    for d in devices.iter() {
        assert_eq!(d.store.pending_count()?, 0, "every change was acknowledged");
    }
    for id in [h.meta.id, gone.meta.id, incident.meta.id] {
        let reference = json_of(&devices[0], id);
        for d in &devices[1..] {
            assert_eq!(
                json_of(d, id),
                reference,
                "devices differ on {id} (order {order:?})"
            );
        }
    }
    let merged = devices[2].store.get::<Household>(h.meta.id)?.unwrap();
    assert_eq!(merged.address.room, "1202");
    assert_eq!(merged.usage, HouseholdUse::Rented);
    assert!(["王建国", "汪建国"].contains(&merged.owner_name.as_str()));
    for d in devices.iter() {
        let conflicts = d.store.load(h.meta.id)?.unwrap().conflicts();
        assert_eq!(
            conflicts.len(),
            1,
            "the same-field conflict is visible on every device"
        );
        assert_eq!(conflicts[0].path, "owner_name");
        assert_eq!(conflicts[0].values.len(), 2);
        assert!(
            d.store
                .get::<Household>(gone.meta.id)?
                .unwrap()
                .meta
                .deleted
        );
        assert!(
            d.store.search("东门", &Default::default())?.is_empty(),
            "deleted stays hidden"
        );
    }
    let merged = devices[0].store.get::<Incident>(incident.meta.id)?.unwrap();
    assert_eq!(merged.log.len(), 3, "both offline transitions survive");
    let state = workflow::derive(&merged, &cal);
    assert!(matches!(state.status, Status::Accepted | Status::Resolved));
    assert_eq!(state.skipped.len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_edits_from_three_tablets_and_a_supervisor_converge_in_every_order() -> Result<()> {
    let server = Server::start()?;
    let mut orders = Vec::new();
    for a in 0..4 {
        for b in 0..4 {
            for c in 0..4 {
                for d in 0..4 {
                    let order = [a, b, c, d];
                    if (0..4).all(|i| order.contains(&i)) {
                        orders.push(order);
                    }
                }
            }
        }
    }
    assert_eq!(orders.len(), 24);
    // Enrolled once: logins are rate-limited per user, as they should be.
    let grid = community().households[0].meta.grid.clone();
    let worker = user_over(Role::GridWorker, &grid);
    let supervisor = user_over(Role::CommunitySupervisor, &grid);
    let mut devices = vec![
        Device::enrol(&server, &worker.id).await?,
        Device::enrol(&server, &worker.id).await?,
        Device::enrol(&server, &worker.id).await?,
        Device::enrol(&server, &supervisor.id).await?,
    ];
    for order in orders {
        offline_edits_converge(&mut devices, order).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_push_loses_nothing_it_acknowledged() -> Result<()> {
    let mut server = Server::start()?;
    let grid = community().households[0].meta.grid.clone();
    let worker = user_over(Role::GridWorker, &grid);
    let mut tablet = Device::enrol(&server, &worker.id).await?;
    let mut other = Device::enrol(&server, &worker.id).await?;
    let a = author(&tablet);
    let mut ids = Vec::new();
    for n in 0..400 {
        let mut h = new_household(&grid, &worker.id);
        h.address.detail = format!("第{n}户");
        ids.push(tablet.store.insert(h, &a, today())?.meta.id);
    }
    // Push in small batches so the kill lands between and inside requests.
    tablet.client.push_limit = 25;
    let sync = {
        let store = &mut tablet.store;
        let transport = &tablet.transport;
        let client = &tablet.client;
        async move { client.sync(store, transport, |_| {}).await }
    };
    let killer = async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        server.kill()
    };
    let (first, killed) = tokio::join!(sync, killer);
    killed?;
    assert!(first.is_err() || tablet.store.pending_count()? == 0);
    server.restart()?;
    // The retry completes, whatever the kill interrupted.
    let done = tablet.sync().await?;
    assert_eq!(tablet.store.pending_count()?, 0, "{done:?}");
    // Everything is on the server: a second tablet pulls all of it, once.
    let pulled = other.sync().await?;
    for id in &ids {
        assert!(
            other.store.get::<Household>(*id)?.is_some(),
            "{id} was lost: pulled {} changes, pushed {}, refused {:?}",
            pulled.changes_received,
            done.changes_sent,
            done.rejected.first()
        );
    }
    let listed = other.store.list(&gridwork_core::store::ListQuery {
        kind: Some(gridwork_core::model::RecordKind::Household),
        limit: Some(10_000),
        ..Default::default()
    })?;
    assert_eq!(listed.len(), ids.len(), "no duplicates, nothing missing");
    Ok(())
}
