// Every command of the app's own, from the one list in
// `src/command_list.rs`. Tauri generates an `allow-…` permission for each;
// with this list given, a command is refused unless a capability
// (`capabilities/`) grants it, so the web view can call only what the UI
// needs. A test in `src/bindings.rs` checks the capability grants exactly
// these.
include!("src/command_list.rs");
const COMMANDS: &[&str] = with_commands!(command_names);

fn main() {
    println!("cargo:rerun-if-changed=src/command_list.rs");
    // Generates the context (config, capabilities, icon) that
    // `tauri::generate_context!()` embeds, and sets the `desktop`/`mobile` cfgs.
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build: the app's configuration or capabilities are invalid");
}
