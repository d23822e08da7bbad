//! Tasks from above (上级任务) on the tablet: list them, read one, tick
//! its lines. Tasks arrive by sync (a supervisor issues them in the
//! console). A worker only ticks lines and writes notes
//! (`fieldwork::tasks::tick`, the same rule the server holds a push to);
//! this is glue.

use gridwork_core::fieldwork::tasks::{self, TaskRow};
use gridwork_core::model::Task;
use serde::Deserialize;
use tauri::{AppHandle, Runtime, State};
use uuid::Uuid;

use crate::commands::{get, now_ms, saved, today};
use crate::errors::CommandError;
use crate::state::AppState;

/// The tablet's tasks, open ones first, with progress and the overdue
/// flag (`fieldwork::tasks::list`).
#[tauri::command]
pub fn list_tasks(state: State<'_, AppState>) -> Result<Vec<TaskRow>, CommandError> {
    state.with_session(|s| tasks::list(&s.store, today()).map_err(CommandError::store))
}

/// A task as stored.
#[tauri::command]
pub fn get_task(state: State<'_, AppState>, id: Uuid) -> Result<Task, CommandError> {
    state.with_session(|s| get(s, id))
}

/// One line ticked or unticked, with its note.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct TickArgs {
    pub id: Uuid,
    pub index: usize,
    pub done: bool,
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
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
        state.with_session(|s| {
            let worker = s.saved.worker();
            tasks::tick(
                &mut s.store,
                &worker,
                args.id,
                args.index,
                args.done,
                &args.note,
                now_ms(),
            )
            .map_err(CommandError::work)
        }),
    )
}
