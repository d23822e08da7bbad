//! The device's side of the lost-device wipe, after a sync came back with
//! [`super::client::Progress::wipe`]: erase the data folder
//! ([`crate::store::wipe`]; a crypto-erase with the store encrypted), then
//! tell the server, which records the wipe with its own time and kills the
//! token (`POST /v1/wiped`, [`super::api::WIPED`]).
//!
//! The erase comes first: the report says it happened. The report must
//! still reach the server if the connection is cut just then (the admin
//! would otherwise see the tablet as *lost* for ever and never know it
//! erased itself), so before reporting, the erase leaves one file in the
//! emptied folder, [`PENDING_REPORT_FILE`]: the server's address, how it
//! is trusted, and the device's token. The device sends the report again
//! from it ([`report_pending`]) at its next start and contact, until the
//! server has answered; the file is deleted then.
//!
//! That file holds the token in clear (the data key that sealed the
//! session is gone). This is acceptable because of what a lost device's
//! token still opens on the server (`gridwork-server`'s `devices`
//! module): its push, whose every change is flagged as coming from a lost
//! device for a supervisor to review, and this report; once the report
//! arrives the token is dead. Nothing of the records, photos, the access
//! log or the session is in it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::api::{self, WipeReport, Wiped};
use super::client::SyncError;
use super::http::HttpTransport;
use super::trust::Trust;
use crate::store::{self, StoreError};

/// The file in the emptied data folder that holds a wipe report not yet
/// answered by the server.
pub const PENDING_REPORT_FILE: &str = "wipe-report.pending";

/// What sending the wipe report needs once the data folder is erased.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingReport {
    pub server_url: String,
    #[serde(default)]
    pub trust: Trust,
    pub token: String,
}

impl std::fmt::Debug for PendingReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingReport")
            .field("server_url", &self.server_url)
            .finish_non_exhaustive()
    }
}

/// Erases `data_dir` (every open store on it must be closed first),
/// leaves the pending report in it, then sends the report. Answers the
/// server's time of the wipe. When the report fails, the data is erased
/// all the same and [`report_pending`] sends it later.
pub async fn erase_and_report(data_dir: &Path, report: &PendingReport) -> Result<Wiped, SyncError> {
    let erased = store::wipe(data_dir)?;
    tracing::warn!(
        overwritten = erased.overwritten,
        deleted = erased.deleted,
        "the device was reported lost: its data is erased"
    );
    write_pending(data_dir, report)?;
    match report_pending(data_dir).await? {
        Some(wiped) => Ok(wiped),
        None => Err(StoreError::Erase("the pending wipe report vanished".into()).into()),
    }
}

/// Sends the wipe report left in `data_dir`, if any: `Ok(None)` when
/// there is none. The file is deleted once the server has answered, be it
/// with the wipe recorded or with a refusal that another try would get
/// again (a token already dead: the wipe was recorded by an earlier try
/// whose answer was lost); it stays when the server could not be reached.
pub async fn report_pending(data_dir: &Path) -> Result<Option<Wiped>, SyncError> {
    let path = data_dir.join(PENDING_REPORT_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(erase_error(&path, e).into()),
    };
    let pending: PendingReport = match serde_json::from_slice(&bytes) {
        Ok(pending) => pending,
        Err(e) => {
            // A torn write (a crash while it was written): nothing to send with.
            tracing::error!(error = %e, "the pending wipe report cannot be read; dropped");
            remove_pending(&path)?;
            return Ok(None);
        }
    };
    let transport = HttpTransport::trusting(&pending.server_url, &pending.trust, &pending.token)?;
    match report(&transport).await {
        Ok(wiped) => {
            remove_pending(&path)?;
            tracing::info!(wiped_at = wiped.wiped_at, "the server recorded the wipe");
            Ok(Some(wiped))
        }
        Err(e) if e.is_retryable() => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "the server refused the wipe report; not sent again");
            remove_pending(&path)?;
            Err(e)
        }
    }
}

/// Whether a wipe report waits in `data_dir`.
pub fn has_pending_report(data_dir: &Path) -> bool {
    data_dir.join(PENDING_REPORT_FILE).is_file()
}

/// Reports a wipe that happened.
pub async fn report(transport: &HttpTransport) -> Result<Wiped, SyncError> {
    let report = WipeReport {
        wiped_at: jiff::Timestamp::now().as_millisecond(),
    };
    Ok(transport.post_json(api::WIPED, &report).await?)
}

/// Writes the pending report through a synced temporary file renamed
/// into place.
fn write_pending(data_dir: &Path, report: &PendingReport) -> Result<(), StoreError> {
    let path = data_dir.join(PENDING_REPORT_FILE);
    let tmp = data_dir.join(format!("{PENDING_REPORT_FILE}.tmp"));
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(report).map_err(|e| StoreError::Erase(e.to_string()))?,
    );
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(data_dir)?;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        #[cfg(unix)]
        std::fs::File::open(data_dir)?.sync_all()?;
        Ok(())
    };
    write().map_err(|e| erase_error(&path, e))
}

fn remove_pending(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(erase_error(path, e)),
        _ => Ok(()),
    }
}

fn erase_error(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Erase(format!("{}: {e}", path.display()))
}
