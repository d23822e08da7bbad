//! A device's state (active, revoked, lost, wiped) and the lost-device
//! wipe: what `mark-lost` (admin command and console) does, what a lost
//! device's token still opens, and the wipe report.
//!
//! **States.** A device is *active* from its login. An admin can *revoke*
//! it (its token stops working at once: the app is answered
//! `token_revoked` and asks for the password again; the data on the
//! tablet stays, for the next user to send). An admin can instead mark it
//! *lost* ([`mark_lost`]): a tablet left on a bus must give nothing away,
//! but what the worker saved and never sent must not be lost either. When
//! the tablet reports that it erased itself it is *wiped*
//! ([`record_wipe`]). The state shown is the strongest that holds: wiped,
//! then lost, then revoked ([`DeviceState::of`]); the timestamps stay.
//!
//! **What a lost device's token opens** (`crate::auth::SyncSession`): the
//! server decides, not the device. Exactly two requests: `POST /v1/sync`,
//! where its push is checked and stored like any other but nothing is sent
//! down, and the answer carries the wire flag `w` (wipe) instead
//! ([`crate::sync::run_lost`]); and `POST /v1/wiped`, the report. Every
//! other device request is answered `403 device_lost`. This holds even if
//! the device had been revoked or its user disabled before it was marked
//! lost: marking it lost is how an admin gets a revoked tablet erased, and
//! its token is good for nothing else. After the report the device is
//! wiped and its token is dead (`token_revoked`).
//!
//! **Changes from a lost device are flagged for review.** They are kept
//! (refusing them would lose the worker's last, honest work with the
//! thief's), and the log already holds, for every stored change, the
//! device that pushed it and the server's receipt time. So the flag is not
//! a column of its own: a change pushed by a device at or after that
//! device's `lost_at` came from a lost device
//! ([`crate::storage::Storage::changes_from_lost_devices`]). The console's
//! record page shows such changes in the history as 来自已挂失设备 and the
//! record as needing a look ([`lost_changes`]); the review queue can be
//! narrowed to such records (`from_lost_device=true`, a condition of the
//! projection query: `crate::storage::projections::ListFilter`). `lost_at` is set once and never
//! cleared, so the flag never moves.
//!
//! **The device's side** (`gridwork_core::sync::client`, and the app's
//! `src-tauri/src/sync.rs`): it pushes its whole outbox first (the flag
//! does not stop it pushing: the server keeps accepting pushes from a lost
//! device until it reports the wipe), then erases its data folder
//! (`gridwork_core::store::wipe`: key files overwritten, then every file
//! deleted; with the store encrypted this is a crypto-erase) and reports.
//! If the report does not arrive (the network fails just then) the data
//! is gone all the same, and the device stays *lost* in the list until it
//! does: the device keeps the report, with its token, as the one file in
//! the emptied folder and sends it again at its next start and contact
//! (`gridwork_core::sync::wipe::report_pending`). Whoever reads that token
//! can only push changes, flagged like the rest, or report the wipe.

use gridwork_core::sync::api::WipeReport;
use serde::Serialize;
use uuid::Uuid;

use crate::auth::CONSOLE_DEVICE_PREFIX;
use crate::storage::{DeviceInfo, Storage, StorageError};

/// Where a device stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    Active,
    Revoked,
    Lost,
    Wiped,
}

impl DeviceState {
    /// The strongest state that holds: wiped, lost, revoked, active.
    pub fn of(revoked: bool, lost: bool, wiped: bool) -> DeviceState {
        match (revoked, lost, wiped) {
            (_, _, true) => DeviceState::Wiped,
            (_, true, _) => DeviceState::Lost,
            (true, _, _) => DeviceState::Revoked,
            _ => DeviceState::Active,
        }
    }

    /// The state of a stored device.
    pub fn of_device(d: &DeviceInfo) -> DeviceState {
        DeviceState::of(
            d.revoked_at.is_some(),
            d.lost_at.is_some(),
            d.wiped_at.is_some(),
        )
    }

    /// When a stored device entered its current state (Unix ms, server
    /// clock); `None` while active.
    pub fn since(d: &DeviceInfo) -> Option<i64> {
        match DeviceState::of_device(d) {
            DeviceState::Active => None,
            DeviceState::Revoked => d.revoked_at,
            DeviceState::Lost => d.lost_at,
            DeviceState::Wiped => d.wiped_at,
        }
    }

    /// The name `list-devices` prints and the console's API sends.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceState::Active => "active",
            DeviceState::Revoked => "revoked",
            DeviceState::Lost => "lost",
            DeviceState::Wiped => "wiped",
        }
    }
}

/// Why a device's state could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Only an admin lists, revokes or marks devices in the console.
    #[error("只有管理员可以管理设备 (only an admin manages devices)")]
    AdminOnly,
    #[error("设备 {0} 不存在 (no device {0})")]
    NotFound(String),
    /// A console sign-in is a session, not a tablet holding data: revoke it.
    #[error(
        "{0} 是监督控制台的登录，不是设备；请改用吊销 (a console sign-in holds no data: revoke it instead)"
    )]
    NotATablet(String),
}

impl DeviceError {
    /// A stable code for the console.
    pub fn code(&self) -> &'static str {
        match self {
            DeviceError::Storage(_) => "internal",
            DeviceError::AdminOnly => "admin_only",
            DeviceError::NotFound(_) => "not_found",
            DeviceError::NotATablet(_) => "not_a_tablet",
        }
    }
}

fn not_found(device_id: &str) -> impl FnOnce(StorageError) -> DeviceError + '_ {
    move |e| match e {
        StorageError::NotFound { .. } => DeviceError::NotFound(device_id.to_string()),
        other => DeviceError::Storage(other),
    }
}

/// Marks a device lost at `now` (Unix ms, server clock): at its next
/// contact it pushes its outbox, erases itself and reports. `false` if it
/// was already lost or wiped.
pub fn mark_lost(storage: &dyn Storage, device_id: &str, now: i64) -> Result<bool, DeviceError> {
    if device_id.starts_with(CONSOLE_DEVICE_PREFIX) {
        return Err(DeviceError::NotATablet(device_id.to_string()));
    }
    let marked = storage
        .mark_device_lost(device_id, now)
        .map_err(not_found(device_id))?;
    if marked {
        tracing::warn!(device = %device_id, "device marked lost");
    }
    Ok(marked)
}

/// Revokes a device at `now`; `false` if it already was.
pub fn revoke(storage: &dyn Storage, device_id: &str, now: i64) -> Result<bool, DeviceError> {
    storage
        .revoke_device(device_id, now)
        .map_err(not_found(device_id))
}

/// Records a lost device's report that it erased its data, at `now`
/// (server clock). The device's own clock is only logged. Answers the
/// time recorded; a second report answers the first one's time.
pub fn record_wipe(
    storage: &dyn Storage,
    device_id: &str,
    report: &WipeReport,
    now: i64,
) -> Result<i64, StorageError> {
    storage.record_device_wipe(device_id, now)?;
    tracing::warn!(device = %device_id, device_at = report.wiped_at, "lost device reported its wipe");
    let at = storage
        .list_devices(None)?
        .into_iter()
        .find(|d| d.id == device_id)
        .and_then(|d| d.wiped_at)
        .unwrap_or(now);
    Ok(at)
}

/// One device as the console's device page shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct DeviceView {
    pub id: String,
    pub user_id: String,
    /// The name the device gave at login (its own words: shown as text).
    pub name: String,
    pub state: DeviceState,
    /// When it entered that state ([`DeviceState::since`]).
    pub since: Option<i64>,
    /// Unix ms, server clock.
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub lost_at: Option<i64>,
    pub wiped_at: Option<i64>,
    /// When it last confirmed a cursor (its last sync).
    pub last_sync_at: Option<i64>,
}

impl From<DeviceInfo> for DeviceView {
    fn from(d: DeviceInfo) -> DeviceView {
        DeviceView {
            state: DeviceState::of_device(&d),
            since: DeviceState::since(&d),
            id: d.id,
            user_id: d.user_id,
            name: d.name,
            created_at: d.created_at,
            revoked_at: d.revoked_at,
            lost_at: d.lost_at,
            wiped_at: d.wiped_at,
            last_sync_at: d.confirmed_at,
        }
    }
}

/// The tablets, for the console: every enrolment but console sign-ins
/// and the server's own, by user then enrolment time.
pub fn tablets(storage: &dyn Storage) -> Result<Vec<DeviceView>, StorageError> {
    Ok(storage
        .list_devices(None)?
        .into_iter()
        .filter(|d| {
            !d.id.starts_with(CONSOLE_DEVICE_PREFIX) && d.user_id != crate::auth::SERVER_USER
        })
        .map(DeviceView::from)
        .collect())
}

/// The changes of a record a device pushed after it was reported lost,
/// as hex hashes, for the record page's history.
pub fn lost_changes(storage: &dyn Storage, doc: Uuid) -> Result<Vec<String>, StorageError> {
    Ok(storage
        .changes_from_lost_devices(doc)?
        .into_iter()
        .map(|(hash, _)| automerge::ChangeHash(hash).to_string())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_state_is_shown() {
        assert_eq!(DeviceState::of(false, false, false), DeviceState::Active);
        assert_eq!(DeviceState::of(true, false, false), DeviceState::Revoked);
        assert_eq!(DeviceState::of(true, true, false), DeviceState::Lost);
        assert_eq!(DeviceState::of(false, true, true), DeviceState::Wiped);
    }
}
