//! Tasks from above (上级任务) on the tablet: read one, tick its lines.
//! Tasks arrive by sync (a supervisor issues them in the console); the
//! tasks list is `list_records` with kind `task`. A worker only ticks
//! lines and writes notes (`app_api::tick_task`, the same rule the server
//! holds a push to); this is glue.

use gridwork_core::app_api::{self, TickError};
use gridwork_core::doc::Author;
use gridwork_core::model::Task;
use serde::Deserialize;
use tauri::{AppHandle, Runtime, State};
use uuid::Uuid;

use crate::commands::{get, now_ms, saved, today};
use crate::errors::CommandError;
use crate::state::AppState;

/// A task as stored.
#[tauri::command]
pub fn get_task(state: State<'_, AppState>, id: Uuid) -> Result<Task, CommandError> {
    state.with_session(|s, lang| get(s, id, lang))
}

/// One line ticked or unticked, with its note.
#[derive(Debug, Clone, Deserialize)]
pub struct TickArgs {
    pub id: Uuid,
    pub index: usize,
    pub done: bool,
    #[serde(default)]
    pub note: String,
}

/// Ticks (or unticks) a line of a task and saves it at once; it syncs
/// like any edit.
#[tauri::command]
pub fn tick_task<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    args: TickArgs,
) -> Result<Task, CommandError> {
    saved(
        &app,
        state.with_session(|s, lang| {
            let user = s.user().to_string();
            let now = now_ms();
            let mut task: Task = get(s, args.id, lang)?;
            let refused = |e: TickError| CommandError::new(e.code(), e.message(lang));
            app_api::tick_task(&mut task, args.index, args.done, &args.note, &user, now)
                .map_err(refused)?;
            let line = task.items[args.index].clone();
            s.store
                .update::<Task>(args.id, &Author::new(&user, now), today(), |current| {
                    if let Some(l) = current.items.get_mut(args.index) {
                        *l = line;
                    }
                })
                .map_err(|e| CommandError::store(e, lang))
        }),
    )
}
