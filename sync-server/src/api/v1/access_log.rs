//! `POST /v1/access-log`: reveals of masked fields made on a tablet,
//! uploaded at sync into the same append-only access log as the console's
//! reveals and exports (the rules are [`crate::access::reveals`]').

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use gridwork_core::sync::access_log::{RevealReceipt, RevealUpload};

use crate::AppState;
use crate::access::reveals;
use crate::auth::Session;
use crate::error::ApiError;

/// Stores a device's reveals of records it may hold; refuses the others
/// ([`reveals::store`]).
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    body: Result<Json<RevealUpload>, JsonRejection>,
) -> Result<Json<RevealReceipt>, ApiError> {
    let Json(upload) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let now = jiff::Timestamp::now();
    let receipt = tokio::task::spawn_blocking(move || {
        reveals::store(
            state.storage().as_ref(),
            &state.sync_context().calendar,
            &session,
            upload,
            now,
        )
    })
    .await??;
    Ok(Json(receipt))
}
