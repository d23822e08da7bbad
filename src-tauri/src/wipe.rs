//! The lost-device wipe, on the app's side: when a sync comes back with
//! the server's order to wipe (an admin reported this tablet lost; core's
//! `Progress::wipe`), the outbox has already gone to the server. The app
//! then closes the session and its store, erases the whole data folder
//! (`gridwork_core::store::wipe`: key and session files overwritten, then
//! every file deleted; with the store encrypted, a crypto-erase), reports
//! the wipe to the server, and returns to the setup screen: the sync
//! status carries the code [`ErrorCode::DeviceWiped`], on which the UI drops its signed-in
//! state. See `gridwork-server`'s `devices` module for the whole flow.
//!
//! A report that does not get through (the connection cut just after the
//! erase) is left in the emptied folder (core's
//! `gridwork_core::sync::wipe::PENDING_REPORT_FILE`) and sent again every
//! sync interval, from then on and after every start of the app
//! ([`retry_pending_report`]), until the server has answered.

use std::time::Duration;

use gridwork_core::sync::wipe::{
    PendingReport, erase_and_report, has_pending_report, report_pending,
};
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::errors::{CommandError, ErrorCode};
use crate::state::{AppState, lock};
use crate::status::SyncStatus;

/// Erases the device and reports it; the error every caller of the sync
/// then answers with (also when the report could not be sent: the data
/// is gone either way, and the report is sent again later).
pub async fn erase<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> CommandError {
    let error = erase_in(state).await;
    if error.code == ErrorCode::DeviceWiped && has_pending_report(&state.data_dir) {
        retry_pending_report(app.clone(), crate::sync_interval());
    }
    let status = SyncStatus {
        last_error: Some(error.clone()),
        ..SyncStatus::default()
    };
    *lock(&state.status) = status.clone();
    // Not `sync::publish`: with no session it would clear the error.
    let _ = app.emit(crate::status::STATUS_EVENT, status);
    error
}

/// [`erase`] without the window: closes the session, erases the data
/// folder and sends the report once.
pub async fn erase_in(state: &AppState) -> CommandError {
    let report = {
        let mut guard = state.session();
        let report = guard.as_ref().map(|s| PendingReport {
            server_url: s.saved.server_url.clone(),
            trust: s.saved.trust.clone(),
            token: s.saved.login.token.clone(),
        });
        // Closing the session closes the store before its files go.
        *guard = None;
        report
    };
    // The key of data about to be erased: never used again (a sign-in
    // after the wipe makes a new one).
    // The PIN wrap's device secret goes from the platform keystore too.
    let keystore = {
        let mut keys = lock(&state.keys);
        keys.key = None;
        keys.idle_locked = false;
        keys.keystore.clone()
    };
    if let Some(keystore) = keystore
        && let Ok(Some(file)) = gridwork_core::vault::KeyFile::load(&state.data_dir)
    {
        file.delete_device_secret(keystore.as_ref());
    }
    let erased = match report {
        Some(report) => erase_and_report(&state.data_dir, &report).await.map(|_| ()),
        // Signed out meanwhile: erase all the same; nothing to report with.
        None => gridwork_core::store::wipe(&state.data_dir)
            .map(|_| ())
            .map_err(Into::into),
    };
    match erased {
        Ok(_) => CommandError::code(ErrorCode::DeviceWiped),
        Err(e) if matches!(e, gridwork_core::sync::client::SyncError::Store(_)) => {
            tracing::error!(error = %e, "the wipe did not finish");
            CommandError::sync(e)
        }
        Err(e) => {
            // Erased, not reported: the pending report is sent again.
            tracing::warn!(error = %e, "the data is erased; the wipe report did not reach the server");
            CommandError::code(ErrorCode::DeviceWiped)
        }
    }
}

/// Sends a wipe report left in the data folder, now and then every
/// `interval`, until the server has answered. Nothing to do (and no task
/// left running) when there is none.
pub fn retry_pending_report<R: Runtime>(app: AppHandle<R>, interval: Duration) {
    let data_dir = app.state::<AppState>().data_dir.clone();
    if !has_pending_report(&data_dir) {
        return;
    }
    tauri::async_runtime::spawn(async move {
        loop {
            match report_pending(&data_dir).await {
                Err(e) if e.is_retryable() => {
                    tracing::info!(error = %e, "the wipe report waits for the server");
                    tokio::time::sleep(interval).await;
                }
                _ => break,
            }
        }
    });
}

#[cfg(test)]
mod tests;
