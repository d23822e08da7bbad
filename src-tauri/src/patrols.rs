//! Patrols (巡查) from the UI: start one, record its track and check-ins
//! as the walk goes on (each one saved at once, so nothing is lost when
//! the tablet dies mid-patrol), stop it, and read it back with its figures.
//! The rules and the figures are core's (`app_api::edit_patrol`,
//! `app_api::patrol_view`); this is glue.

use gridwork_core::app_api::{self, PatrolEdit, PatrolEnded, PatrolView};
use gridwork_core::doc::Author;
use gridwork_core::model::Patrol;
use gridwork_core::validate::Lang;
use tauri::{AppHandle, Runtime, State};
use uuid::Uuid;

use crate::commands::{get, now_ms, saved, today};
use crate::errors::CommandError;
use crate::state::{AppState, Session};

fn view(s: &Session, patrol: Patrol) -> PatrolView {
    app_api::patrol_view(patrol, &s.saved.login.grids, now_ms())
}

fn ended(lang: Lang) -> CommandError {
    CommandError::text(
        PatrolEnded::CODE,
        lang,
        "这次巡查已经结束，不能再记录",
        "This patrol has ended: nothing more can be recorded",
    )
}

/// Starts a patrol in the user's grid and saves it.
#[tauri::command]
pub fn start_patrol<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<PatrolView, CommandError> {
    saved(
        &app,
        state.with_session(|s, lang| {
            let now = now_ms();
            let patrol = app_api::blank_patrol(&s.saved.login.user.grid, s.user(), now);
            let author = Author::new(s.user(), now);
            let patrol = s
                .store
                .insert(patrol, &author, today())
                .map_err(|e| CommandError::store(e, lang))?;
            Ok(view(s, patrol))
        }),
    )
}

/// A patrol with its distance, time inside the grid and coverage.
#[tauri::command]
pub fn get_patrol(state: State<'_, AppState>, id: Uuid) -> Result<PatrolView, CommandError> {
    state.with_session(|s, lang| {
        let patrol: Patrol = get(s, id, lang)?;
        Ok(view(s, patrol))
    })
}

/// Records a point, a check-in or the stop, and saves it at once.
#[tauri::command]
pub fn edit_patrol<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: Uuid,
    edit: PatrolEdit,
) -> Result<PatrolView, CommandError> {
    saved(
        &app,
        state.with_session(|s, lang| {
            let stored: Patrol = get(s, id, lang)?;
            let links = matches!(edit, PatrolEdit::Incident { .. });
            if stored.ended_at.is_some() && !links {
                // Checked first so that a refused edit writes nothing.
                return Err(ended(lang));
            }
            let author = Author::new(s.user(), now_ms());
            let mut outcome = Ok(());
            let patrol = s
                .store
                .update::<Patrol>(id, &author, today(), |p| {
                    outcome = app_api::edit_patrol(p, edit);
                })
                .map_err(|e| CommandError::store(e, lang))?;
            outcome.map_err(|_| ended(lang))?;
            Ok(view(s, patrol))
        }),
    )
}
