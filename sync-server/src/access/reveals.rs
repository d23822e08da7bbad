//! Reveals of masked fields made on a tablet (`POST /v1/access-log`),
//! uploaded at sync into the same append-only access log as the console's
//! reveals and exports.
//!
//! What is stored is the server's own wherever it knows it: the user and
//! device are the token's, the time is the server's clock when the upload
//! arrived (the device's time is kept beside it, as `device_at`), and the
//! record's kind is the stored record's. From an entry the server takes
//! only what the device alone knows: its id, the field shown, how protected
//! it is, and the device's time. The `user_id` and `record_kind` an entry
//! carries are ignored.
//!
//! An entry naming a record the device may not hold (none stored by that
//! id, outside the user's grids, or one their role does not receive: the
//! same rule as the pull and the repair path) is refused, alone: the rest of
//! the batch is stored, and the answer lists the refused ids with the code
//! `outside_scope`, the same whether the record exists or not, so it tells
//! nothing about records outside the scope. The device takes a refusal as
//! final and keeps the entry in its own log (it sends a reveal only once
//! its record's own changes have been sent, so an honest entry is not
//! refused for arriving first; see `gridwork_core::store`'s access log).
//! Each entry's device-made id is stored once, so a retried upload adds
//! nothing. A malformed batch (too many entries, an entry naming no field)
//! is refused whole with 400 `bad_request`.

use std::collections::HashMap;

use gridwork_core::calendar::WorkCalendar;
use gridwork_core::model::RecordKind;
use gridwork_core::store::{MAX_FIELD_CHARS, RevealEntry};
use gridwork_core::sync::access_log::{
    MAX_PER_UPLOAD, REFUSED_OUTSIDE_SCOPE, RevealReceipt, RevealRefusal, RevealUpload,
};
use uuid::Uuid;

use super::{Channel, device_doc};
use crate::auth::Session;
use crate::error::ApiError;
use crate::storage::{Storage, StorageError};

/// Stores the reveals of `upload` that `session`'s device may log, at
/// `now` by the server's clock; refuses the others.
pub fn store(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    session: &Session,
    upload: RevealUpload,
    now: jiff::Timestamp,
) -> Result<RevealReceipt, ApiError> {
    if upload.entries.len() > MAX_PER_UPLOAD {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_PER_UPLOAD} access-log entries per request"
        )));
    }
    if let Some(bad) = upload
        .entries
        .iter()
        .find(|e| !RevealEntry::field_ok(&e.field))
    {
        return Err(ApiError::BadRequest(format!(
            "access-log entry {} names no field, or one longer than {MAX_FIELD_CHARS} characters or with control characters",
            bad.id
        )));
    }
    let (taken, refused) = screen(storage, calendar, session, upload.entries)?;
    let added = storage.append_device_reveals(
        &session.user.id,
        &session.device_id,
        now.as_millisecond(),
        &taken,
    )?;
    if !refused.is_empty() {
        tracing::warn!(
            user = %session.user.id,
            device = %session.device_id,
            refused = refused.len(),
            "reveal-log entries outside the device's scope refused"
        );
    }
    Ok(RevealReceipt {
        stored: taken.iter().map(|e| e.id).collect(),
        added,
        refused,
    })
}

/// Splits the entries into those the device may log, rewritten with what
/// the server knows (the session's user, the stored record's kind), and
/// the refused ones.
fn screen(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    session: &Session,
    entries: Vec<RevealEntry>,
) -> Result<(Vec<RevealEntry>, Vec<RevealRefusal>), StorageError> {
    let mut kinds: HashMap<Uuid, Option<RecordKind>> = HashMap::new();
    let mut taken = Vec::with_capacity(entries.len());
    let mut refused = Vec::new();
    for entry in entries {
        let kind = match kinds.get(&entry.record_id) {
            Some(kind) => *kind,
            None => {
                let kind = device_doc(
                    storage,
                    calendar,
                    session,
                    entry.record_id,
                    Channel::DeviceSync,
                )?
                .and_then(|stored| RecordKind::parse(&stored.kind));
                kinds.insert(entry.record_id, kind);
                kind
            }
        };
        match kind {
            Some(record_kind) => taken.push(RevealEntry {
                user_id: session.user.id.clone(),
                record_kind,
                ..entry
            }),
            None => refused.push(RevealRefusal {
                id: entry.id,
                code: REFUSED_OUTSIDE_SCOPE.into(),
                message: format!(
                    "记录 {} 不在本设备的范围内，未记入访问日志 (record {} is not in this device's scope; not logged)",
                    entry.record_id, entry.record_id
                ),
            }),
        }
    }
    Ok((taken, refused))
}
