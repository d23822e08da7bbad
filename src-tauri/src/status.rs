//! What the sync screen and the home screen show of sync: the state the
//! app keeps ([`crate::state::AppState::status`]) and the sync updates
//! ([`crate::sync`]), sent to the UI as the `sync-status` event.

use gridwork_core::problem::Params;
use gridwork_core::store::{StoredNotice, StoredRejection};
use gridwork_core::sync::progress::SyncProgress;
use serde::Serialize;

use crate::errors::CommandError;

/// The event the UI listens to for the sync status.
pub const STATUS_EVENT: &str = "sync-status";

/// What the sync screen and the home screen show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct SyncStatus {
    /// `None` until the first attempt; then whether the server answered.
    pub online: Option<bool>,
    pub syncing: bool,
    /// Local changes not yet acknowledged by the server.
    pub pending: u64,
    /// Photos the server does not hold whole yet (thumbnails not counted).
    pub photos_pending: u64,
    /// Unix milliseconds of the last successful sync.
    pub last_sync_at: Option<i64>,
    /// Why the last attempt failed; cleared by a success.
    pub last_error: Option<CommandError>,
    /// Records the server refused, with its reasons, as stored.
    pub rejections: Vec<RejectionView>,
    /// What the server did about stored changes (a forbidden edit undone,
    /// a transition kept but not applied), newest first, until the worker
    /// dismisses them ([`crate::sync::dismiss_notices`]).
    pub notices: Vec<NoticeView>,
    /// The photos (not thumbnails) the current or last sync uploaded:
    /// bytes the server confirmed of each, for progress bars.
    pub uploads: Vec<UploadView>,
    /// Photos the server refused in the last sync, with its codes. They
    /// stay on the device and are offered again at the next sync.
    pub photos_refused: Vec<RefusedPhoto>,
    /// Records changed, and photos received, by the last sync, for the
    /// screens to refresh.
    pub changed: usize,
    /// Tries of the current or last sync (1 unless a try failed).
    pub attempts: u32,
    /// While a failed try waits to be tried again: why, and how long.
    pub retry: Option<RetryView>,
    /// The current or last sync's records and bytes done and left, and
    /// the time left at the rate the link has shown (`None` before the
    /// first sync).
    pub progress: Option<SyncProgress>,
}

/// A sync waiting to try again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RetryView {
    /// The failed try's error code (`unreachable`, `timeout`, `busy` …).
    pub after: String,
    /// Milliseconds until the next try.
    pub in_ms: u64,
}

/// One photo's upload: bytes the server holds of it, of its whole length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct UploadView {
    pub sha256: String,
    pub sent: u64,
    pub total: u64,
}

/// A photo the server would not take, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RefusedPhoto {
    pub sha256: String,
    /// The server's code (`blob_not_an_image`, `blob_too_large` …), which
    /// the UI translates.
    pub code: String,
}

/// A notice from the server about a stored change: a code and params the
/// UI translates (`notices` in its message files).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct NoticeView {
    /// What [`crate::sync::dismiss_notices`] takes.
    pub seq: i64,
    pub doc_id: String,
    /// One of core's `NoticeCode`s, or a newer server's code.
    pub code: String,
    pub params: Params,
    /// The server undid the edit with a change of its own.
    pub compensated: bool,
    /// When the device received it (Unix milliseconds).
    pub received_at: i64,
}

impl From<StoredNotice> for NoticeView {
    fn from(n: StoredNotice) -> NoticeView {
        NoticeView {
            seq: n.seq,
            doc_id: n.doc_id.to_string(),
            code: n.notice.code,
            params: n.notice.params,
            compensated: n.notice.compensated,
            received_at: n.received_at,
        }
    }
}

/// A refusal from the server: a code and params the UI translates
/// (`rejections` in its message files).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct RejectionView {
    pub doc_id: String,
    /// One of core's `RejectionCode`s, or a newer server's code.
    pub code: String,
    /// What the code's message needs, by name.
    pub params: Params,
}

impl From<StoredRejection> for RejectionView {
    fn from(r: StoredRejection) -> RejectionView {
        RejectionView {
            doc_id: r.doc_id.to_string(),
            code: r.code,
            params: r.params,
        }
    }
}
