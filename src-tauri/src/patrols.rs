//! Patrols (巡查) from the UI: start one, record its track and check-ins
//! as the walk goes on, stop it, and read it back with its figures.
//! Check-ins and the stop are saved at once; GPS fixes are held in core's
//! `TrackBuffer` and saved together (every 12 fixes or every minute, and
//! with a check-in, the stop, or a `flush` when the app is hidden or
//! closed), so a crash loses at most the last minute of track.
//! The rules and the figures are core's (`app_api::edit_patrol`,
//! `app_api::patrol_view`, `app_api::TrackBuffer`); this is glue.

use gridwork_core::app_api::{self, PatrolEdit, PatrolEnded, PatrolView};
use gridwork_core::doc::Author;
use gridwork_core::model::Patrol;
use gridwork_core::validate::Lang;
use tauri::{AppHandle, Runtime, State};
use uuid::Uuid;

use crate::commands::{get, now_ms, saved, today};
use crate::errors::CommandError;
use crate::state::{AppState, Session};

/// The patrol with its held fixes drawn after the saved ones.
fn view(s: &Session, mut patrol: Patrol) -> PatrolView {
    if let Some(held) = s.track.get(&patrol.meta.id) {
        patrol.track.extend_from_slice(held.points());
    }
    app_api::patrol_view(patrol, &s.saved.login.grids, now_ms())
}

/// Saves the held fixes of every patrol: the app is closing.
pub fn flush_all(s: &mut Session) {
    let ids: Vec<Uuid> = s.track.keys().copied().collect();
    for id in ids {
        if let Err(e) = save(s, id, PatrolEdit::Flush, Lang::ZhCn) {
            tracing::warn!(patrol = %id, error = %e.message, "held fixes not saved");
        }
    }
}

/// Saves the held fixes of patrol `id` and then `edit`, as one change.
/// Should the store fail, the fixes stay held for the next try.
fn save(s: &mut Session, id: Uuid, edit: PatrolEdit, lang: Lang) -> Result<Patrol, CommandError> {
    let held = s
        .track
        .get(&id)
        .map(|b| b.points().to_vec())
        .unwrap_or_default();
    let author = Author::new(s.user(), now_ms());
    let mut outcome = Ok(());
    let saved = s
        .store
        .update::<Patrol>(id, &author, today(), |p| {
            for point in held {
                outcome = outcome.and(app_api::edit_patrol(p, PatrolEdit::Point { point }));
            }
            outcome = outcome.and(app_api::edit_patrol(p, edit));
        })
        .map_err(|e| CommandError::store(e, lang));
    let patrol = saved?;
    // Saved, or refused for good (the patrol had ended elsewhere).
    s.track.remove(&id);
    outcome.map_err(|_| ended(lang))?;
    Ok(patrol)
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

/// Records a point (held, see the module doc), a check-in or the stop,
/// or saves the held points (`flush`).
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
            let links = matches!(edit, PatrolEdit::Incident { .. } | PatrolEdit::Flush);
            if stored.ended_at.is_some() && !links {
                // Checked first so that a refused edit writes nothing.
                return Err(ended(lang));
            }
            if let PatrolEdit::Point { point } = edit {
                let due = s.track.entry(id).or_default().push(point, now_ms());
                if !due {
                    return Ok(view(s, stored));
                }
                let patrol = save(s, id, PatrolEdit::Flush, lang)?;
                return Ok(view(s, patrol));
            }
            if edit == PatrolEdit::Flush && !s.track.contains_key(&id) {
                return Ok(view(s, stored));
            }
            let patrol = save(s, id, edit, lang)?;
            Ok(view(s, patrol))
        }),
    )
}
