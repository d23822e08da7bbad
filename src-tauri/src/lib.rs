//! Gridwork's field app: the Tauri shell.
//!
//! The shell is deliberately thin. Each IPC command in [`commands`] turns a
//! call from the Vue front end (`ui/`) into a call of `gridwork-core` and its
//! result, or its error, into JSON; no business logic lives here. Errors
//! cross the IPC boundary as [`commands::CommandError`], a `{code, message}`
//! object with a stable code the UI translates.
//!
//! The app lives in [`run`] rather than in `main.rs` so that the same code is
//! the desktop binary and the library Android and iOS load.

pub mod commands;

/// Builds and runs the app until its last window closes.
///
/// # Panics
/// If the webview cannot be created (e.g. no display or no WebKitGTK), which
/// leaves nothing useful to do but to say why.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![commands::app_info])
        .run(tauri::generate_context!())
        .expect("Gridwork could not start its window");
}
