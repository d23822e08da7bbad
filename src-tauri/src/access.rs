//! Revealing a masked [PI]/[S] field writes an entry to the device's
//! append-only access log ([`gridwork_core::store::RevealEntry`]); the
//! sync uploads it to the server's access log with this device's id.
//! Until then a form shows the masked values core makes
//! ([`gridwork_core::privacy`]), never a mask of its own.

use gridwork_core::model::RecordKind;
use gridwork_core::privacy::{self, MaskedView};
use gridwork_core::store::{MAX_FIELD_CHARS, Protection, RevealEntry};
use tauri::State;
use uuid::Uuid;

use crate::commands::now_ms;
use crate::errors::{CommandError, ErrorCode};
use crate::state::AppState;
use gridwork_core::problem::params;

/// Logs that the worker revealed `field` of a record. The screen shows
/// the value only after this returned: a reveal that could not be logged
/// is not a reveal.
#[tauri::command]
pub fn log_reveal(
    state: State<'_, AppState>,
    kind: RecordKind,
    record_id: Uuid,
    field: String,
    protection: Protection,
) -> Result<(), CommandError> {
    state.with_session(|s| {
        if !RevealEntry::field_ok(&field) {
            return Err(CommandError::new(
                ErrorCode::BadField,
                params([("max", MAX_FIELD_CHARS.into())]),
            ));
        }
        let entry = RevealEntry::new(s.user(), kind, record_id, &field, protection, now_ms());
        s.store.record_reveal(&entry).map_err(CommandError::store)
    })
}

/// A record as a form shows it before a reveal: masked by core, with the
/// class each field's reveal is logged as. The form sends what it holds
/// (unsaved edits included), so the masks match what is on screen.
#[tauri::command]
pub fn mask_record(kind: RecordKind, record: serde_json::Value) -> MaskedView {
    privacy::masked_view(kind, &record)
}
