//! The TypeScript declarations of what the console API answers, generated
//! into `ui/src/bindings/console.ts` (see [`gridwork_core::typescript`] for
//! why ts-rs and how). A unit test compares the committed file with a
//! fresh rendering, so CI fails when a Rust type changed and the file was
//! not regenerated (`scripts/bindings`).

use gridwork_core::model::PhotoRef;
use gridwork_core::typescript::Bindings;

use super::dashboard::DashboardPage;
use super::ledgers::LedgerPage;
use super::records::{Detail, QueuePage};
use super::session::Me;
use crate::console::hotline::ImportReport;
use crate::console::tasks::{CampaignDetail, CampaignSummary, IssueForm, Issued};
use crate::storage::AccessEntry;

/// Where the file lives, relative to this crate.
pub const PATH: &str = "../ui/src/bindings/console.ts";

/// The module `ui/src/bindings/console.ts` holds.
pub fn typescript() -> String {
    let mut b = Bindings::new();
    b.add::<Me>()
        .add::<QueuePage>()
        .add::<Detail>()
        .add::<PhotoRef>()
        .add::<DashboardPage>()
        .add::<LedgerPage>()
        .add::<AccessEntry>()
        .add::<ImportReport>()
        .add::<CampaignSummary>()
        .add::<CampaignDetail>()
        .add::<IssueForm>()
        .add::<Issued>()
        .add::<super::ConsoleRefusal>();
    b.render("scripts/bindings")
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
