//! The TypeScript declarations of what the commands take and return,
//! generated into `ui/src/bindings/app.ts` (see
//! [`gridwork_core::typescript`] for why ts-rs and how).
//!
//! [`typescript`] lists the root types: each command's arguments and
//! result, and the error every command fails with. A unit test compares the
//! committed file with a fresh rendering, so CI fails when a Rust type
//! changed and the file was not regenerated (`scripts/bindings`).

use gridwork_core::doc::Conflict;
use gridwork_core::fieldwork::forms::CareTagOption;
use gridwork_core::fieldwork::incidents::IncidentView;
use gridwork_core::fieldwork::map::MapFeature;
use gridwork_core::fieldwork::patrols::{PatrolEdit, PatrolView};
use gridwork_core::fieldwork::tasks::TaskRow;
use gridwork_core::fieldwork::visits::DueVisit;
use gridwork_core::model::{
    Household, Incident, PhotoRef, Projection, RecordKind, Resident, Task, Visit,
};
use gridwork_core::privacy::MaskedView;
use gridwork_core::store::Protection;
use gridwork_core::typescript::Bindings;
use gridwork_core::validate::Lang;

use crate::commands::{AppInfo, IdNumberInfo, ListArgs, LoginArgs, SessionInfo};
use crate::errors::CommandError;
use crate::lock::PinView;
use crate::status::SyncStatus;

/// Where the file lives, relative to this crate.
pub const PATH: &str = "../ui/src/bindings/app.ts";

/// The module `ui/src/bindings/app.ts` holds.
pub fn typescript() -> String {
    let mut b = Bindings::new();
    b.add::<AppInfo>()
        .add::<Lang>()
        .add::<SessionInfo>()
        .add::<LoginArgs>()
        .add::<ListArgs>()
        .add::<Projection>()
        .add::<RecordKind>()
        .add::<Household>()
        .add::<Resident>()
        .add::<CareTagOption>()
        .add::<IdNumberInfo>()
        .add::<Incident>()
        .add::<IncidentView>()
        .add::<DueVisit>()
        .add::<MapFeature>()
        .add::<Visit>()
        .add::<Conflict>()
        .add::<PatrolView>()
        .add::<PatrolEdit>()
        .add::<PhotoRef>()
        .add::<TaskRow>()
        .add::<Task>()
        .add::<MaskedView>()
        .add::<Protection>()
        .add::<SyncStatus>()
        .add::<PinView>()
        .add::<CommandError>();
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
