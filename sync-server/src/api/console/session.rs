//! Console sign-in, sign-out, and the cookie session every other console
//! call needs.

use automerge::ActorId;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::ConsoleApiError;
use crate::AppState;
use crate::access;
use crate::api::ClientIp;
use crate::auth::{Session, authenticate, new_actor_hex, new_token, token_hash};
use crate::console::actions::ConsoleUser;
use crate::console::{DEVICE_NAME, DEVICE_PREFIX, queue};
use crate::error::ApiError;
use crate::storage::{NewDevice, ServedScope};
use gridwork_core::sync::api::LoginUser;

/// The session cookie's name.
pub const COOKIE: &str = "gw_console";

/// What the console sends to sign in.
#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
}

/// The signed-in user, with what the console's menus need.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Me {
    pub user: LoginUser,
    /// The user's grid and every grid below it: code, name, level.
    pub grids: Vec<GridName>,
    /// Departments incidents can be dispatched to.
    pub departments: Vec<String>,
    /// The statuses the lists filter by ([`queue::statuses`]: core's
    /// review states and incident statuses).
    pub statuses: Vec<&'static str>,
}

/// A grid as menus show it.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct GridName {
    pub code: String,
    pub name: String,
    pub level: String,
}

fn cookie(state: &AppState, value: &str, max_age_secs: i64) -> Option<HeaderValue> {
    let secure = if state.console().secure_cookie {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

/// Signs a supervisor, department handler or admin in to the console.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Response, ConsoleApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let user_id = req.user.trim().to_string();
    if user_id.is_empty() || req.password.is_empty() {
        return Err(ApiError::BadCredentials.into());
    }
    let state2 = state.clone();
    let (token, me) = tokio::task::spawn_blocking(move || -> Result<_, ConsoleApiError> {
        let storage = state2.storage();
        let account = authenticate(
            storage.as_ref(),
            state2.login_limiter(),
            "console",
            &user_id,
            &req.password,
            ip,
        )?;
        let user = account.user;
        if !access::may_use_console(user.role) {
            tracing::warn!(user = %user.id, source = %ip, reason = "console_role", "console sign-in refused");
            return Err(ConsoleApiError::RoleNotAllowed);
        }
        let path = access::scope_path(storage.as_ref(), &user)?
            .ok_or_else(|| ApiError::Internal(format!("user {}'s grid does not exist", user.id)))?;
        let (token, token_hash) = new_token();
        let device = NewDevice {
            id: format!("{DEVICE_PREFIX}{}", uuid::Uuid::now_v7()),
            user_id: user.id.clone(),
            name: DEVICE_NAME.into(),
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
        tracing::info!(user = %user.id, device = %device.id, "console sign-in");
        let grids = grid_names(storage.as_ref(), &path)?;
        Ok((token, (LoginUser::from(&user), grids)))
    })
    .await??;
    let max_age = state.console().session_ms / 1000;
    let mut response = Json(Me {
        user: me.0,
        grids: me.1,
        departments: state.console().departments.clone(),
        statuses: queue::statuses(),
    })
    .into_response();
    if let Some(c) = cookie(&state, &token, max_age) {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(response)
}

fn grid_names(
    storage: &dyn crate::storage::Storage,
    path: &str,
) -> Result<Vec<GridName>, crate::storage::StorageError> {
    Ok(storage
        .subtree(path)?
        .into_iter()
        .map(|g| GridName {
            level: serde_json::to_value(g.level)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            code: g.code,
            name: g.name,
        })
        .collect())
}

/// Ends the session: its enrolment is revoked and the cookie cleared.
pub async fn logout(
    State(state): State<AppState>,
    auth: ConsoleAuth,
) -> Result<Response, ConsoleApiError> {
    let storage = state.storage().clone();
    let device = auth.0.session.device_id.clone();
    tokio::task::spawn_blocking(move || {
        storage.revoke_device(&device, jiff::Timestamp::now().as_millisecond())
    })
    .await??;
    let mut response = axum::http::StatusCode::NO_CONTENT.into_response();
    if let Some(c) = cookie(&state, "", 0) {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(response)
}

/// The signed-in user.
pub async fn me(
    State(state): State<AppState>,
    auth: ConsoleAuth,
) -> Result<Json<Me>, ConsoleApiError> {
    let storage = state.storage().clone();
    let path = auth.0.scope_path.clone();
    let grids = tokio::task::spawn_blocking(move || grid_names(storage.as_ref(), &path)).await??;
    Ok(Json(Me {
        user: LoginUser::from(&auth.0.session.user),
        grids,
        departments: state.console().departments.clone(),
        statuses: queue::statuses(),
    }))
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

/// A signed-in console user: the extractor of every console call but
/// login.
#[derive(Debug, Clone)]
pub struct ConsoleAuth(pub ConsoleUser);

impl FromRequestParts<AppState> for ConsoleAuth {
    type Rejection = ConsoleApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, ConsoleApiError> {
        let token = cookie_token(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        let hash = token_hash(&token);
        let storage = state.storage().clone();
        let session_ms = state.console().session_ms;
        let user = tokio::task::spawn_blocking(move || -> Result<ConsoleUser, ConsoleApiError> {
            let owner = storage
                .token_owner(&hash)?
                .filter(|o| o.device_id.starts_with(DEVICE_PREFIX))
                .ok_or(ApiError::Unauthenticated)?;
            if owner.revoked || owner.account_disabled {
                return Err(ApiError::TokenRevoked.into());
            }
            if !access::may_use_console(owner.user.role) {
                return Err(ConsoleApiError::RoleNotAllowed);
            }
            let device = storage
                .list_devices(Some(&owner.user.id))?
                .into_iter()
                .find(|d| d.id == owner.device_id)
                .ok_or(ApiError::Unauthenticated)?;
            if jiff::Timestamp::now().as_millisecond() - device.created_at > session_ms {
                return Err(ConsoleApiError::SessionExpired);
            }
            let actor = ActorId::try_from(device.actor.as_str())
                .map_err(|_| ApiError::Internal(format!("device {} has a bad actor", device.id)))?;
            let scope_path =
                access::scope_path(storage.as_ref(), &owner.user)?.ok_or_else(|| {
                    ApiError::Internal(format!("user {}'s grid does not exist", owner.user.id))
                })?;
            Ok(ConsoleUser {
                session: Session {
                    device_id: owner.device_id,
                    user: owner.user,
                },
                actor,
                scope_path,
            })
        })
        .await??;
        Ok(ConsoleAuth(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; gw_console=abc; b=2"),
        );
        assert_eq!(cookie_token(&h).as_deref(), Some("abc"));
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("gw_console="));
        assert_eq!(cookie_token(&h), None);
    }
}
