//! `POST /v1/login`: password login that enrols a device. Only roles that
//! receive records on a device sign in here ([`access::may_enrol_device`]):
//! an admin is refused with `403 role_not_allowed`, after the password
//! checked out (a wrong password says nothing about the role).

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use gridwork_core::model::{Role, User};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::access;
use crate::api::ClientIp;
use crate::auth::{authenticate, new_actor_hex, new_token};
use crate::error::ApiError;
use crate::escape::is_unsafe;
use crate::grids::Grid;
use crate::storage::{NewDevice, ServedScope};

/// Longest accepted device name, in characters.
const DEVICE_NAME_MAX: usize = 100;

/// What the app sends to sign in on a device.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
    /// Shown to admins in `list-devices` ("王芳的平板").
    pub device_name: String,
}

/// The user, as the app shows and checks them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserInfo {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub grid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

impl From<&User> for UserInfo {
    fn from(u: &User) -> UserInfo {
        UserInfo {
            id: u.id.clone(),
            name: u.name.clone(),
            role: u.role,
            grid: u.grid.clone(),
            department: u.department.clone(),
        }
    }
}

/// What a successful login returns.
#[derive(Debug, Serialize, Deserialize)]
pub struct LoginResponse {
    /// Bearer token for every other call; shown once, stored hashed.
    pub token: String,
    pub device_id: String,
    /// Hex Automerge actor id the device must use for its changes.
    pub actor_id: String,
    pub user: UserInfo,
    /// The user's grid and every grid below it, with boundaries.
    pub grids: Vec<Grid>,
}

/// Signs a user in and enrols the device.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<LoginResponse>, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let user_id = req.user.trim().to_string();
    let device_name = req.device_name.trim().to_string();
    if user_id.is_empty() || req.password.is_empty() {
        return Err(ApiError::BadCredentials);
    }
    if device_name.is_empty()
        || device_name.chars().count() > DEVICE_NAME_MAX
        || device_name.chars().any(is_unsafe)
    {
        return Err(ApiError::BadRequest(format!(
            "device_name must be 1 to {DEVICE_NAME_MAX} characters, without control characters"
        )));
    }

    let response = tokio::task::spawn_blocking(move || -> Result<LoginResponse, ApiError> {
        let storage = state.storage();
        let account = authenticate(
            storage.as_ref(),
            state.login_limiter(),
            "device",
            &user_id,
            &req.password,
            ip,
        )?;
        let user = account.user;
        if !access::may_enrol_device(user.role) {
            tracing::warn!(user = %user.id, source = %ip, reason = "role_not_allowed", "device sign-in refused: this role syncs no records to a device");
            return Err(ApiError::RoleNotAllowed);
        }
        let path = access::scope_path(storage.as_ref(), &user)?.ok_or_else(|| {
            ApiError::Internal(format!(
                "user {}'s grid {} does not exist",
                user.id, user.grid
            ))
        })?;
        let (token, token_hash) = new_token();
        let device = NewDevice {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user.id.clone(),
            name: device_name,
            token_hash,
            actor: new_actor_hex(),
            created_at: jiff::Timestamp::now().as_millisecond(),
            scope: ServedScope {
                epoch: 0,
                root: user.grid.clone(),
                grids_version: storage.grids_version()?,
                grids: storage.subtree_codes(&path)?,
            },
        };
        storage.enrol_device(&device)?;
        tracing::info!(user = %user.id, device = %device.id, "device enrolled");
        Ok(LoginResponse {
            token,
            device_id: device.id,
            actor_id: device.actor,
            user: UserInfo::from(&user),
            grids: storage.subtree(&path)?,
        })
    })
    .await??;
    Ok(Json(response))
}
