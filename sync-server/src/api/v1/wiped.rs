//! `POST /v1/wiped`: a lost device's report that it erased its data (see
//! [`crate::devices`]). JSON [`WipeReport`] → [`Wiped`]. Only a device
//! reported lost may send it (`409 device_not_lost` otherwise); the server
//! records its own time, and from then on the token is dead.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use gridwork_core::sync::api::{WipeReport, Wiped};

use crate::AppState;
use crate::auth::SyncSession;
use crate::error::ApiError;

/// Records the wipe of the lost device that sends it.
pub async fn report(
    State(state): State<AppState>,
    SyncSession { session, lost, .. }: SyncSession,
    body: Result<Json<WipeReport>, JsonRejection>,
) -> Result<Json<Wiped>, ApiError> {
    let Json(report) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if !lost {
        return Err(ApiError::DeviceNotLost);
    }
    let now = jiff::Timestamp::now().as_millisecond();
    let wiped_at = tokio::task::spawn_blocking(move || {
        crate::devices::record_wipe(state.storage().as_ref(), &session.device_id, &report, now)
    })
    .await??;
    Ok(Json(Wiped { wiped_at }))
}
