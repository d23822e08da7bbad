//! `POST /v1/repair/{doc}`: one round of the per-document repair path
//! (`crate::sync::repair`). Same framing and content type as `/v1/sync`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use gridwork_core::sync::wire::{self, RepairRequest};
use uuid::Uuid;

use super::sync::{CONTENT_TYPE, labelled, read_body};
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
    let body = read_body(&state, body)?;
    let worker = state.clone();
    let answer = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ApiError> {
        let request: RepairRequest = wire::decode(&body)?;
        let response = crate::sync::repair(
            worker.storage().as_ref(),
            worker.sync_context(),
            &session,
            doc,
            request,
        )
        .map_err(|e| match e {
            RepairError::BadMessage(m) => ApiError::BadRequest(m),
            RepairError::Storage(s) => ApiError::Internal(s.to_string()),
        })?;
        Ok(wire::encode(&response))
    })
    .await??;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], answer).into_response())
}
