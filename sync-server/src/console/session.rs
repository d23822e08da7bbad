//! Console sign-in, the session behind each later call, and sign-out,
//! without HTTP (the cookie is `crate::api::console`'s).
//!
//! A sign-in checks the password as a tablet's login does
//! ([`crate::auth::authenticate`], same rate limits), refuses a role that
//! cannot use the console, and enrols a console device (id
//! [`DEVICE_PREFIX`]…) with its own actor and the user's subtree as its
//! scope; the session token is stored hashed. A session lasts
//! `console_session_hours` from that enrolment; revoking the device or
//! disabling the user ends it at once.

use std::net::IpAddr;

use automerge::ActorId;
use gridwork_core::model::User;
use gridwork_core::sync::api::LoginUser;
use serde::Serialize;

use super::sections::{self, Section};
use super::{DEVICE_NAME, DEVICE_PREFIX, queue};
use crate::access;
use crate::auth::{ConsoleUser, LoginLimiter, Session, authenticate};
use crate::enrol::enrol;
use crate::error::ApiError;
use crate::storage::{Storage, StorageError};

/// Why there is no console session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Bad credentials, too many attempts, no or a revoked session, or a
    /// failure inside ([`ApiError`]'s own codes).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The role cannot use the console.
    #[error("the role cannot use the console")]
    RoleNotAllowed,
    /// The session is older than the console's session length.
    #[error("the session has expired")]
    Expired,
}

impl From<StorageError> for SessionError {
    fn from(e: StorageError) -> SessionError {
        SessionError::Api(e.into())
    }
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
    /// The sections the user may open ([`sections::open_to`]); the menu
    /// shows these and nothing else.
    pub sections: Vec<Section>,
}

/// A grid as menus show it.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct GridName {
    pub code: String,
    pub name: String,
    pub level: String,
}

/// A new session: the token for the cookie, and who it is.
#[derive(Debug)]
pub struct SignedIn {
    pub token: String,
    pub me: Me,
}

fn scope_path(storage: &dyn Storage, user: &User) -> Result<String, SessionError> {
    access::scope_path(storage, user)?
        .ok_or_else(|| ApiError::Internal(format!("user {}'s grid does not exist", user.id)).into())
}

/// Signs `user_id` in to the console with `password`, from `ip`, at
/// `now`: a console enrolment of the user's subtree.
pub fn sign_in(
    storage: &dyn Storage,
    limiter: &LoginLimiter,
    departments: &[String],
    user_id: &str,
    password: &str,
    ip: IpAddr,
    now: jiff::Timestamp,
) -> Result<SignedIn, SessionError> {
    let user_id = user_id.trim();
    if user_id.is_empty() || password.is_empty() {
        return Err(ApiError::BadCredentials.into());
    }
    let user = authenticate(storage, limiter, "console", user_id, password, ip)?.user;
    if !access::may_use_console(user.role) {
        tracing::warn!(user = %user.id, source = %ip, reason = "console_role", "console sign-in refused");
        return Err(SessionError::RoleNotAllowed);
    }
    let enrolment = enrol(
        storage,
        &user,
        format!("{DEVICE_PREFIX}{}", uuid::Uuid::now_v7()),
        DEVICE_NAME.into(),
        now,
    )?;
    tracing::info!(user = %user.id, device = %enrolment.device.id, "console sign-in");
    Ok(SignedIn {
        me: me(storage, &user, &enrolment.scope_path, departments)?,
        token: enrolment.token,
    })
}

/// The signed-in user as the console's menus need them.
pub fn me(
    storage: &dyn Storage,
    user: &User,
    scope_path: &str,
    departments: &[String],
) -> Result<Me, StorageError> {
    let grids = storage
        .subtree(scope_path)?
        .into_iter()
        .map(|g| GridName {
            level: serde_json::to_value(g.level)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            code: g.code,
            name: g.name,
        })
        .collect();
    Ok(Me {
        user: LoginUser::from(user),
        grids,
        departments: departments.to_vec(),
        statuses: queue::statuses(),
        sections: sections::open_to(user.role),
    })
}

/// The console user of the session whose token hashes to `token_hash`, at
/// `now`, for sessions that last `session_ms`.
pub fn signed_in(
    storage: &dyn Storage,
    token_hash: &[u8; 32],
    session_ms: i64,
    now: jiff::Timestamp,
) -> Result<ConsoleUser, SessionError> {
    let owner = storage
        .token_owner(token_hash)?
        .filter(|o| o.device_id.starts_with(DEVICE_PREFIX))
        .ok_or(ApiError::Unauthenticated)?;
    if owner.revoked || owner.account_disabled {
        return Err(ApiError::TokenRevoked.into());
    }
    if !access::may_use_console(owner.user.role) {
        return Err(SessionError::RoleNotAllowed);
    }
    let device = storage
        .list_devices(Some(&owner.user.id))?
        .into_iter()
        .find(|d| d.id == owner.device_id)
        .ok_or(ApiError::Unauthenticated)?;
    if now.as_millisecond() - device.created_at > session_ms {
        return Err(SessionError::Expired);
    }
    let actor = ActorId::try_from(device.actor.as_str())
        .map_err(|_| ApiError::Internal(format!("device {} has a bad actor", device.id)))?;
    let scope_path = scope_path(storage, &owner.user)?;
    Ok(ConsoleUser {
        session: Session {
            device_id: owner.device_id,
            user: owner.user,
            actor: Some(actor.clone()),
        },
        actor,
        scope_path,
    })
}

/// Ends `who`'s session at `now`: its enrolment is revoked.
pub fn sign_out(
    storage: &dyn Storage,
    who: &ConsoleUser,
    now: jiff::Timestamp,
) -> Result<(), StorageError> {
    storage.revoke_device(&who.session.device_id, now.as_millisecond())?;
    Ok(())
}
