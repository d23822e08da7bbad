//! `/v1/blobs/{sha256}`: photo uploads that resume, and downloads.
//!
//! - `HEAD` answers `Upload-Offset` (bytes held) and `Upload-Complete: ?1`
//!   when the blob is whole: the device then sends nothing.
//! - `PATCH` with `Upload-Offset` and `Upload-Length` appends the body as
//!   one chunk; a wrong offset is answered 409 `upload_offset_mismatch`
//!   with the server's `Upload-Offset`. The last chunk is checked (hash,
//!   image type, pixel count, size): refused blobs are deleted and answered
//!   with a coded 4xx. Any signed-in device may upload; only images pass.
//! - `GET ?doc={record id}` reads a blob, whole or a `Range: bytes=a-b`.
//!   The device names a record that references the blob; it must be a
//!   record of the user's grid subtree as the server holds it now. The
//!   answer is then derived from the stored record itself, so no separate
//!   index can drift from what the records say.
//!
//! All need the device token, like `/v1/sync`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridwork_core::doc::RecordDoc;
use gridwork_core::store::{is_sha256, photo_hashes};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppState;
use crate::api::ByteRange;
use crate::auth::Session;
use crate::blobs::{self, BlobError, BlobState, Received};
use crate::error::ApiError;

const UPLOAD_OFFSET: &str = "upload-offset";
const UPLOAD_LENGTH: &str = "upload-length";
const UPLOAD_COMPLETE: &str = "upload-complete";

/// A blob request's failure, as the API's usual `{code, message}`.
#[derive(Debug, thiserror::Error)]
pub enum BlobApiError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("缺少请求头 {0} (the {0} header is required)")]
    MissingHeader(&'static str),
    #[error("无权查看此照片 (the record does not reference this photo, or is not yours to see)")]
    Forbidden,
    #[error("服务器还没有这张照片 (the server does not hold this photo yet)")]
    NotFound,
    #[error("请求的范围超出照片长度 {total} (the range starts past the blob's {total} bytes)")]
    BadRange { total: u64 },
}

impl BlobApiError {
    fn code(&self) -> &'static str {
        match self {
            BlobApiError::Api(e) => e.code(),
            BlobApiError::Blob(e) => e.code(),
            BlobApiError::MissingHeader(_) => "missing_header",
            BlobApiError::Forbidden => "blob_forbidden",
            BlobApiError::NotFound => "blob_not_found",
            BlobApiError::BadRange { .. } => "bad_range",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            BlobApiError::Api(e) => e.status(),
            BlobApiError::Blob(e) => match e {
                BlobError::BadAddress | BlobError::PastLength => StatusCode::BAD_REQUEST,
                BlobError::OffsetMismatch { .. } => StatusCode::CONFLICT,
                BlobError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                BlobError::HashMismatch { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                BlobError::Media(gridwork_core::media::MediaError::NotAnImage) => {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                }
                BlobError::Media(_) => StatusCode::UNPROCESSABLE_ENTITY,
                BlobError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            BlobApiError::MissingHeader(_) => StatusCode::BAD_REQUEST,
            BlobApiError::Forbidden => StatusCode::FORBIDDEN,
            BlobApiError::NotFound => StatusCode::NOT_FOUND,
            BlobApiError::BadRange { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: String,
}

impl IntoResponse for BlobApiError {
    fn into_response(self) -> Response {
        match self {
            BlobApiError::Api(e) => e.into_response(),
            // Internal details are logged, never shown.
            BlobApiError::Blob(BlobError::Io(e)) => {
                ApiError::Internal(e.to_string()).into_response()
            }
            other => {
                let mut response = (
                    other.status(),
                    axum::Json(Body {
                        code: other.code(),
                        message: other.to_string(),
                    }),
                )
                    .into_response();
                if let BlobApiError::Blob(BlobError::OffsetMismatch { server, .. }) = other {
                    response
                        .headers_mut()
                        .insert(UPLOAD_OFFSET, HeaderValue::from(server));
                }
                if let BlobApiError::BadRange { total } = other
                    && let Ok(v) = HeaderValue::from_str(&format!("bytes */{total}"))
                {
                    response.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                response
            }
        }
    }
}

impl From<tokio::task::JoinError> for BlobApiError {
    fn from(e: tokio::task::JoinError) -> BlobApiError {
        BlobApiError::Api(e.into())
    }
}

fn checked(sha256: &str) -> Result<(), BlobApiError> {
    if is_sha256(sha256) {
        Ok(())
    } else {
        Err(BlobError::BadAddress.into())
    }
}

fn offset_headers(held: u64, complete: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(UPLOAD_OFFSET, HeaderValue::from(held));
    if complete {
        headers.insert(UPLOAD_COMPLETE, HeaderValue::from_static("?1"));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers
}

/// `HEAD`: how much of the blob the server holds.
pub async fn offset(
    State(state): State<AppState>,
    _session: Session,
    Path(sha256): Path<String>,
) -> Result<Response, BlobApiError> {
    checked(&sha256)?;
    let store = state.blobs().clone();
    let held = tokio::task::spawn_blocking(move || store.state(&sha256)).await??;
    Ok((
        offset_headers(held.offset(), matches!(held, BlobState::Complete(_))),
        StatusCode::OK,
    )
        .into_response())
}

fn header_u64(headers: &HeaderMap, name: &'static str) -> Result<u64, BlobApiError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or(BlobApiError::MissingHeader(name))
}

/// `PATCH`: one chunk of an upload.
pub async fn upload(
    State(state): State<AppState>,
    _session: Session,
    Path(sha256): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, BlobApiError> {
    checked(&sha256)?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge {
                limit: state.max_body_bytes(),
            }
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })?;
    let offset = header_u64(&headers, UPLOAD_OFFSET)?;
    let length = header_u64(&headers, UPLOAD_LENGTH)?;
    let store = state.blobs().clone();
    let max = state.max_blob_bytes();
    let received = tokio::task::spawn_blocking(move || {
        blobs::receive(store.as_ref(), max, &sha256, offset, length, &body)
    })
    .await??;
    let headers = match received {
        Received::Partial(n) => offset_headers(n, false),
        Received::Complete(n) => offset_headers(n, true),
    };
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

/// Which record the device reads a blob through.
#[derive(Debug, Deserialize)]
pub struct Through {
    doc: Uuid,
}

/// `GET`: a blob, whole or a range, for a device that may see a record
/// referencing it.
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path(sha256): Path<String>,
    Query(through): Query<Through>,
    headers: HeaderMap,
) -> Result<Response, BlobApiError> {
    checked(&sha256)?;
    let range = headers.get(header::RANGE).map(|v| v.as_bytes().to_vec());
    let worker = state.clone();
    tokio::task::spawn_blocking(move || -> Result<Response, BlobApiError> {
        if !may_read(&worker, &session, through.doc, &sha256)? {
            return Err(BlobApiError::Forbidden);
        }
        let BlobState::Complete(total) = worker.blobs().state(&sha256)? else {
            return Err(BlobApiError::NotFound);
        };
        let (start, end, partial) = match ByteRange::of(range.as_deref(), total) {
            ByteRange::Unsatisfiable => return Err(BlobApiError::BadRange { total }),
            ByteRange::Part { start, end } => (start, end, true),
            ByteRange::Whole => (0, total.saturating_sub(1), false),
        };
        let bytes = worker
            .blobs()
            .read(&sha256, start, (end + 1).saturating_sub(start))?;
        let mut response = bytes.into_response();
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
        h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=31536000, immutable"),
        );
        if partial {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{total}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
        }
        Ok(response)
    })
    .await?
}

/// The record exists, lies in the user's grid subtree, the user's role
/// receives it and it references the blob (as photo or thumbnail).
fn may_read(
    state: &AppState,
    session: &Session,
    doc: Uuid,
    sha256: &str,
) -> Result<bool, BlobApiError> {
    let Some(stored) = crate::access::device_doc(
        state.storage().as_ref(),
        &state.sync_context().calendar,
        session,
        doc,
        crate::access::Channel::Blobs,
    )
    .map_err(ApiError::from)?
    else {
        return Ok(false);
    };
    let record = automerge::AutoCommit::load(&stored.snapshot)
        .map_err(|e| e.to_string())
        .and_then(|am| RecordDoc::from_automerge(am).map_err(|e| e.to_string()))
        .and_then(|d| d.read_any().map_err(|e| e.to_string()))
        .map_err(|e| ApiError::Internal(format!("stored record {doc} unreadable: {e}")))?;
    Ok(photo_hashes(&record).iter().any(|(h, _)| *h == sha256))
}
