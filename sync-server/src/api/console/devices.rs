//! `/console/api/devices`: the admin's device page: every tablet with its
//! state (active, revoked, lost, wiped), and revoking or marking one lost
//! (the rules are [`crate::devices`]'s).
//!
//! | method | path | what |
//! | --- | --- | --- |
//! | GET | `/console/api/devices` | the tablets, by user ([`DeviceView`]) |
//! | POST | `/console/api/devices/{id}/lost` | marks it lost → the device |
//! | POST | `/console/api/devices/{id}/revoke` | revokes it → the device |

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::ConsoleAuth;
use crate::AppState;
use crate::console::sections::{self, Section};
use crate::devices::{self, DeviceError, DeviceView};

/// A refusal as `{code, message}`.
#[derive(Debug)]
pub struct DevicesError(DeviceError);

impl<E: Into<DeviceError>> From<E> for DevicesError {
    fn from(e: E) -> DevicesError {
        DevicesError(e.into())
    }
}

impl From<tokio::task::JoinError> for DeviceError {
    fn from(e: tokio::task::JoinError) -> DeviceError {
        DeviceError::Storage(crate::storage::StorageError::Corrupt(format!(
            "a blocking task failed: {e}"
        )))
    }
}

#[derive(Serialize)]
struct Body {
    code: &'static str,
    message: String,
}

impl IntoResponse for DevicesError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = match &e {
            DeviceError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
            DeviceError::AdminOnly => StatusCode::FORBIDDEN,
            DeviceError::NotFound(_) => StatusCode::NOT_FOUND,
            DeviceError::NotATablet(_) => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let message = match &e {
            DeviceError::Storage(detail) => {
                tracing::error!(error = %detail, "console device request failed");
                "服务器内部错误 (internal server error)".to_string()
            }
            other => other.to_string(),
        };
        (
            status,
            Json(Body {
                code: e.code(),
                message,
            }),
        )
            .into_response()
    }
}

/// Every tablet with its state.
pub async fn list(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
) -> Result<Json<Vec<DeviceView>>, DevicesError> {
    sections::require(&who, Section::Devices).map_err(|_| DeviceError::AdminOnly)?;
    let list =
        tokio::task::spawn_blocking(move || devices::tablets(state.storage().as_ref())).await??;
    Ok(Json(list))
}

/// Marks a tablet lost.
pub async fn mark_lost(
    state: State<AppState>,
    who: ConsoleAuth,
    Path(id): Path<String>,
) -> Result<Json<DeviceView>, DevicesError> {
    change(state, who, id, devices::mark_lost).await
}

/// Revokes a tablet.
pub async fn revoke(
    state: State<AppState>,
    who: ConsoleAuth,
    Path(id): Path<String>,
) -> Result<Json<DeviceView>, DevicesError> {
    change(state, who, id, devices::revoke).await
}

async fn change(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    id: String,
    act: fn(&dyn crate::storage::Storage, &str, i64) -> Result<bool, DeviceError>,
) -> Result<Json<DeviceView>, DevicesError> {
    sections::require(&who, Section::Devices).map_err(|_| DeviceError::AdminOnly)?;
    let view = tokio::task::spawn_blocking(move || -> Result<DeviceView, DeviceError> {
        let storage = state.storage().as_ref();
        act(storage, &id, jiff::Timestamp::now().as_millisecond())?;
        tracing::warn!(admin = %who.session.user.id, device = %id, "device state changed in the console");
        devices::tablets(storage)?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(DeviceError::NotFound(id))
    })
    .await??;
    Ok(Json(view))
}
