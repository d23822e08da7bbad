fn main() {
    // Generates the context (config, capabilities, icon) that
    // `tauri::generate_context!()` embeds, and sets the `desktop`/`mobile` cfgs.
    tauri_build::build();
}
