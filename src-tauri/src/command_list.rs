// The one list of the app's IPC commands. `build.rs` includes this file
// too (it gives Tauri the names, which makes an `allow-…` permission of
// each), so it holds macros only: no inner docs, no `use`.

/// Hands every command of the app to the macro `$then`, one entry each:
/// `module::command(argument: Type, …) -> Result;`, the arguments as the
/// front end sends them (named as the function's parameters; Tauri
/// renames them to camelCase in JavaScript) and the result as it receives
/// it (the `Ok` of a fallible command; every command fails with
/// [`crate::errors::CommandError`]).
///
/// Its readers: [`crate::run`] registers the handlers
/// (`generate_handler!`), `build.rs` gives Tauri the names (a command no
/// capability grants is refused), [`crate::bindings`] writes the front
/// end's `Commands` map of names to argument and result types, and a test
/// there checks `capabilities/default.json` grants exactly these, and
/// the test in `command_check.rs` reads each command's function and
/// fails when its parameters or result differ from what is listed here. A
/// command is added here and nowhere else on the Rust side.
macro_rules! with_commands {
    ($then:ident) => {
        $then! {
            commands::app_info() -> AppInfo;
            commands::current_session() -> Option<SessionInfo>;
            commands::login(args: LoginArgs) -> SessionInfo;
            commands::list_records(query: ListArgs) -> Vec<Projection>;
            commands::new_household() -> Household;
            commands::get_household(id: Uuid) -> Household;
            commands::save_household(record: Household, draft: Option<String>) -> Household;
            commands::new_resident(household_id: Uuid) -> Resident;
            commands::get_resident(id: Uuid) -> Resident;
            commands::care_tag_options() -> Vec<CareTagOption>;
            commands::save_resident(record: Resident, draft: Option<String>) -> Resident;
            commands::check_id_number(number: String) -> IdNumberInfo;
            commands::new_incident() -> Incident;
            commands::get_incident(id: Uuid) -> IncidentView;
            commands::save_incident(record: Incident, draft: Option<String>) -> IncidentView;
            commands::transition_incident(args: TransitionArgs) -> IncidentView;
            commands::report_incident(record: Incident, draft: Option<String>) -> IncidentView;
            commands::due_visits() -> Vec<DueVisit>;
            commands::map_features() -> Vec<MapFeature>;
            commands::new_visit(resident_id: Uuid) -> Visit;
            commands::record_visit(record: Visit, draft: Option<String>) -> Visit;
            commands::get_conflicts(id: Uuid) -> Vec<Conflict>;
            commands::resolve_conflict(args: ResolveArgs) -> Vec<Conflict>;
            patrols::start_patrol() -> PatrolView;
            patrols::get_patrol(id: Uuid) -> PatrolView;
            patrols::edit_patrol(id: Uuid, edit: PatrolEdit) -> PatrolView;
            // The image is the raw body; its role and time travel as the
            // headers `photos::ROLE_HEADER` and `TAKEN_AT_HEADER`.
            photos::add_photo(body: RawBody, role: PhotoRole, taken_at: Option<i64>) -> PhotoRef;
            photos::photo_url(sha256: String) -> Option<String>;
            access::log_reveal(kind: RecordKind, record_id: Uuid, field: String, protection: Protection) -> ();
            access::mask_record(kind: RecordKind, record: RecordJson) -> MaskedView;
            drafts::save_draft(key: String, value: RecordJson, saved_at: Option<i64>) -> ();
            drafts::load_draft(key: String) -> Option<Draft>;
            drafts::drop_draft(key: String) -> ();
            drafts::list_drafts(kind: String) -> Vec<Draft>;
            sync::sync_now() -> SyncStatus;
            sync::sync_status() -> SyncStatus;
            sync::dismiss_notices(seqs: Vec<i64>) -> SyncStatus;
            tasks::list_tasks() -> Vec<TaskRow>;
            tasks::get_task(id: Uuid) -> Task;
            tasks::tick_task(args: TickArgs) -> Task;
            lock::pin_status() -> PinView;
            lock::set_pin(pin: String) -> PinView;
            lock::unlock(pin: String) -> PinView;
            lock::change_pin(old_pin: String, new_pin: String) -> PinView;
            lock::lock_app() -> PinView;
        }
    };
}

/// The commands' names, as a `&[&str]`: `with_commands!(command_names)`.
macro_rules! command_names {
    ($($module:ident::$name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        &[$(stringify!($name)),*]
    };
}
