//! `POST /v1/repair/{doc}`: one round of the per-document repair path
//! (`crate::sync::repair`). Same framing, content type and decoding
//! limits as `/v1/sync`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use gridwork_core::sync::wire::RepairRequest;
use uuid::Uuid;

use super::sync::{labelled, round_trip};
use crate::AppState;
use crate::auth::Session;
use crate::error::ApiError;
use crate::sync::RepairError;

/// Answers with the changes the device lacks and the server's heads.
pub async fn repair(
    State(state): State<AppState>,
    session: Session,
    Path(doc): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let doc = Uuid::parse_str(&doc)
        .map_err(|_| ApiError::BadRequest(format!("{doc:?} is not a record id")))?;
    labelled(&headers)?;
    round_trip(&state, body, move |worker, request: RepairRequest| {
        crate::sync::repair(
            worker.storage().as_ref(),
            worker.sync_context(),
            &session,
            doc,
            request,
        )
        .map_err(|e| match e {
            RepairError::BadMessage(m) => ApiError::BadRequest(m),
            RepairError::Storage(s) => ApiError::Internal(s.to_string()),
        })
    })
    .await
}
