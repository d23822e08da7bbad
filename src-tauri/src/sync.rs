//! Sync from the app: "sync now", a background loop that syncs every few
//! seconds while signed in, and the status the UI shows (online or not,
//! pending changes, last sync, last error, the server's refusals and its
//! notices until the worker dismisses them, and while a sync runs its
//! progress: records and bytes done and left and the time left, kept by
//! core's [`SyncMeter`]), sent as the `sync-status` event whenever it
//! changes.
//!
//! A sync holds the store's lock only to prepare a request and to take an
//! answer, never across the network, so the screens stay responsive while
//! a slow exchange runs. Photos move after the records (a slow photo never
//! holds up the data), through a second connection to the same store file
//! that only the photo sync (and the access log's upload) uses, since core's photo sync keeps its store
//! across every chunk it sends.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use backon::ExponentialBuilder;
use gridwork_core::store::{PhotoKind, Store};
use gridwork_core::sync::access_log::upload_reveals;
use gridwork_core::sync::blobs::{PhotoProgress, UploadStep, sync_photos_reporting};
use gridwork_core::sync::client::{Progress, StoreAccess, SyncClient, SyncError};
use gridwork_core::sync::progress::SyncMeter;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::errors::{CommandError, ErrorCode};
use crate::state::{AppState, lock};
use crate::status::{
    NoticeView, RefusedPhoto, RejectionView, RetryView, STATUS_EVENT, SyncStatus, UploadView,
};

/// The current sync status, with the pending count read fresh.
#[tauri::command]
pub fn sync_status(state: State<'_, AppState>) -> Result<SyncStatus, CommandError> {
    refresh_counts(&state);
    Ok(lock(&state.status).clone())
}

/// Marks the server's notices `seqs` seen: they leave the sync status.
#[tauri::command]
pub fn dismiss_notices(
    state: State<'_, AppState>,
    seqs: Vec<i64>,
) -> Result<SyncStatus, CommandError> {
    state.with_session(|s| {
        s.store
            .mark_notices_seen(&seqs)
            .map_err(CommandError::store)
    })?;
    refresh_counts(&state);
    Ok(lock(&state.status).clone())
}

/// Syncs now and returns the status after it.
#[tauri::command]
pub async fn sync_now<R: Runtime>(app: AppHandle<R>) -> Result<SyncStatus, CommandError> {
    run(&app).await?;
    let state = app.state::<AppState>();
    Ok(lock(&state.status).clone())
}

/// Syncs every `interval` while signed in, for as long as the app runs.
pub fn spawn_background<R: Runtime>(app: AppHandle<R>, interval: Duration) {
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let signed_in = app.state::<AppState>().session().is_some();
            if signed_in {
                // The status carries the error; nothing else to do with it.
                let _ = run(&app).await;
            }
        }
    });
}

/// Re-reads the pending count and the stored refusals into the status and
/// tells the UI.
pub fn publish<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    refresh_counts(&state);
    let status = lock(&state.status).clone();
    let _ = app.emit(STATUS_EVENT, status);
}

fn refresh_counts(state: &AppState) {
    let counts = {
        let guard = state.session();
        guard.as_ref().map(|s| {
            let pending = s.store.pending_count().unwrap_or(0);
            let photos_pending = s
                .store
                .pending_photos()
                .unwrap_or_default()
                .iter()
                .filter(|p| p.kind == PhotoKind::Photo)
                .count() as u64;
            let rejections = s
                .store
                .rejections()
                .unwrap_or_default()
                .into_iter()
                .map(RejectionView::from)
                .collect::<Vec<_>>();
            let notices = s
                .store
                .unseen_notices()
                .unwrap_or_default()
                .into_iter()
                .map(NoticeView::from)
                .collect::<Vec<_>>();
            (pending, photos_pending, rejections, notices)
        })
    };
    let mut status = lock(&state.status);
    match counts {
        Some((pending, photos_pending, rejections, notices)) => {
            status.pending = pending;
            status.photos_pending = photos_pending;
            status.rejections = rejections;
            status.notices = notices;
        }
        None => *status = SyncStatus::default(),
    }
}

/// One sync's progress accounting ([`SyncMeter`]), timed from its start.
struct Meter {
    began: Instant,
    meter: Mutex<SyncMeter>,
}

impl Meter {
    /// What waits as the sync starts: the outbox, and the photos the
    /// server lacks.
    fn start(state: &AppState) -> Meter {
        let waiting = state
            .with_session(|s| {
                let (changes, bytes) = s.store.pending_size().map_err(CommandError::store)?;
                let photos = s.store.pending_photos().map_err(CommandError::store)?;
                Ok((changes, bytes, photos))
            })
            .unwrap_or_default();
        Meter {
            began: Instant::now(),
            meter: Mutex::new(SyncMeter::new(0, waiting.0, waiting.1, &waiting.2)),
        }
    }

    /// Milliseconds since the sync started.
    fn now(&self) -> u64 {
        self.began.elapsed().as_millis() as u64
    }

    /// Updates the meter and puts its view in the status.
    fn update(&self, state: &AppState, f: impl FnOnce(&mut SyncMeter, u64)) {
        let view = {
            let mut meter = lock(&self.meter);
            f(&mut meter, self.now());
            meter.view()
        };
        lock(&state.status).progress = Some(view);
    }
}

/// One whole sync: rounds until the server has nothing more and the outbox
/// is empty. Updates and publishes the status either way.
pub async fn run<R: Runtime>(app: &AppHandle<R>) -> Result<Progress, CommandError> {
    let state = app.state::<AppState>();
    let _one_at_a_time = state.sync_lock.lock().await;
    let meter = Meter::start(&state);
    {
        let mut status = lock(&state.status);
        status.syncing = true;
        status.uploads.clear();
        status.attempts = 0;
        status.retry = None;
        status.progress = Some(lock(&meter.meter).view());
    }
    publish(app);
    let result = match rounds(app, &state, &meter).await {
        // Reported lost: the outbox is on the server; erase, and stop.
        Ok(progress) if progress.wipe => {
            return Err(crate::wipe::erase(app, &state).await);
        }
        Ok(progress) => photos(app, &state, &meter).await.map(|photos| {
            lock(&state.status).photos_refused = photos
                .refused
                .iter()
                .map(|(sha256, code)| RefusedPhoto {
                    sha256: sha256.clone(),
                    code: code.clone(),
                })
                .collect();
            (progress, photos.received as usize)
        }),
        Err(e) => Err(e),
    };
    {
        let mut status = lock(&state.status);
        status.syncing = false;
        status.retry = None;
        match &result {
            Ok((progress, received)) => {
                status.online = Some(true);
                status.last_sync_at = Some(jiff::Timestamp::now().as_millisecond());
                status.last_error = None;
                status.changed = progress.changed.len() + received;
            }
            Err(e) => {
                status.online = Some(e.code != ErrorCode::Unreachable);
                status.last_error = Some(e.clone());
            }
        }
    }
    publish(app);
    result.map(|(progress, _)| progress)
}

/// Core's sync client, as the tests run it: rounds until caught up, the
/// repair path for what the batched sync cannot settle, and a few tries
/// with backoff after a cut connection, each reported to the sync screen.
/// Longer outages are the background loop's: it tries again every
/// interval.
async fn rounds<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    meter: &Meter,
) -> Result<Progress, CommandError> {
    let client = SyncClient {
        retry: ExponentialBuilder::default()
            .with_min_delay(Duration::from_secs(1))
            .with_max_delay(Duration::from_secs(30))
            .with_max_times(4)
            .with_jitter(),
        ..SyncClient::default()
    };
    let (transport, user) =
        state.with_session(|s| Ok((s.transport.clone(), s.user().to_string())))?;
    let store = SessionStore { state, user };
    client
        .sync_with_retry(store, &transport, |p| {
            meter.update(state, |m, at| m.records(at, p));
            {
                let mut status = lock(&state.status);
                status.attempts = p.attempts;
                status.retry = p.retrying_after.as_ref().map(|code| RetryView {
                    after: code.clone(),
                    in_ms: p.retry_in.map_or(0, |d| d.as_millis() as u64),
                });
            }
            publish(app);
        })
        .await
        .map_err(CommandError::sync)
}

/// The signed-in session's store, for as long as the user who started
/// the sync is the one signed in.
struct SessionStore<'a> {
    state: &'a AppState,
    user: String,
}

impl StoreAccess for SessionStore<'_> {
    fn with<T>(&mut self, f: impl FnOnce(&mut Store) -> T) -> Result<T, SyncError> {
        let mut guard = self.state.session();
        match guard.as_mut() {
            Some(session) if session.user() == self.user => Ok(f(&mut session.store)),
            _ => Err(SyncError::StoreClosed),
        }
    }
}

/// Uploads the access log's unsent reveals, then the photos the server
/// lacks (telling the UI how far each photo is), then downloads those
/// records here reference that this device lacks.
async fn photos<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    meter: &Meter,
) -> Result<PhotoProgress, CommandError> {
    let (transport, blobs, actor) = state.with_session(|s| {
        Ok((
            s.transport.clone(),
            s.blobs.clone(),
            s.store.actor().clone(),
        ))
    })?;
    let mut store = state.open_store(actor)?;
    upload_reveals(
        &mut store,
        &transport,
        jiff::Timestamp::now().as_millisecond(),
    )
    .await
    .map_err(CommandError::sync)?;
    let pending = store.pending_photos().map_err(CommandError::store)?;
    meter.update(state, |m, at| m.photos(at, &pending));
    // Bars for photos only: a thumbnail is a few kilobytes.
    let photos: HashSet<String> = pending
        .into_iter()
        .filter(|p| p.kind == PhotoKind::Photo)
        .map(|p| p.sha256)
        .collect();
    let on_upload = |step: &UploadStep| {
        meter.update(state, |m, at| m.upload(at, step));
        let status = {
            let mut status = lock(&state.status);
            if photos.contains(&step.sha256) {
                let view = UploadView {
                    sha256: step.sha256.clone(),
                    sent: step.sent,
                    total: step.total,
                };
                match status.uploads.iter_mut().find(|u| u.sha256 == step.sha256) {
                    Some(u) => *u = view,
                    None => status.uploads.push(view),
                }
            }
            status.clone()
        };
        let _ = app.emit(STATUS_EVENT, status);
    };
    let progress = sync_photos_reporting(&mut store, &blobs, on_upload)
        .await
        .map_err(CommandError::sync)?;
    if !progress.refused.is_empty() {
        tracing::warn!(refused = ?progress.refused, "the server refused photos");
    }
    Ok(progress)
}
