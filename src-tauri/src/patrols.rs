//! Patrols (巡查) from the UI: start one, record its track and check-ins
//! as the walk goes on, stop it, and read it back with its figures.
//! The rules, the held GPS fixes and the figures are core's
//! (`fieldwork::patrols`: `start`, `HeldTracks`); this is glue.

use gridwork_core::fieldwork::patrols::{self, PatrolEdit, PatrolView};
use tauri::{AppHandle, Runtime, State};
use uuid::Uuid;

use crate::commands::{now_ms, saved};
use crate::errors::CommandError;
use crate::state::{AppState, Session};

/// Saves the held fixes of every patrol: the app is closing.
pub fn flush_all(s: &mut Session) {
    for (id, e) in s.track.flush_all(&mut s.store, &s.saved.worker(), now_ms()) {
        tracing::warn!(patrol = %id, error = %e, "held fixes not saved");
    }
}

/// Starts a patrol in the user's grid and saves it.
#[tauri::command]
pub fn start_patrol<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<PatrolView, CommandError> {
    saved(
        &app,
        state.with_session(|s| {
            let now = now_ms();
            let worker = s.saved.worker();
            let patrol = patrols::start(&mut s.store, &worker, now).map_err(CommandError::work)?;
            Ok(s.track.view(patrol, worker.grids, now))
        }),
    )
}

/// A patrol with its distance, time inside the grid and coverage.
#[tauri::command]
pub fn get_patrol(state: State<'_, AppState>, id: Uuid) -> Result<PatrolView, CommandError> {
    state.with_session(|s| {
        s.track
            .get(&s.store, &s.saved.worker(), id, now_ms())
            .map_err(CommandError::work)
    })
}

/// Records a point (held, see core's `HeldTracks`), a check-in or the
/// stop, or saves the held points (`flush`).
#[tauri::command]
pub fn edit_patrol<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: Uuid,
    edit: PatrolEdit,
) -> Result<PatrolView, CommandError> {
    saved(
        &app,
        // The GPS track goes on while the app is locked.
        state.with_session_while_locked(|s| {
            s.track
                .edit(&mut s.store, &s.saved.worker(), id, edit, now_ms())
                .map_err(CommandError::work)
        }),
    )
}
