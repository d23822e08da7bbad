//! `POST /v1/sync`: one round trip of the batched sync protocol.
//!
//! The body is a framed [`SyncRequest`] (`gridwork_core::sync::wire`), the
//! answer a framed [`SyncResponse`] with content type
//! `application/x-gridwork-sync`. A body that cannot be read is answered
//! 400 or 413 with the wire error's code, and nothing is stored.
//!
//! A body may decompress and decode to at most `max_body_bytes` (413
//! `expands_too_large` past it), and sync and repair requests run on
//! `max_concurrent_syncs` threads of their own ([`crate::limits`]): a
//! flood of small bodies that expand cannot take the server's memory.
//!
//! **Content type.** A body sent as anything but
//! `application/x-gridwork-sync` (or with none) is refused with 400
//! `bad_request` before it is read, however well-formed: the app always
//! labels its bodies, so anything else is a client confused about what it
//! sends. 400 and not 415, as for the JSON endpoints, whose extractor's
//! refusal the handlers answer as `bad_request` too.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridwork_core::sync::wire::{self, SyncRequest};

use crate::AppState;
use crate::auth::SyncSession;
use crate::error::ApiError;
use crate::sync::SyncError;

/// The content type of sync bodies.
pub use gridwork_core::sync::api::CONTENT_TYPE;

/// Stores the device's changes and answers with what it has not seen.
pub async fn sync(
    State(state): State<AppState>,
    SyncSession { session, lost }: SyncSession,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    labelled(&headers)?;
    round_trip(&state, body, move |worker, request: SyncRequest| {
        // A lost device's push is kept; the answer tells it to wipe.
        let run = if lost {
            crate::sync::run_lost
        } else {
            crate::sync::run
        };
        run(
            worker.storage().as_ref(),
            worker.sync_context(),
            &session,
            request,
            jiff::Timestamp::now(),
        )
        .map_err(|e| match e {
            SyncError::Busy => ApiError::Busy,
            other => ApiError::Internal(other.to_string()),
        })
    })
    .await
}

/// One sync or repair round trip: reads the body, and on a sync thread
/// ([`crate::limits`]) decodes it within the server's limit, has `handle`
/// answer it and encodes the answer as a wire frame.
pub(super) async fn round_trip<Req, Resp>(
    state: &AppState,
    body: Result<Bytes, BytesRejection>,
    handle: impl FnOnce(&AppState, Req) -> Result<Resp, ApiError> + Send + 'static,
) -> Result<Response, ApiError>
where
    Req: serde::de::DeserializeOwned,
    Resp: wire::Answer,
{
    let body = read_body(state, body)?;
    let worker = state.clone();
    let answer = state
        .limits()
        .sync(move || -> Result<Vec<u8>, ApiError> {
            let request: Req = wire::decode_within(&body, worker.max_body_bytes())?;
            Ok(handle(&worker, request)?.frame())
        })
        .await??;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], answer).into_response())
}

/// Refuses a body not labelled as a sync frame.
pub(super) fn labelled(headers: &HeaderMap) -> Result<(), ApiError> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    match kind {
        Some(k) if k.eq_ignore_ascii_case(CONTENT_TYPE) => Ok(()),
        other => Err(ApiError::BadRequest(format!(
            "the body must be {CONTENT_TYPE}, not {}",
            other.unwrap_or("unlabelled")
        ))),
    }
}

/// The request body, or the error that says why it could not be read.
fn read_body(state: &AppState, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge {
                limit: state.max_body_bytes(),
            }
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })
}
