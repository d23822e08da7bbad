//! `POST /v1/login`: password login that enrols a device (the rules are
//! [`crate::enrol`]'s).

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use gridwork_core::sync::api::{Login, LoginRequest};

use crate::AppState;
use crate::api::ClientIp;
use crate::enrol;
use crate::error::ApiError;

/// Signs a user in and enrols the device ([`enrol::device_login`]).
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<Login>, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let login = tokio::task::spawn_blocking(move || {
        enrol::device_login(
            state.storage().as_ref(),
            state.login_limiter(),
            &req,
            ip,
            jiff::Timestamp::now(),
        )
    })
    .await??;
    Ok(Json(login))
}
