//! The TypeScript declarations of the commands, generated into
//! `ui/src/bindings/app.ts` (see [`gridwork_core::typescript`] for why
//! ts-rs and how).
//!
//! The file holds the `Commands` map, each command's name to the arguments
//! the front end sends and the result it receives, rendered from the one
//! list of commands (`command_list.rs`), and `COMMAND_NAMES`, the same
//! names as values: `ui/src/backend.ts` calls every command through one
//! `invoke` typed by the map and builds its backends from the names, so a
//! command is written once on each side and the compiler holds the two
//! together. Core's types are imported from `model.ts` (declared once for
//! both UIs); the error every command fails with and the photo headers are
//! declared here. A unit test compares the committed file with a fresh
//! rendering, so CI fails when a Rust type changed and the file was not
//! regenerated (`scripts/bindings`).

use gridwork_core::doc::Conflict;
use gridwork_core::fieldwork::forms::CareTagOption;
use gridwork_core::fieldwork::incidents::IncidentView;
use gridwork_core::fieldwork::map::MapFeature;
use gridwork_core::fieldwork::patrols::{PatrolEdit, PatrolView};
use gridwork_core::fieldwork::tasks::TaskRow;
use gridwork_core::fieldwork::visits::DueVisit;
use gridwork_core::model::{
    Household, Incident, PhotoRef, PhotoRole, Projection, RecordKind, Resident, Task, Visit,
};
use gridwork_core::privacy::MaskedView;
use gridwork_core::store::{Draft, Protection};
use gridwork_core::typescript::Bindings;
use uuid::Uuid;

use crate::commands::{
    AppInfo, IdNumberInfo, ListArgs, LoginArgs, ResolveArgs, SessionInfo, TransitionArgs,
};
use crate::errors::CommandError;
use crate::lock::PinView;
use crate::photos::{ROLE_HEADER, TAKEN_AT_HEADER};
use crate::status::SyncStatus;
use crate::tasks::TickArgs;

/// Where the file lives, relative to this crate.
pub const PATH: &str = "../ui/src/bindings/app.ts";

/// The raw body of a command that takes bytes rather than JSON
/// (`add_photo`'s image).
#[derive(Debug, ts_rs::TS)]
#[ts(type = "Uint8Array")]
pub struct RawBody;

/// A record of any kind as a form holds it, sent as JSON (`mask_record`).
#[derive(Debug, ts_rs::TS)]
#[ts(type = "object")]
pub struct RecordJson;

/// `household_id` → `householdId`: how Tauri names a command's argument in
/// JavaScript.
fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Renders `export type Commands = { name: { args, result }, … }`.
macro_rules! command_map {
    ($($module:ident::$name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        fn command_map(b: &mut Bindings) -> String {
            let mut out = String::from(
                "/** Every command: the arguments the front end sends, the result it receives. */\nexport type Commands = {\n",
            );
            $(
                let args: &[String] = &[$(format!("{}: {}", camel(stringify!($arg)), b.name_of::<$ty>())),*];
                let args = if args.is_empty() {
                    "Record<string, never>".to_string()
                } else {
                    format!("{{ {} }}", args.join(", "))
                };
                let result = b.name_of::<$ret>();
                out.push_str(&format!("  {}: {{ args: {args}, result: {result} }},\n", stringify!($name)));
            )*
            out.push_str("}\n");
            out
        }
    };
}
with_commands!(command_map);

/// The module `ui/src/bindings/app.ts` holds.
///
/// # Panics
/// If a core type the commands reach is missing from
/// [`gridwork_core::typescript::model`] (a test catches it first).
pub fn typescript() -> String {
    let mut b = Bindings::new();
    b.add::<CommandError>();
    let map = command_map(&mut b);
    let names = crate::COMMANDS
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ");
    b.add_tail(map)
        .add_tail(format!(
            "/** The commands' names, as `Commands` has them. */\nexport const COMMAND_NAMES = [{names}] as const\n"
        ))
        .add_const("The header naming an added photo's role.", "PHOTO_ROLE_HEADER", ROLE_HEADER)
        .add_const(
            "The header carrying when an added photo was taken (Unix milliseconds).",
            "PHOTO_TAKEN_AT_HEADER",
            TAKEN_AT_HEADER,
        );
    match b.render_with(
        "scripts/bindings",
        &gridwork_core::typescript::model(),
        "./model",
    ) {
        Ok(ts) => ts,
        Err(e) => panic!("{e}"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    #[test]
    fn the_committed_typescript_bindings_are_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(super::PATH);
        if let Err(e) = gridwork_core::typescript::check_or_write(&path, &super::typescript()) {
            panic!("{e}");
        }
    }

    #[test]
    fn the_window_is_granted_every_command_and_no_other() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("capabilities/default.json");
        let capability: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("capability file"))
                .expect("capability JSON");
        let granted: BTreeSet<String> = capability["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
            .map(|p| p.replace('-', "_"))
            .collect();
        let listed: BTreeSet<String> = crate::COMMANDS.iter().map(|c| c.to_string()).collect();
        assert_eq!(
            granted, listed,
            "capabilities/default.json must grant exactly the commands of command_list.rs"
        );
    }
}
