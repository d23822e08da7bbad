//! The lost-device wipe, on the app's side: when a sync comes back with
//! the server's order to wipe (an admin reported this tablet lost; core's
//! `Progress::wipe`), the outbox has already gone to the server. The app
//! then closes the session and its store, erases the whole data folder
//! (`gridwork_core::store::wipe`: key and session files overwritten, then
//! every file deleted; with the store encrypted, a crypto-erase), reports
//! the wipe to the server, and returns to the setup screen: the sync
//! status carries the code [`ErrorCode::DeviceWiped`], on which the UI drops its signed-in
//! state. See `gridwork-server`'s `devices` module for the whole flow.

use gridwork_core::sync::wipe::erase_and_report;
use tauri::{AppHandle, Emitter, Runtime};

use crate::errors::{CommandError, ErrorCode};
use crate::state::{AppState, lock};
use crate::status::SyncStatus;

/// Erases the device and reports it; the error every caller of the sync
/// then answers with (also when the report could not be sent: the data
/// is gone either way).
pub async fn erase<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> CommandError {
    let transport = {
        let mut guard = state.session();
        // Closing the session closes the store before its files go.
        let transport = guard.as_ref().map(|s| s.transport.clone());
        *guard = None;
        transport
    };
    let erased = match transport {
        Some(transport) => erase_and_report(&state.data_dir, &transport)
            .await
            .map(|_| ()),
        // Signed out meanwhile: erase all the same; nothing to report with.
        None => gridwork_core::store::wipe(&state.data_dir)
            .map(|_| ())
            .map_err(Into::into),
    };
    let error = match erased {
        Ok(_) => CommandError::code(ErrorCode::DeviceWiped),
        Err(e) if matches!(e, gridwork_core::sync::client::SyncError::Store(_)) => {
            tracing::error!(error = %e, "the wipe did not finish");
            CommandError::sync(e)
        }
        Err(e) => {
            // Erased, not reported: the server keeps showing "lost".
            tracing::warn!(error = %e, "the data is erased; the wipe report did not reach the server");
            CommandError::code(ErrorCode::DeviceWiped)
        }
    };
    let status = SyncStatus {
        last_error: Some(error.clone()),
        ..SyncStatus::default()
    };
    *lock(&state.status) = status.clone();
    // Not `sync::publish`: with no session it would clear the error.
    let _ = app.emit(crate::status::STATUS_EVENT, status);
    error
}
