//! The sync client's retries against a real `gridwork-server`: retryable
//! failures are tried again with backoff, and the worker keeps saving
//! meanwhile; a revoked device is not retried, and a console session's
//! cookie opens no device API.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::Result;
use backon::ExponentialBuilder;
use gridwork_core::doc::Author;
use gridwork_core::model::{Household, Meta};
use gridwork_core::store::Store;
use gridwork_core::sync::client::{SyncClient, Transport, TransportError};
use gridwork_core::sync::http::HttpTransport;
use gridwork_tests::{Device, NOW, Server, community, today};

/// The network of a village: the first `failures` exchanges never reach
/// the server; the rest go through the real HTTP transport.
struct Flaky<'a> {
    inner: &'a HttpTransport,
    failures: u32,
    tried: AtomicU32,
}

impl Transport for Flaky<'_> {
    async fn exchange(&self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        if self.tried.fetch_add(1, Ordering::SeqCst) < self.failures {
            return Err(TransportError::Unreachable("no signal".into()));
        }
        self.inner.exchange(body).await
    }

    async fn repair(&self, doc: uuid::Uuid, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        if self.tried.fetch_add(1, Ordering::SeqCst) < self.failures {
            return Err(TransportError::Unreachable("no signal".into()));
        }
        self.inner.repair(doc, body).await
    }
}

fn quick() -> SyncClient {
    SyncClient {
        retry: ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(1))
            .with_max_delay(Duration::from_millis(4))
            .with_max_times(3)
            .with_jitter(),
        ..SyncClient::default()
    }
}

fn household(grid: &str, by: &str, room: &str) -> Household {
    let mut h = community().households[0].clone();
    h.meta = Meta::new(grid, by, NOW);
    h.address.room = room.into();
    h.review.clear();
    h
}

/// Takes the device's store into a mutex shared with "the app".
fn shared(device: &mut Device) -> Result<Mutex<Store>> {
    let actor = device.store.actor().clone();
    Ok(Mutex::new(std::mem::replace(
        &mut device.store,
        Store::open_in_memory(actor)?,
    )))
}

#[tokio::test]
async fn retryable_failures_are_retried_while_the_worker_keeps_saving() -> Result<()> {
    let server = Server::start()?;
    let worker = community()
        .users
        .iter()
        .find(|u| u.role == gridwork_core::model::Role::GridWorker)
        .expect("a worker");
    let mut tablet = Device::enrol(&server, &worker.id).await?;
    let mut other = Device::enrol(&server, &worker.id).await?;
    let store = shared(&mut tablet)?;
    let author = Author::new(worker.id.clone(), NOW);
    let first = household(&worker.grid, &worker.id, "101");
    store
        .lock()
        .expect("unpoisoned")
        .insert(first.clone(), &author, today())?;

    let flaky = Flaky {
        inner: &tablet.transport,
        failures: 2,
        tried: AtomicU32::new(0),
    };
    let saved_meanwhile = household(&worker.grid, &worker.id, "102");
    let mut waits = Vec::new();
    let progress = quick()
        .sync_with_retry(&store, &flaky, |p| {
            if let Some(code) = &p.retrying_after {
                waits.push((p.attempts, code.clone(), p.retry_in));
                // The store is free while the client waits: the worker saves.
                let mut s = store
                    .try_lock()
                    .expect("the store is not held during a wait");
                if s.get::<Household>(saved_meanwhile.meta.id)
                    .ok()
                    .flatten()
                    .is_none()
                {
                    s.insert(saved_meanwhile.clone(), &author, today())
                        .expect("a local save during the wait");
                }
            }
        })
        .await?;
    assert_eq!(progress.attempts, 3, "{progress:?}");
    assert_eq!(waits.len(), 2, "{waits:?}");
    assert!(
        waits
            .iter()
            .all(|(_, code, wait)| code == "unreachable" && wait.is_some())
    );
    assert_eq!(
        waits.iter().map(|w| w.0).collect::<Vec<_>>(),
        [1, 2],
        "progress reports the attempts"
    );
    assert_eq!(store.lock().expect("unpoisoned").pending_count()?, 0);

    // Both the first record and the one saved during the wait arrived.
    other.sync().await?;
    for h in [&first, &saved_meanwhile] {
        assert!(other.store.get::<Household>(h.meta.id)?.is_some());
    }
    Ok(())
}

#[tokio::test]
async fn a_revoked_device_is_not_retried_and_giving_up_keeps_everything() -> Result<()> {
    let server = Server::start()?;
    let worker = community()
        .users
        .iter()
        .find(|u| u.role == gridwork_core::model::Role::GridWorker)
        .expect("a worker");
    let mut tablet = Device::enrol(&server, &worker.id).await?;
    let store = shared(&mut tablet)?;
    let author = Author::new(worker.id.clone(), NOW);
    store.lock().expect("unpoisoned").insert(
        household(&worker.grid, &worker.id, "201"),
        &author,
        today(),
    )?;

    // A network that never comes back: the client gives up after its
    // tries, with the change still in the outbox.
    let dead = Flaky {
        inner: &tablet.transport,
        failures: u32::MAX,
        tried: AtomicU32::new(0),
    };
    let mut last = 0;
    let err = quick()
        .sync_with_retry(&store, &dead, |p| last = p.attempts)
        .await
        .expect_err("no network");
    assert_eq!(err.code(), "unreachable");
    assert_eq!(
        dead.tried.load(Ordering::SeqCst),
        4,
        "one try and three retries"
    );
    assert_eq!(last, 3, "the last wait came after the third try");
    assert_eq!(store.lock().expect("unpoisoned").pending_count()?, 1);

    // A revoked device: a person must act, so no retry.
    server.admin(&["revoke-device", &tablet.login.device_id])?;
    let live = Flaky {
        inner: &tablet.transport,
        failures: 0,
        tried: AtomicU32::new(0),
    };
    let err = quick()
        .sync_with_retry(&store, &live, |_| {})
        .await
        .expect_err("revoked");
    assert_eq!(err.code(), "token_revoked");
    assert_eq!(live.tried.load(Ordering::SeqCst), 1);
    assert_eq!(
        store.lock().expect("unpoisoned").pending_count()?,
        1,
        "nothing saved is lost"
    );
    Ok(())
}

/// A console session is for the browser: the token in its cookie does not
/// open the device API, so a leaked console cookie cannot sync.
#[tokio::test]
async fn a_console_cookie_is_not_a_device_token() -> Result<()> {
    let server = Server::start()?;
    let supervisor = community()
        .users
        .iter()
        .find(|u| u.role == gridwork_core::model::Role::CommunitySupervisor)
        .expect("a supervisor");
    let response = reqwest::Client::new()
        .post(format!("{}/console/api/login", server.url()))
        .header("x-gridwork-console", "1")
        .json(&serde_json::json!({"user": supervisor.id, "password": gridwork_tests::PASSWORD}))
        .send()
        .await?;
    assert!(response.status().is_success(), "{}", response.status());
    let cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie")
        .to_string();
    let token = cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, value)| value.to_string())
        .expect("name=value");
    assert!(!token.is_empty());

    let dir = tempfile::tempdir()?;
    let mut store = Store::open(
        dir.path().join("device.sqlite"),
        automerge::ActorId::random(),
    )?;
    let transport = HttpTransport::new(&server.url(), &token)?;
    let err = SyncClient::default()
        .sync(&mut store, &transport, |_| {})
        .await
        .expect_err("a console token is refused");
    assert_eq!(err.code(), "unauthenticated");
    Ok(())
}
