//! Tasks from above (上级任务) on the tablet: read one, tick its lines.
//! Tasks arrive by sync (a supervisor issues them in the console); the
//! tasks list is `list_tasks`. A worker only ticks
//! lines and writes notes (`app_api::tick_task`, the same rule the server
//! holds a push to); this is glue.

use gridwork_core::app_api;
use gridwork_core::doc::Author;
use gridwork_core::model::{RecordKind, Task};
use gridwork_core::store::ListQuery;
use serde::Deserialize;
use tauri::{AppHandle, Runtime, State};
use uuid::Uuid;

use crate::commands::{get, now_ms, saved, today};
use crate::errors::CommandError;
use crate::state::AppState;

/// The tablet's tasks, open ones first, with progress and the overdue
/// flag (`app_api::task_rows`).
#[tauri::command]
pub fn list_tasks(state: State<'_, AppState>) -> Result<Vec<app_api::TaskRow>, CommandError> {
    state.with_session(|s, lang| {
        let q = ListQuery {
            kind: Some(RecordKind::Task),
            limit: Some(500),
            ..ListQuery::default()
        };
        let rows = s.store.list(&q).map_err(|e| CommandError::store(e, lang))?;
        let tasks = rows
            .iter()
            .map(|r| get::<Task>(s, r.id, lang))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(app_api::task_rows(&tasks, today()))
    })
}

/// A task as stored.
#[tauri::command]
pub fn get_task(state: State<'_, AppState>, id: Uuid) -> Result<Task, CommandError> {
    state.with_session(|s, lang| get(s, id, lang))
}

/// One line ticked or unticked, with its note.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
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
            // One read: the rule runs on the stored task inside the update;
            // a refused tick leaves it unchanged, so nothing is written.
            let mut refused = None;
            let task = s
                .store
                .update::<Task>(args.id, &Author::new(&user, now), today(), |task| {
                    refused =
                        app_api::tick_task(task, args.index, args.done, &args.note, &user, now)
                            .err();
                })
                .map_err(|e| CommandError::store(e, lang))?;
            match refused {
                Some(e) => Err(CommandError::new(e.code(), e.message(lang))),
                None => Ok(task),
            }
        }),
    )
}
