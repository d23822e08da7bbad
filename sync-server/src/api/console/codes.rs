//! Every code a console API failure can carry, as one list the console's
//! TypeScript declares (`ConsoleErrorCode` in `ui/src/bindings/console.ts`)
//! and types its message tables by, so a code without a message fails
//! `npm run typecheck`.
//!
//! Some codes are made at run time (`photo_…` from a photo's
//! [`MediaError`], a workflow refusal's code, a wire error's), so they are
//! not read from the sources: [`all`] takes the code of one value of every
//! failure ([`samples`]), through the same [`ConsoleApiError::code`] the
//! responses use. [`sampled`] matches every variant, nested enums too,
//! without a wildcard: a new variant does not compile until it has a
//! sample here.

use std::collections::BTreeSet;

use gridwork_core::media::MediaError;
use gridwork_core::problem::Params;
use gridwork_core::sync::wire::{Rejection, RejectionCode, WireError};
use gridwork_core::workflow::TransitionError;
use uuid::Uuid;

use super::ConsoleApiError;
use crate::console::actions::ConsoleError;
use crate::console::hotline::FileError;
use crate::error::ApiError;
use crate::storage::StorageError;
use crate::sync::SyncError;

/// Every code, sorted.
pub fn all() -> BTreeSet<String> {
    samples()
        .iter()
        .inspect(|e| sampled(e))
        .map(ConsoleApiError::code)
        .collect()
}

/// One value of every failure.
fn samples() -> Vec<ConsoleApiError> {
    let text = String::new;
    let api = [
        ApiError::Unauthenticated,
        ApiError::TokenRevoked,
        ApiError::DeviceLost,
        ApiError::DeviceNotLost,
        ApiError::BadCredentials,
        ApiError::AccountDisabled,
        ApiError::RoleNotAllowed,
        ApiError::RateLimited {
            retry_after_secs: 1,
        },
        ApiError::Wire(WireError::BadMagic),
        ApiError::Wire(WireError::Truncated),
        ApiError::Wire(WireError::UnsupportedVersion {
            found: 0,
            supported: 0,
        }),
        ApiError::Wire(WireError::TooLarge),
        ApiError::Wire(WireError::Expands { limit: 0 }),
        ApiError::Wire(WireError::Malformed(text())),
        ApiError::TooLarge { limit: 0 },
        ApiError::BadRequest(text()),
        ApiError::NotFound,
        ApiError::NotReady,
        ApiError::Busy,
        ApiError::Internal(text()),
    ];
    let transition = [
        TransitionError::WrongStatus {
            action: text(),
            status: text(),
        },
        TransitionError::RoleNotAllowed {
            action: text(),
            role: text(),
        },
        TransitionError::OwnWork { action: text() },
        TransitionError::ReasonRequired { action: text() },
        TransitionError::PhotosRequired { action: text() },
        TransitionError::NotUp {
            from: text(),
            to: text(),
        },
        TransitionError::BadDeadline,
        TransitionError::NotAssignee { action: text() },
    ];
    let media = [
        MediaError::NotAnImage,
        MediaError::TooManyPixels {
            width: 0,
            height: 0,
        },
        MediaError::TooLarge(0),
        MediaError::Corrupt(text()),
    ];
    let file = [
        FileError::NotText,
        FileError::UnknownFormat,
        FileError::Unreadable {
            format: "JSON",
            detail: text(),
        },
        FileError::Empty,
        FileError::TooMany,
    ];
    let console = [
        ConsoleError::NotFound,
        ConsoleError::WrongKind(text()),
        ConsoleError::CommentRequired,
        ConsoleError::RoleNotAllowed,
        ConsoleError::RevealNotAllowed,
        ConsoleError::ActionNotOffered(text()),
        ConsoleError::NotADispute,
        ConsoleError::MediationField(text()),
        ConsoleError::MediationTooLong,
        ConsoleError::MediationInFuture,
        ConsoleError::TaskField(text()),
        ConsoleError::TaskTooLong,
        ConsoleError::TaskDue(text()),
        ConsoleError::TaskFilter(text()),
        ConsoleError::TaskNoGrids,
        ConsoleError::TaskTooMany(text()),
        ConsoleError::Refused(Rejection::new(
            Uuid::nil(),
            RejectionCode::OutsideScope,
            Params::new(),
        )),
        ConsoleError::PhotoMissing(text()),
        ConsoleError::ReportRequired,
        ConsoleError::Damaged(text()),
        ConsoleError::Storage(StorageError::Corrupt(text())),
        ConsoleError::Sync(SyncError::Busy),
        ConsoleError::Sync(SyncError::NoGrid(text())),
    ];
    let mut out: Vec<ConsoleApiError> = vec![
        ConsoleApiError::Csrf,
        ConsoleApiError::RoleNotAllowed,
        ConsoleApiError::SessionExpired,
    ];
    out.extend(api.into_iter().map(ConsoleApiError::Api));
    out.extend(console.into_iter().map(ConsoleApiError::Console));
    out.extend(
        transition
            .into_iter()
            .map(|e| ConsoleApiError::Console(ConsoleError::Transition(e))),
    );
    out.extend(
        media
            .into_iter()
            .map(|e| ConsoleApiError::Console(ConsoleError::Photo(e))),
    );
    out.extend(
        file.into_iter()
            .map(|e| ConsoleApiError::Console(ConsoleError::HotlineFile(e))),
    );
    out
}

/// Names every variant whose code can differ, without a wildcard: adding
/// one fails to compile here until [`samples`] has it.
fn sampled(e: &ConsoleApiError) {
    match e {
        ConsoleApiError::Csrf
        | ConsoleApiError::RoleNotAllowed
        | ConsoleApiError::SessionExpired => {}
        ConsoleApiError::Api(e) => api(e),
        ConsoleApiError::Console(e) => console(e),
    }
}

fn api(e: &ApiError) {
    match e {
        ApiError::Wire(w) => match w {
            WireError::BadMagic
            | WireError::Truncated
            | WireError::UnsupportedVersion { .. }
            | WireError::TooLarge
            | WireError::Expands { .. }
            | WireError::Malformed(_) => {}
        },
        ApiError::Unauthenticated
        | ApiError::TokenRevoked
        | ApiError::DeviceLost
        | ApiError::DeviceNotLost
        | ApiError::BadCredentials
        | ApiError::AccountDisabled
        | ApiError::RoleNotAllowed
        | ApiError::RateLimited { .. }
        | ApiError::TooLarge { .. }
        | ApiError::BadRequest(_)
        | ApiError::NotFound
        | ApiError::NotReady
        | ApiError::Busy
        | ApiError::Internal(_) => {}
    }
}

fn console(e: &ConsoleError) {
    match e {
        ConsoleError::Transition(t) => match t {
            TransitionError::WrongStatus { .. }
            | TransitionError::RoleNotAllowed { .. }
            | TransitionError::OwnWork { .. }
            | TransitionError::ReasonRequired { .. }
            | TransitionError::PhotosRequired { .. }
            | TransitionError::NotUp { .. }
            | TransitionError::BadDeadline
            | TransitionError::NotAssignee { .. } => {}
        },
        ConsoleError::Photo(m) => match m {
            MediaError::NotAnImage
            | MediaError::TooManyPixels { .. }
            | MediaError::TooLarge(_)
            | MediaError::Corrupt(_) => {}
        },
        ConsoleError::HotlineFile(f) => match f {
            FileError::NotText
            | FileError::UnknownFormat
            | FileError::Unreadable { .. }
            | FileError::Empty
            | FileError::TooMany => {}
        },
        ConsoleError::Sync(s) => match s {
            SyncError::Busy | SyncError::NoGrid(_) | SyncError::Storage(_) => {}
        },
        // Always `internal`, whatever the storage error.
        ConsoleError::Storage(_)
        | ConsoleError::NotFound
        | ConsoleError::WrongKind(_)
        | ConsoleError::CommentRequired
        | ConsoleError::RoleNotAllowed
        | ConsoleError::RevealNotAllowed
        | ConsoleError::ActionNotOffered(_)
        | ConsoleError::NotADispute
        | ConsoleError::MediationField(_)
        | ConsoleError::MediationTooLong
        | ConsoleError::MediationInFuture
        | ConsoleError::TaskField(_)
        | ConsoleError::TaskTooLong
        | ConsoleError::TaskDue(_)
        | ConsoleError::TaskFilter(_)
        | ConsoleError::TaskNoGrids
        | ConsoleError::TaskTooMany(_)
        | ConsoleError::Refused(_)
        | ConsoleError::PhotoMissing(_)
        | ConsoleError::ReportRequired
        | ConsoleError::Damaged(_) => {}
    }
}

/// The TypeScript declaration of the union.
pub fn typescript() -> String {
    let union = all()
        .iter()
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(" | ");
    format!(
        "/** Every code a console API failure carries (`ConsoleRefusal.code`): the console's message tables are typed by it. */\nexport type ConsoleErrorCode = {union}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_has_the_codes_made_at_run_time() {
        let codes = all();
        for code in [
            "photo_not_an_image",
            "photo_too_many_pixels",
            "own_work",
            "hotline_unreadable",
            "refused",
            "csrf",
            "busy",
            "internal",
            "unsupported_version",
        ] {
            assert!(codes.contains(code), "{code}: {codes:?}");
        }
        // A push refusal's own code travels as a param, not as the code.
        assert!(!codes.contains(""), "{codes:?}");
    }
}
