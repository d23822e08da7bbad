//! Liveness and readiness, for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;

/// `GET /healthz`: the process is up and answering.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers too.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let storage = state.storage().clone();
    match tokio::task::spawn_blocking(move || storage.ping()).await? {
        Ok(()) => Ok(Json(json!({
            "status": "ready",
            // The console answers either way; warm, without reading every
            // document first.
            "console_index": if state.console().index.is_warm() { "warm" } else { "warming" },
        }))),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            Err(ApiError::NotReady)
        }
    }
}
