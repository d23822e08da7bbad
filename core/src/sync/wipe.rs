//! The device's side of the lost-device wipe, after a sync came back with
//! [`super::client::Progress::wipe`]: erase the data folder
//! ([`crate::store::wipe`]; a crypto-erase with the store encrypted), then
//! tell the server, which records the wipe with its own time and kills the
//! token (`POST /v1/wiped`, [`super::api::WIPED`]).
//!
//! The erase comes first: the report says it happened. If the report is
//! lost (no network just then), the data is gone all the same and the
//! server keeps showing the device as lost; the token went with the
//! folder, so only the caller's copy in memory can try again.

use std::path::Path;

use super::api::{self, WipeReport, Wiped};
use super::client::SyncError;
use super::http::HttpTransport;
use crate::store;

/// Erases `data_dir` (every open store on it must be closed first), then
/// reports the wipe through `transport`. Answers the server's time of the
/// wipe.
pub async fn erase_and_report(
    data_dir: &Path,
    transport: &HttpTransport,
) -> Result<Wiped, SyncError> {
    let erased = store::wipe(data_dir)?;
    tracing::warn!(
        overwritten = erased.overwritten,
        deleted = erased.deleted,
        "the device was reported lost: its data is erased"
    );
    report(transport).await
}

/// Reports a wipe that happened.
pub async fn report(transport: &HttpTransport) -> Result<Wiped, SyncError> {
    let report = WipeReport {
        wiped_at: jiff::Timestamp::now().as_millisecond(),
    };
    Ok(transport.post_json(api::WIPED, &report).await?)
}
