/// Every command of the app's own. Tauri generates an `allow-…` permission
/// for each; with this list given, a command is refused unless a capability
/// (`capabilities/`) grants it, so the web view can call only what the UI
/// needs. `ui/src/backend.test.ts` holds the list, the capability and the
/// UI's calls together.
const COMMANDS: &[&str] = &[
    "app_info",
    "set_language",
    "current_session",
    "login",
    "list_records",
    "new_household",
    "get_household",
    "save_household",
    "new_resident",
    "get_resident",
    "care_tag_options",
    "save_resident",
    "check_id_number",
    "new_incident",
    "get_incident",
    "save_incident",
    "transition_incident",
    "report_incident",
    "due_visits",
    "map_features",
    "new_visit",
    "record_visit",
    "get_conflicts",
    "resolve_conflict",
    "start_patrol",
    "get_patrol",
    "edit_patrol",
    "add_photo",
    "photo_url",
    "log_reveal",
    "mask_record",
    "sync_now",
    "sync_status",
    "list_tasks",
    "get_task",
    "tick_task",
    "pin_status",
    "set_pin",
    "unlock",
    "change_pin",
    "lock_app",
];

fn main() {
    // Generates the context (config, capabilities, icon) that
    // `tauri::generate_context!()` embeds, and sets the `desktop`/`mobile` cfgs.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build: the app's configuration or capabilities are invalid");
}
