//! How failures cross the IPC boundary: `{code, params, fields}`.
//!
//! `code` is stable and machine-readable ([`ErrorCode`], exported to
//! TypeScript as a union); `params` are the named values the message needs
//! (see [`gridwork_core::problem`]); `fields` lists what is wrong with each
//! form field, so a form shows it at the field. No sentence is made here:
//! the UI holds one message per code in `ui/src/i18n/zh-CN.ts` and `en.ts`,
//! whose tables are typed `Record<ErrorCode, …>` so the type check fails
//! when a code has no message. Details that would help a developer (a
//! SQLite error, a bad CBOR body) go to the log, never to the UI.

use gridwork_core::fieldwork::WorkError;
use gridwork_core::fieldwork::forms::OutsideGrid;
use gridwork_core::media::MediaError;
use gridwork_core::problem::{Params, params};
use gridwork_core::store::{PhotoError, StoreError};
use gridwork_core::sync::client::{SyncError, TransportError};
use gridwork_core::sync::wire::WireError;
use gridwork_core::validate::{Code, ValidationErrors};
use gridwork_core::workflow::TransitionError;
use serde::{Deserialize, Serialize};

/// Every code a command of the app fails with. The serialized names are
/// the codes core and the server use (`StoreError::code`,
/// `TransitionError::code`, the server's API codes …) where those reach a
/// person as they are; the few the shell adds say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // The shell's own.
    /// Something that should not happen; the detail is in the log.
    Internal,
    /// The user must sign in (first run, after a sign-out, or someone
    /// else signed in during a sync).
    NotSignedIn,
    /// A command's argument the UI should never send (a bad photo role,
    /// not a photo address).
    InvalidInput,
    /// A reveal that does not name its field. Params: `max`.
    BadField,
    /// Form fields are invalid: see `fields`.
    Invalid,
    // The store's.
    NotFound,
    AlreadyExists,
    /// The data was written by a newer app.
    StoreTooNew,
    /// The local data could not be read or written (detail in the log).
    StoreFailed,
    /// A form's draft over what a draft may hold. Params: `max_kib`.
    DraftTooBig,
    /// A photo's bytes do not match its address.
    PhotoHashMismatch,
    PhotoBadAddress,
    // A picked file that is no photo.
    NotAnImage,
    TooManyPixels,
    TooLarge,
    CorruptImage,
    // Fieldwork's.
    /// Params: `lon`, `lat`.
    PointOutsideGrid,
    PatrolEnded,
    /// Params: `line`.
    TaskLineMissing,
    /// Params: `max`.
    TaskNoteTooLong,
    /// Params: `path`.
    ConflictChanged,
    /// Params: `user`, `unsent`.
    PreviousUserUnsent,
    // The workflow's (params: see `TransitionError`).
    WrongStatus,
    RoleNotAllowed,
    OwnWork,
    ReasonRequired,
    PhotosRequired,
    NotUp,
    BadDeadline,
    NotAssignee,
    // The connection's.
    Unreachable,
    UntrustedCertificate,
    PlainHttpRefused,
    BadServerUrl,
    BadCaCertificate,
    // The server's answers.
    BadCredentials,
    AccountDisabled,
    /// The server's `role_not_allowed` at sign-in: an admin signs in to
    /// the console, not on a device.
    ConsoleOnlyAccount,
    /// The server's `token_revoked` and `unauthenticated`.
    SignedOut,
    RateLimited,
    Busy,
    /// The app and the server speak different protocol versions: the
    /// server's `unsupported_version`, or an answer in a newer version.
    /// Nothing saved on the device is touched; it syncs once the app is
    /// updated.
    UpdateApp,
    /// Any other refusal of the server. Params: `code`, the server's.
    ServerRefused,
    /// A sync answer that could not be read. Params: `code`
    /// (`malformed`, `bad_change` …).
    SyncUnreadable,
    // The device's lock (`crate::lock`, core's `vault`).
    /// The app is locked: the PIN is asked for first.
    Locked,
    /// Params: `left` (tries before the lock-out).
    PinWrong,
    /// Params: `left`, `wait_s` (the wait before the next try).
    PinWrongWait,
    /// Params: `wait_s`.
    PinThrottled,
    /// Too many wrong PINs: a fresh server sign-in sets a new one.
    PinLockedOut,
    /// The platform keystore lost the PIN wrap's device secret (it was
    /// reset): a fresh server sign-in sets a new PIN, the data is kept.
    PinKeystoreLost,
    /// The PIN's wrap needs the platform keystore, which did not answer
    /// (not running, locked): nothing was counted; try again.
    KeystoreUnavailable,
    PinNotSet,
    PinAlreadySet,
    // A PIN refused when chosen (core's `PinRefused::code`).
    PinNotSixDigits,
    PinSameDigit,
    PinRun,
    PinAlternating,
    PinBirthDate,
    /// The device's keys could not be read or written (detail in the log).
    VaultFailed,
    // The device's.
    /// An admin reported this device lost: its unsent work went to the
    /// server and its data is erased ([`crate::wipe`]).
    DeviceWiped,
}

/// What a command failure looks like to the front end.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{code:?} {params:?}")]
pub struct CommandError {
    /// The stable code the UI translates.
    pub code: ErrorCode,
    /// What the code's message needs, by name.
    pub params: Params,
    /// One entry per invalid form field; empty otherwise.
    pub fields: Vec<FieldError>,
}

/// What is wrong with one form field.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct FieldError {
    /// The record's field key, e.g. `id_number` or `address`.
    pub field: String,
    /// What is wrong: a validation code, or `point_outside_grid`.
    pub code: FieldErrorCode,
    /// What the code's message needs, by name.
    pub params: Params,
}

/// The code of a field's error: core's validation [`Code`], or a point
/// outside the worker's grids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(untagged)]
pub enum FieldErrorCode {
    Invalid(Code),
    Point(PointCode),
}

/// The one field code that is not a validation code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PointCode {
    PointOutsideGrid,
}

impl CommandError {
    /// An error with `code` and `params`.
    pub fn new(code: ErrorCode, params: Params) -> Self {
        Self {
            code,
            params,
            fields: Vec::new(),
        }
    }

    /// An error with `code` and no params.
    pub fn code(code: ErrorCode) -> Self {
        Self::new(code, Params::new())
    }

    /// The user must sign in (first run, or after a sign-out).
    pub fn not_signed_in() -> Self {
        Self::code(ErrorCode::NotSignedIn)
    }

    /// Invalid form fields, each with core's code and params.
    pub fn invalid(errors: &ValidationErrors) -> Self {
        Self {
            code: ErrorCode::Invalid,
            params: Params::new(),
            fields: errors
                .0
                .iter()
                .map(|e| FieldError {
                    field: e.field.clone(),
                    code: FieldErrorCode::Invalid(e.code),
                    params: e.params(),
                })
                .collect(),
        }
    }

    /// A point outside the worker's grids, shown at the form's point field.
    pub fn outside_grid(e: &OutsideGrid) -> Self {
        Self {
            code: ErrorCode::PointOutsideGrid,
            params: e.params(),
            fields: vec![FieldError {
                field: "point".into(),
                code: FieldErrorCode::Point(PointCode::PointOutsideGrid),
                params: e.params(),
            }],
        }
    }

    /// A store failure.
    pub fn store(e: StoreError) -> Self {
        match &e {
            StoreError::Invalid(errors) => Self::invalid(errors),
            StoreError::NotFound(_) => Self::code(ErrorCode::NotFound),
            StoreError::AlreadyExists(_) => Self::code(ErrorCode::AlreadyExists),
            StoreError::TooNew { .. } => Self::code(ErrorCode::StoreTooNew),
            StoreError::Photo(PhotoError::Media(m)) => Self::media(m),
            StoreError::Photo(PhotoError::HashMismatch { .. }) => {
                Self::code(ErrorCode::PhotoHashMismatch)
            }
            StoreError::Photo(PhotoError::BadAddress(_)) => Self::code(ErrorCode::PhotoBadAddress),
            StoreError::DraftTooBig { max, .. } => Self::new(
                ErrorCode::DraftTooBig,
                params([("max_kib", (max / 1024).into())]),
            ),
            StoreError::BadDraftKey(_) => Self::code(ErrorCode::InvalidInput),
            _ => {
                tracing::error!(error = %e, code = e.code(), "store failure");
                Self::code(ErrorCode::StoreFailed)
            }
        }
    }

    /// A picked file that cannot be taken as a photo.
    pub fn media(e: &MediaError) -> Self {
        Self::code(match e {
            MediaError::NotAnImage => ErrorCode::NotAnImage,
            MediaError::TooManyPixels { .. } => ErrorCode::TooManyPixels,
            MediaError::TooLarge(_) => ErrorCode::TooLarge,
            MediaError::Corrupt(_) => ErrorCode::CorruptImage,
        })
    }

    /// A call of core's `fieldwork` that did nothing.
    pub fn work(e: WorkError) -> Self {
        match e {
            WorkError::Store(e) => Self::store(e),
            WorkError::OutsideGrid(e) => Self::outside_grid(&e),
            WorkError::Transition(e) => Self::transition(&e),
            WorkError::PatrolEnded(_) => Self::code(ErrorCode::PatrolEnded),
            WorkError::Tick(e) => Self::new(
                match e {
                    gridwork_core::fieldwork::tasks::TickError::NoSuchLine(_) => {
                        ErrorCode::TaskLineMissing
                    }
                    gridwork_core::fieldwork::tasks::TickError::NoteTooLong => {
                        ErrorCode::TaskNoteTooLong
                    }
                },
                e.params(),
            ),
            WorkError::Resolve(gridwork_core::fieldwork::conflicts::ResolveError::Doc(e)) => {
                Self::store(StoreError::Doc(e))
            }
            WorkError::Resolve(e) => Self::new(ErrorCode::ConflictChanged, e.params()),
            WorkError::PreviousUserUnsent { user, unsent } => Self::new(
                ErrorCode::PreviousUserUnsent,
                params([("user", user.into()), ("unsent", unsent.into())]),
            ),
        }
    }

    /// A workflow step the rules do not allow.
    pub fn transition(e: &TransitionError) -> Self {
        let code = match e {
            TransitionError::WrongStatus { .. } => ErrorCode::WrongStatus,
            TransitionError::RoleNotAllowed { .. } => ErrorCode::RoleNotAllowed,
            TransitionError::OwnWork { .. } => ErrorCode::OwnWork,
            TransitionError::ReasonRequired { .. } => ErrorCode::ReasonRequired,
            TransitionError::PhotosRequired { .. } => ErrorCode::PhotosRequired,
            TransitionError::NotUp { .. } => ErrorCode::NotUp,
            TransitionError::BadDeadline => ErrorCode::BadDeadline,
            TransitionError::NotAssignee { .. } => ErrorCode::NotAssignee,
        };
        Self::new(code, e.params())
    }

    /// A failed exchange with the server (login or sync).
    pub fn transport(e: &TransportError) -> Self {
        match e {
            TransportError::Unreachable(detail) => {
                tracing::info!(%detail, "server unreachable");
                Self::code(ErrorCode::Unreachable)
            }
            TransportError::Untrusted(_) => Self::code(ErrorCode::UntrustedCertificate),
            TransportError::PlainHttp(_) => Self::code(ErrorCode::PlainHttpRefused),
            TransportError::BadAddress(_) => Self::code(ErrorCode::BadServerUrl),
            TransportError::BadCa(_) => Self::code(ErrorCode::BadCaCertificate),
            TransportError::Server { code, message, .. } => match code.as_str() {
                "bad_credentials" => Self::code(ErrorCode::BadCredentials),
                "account_disabled" => Self::code(ErrorCode::AccountDisabled),
                "role_not_allowed" => Self::code(ErrorCode::ConsoleOnlyAccount),
                "token_revoked" | "unauthenticated" => Self::code(ErrorCode::SignedOut),
                "rate_limited" => Self::code(ErrorCode::RateLimited),
                "busy" => Self::code(ErrorCode::Busy),
                "unsupported_version" => Self::code(ErrorCode::UpdateApp),
                other => {
                    tracing::warn!(code = other, %message, "the server refused");
                    Self::new(ErrorCode::ServerRefused, params([("code", other.into())]))
                }
            },
        }
    }

    /// A failed sync.
    pub fn sync(e: SyncError) -> Self {
        match e {
            SyncError::Transport(t) => Self::transport(&t),
            SyncError::Store(s) => Self::store(s),
            SyncError::StoreClosed => Self::not_signed_in(),
            SyncError::Wire(WireError::UnsupportedVersion { found, supported }) => {
                tracing::warn!(
                    found,
                    supported,
                    "the server speaks another protocol version"
                );
                Self::code(ErrorCode::UpdateApp)
            }
            other => {
                tracing::warn!(error = %other, "sync answer unreadable");
                Self::new(
                    ErrorCode::SyncUnreadable,
                    params([("code", other.code().into())]),
                )
            }
        }
    }

    /// Something that should not happen; the detail goes to the log.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::code(ErrorCode::Internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridwork_core::validate::ValidationError;
    use serde_json::json;

    // The UI's `backend.ts` relies on these exact shapes.
    #[test]
    fn command_error_serializes_as_code_params_and_fields() {
        let err = CommandError::new(
            ErrorCode::PreviousUserUnsent,
            params([("user", "gw-1".into()), ("unsent", 3u64.into())]),
        );
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"code": "previous_user_unsent", "params": {"user": "gw-1", "unsent": 3}, "fields": []})
        );
    }

    #[test]
    fn validation_errors_arrive_field_by_field_as_codes_and_params() {
        let errors = ValidationErrors(vec![ValidationError::with_detail(
            "id_number",
            Code::IdCheckCharacter,
            "X:5",
        )]);
        let json = serde_json::to_value(CommandError::invalid(&errors)).unwrap();
        assert_eq!(
            json,
            json!({"code": "invalid", "params": {}, "fields": [
                {"field": "id_number", "code": "id_check_character",
                 "params": {"expected": "X", "found": "5"}}
            ]})
        );
    }

    #[test]
    fn a_point_outside_the_grid_is_shown_at_the_point_field() {
        let e = CommandError::outside_grid(&OutsideGrid {
            lon: 113.34,
            lat: 23.1,
        });
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["code"], "point_outside_grid");
        assert_eq!(json["fields"][0]["field"], "point");
        assert_eq!(json["fields"][0]["code"], "point_outside_grid");
        assert_eq!(json["fields"][0]["params"]["lon"], 113.34);
    }

    #[test]
    fn a_workflow_refusal_keeps_the_workflows_code_and_params() {
        let e = CommandError::transition(&TransitionError::WrongStatus {
            action: "verify".into(),
            status: "reported".into(),
        });
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"code": "wrong_status", "params": {"action": "verify", "status": "reported"}, "fields": []})
        );
    }

    #[test]
    fn a_file_that_is_no_photo_is_refused_with_its_code() {
        let e = StoreError::Photo(PhotoError::Media(MediaError::NotAnImage));
        assert_eq!(CommandError::store(e).code, ErrorCode::NotAnImage);
        let e = CommandError::media(&MediaError::TooLarge(1 << 30));
        assert_eq!(e.code, ErrorCode::TooLarge);
    }

    #[test]
    fn a_draft_too_big_says_how_much_a_draft_may_hold() {
        let e = CommandError::store(StoreError::DraftTooBig {
            bytes: 300_000,
            max: 256 * 1024,
        });
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"code": "draft_too_big", "params": {"max_kib": 256}, "fields": []})
        );
        let e = CommandError::store(StoreError::BadDraftKey("x".into()));
        assert_eq!(e.code, ErrorCode::InvalidInput);
    }

    #[test]
    fn an_unreachable_server_says_no_internals() {
        let e = TransportError::Unreachable("connection refused".into());
        let json = serde_json::to_string(&CommandError::transport(&e)).unwrap();
        assert_eq!(json, r#"{"code":"unreachable","params":{},"fields":[]}"#);
    }

    #[test]
    fn a_server_code_the_app_does_not_know_is_passed_on_as_a_param() {
        let e = TransportError::Server {
            status: 400,
            code: "something_new".into(),
            message: "details".into(),
        };
        let e = CommandError::transport(&e);
        assert_eq!(e.code, ErrorCode::ServerRefused);
        assert_eq!(e.params, params([("code", "something_new".into())]));
    }

    #[test]
    fn a_protocol_version_either_side_does_not_speak_asks_for_an_update() {
        let refused = TransportError::Server {
            status: 400,
            code: "unsupported_version".into(),
            message: "protocol version 1 is not supported".into(),
        };
        assert_eq!(CommandError::transport(&refused).code, ErrorCode::UpdateApp);
        let newer = SyncError::Wire(WireError::UnsupportedVersion {
            found: 9,
            supported: 2,
        });
        assert_eq!(CommandError::sync(newer).code, ErrorCode::UpdateApp);
    }

    #[test]
    fn workflow_codes_are_the_workflows_own() {
        // The UI translates the app's and the console's workflow refusals
        // with the same messages, so the codes must be the same strings.
        for e in [
            TransitionError::WrongStatus {
                action: "a".into(),
                status: "s".into(),
            },
            TransitionError::RoleNotAllowed {
                action: "a".into(),
                role: "r".into(),
            },
            TransitionError::OwnWork { action: "a".into() },
            TransitionError::ReasonRequired { action: "a".into() },
            TransitionError::PhotosRequired { action: "a".into() },
            TransitionError::NotUp {
                from: "f".into(),
                to: "t".into(),
            },
            TransitionError::BadDeadline,
            TransitionError::NotAssignee { action: "a".into() },
        ] {
            let code = serde_json::to_value(CommandError::transition(&e).code).unwrap();
            assert_eq!(code, e.code(), "{e:?}");
        }
    }
}
