//! The one error type of the HTTP API.
//!
//! Every failure leaves the server as JSON `{ "code": "...", "message":
//! "..." }` with a fitting status: the code is stable for the app to
//! translate, the message is for a person. Internal errors are logged with
//! `tracing` and answered with a generic message, never with their details.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridwork_core::problem::{Params, params};
use gridwork_core::sync::wire::WireError;
use serde::Serialize;

use crate::storage::StorageError;

/// An API failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or an unknown bearer token.
    #[error("sign in first")]
    Unauthenticated,
    /// The device was revoked or the user disabled.
    #[error("this device has been signed out; sign in again")]
    TokenRevoked,
    /// The device was reported lost: it may only sync (to push and hear
    /// that it must wipe) and report its wipe ([`crate::devices`]).
    #[error(
        "此设备已挂失，只能同步后清除本机数据 (this device was reported lost: sync, then erase it)"
    )]
    DeviceLost,
    /// A wipe report from a device that was not reported lost.
    #[error("此设备未挂失 (this device was not reported lost)")]
    DeviceNotLost,
    /// Wrong user or password (the same answer for both).
    #[error("wrong user name or password")]
    BadCredentials,
    /// The password was right but the account is disabled.
    #[error("this account is disabled; ask an administrator")]
    AccountDisabled,
    /// The account's role does not sign in here (an admin on a device).
    #[error("an admin does not sync records to a device; use the console")]
    RoleNotAllowed,
    /// Too many login attempts.
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A sync body that could not be read.
    #[error("{0}")]
    Wire(#[from] WireError),
    /// The body is larger than the server accepts.
    #[error("the request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// Any other unreadable request.
    #[error("{0}")]
    BadRequest(String),
    #[error("no such endpoint")]
    NotFound,
    /// The database does not answer (readiness).
    #[error("the server is not ready")]
    NotReady,
    /// Kept losing races with other writers; the client should retry.
    #[error("the server is busy; try again")]
    Busy,
    /// Anything else: logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The stable code the app translates.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::TokenRevoked => "token_revoked",
            ApiError::DeviceLost => "device_lost",
            ApiError::DeviceNotLost => "device_not_lost",
            ApiError::BadCredentials => "bad_credentials",
            ApiError::AccountDisabled => "account_disabled",
            ApiError::RoleNotAllowed => "role_not_allowed",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Wire(e) => e.code(),
            ApiError::TooLarge { .. } => "too_large",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::NotFound => "not_found",
            ApiError::NotReady => "not_ready",
            ApiError::Busy => "busy",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated | ApiError::TokenRevoked | ApiError::BadCredentials => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::AccountDisabled | ApiError::RoleNotAllowed | ApiError::DeviceLost => {
                StatusCode::FORBIDDEN
            }
            ApiError::DeviceNotLost => StatusCode::CONFLICT,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Wire(WireError::TooLarge | WireError::Expands { .. })
            | ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Wire(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::NotReady | ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::Internal(format!("a blocking task failed: {e}"))
    }
}

#[derive(Serialize)]
struct Body {
    code: &'static str,
    message: String,
}

impl ApiError {
    /// The params of the code's message, for the console (see
    /// `api::console`'s `ConsoleRefusal`): the wait of a rate limit, the
    /// limit of a body, the reader's detail of a bad request (English).
    pub fn params(&self) -> Params {
        match self {
            ApiError::RateLimited { retry_after_secs } => {
                params([("seconds", (*retry_after_secs).into())])
            }
            ApiError::TooLarge { limit } => params([("limit", (*limit).into())]),
            ApiError::BadRequest(detail) => params([("detail", detail.as_str().into())]),
            _ => Params::new(),
        }
    }

    /// The answer with `body`: the status, and `Retry-After` for a rate
    /// limit. An internal error is logged here, its detail never sent.
    pub fn respond(self, body: impl Serialize) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal error");
        }
        let mut response = (self.status(), Json(body)).into_response();
        if let ApiError::RateLimited { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = match &self {
            ApiError::Internal(_) => "internal server error".to_string(),
            other => other.to_string(),
        };
        let code = self.code();
        self.respond(Body { code, message })
    }
}
