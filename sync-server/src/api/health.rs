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
        // Nothing is read into memory at start: the console lists from
        // the projection tables, ready as soon as the database is.
        Ok(()) => Ok(Json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            Err(ApiError::NotReady)
        }
    }
}
