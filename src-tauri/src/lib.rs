//! Gridwork's field app: the Tauri shell.
//!
//! The shell is deliberately thin. Each IPC command in [`commands`] turns a
//! call from the Vue front end (`ui/`) into a call of `gridwork-core` and its
//! result, or its error, into JSON; no business logic lives here. Errors
//! cross the IPC boundary as [`errors::CommandError`], a `{code, message,
//! fields}` object with a stable code and a message in the UI's language.
//! [`state`] holds the signed-in session and its local store; [`photos`]
//! takes the photos a form picks; [`access`] logs reveals of masked fields;
//! [`drafts`] keeps what forms hold unsaved in the encrypted store;
//! [`patrols`] records patrols; [`sync`] runs "sync now" and the
//! background sync (records, then photos) and tells the UI how it went.
//!
//! The app lives in [`run`] rather than in `main.rs` so that the same code is
//! the desktop binary and the library Android and iOS load.

#[macro_use]
mod command_list;
#[cfg(test)]
mod command_check;

pub mod access;
pub mod bindings;
pub mod commands;
pub mod drafts;
pub mod errors;
pub mod keys;
pub mod keystore;
pub mod lock;
pub mod patrols;
pub mod photos;
pub mod state;
pub mod status;
pub mod sync;
pub mod tasks;
pub mod wipe;

use std::path::PathBuf;
use std::time::Duration;

use tauri::Manager;

/// Overrides where the app keeps its store and session (tests, several
/// workers sharing a machine).
pub const DATA_DIR_ENV: &str = "GRIDWORK_DATA_DIR";
/// Seconds between background syncs (default 30).
pub const SYNC_INTERVAL_ENV: &str = "GRIDWORK_SYNC_INTERVAL";

/// The commands' handlers: `with_commands!(handlers)`.
macro_rules! handlers {
    ($($module:ident::$name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        tauri::generate_handler![$($module::$name),*]
    };
}

/// Every command's name (see `command_list.rs`).
pub const COMMANDS: &[&str] = with_commands!(command_names);

/// Time between background syncs ([`SYNC_INTERVAL_ENV`], default 30 s).
pub fn sync_interval() -> Duration {
    let secs = std::env::var(SYNC_INTERVAL_ENV)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(30);
    Duration::from_secs(secs)
}

/// Builds and runs the app until its last window closes.
///
/// # Panics
/// If the webview cannot be created (e.g. no display or no WebKitGTK), or
/// the data directory cannot be opened, which leaves nothing useful to do
/// but to say why.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    tauri::Builder::default()
        .setup(|app| {
            // The device's position on Android/iOS; the UI falls back to
            // the web view's geolocation, then to a tap on the map.
            #[cfg(mobile)]
            app.handle().plugin(tauri_plugin_geolocation::init())?;
            let data_dir = match std::env::var_os(DATA_DIR_ENV) {
                Some(dir) => PathBuf::from(dir),
                None => app.path().app_data_dir()?,
            };
            let state = state::AppState::open(data_dir)?;
            state::lock(&state.keys).keystore = keystore::platform();
            app.manage(state);
            sync::spawn_background(app.handle().clone(), sync_interval());
            // A wipe reported lost before the app last stopped.
            wipe::retry_pending_report(app.handle().clone(), sync_interval());
            Ok(())
        })
        .invoke_handler(with_commands!(handlers))
        .build(tauri::generate_context!())
        .expect("Gridwork could not start its window")
        .run(|app, event| {
            // Held GPS fixes are saved before the app goes.
            if let tauri::RunEvent::Exit = event {
                let state = app.state::<state::AppState>();
                if let Some(session) = state.session().as_mut() {
                    patrols::flush_all(session);
                }
            }
        });
}
