//! Form drafts, kept in the encrypted store as a form is typed (core's
//! `store::drafts`, #11), never in the web view's storage: only with the
//! session open and the app unlocked, like the records they become. Glue.

use gridwork_core::store::Draft;
use tauri::State;

use crate::commands::now_ms;
use crate::errors::CommandError;
use crate::state::AppState;

/// Keeps a form's content under `key` (`household.new`, `resident.<id>` …),
/// replacing the draft there. `saved_at` (Unix ms) is when it was typed,
/// now when absent: a draft moved from where an older app kept it keeps
/// its time.
#[tauri::command]
pub fn save_draft(
    state: State<'_, AppState>,
    key: String,
    value: serde_json::Value,
    saved_at: Option<i64>,
) -> Result<(), CommandError> {
    state.with_session(|s| {
        s.store
            .save_draft(&key, &value, saved_at.unwrap_or_else(now_ms))
            .map_err(CommandError::store)
    })
}

/// The draft under `key`, or `null`.
#[tauri::command]
pub fn load_draft(state: State<'_, AppState>, key: String) -> Result<Option<Draft>, CommandError> {
    state.with_session(|s| s.store.draft(&key).map_err(CommandError::store))
}

/// Drops the draft under `key` (its record is saved); none there is fine.
#[tauri::command]
pub fn drop_draft(state: State<'_, AppState>, key: String) -> Result<(), CommandError> {
    state.with_session(|s| {
        s.store
            .drop_draft(&key)
            .map(|_| ())
            .map_err(CommandError::store)
    })
}

/// Every draft of `kind` (`incident`), newest first.
#[tauri::command]
pub fn list_drafts(state: State<'_, AppState>, kind: String) -> Result<Vec<Draft>, CommandError> {
    state.with_session(|s| s.store.drafts(&kind).map_err(CommandError::store))
}
