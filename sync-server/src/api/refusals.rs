//! Requests refused before a handler reads them, answered like every
//! other refusal of the API: JSON `{code, message}` with a stable code
//! ([`crate::error::ApiError`]).
//!
//! **Declared length.** A body whose `Content-Length` is over the server's
//! limit (`max_body_bytes`) is refused with 413 `too_large` before any
//! handler runs, whatever the endpoint. Handlers that read JSON would
//! otherwise report the extractor's "length limit exceeded" as a 400 like
//! any malformed body. A body sent without a length (chunked) is still
//! cut at the limit while it is read, and answered by its handler.
//!
//! **Extractor refusals.** axum's extractors (`Path`, `Query`, `Json` …) refuse a request they
//! cannot read with a plain-text 4xx of their own (`Invalid URL: Cannot
//! parse `id` …`, `Failed to deserialize query string …`). Every other
//! failure of the API is JSON `{code, message}` with a stable code
//! ([`crate::error::ApiError`]), and that is what clients read. Rather
//! than wrap each extractor of each handler, one layer over the whole
//! router rewrites those answers: a 4xx whose body is `text/plain` becomes
//! `{code, message}` with the same status, the text as the message and
//! the code the API uses for that status (`bad_request`, `not_found`,
//! `too_large` …). The handlers' own errors are JSON already and pass
//! untouched, and so do the console's files (HTML, scripts).
//! A request line that is not HTTP at all (raw bytes that are not UTF-8 in
//! the path, say) is refused by the HTTP parser before any of this, with
//! a bare 400.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::AppState;
use crate::error::ApiError;

/// The most of a refusal's text kept as the message.
const MAX_TEXT: usize = 4096;

#[derive(Serialize)]
struct Refusal {
    code: &'static str,
    message: String,
}

/// Middleware: refuses a body declared larger than the server accepts.
pub async fn declared_length(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let limit = state.max_body_bytes();
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return ApiError::TooLarge { limit }.into_response();
    }
    next.run(request).await
}

/// Middleware: answers an extractor's plain-text refusal as JSON.
pub async fn as_json(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !status.is_client_error() || !plain {
        return response;
    }
    let (_, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_TEXT).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    };
    let message = if text.trim().is_empty() {
        status
            .canonical_reason()
            .unwrap_or("bad request")
            .to_string()
    } else {
        text
    };
    (
        status,
        Json(Refusal {
            code: code(status),
            message,
        }),
    )
        .into_response()
}

/// The API's code for a refusal with `status`.
fn code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNAUTHORIZED => "unauthenticated",
        _ => "bad_request",
    }
}
