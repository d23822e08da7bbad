//! `POST /v1/access-log`: reveals of masked fields made on a tablet,
//! uploaded at sync into the same append-only access log as the console's
//! reveals and exports. The user and device are the token's, never the
//! body's; each entry's device-made id is stored once, so a retried upload
//! adds nothing. The answer lists every id of the request, now held.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use gridwork_core::store::{MAX_FIELD_CHARS, RevealEntry};
use gridwork_core::sync::access_log::{MAX_PER_UPLOAD, RevealReceipt, RevealUpload};

use crate::AppState;
use crate::auth::Session;
use crate::error::ApiError;

/// Stores a device's reveals.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    body: Result<Json<RevealUpload>, JsonRejection>,
) -> Result<Json<RevealReceipt>, ApiError> {
    let Json(upload) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if upload.entries.len() > MAX_PER_UPLOAD {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_PER_UPLOAD} access-log entries per request"
        )));
    }
    if let Some(bad) = upload
        .entries
        .iter()
        .find(|e| !RevealEntry::field_ok(&e.field))
    {
        return Err(ApiError::BadRequest(format!(
            "access-log entry {} names no field, or one longer than {MAX_FIELD_CHARS} characters",
            bad.id
        )));
    }
    let at = jiff::Timestamp::now().as_millisecond();
    let stored = upload.entries.iter().map(|e| e.id).collect();
    let added = tokio::task::spawn_blocking(move || {
        state.storage().append_device_reveals(
            &session.user.id,
            &session.device_id,
            at,
            &upload.entries,
        )
    })
    .await??;
    Ok(Json(RevealReceipt { stored, added }))
}
