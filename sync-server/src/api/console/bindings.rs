//! The TypeScript declarations of what the console API answers, generated
//! into `ui/src/bindings/console.ts` (see [`gridwork_core::typescript`] for
//! why ts-rs and how), with the API's paths ([`super::paths`]) and its CSRF
//! header as constants. Core's types are imported from `model.ts`, declared
//! once for both UIs. A unit test compares the committed file with a
//! fresh rendering, so CI fails when a Rust type changed and the file was
//! not regenerated (`scripts/bindings`).

use gridwork_core::model::{Mediation, PhotoRef};
use gridwork_core::typescript::Bindings;

use super::dashboard::{DashQuery, DashboardPage};
use super::ledgers::{LedgerPage, ListQuery};
use super::records::{Detail, QueuePage, QueueQuery, ReviewRequest, TransitionRequest};
use super::session::{LoginRequest, Me};
use crate::console::hotline::{ImportReport, UnplacedCode};
use crate::console::tasks::{CampaignDetail, CampaignSummary, IssueForm, Issued};
use crate::storage::AccessEntry;

/// Where the file lives, relative to this crate.
pub const PATH: &str = "../ui/src/bindings/console.ts";

/// The module `ui/src/bindings/console.ts` holds.
///
/// # Panics
/// If a core type the answers reach is missing from
/// [`gridwork_core::typescript::model`] (a test catches it first).
pub fn typescript() -> String {
    let mut b = Bindings::new();
    b.add::<LoginRequest>()
        .add::<Me>()
        .add::<QueueQuery>()
        .add::<ReviewRequest>()
        .add::<TransitionRequest>()
        .add::<crate::console::page::Revealed>()
        .add::<ListQuery>()
        .add::<DashQuery>()
        .add::<Mediation>()
        .add::<QueuePage>()
        .add::<Detail>()
        .add::<PhotoRef>()
        .add::<DashboardPage>()
        .add::<LedgerPage>()
        .add::<AccessEntry>()
        .add::<ImportReport>()
        .add::<UnplacedCode>()
        .add::<CampaignSummary>()
        .add::<CampaignDetail>()
        .add::<IssueForm>()
        .add::<Issued>()
        .add::<crate::devices::DeviceView>()
        .add::<super::ConsoleRefusal>();
    let paths = super::paths::ALL
        .iter()
        .map(|(name, path)| format!("  {name}: {path:?},\n"))
        .collect::<String>();
    b.add_const(
        "Where the console API is mounted; `CONSOLE_PATHS` are relative to it.",
        "CONSOLE_API_BASE",
        super::paths::BASE,
    )
    .add_tail(format!(
        "/** The console API's paths (`{{id}}` and the like to fill in). */\nexport const CONSOLE_PATHS = {{\n{paths}}} as const\n"
    ))
    .add_const(
        "The header every state-changing console request carries (CSRF guard).",
        "CSRF_HEADER",
        super::CSRF_HEADER,
    )
    .add_tail(super::codes::typescript());
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
    use std::path::Path;

    #[test]
    fn the_committed_typescript_bindings_are_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(super::PATH);
        if let Err(e) = gridwork_core::typescript::check_or_write(&path, &super::typescript()) {
            panic!("{e}");
        }
    }
}
