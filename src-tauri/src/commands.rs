//! The IPC commands the front end calls with `invoke`.
//!
//! Each command is glue: it calls `gridwork-core` and returns either a
//! serializable value or a [`CommandError`] (a code and params the UI
//! translates). The front end reaches them only through `ui/src/backend.ts`.

use gridwork_core::calendar::shanghai_date;
use gridwork_core::doc::Conflict;
use gridwork_core::fieldwork::conflicts;
use gridwork_core::fieldwork::forms::{self, CareTagOption};
use gridwork_core::fieldwork::incidents::{self, IncidentView};
use gridwork_core::fieldwork::map::{self, MapFeature};
use gridwork_core::fieldwork::visits::{self, DueVisit};
use gridwork_core::model::grid::Grid;
use gridwork_core::model::{
    Gender, Household, Incident, Projection, Record, RecordKind, Resident, Visit,
};
use gridwork_core::store::{ListQuery, StoreError};
use gridwork_core::sync::http::{self, LoginUser};
use gridwork_core::sync::trust::{self, Trust};
use gridwork_core::validate;
use gridwork_core::workflow::Action;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, PackageInfo, Runtime, State};
use uuid::Uuid;

pub use crate::errors::CommandError;
use crate::state::{AppState, SavedSession, Session};
use crate::sync;

/// The app's name and version, as shown on the home screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct AppInfo {
    /// The product name from `tauri.conf.json`.
    pub name: String,
    /// The app's version (the workspace version in `Cargo.toml`).
    pub version: String,
}

impl From<&PackageInfo> for AppInfo {
    fn from(info: &PackageInfo) -> Self {
        Self {
            name: info.name.clone(),
            version: info.version.to_string(),
        }
    }
}

/// Returns the app's name and version.
#[tauri::command]
pub fn app_info<R: Runtime>(app: AppHandle<R>) -> Result<AppInfo, CommandError> {
    Ok(AppInfo::from(app.package_info()))
}

/// Who is signed in on this device, for the screens.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SessionInfo {
    pub server_url: String,
    pub device_id: String,
    pub user: LoginUser,
    /// The user's grid subtree, boundaries included (for the location map).
    pub grids: Vec<Grid>,
}

fn session_info(s: &Session) -> SessionInfo {
    SessionInfo {
        server_url: s.saved.server_url.clone(),
        device_id: s.saved.login.device_id.clone(),
        user: s.saved.login.user.clone(),
        grids: s.saved.login.grids.clone(),
    }
}

/// The signed-in session, or `null` on first run.
#[tauri::command]
pub fn current_session(state: State<'_, AppState>) -> Option<SessionInfo> {
    state.session().as_ref().map(session_info)
}

/// What the first-run screen sends.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct LoginArgs {
    pub server_url: String,
    pub user: String,
    pub password: String,
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub device_name: String,
    /// A CA certificate (PEM) the district's admin gives at setup, trusted
    /// beside the system's roots.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub ca_pem: Option<String>,
    /// Plain `http://` to a server not on this machine (a trial on a
    /// closed network; the admin's explicit choice).
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub allow_plain_http: bool,
}

/// Signs in and enrols this device, then syncs once in the background.
#[tauri::command]
pub async fn login<R: Runtime>(
    app: AppHandle<R>,
    args: LoginArgs,
) -> Result<SessionInfo, CommandError> {
    let state = app.state::<AppState>();
    let trust = Trust {
        ca_pem: args.ca_pem.filter(|pem| !pem.trim().is_empty()),
        allow_plain_http: args.allow_plain_http,
    };
    let url =
        trust::server_address(&args.server_url, &trust).map_err(|e| CommandError::transport(&e))?;
    let device_name = if args.device_name.trim().is_empty() {
        "网格通平板".to_string()
    } else {
        args.device_name
    };
    let recovery_device = crate::keys::recovery_device(&state.data_dir)?;
    let login = http::login_trusting(
        &url,
        &trust,
        args.user.trim(),
        &args.password,
        &device_name,
        recovery_device.as_deref(),
    )
    .await
    .map_err(|e| CommandError::transport(&e))?;
    state.sign_in(SavedSession {
        server_url: url,
        trust,
        login,
    })?;
    let info = state.with_session(|s| Ok(session_info(s)))?;
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let _ = sync::run(&handle).await;
    });
    Ok(info)
}

/// What a list screen asks for.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct ListArgs {
    pub kind: RecordKind,
    /// Full-text search (Chinese included); empty lists everything.
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub text: String,
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub status: Vec<String>,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub limit: Option<u32>,
}

/// Lists or searches records of one kind, newest first (masked rows).
#[tauri::command]
pub fn list_records(
    state: State<'_, AppState>,
    query: ListArgs,
) -> Result<Vec<Projection>, CommandError> {
    state.with_session(|s| {
        let q = ListQuery {
            kind: Some(query.kind),
            status: query.status,
            parent_id: query.parent_id,
            limit: query.limit,
            ..ListQuery::default()
        };
        let rows = if query.text.trim().is_empty() {
            s.store.list(&q)
        } else {
            s.store.search(&query.text, &q)
        };
        rows.map_err(CommandError::store)
    })
}

pub(crate) fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

pub(crate) fn today() -> jiff::civil::Date {
    shanghai_date(jiff::Timestamp::now())
}

pub(crate) fn get<T: Record>(s: &Session, id: Uuid) -> Result<T, CommandError> {
    s.store
        .get::<T>(id)
        .map_err(CommandError::store)?
        .ok_or_else(|| CommandError::store(StoreError::NotFound(id)))
}

pub(crate) fn saved<R: Runtime, T>(
    app: &AppHandle<R>,
    result: Result<T, CommandError>,
) -> Result<T, CommandError> {
    if result.is_ok() {
        sync::publish(app);
    }
    result
}

/// A blank household in the user's grid, for the form (not saved yet).
#[tauri::command]
pub fn new_household(state: State<'_, AppState>) -> Result<Household, CommandError> {
    state.with_session(|s| {
        let grid = s.saved.login.user.grid.clone();
        Ok(forms::blank_household(&grid, s.user(), now_ms()))
    })
}

/// A household as stored.
#[tauri::command]
pub fn get_household(state: State<'_, AppState>, id: Uuid) -> Result<Household, CommandError> {
    state.with_session(|s| get(s, id))
}

/// Validates and saves a household; invalid fields come back one by one.
/// A household with a point belongs to the grid holding it, which must be
/// one of the worker's.
/// `draft`: the form's draft key, dropped in the save's own transaction
/// (core's `Store::write_form`): saved, no draft is left to reopen.
// The save's closure returns core's `WorkError`, as `forms::save` does.
#[allow(clippy::result_large_err)]
#[tauri::command]
pub fn save_household<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    record: Household,
    draft: Option<String>,
) -> Result<Household, CommandError> {
    saved(
        &app,
        state.with_session(|s| {
            s.store
                .write_form(draft.as_deref(), |tx| {
                    forms::save_in(tx, &s.saved.worker(), record, now_ms())
                })
                .map_err(CommandError::work)
        }),
    )
}

/// A blank resident of a household, for the form (not saved yet).
#[tauri::command]
pub fn new_resident(
    state: State<'_, AppState>,
    household_id: Uuid,
) -> Result<Resident, CommandError> {
    state.with_session(|s| {
        let household: Household = get(s, household_id)?;
        Ok(forms::blank_resident(&household, s.user(), now_ms()))
    })
}

/// Every care tag kind with its default visit cycle, for the resident
/// form's tag editor (the defaults are core's).
#[tauri::command]
pub fn care_tag_options() -> Vec<CareTagOption> {
    forms::care_tag_options()
}

/// A resident as stored.
#[tauri::command]
pub fn get_resident(state: State<'_, AppState>, id: Uuid) -> Result<Resident, CommandError> {
    state.with_session(|s| get(s, id))
}

/// Validates and saves a resident; a good ID number fills birth date and
/// gender, a bad one says what is wrong with it.
/// `draft`: the form's draft key, dropped in the save's own transaction
/// (core's `Store::write_form`): saved, no draft is left to reopen.
// The save's closure returns core's `WorkError`, as `forms::save` does.
#[allow(clippy::result_large_err)]
#[tauri::command]
pub fn save_resident<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    record: Resident,
    draft: Option<String>,
) -> Result<Resident, CommandError> {
    saved(
        &app,
        state.with_session(|s| {
            s.store
                .write_form(draft.as_deref(), |tx| {
                    forms::save_in(tx, &s.saved.worker(), record, now_ms())
                })
                .map_err(CommandError::work)
        }),
    )
}

/// What an ID number says about its holder.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct IdNumberInfo {
    pub normalized: String,
    pub birth_date: String,
    pub gender: Gender,
}

/// Checks a resident ID number as it is typed (GB 11643): birth date and
/// gender when good, the field error when not.
#[tauri::command]
pub fn check_id_number(number: String) -> Result<IdNumberInfo, CommandError> {
    match validate::parse_id_number(&number, today()) {
        Ok(id) => Ok(IdNumberInfo {
            normalized: id.normalized,
            birth_date: id.birth_date.to_string(),
            gender: if id.male {
                Gender::Male
            } else {
                Gender::Female
            },
        }),
        Err(e) => Err(CommandError::invalid(&validate::ValidationErrors::from(
            e.for_field("id_number"),
        ))),
    }
}

/// A blank incident in the user's grid, numbered, for the form.
#[tauri::command]
pub fn new_incident(state: State<'_, AppState>) -> Result<Incident, CommandError> {
    state.with_session(|s| {
        let grid = s.saved.login.user.grid.clone();
        let device = s.saved.login.device_id.clone();
        Ok(incidents::blank_incident(
            &grid,
            s.user(),
            &device,
            now_ms(),
        ))
    })
}

/// An incident with its status and whole timeline.
#[tauri::command]
pub fn get_incident(state: State<'_, AppState>, id: Uuid) -> Result<IncidentView, CommandError> {
    state.with_session(|s| {
        let incident: Incident = get(s, id)?;
        Ok(incidents::incident_view(incident, s.store.calendar()))
    })
}

/// Saves an incident as a draft (暂存) or keeps editing one.
/// `draft`: the form's draft key, dropped in the save's own transaction
/// (core's `Store::write_form`): saved, no draft is left to reopen.
// The save's closure returns core's `WorkError`, as `forms::save` does.
#[allow(clippy::result_large_err)]
#[tauri::command]
pub fn save_incident<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    record: Incident,
    draft: Option<String>,
) -> Result<IncidentView, CommandError> {
    saved(
        &app,
        state.with_session(|s| {
            let incident = s
                .store
                .write_form(draft.as_deref(), |tx| {
                    forms::save_in(tx, &s.saved.worker(), record, now_ms())
                })
                .map_err(CommandError::work)?;
            Ok(incidents::incident_view(incident, s.store.calendar()))
        }),
    )
}

/// What a workflow button sends.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct TransitionArgs {
    pub id: Uuid,
    pub action: Action,
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub opinion: String,
}

/// Takes a workflow step (上报, 就地解决 …) after checking it by the same
/// rules the server runs; returns the incident as it now stands.
#[tauri::command]
pub fn transition_incident<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    args: TransitionArgs,
) -> Result<IncidentView, CommandError> {
    saved(
        &app,
        state.with_session(|s| {
            let worker = s.saved.worker();
            let incident = incidents::step(
                &mut s.store,
                &worker,
                args.id,
                args.action,
                &args.opinion,
                now_ms(),
            )
            .map_err(CommandError::work)?;
            Ok(incidents::incident_view(incident, s.store.calendar()))
        }),
    )
}

/// Saves the form and reports the incident (上报) in one go.
/// `draft`: the form's draft key, dropped in the save's own transaction
/// (core's `Store::write_form`): saved, no draft is left to reopen.
// The save's closure returns core's `WorkError`, as `forms::save` does.
#[allow(clippy::result_large_err)]
#[tauri::command]
pub fn report_incident<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    record: Incident,
    draft: Option<String>,
) -> Result<IncidentView, CommandError> {
    saved(
        &app,
        state.with_session(|s| {
            let incident = s
                .store
                .write_form(draft.as_deref(), |tx| {
                    incidents::report_in(tx, &s.saved.worker(), record, now_ms())
                })
                .map_err(CommandError::work)?;
            Ok(incidents::incident_view(incident, s.store.calendar()))
        }),
    )
}

/// The grid map's markers: households and open incidents that have a point.
#[tauri::command]
pub fn map_features(state: State<'_, AppState>) -> Result<Vec<MapFeature>, CommandError> {
    state.with_session(|s| map::features(&s.store).map_err(CommandError::store))
}

/// Residents due for a visit: overdue first, then due within a week.
#[tauri::command]
pub fn due_visits(state: State<'_, AppState>) -> Result<Vec<DueVisit>, CommandError> {
    state.with_session(|s| visits::due(&s.store, today()).map_err(CommandError::store))
}

/// A blank visit to a resident, for the form (not saved yet).
#[tauri::command]
pub fn new_visit(state: State<'_, AppState>, resident_id: Uuid) -> Result<Visit, CommandError> {
    state.with_session(|s| {
        let resident: Resident = get(s, resident_id)?;
        Ok(visits::blank_visit(&resident, s.user(), now_ms()))
    })
}

/// Saves a visit and moves its resident's next due date on, together
/// (core's `fieldwork::visits::record`).
/// `draft`: the form's draft key, dropped in the save's own transaction
/// (core's `Store::write_form`): saved, no draft is left to reopen.
// The save's closure returns core's `WorkError`, as `forms::save` does.
#[allow(clippy::result_large_err)]
#[tauri::command]
pub fn record_visit<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    record: Visit,
    draft: Option<String>,
) -> Result<Visit, CommandError> {
    saved(
        &app,
        state.with_session(|s| {
            s.store
                .write_form(draft.as_deref(), |tx| {
                    visits::record_in(tx, &s.saved.worker(), record, now_ms())
                })
                .map_err(CommandError::work)
        }),
    )
}

/// The record's fields written differently at once on two devices, each
/// with every value, who wrote it and when.
#[tauri::command]
pub fn get_conflicts(state: State<'_, AppState>, id: Uuid) -> Result<Vec<Conflict>, CommandError> {
    state.with_session(|s| conflicts::list(&s.store, id).map_err(CommandError::store))
}

/// The value a worker chose for a conflicted field.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct ResolveArgs {
    pub id: Uuid,
    pub path: String,
    pub value: serde_json::Value,
}

/// Settles one conflict with the chosen value (an ordinary edit that
/// syncs); returns the conflicts left.
#[tauri::command]
pub fn resolve_conflict<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    args: ResolveArgs,
) -> Result<Vec<Conflict>, CommandError> {
    saved(
        &app,
        state.with_session(|s| {
            let worker = s.saved.worker();
            conflicts::resolve(
                &mut s.store,
                &worker,
                args.id,
                &args.path,
                &args.value,
                now_ms(),
            )
            .map_err(CommandError::work)
        }),
    )
}
