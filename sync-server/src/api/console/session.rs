//! Console sign-in, sign-out, and the cookie session every other console
//! call needs.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::ConsoleApiError;
use crate::AppState;
use crate::api::ClientIp;
use crate::auth::token_hash;
use crate::console::actions::ConsoleUser;
use crate::console::session::{self, SessionError};
use crate::error::ApiError;

/// The session cookie's name.
pub const COOKIE: &str = "gw_console";

/// What the console sends to sign in.
#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
}

pub use crate::console::session::Me;

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

impl From<SessionError> for ConsoleApiError {
    fn from(e: SessionError) -> ConsoleApiError {
        match e {
            SessionError::Api(e) => ConsoleApiError::Api(e),
            SessionError::RoleNotAllowed => ConsoleApiError::RoleNotAllowed,
            SessionError::Expired => ConsoleApiError::SessionExpired,
        }
    }
}

/// Signs a supervisor, department handler or admin in to the console
/// ([`session::sign_in`]) and sets the cookie.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Response, ConsoleApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let worker = state.clone();
    let signed_in = tokio::task::spawn_blocking(move || {
        session::sign_in(
            worker.storage().as_ref(),
            worker.login_limiter(),
            &worker.console().departments,
            &req.user,
            &req.password,
            ip,
            jiff::Timestamp::now(),
        )
    })
    .await??;
    let mut response = Json(signed_in.me).into_response();
    if let Some(c) = cookie(&state, &signed_in.token, state.console().session_ms / 1000) {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(response)
}

/// Ends the session ([`session::sign_out`]) and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
) -> Result<Response, ConsoleApiError> {
    let storage = state.storage().clone();
    tokio::task::spawn_blocking(move || {
        session::sign_out(storage.as_ref(), &who, jiff::Timestamp::now())
    })
    .await??;
    let mut response = axum::http::StatusCode::NO_CONTENT.into_response();
    if let Some(c) = cookie(&state, "", 0) {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(response)
}

/// The signed-in user ([`session::me`]).
pub async fn me(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
) -> Result<Json<Me>, ConsoleApiError> {
    let me = tokio::task::spawn_blocking(move || {
        session::me(
            state.storage().as_ref(),
            &who.session.user,
            &who.scope_path,
            &state.console().departments,
        )
    })
    .await??;
    Ok(Json(me))
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
        let user = tokio::task::spawn_blocking(move || {
            session::signed_in(storage.as_ref(), &hash, session_ms, jiff::Timestamp::now())
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
