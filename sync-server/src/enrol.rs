//! Enrolling a device: a tablet's password login (`POST /v1/login`,
//! [`device_login`]) and, through [`enrol`], a console sign-in
//! (`crate::console::session`).
//!
//! An enrolment is one row of the devices table: a random bearer token
//! (the server keeps only its SHA-256, see [`crate::auth`]), an actor id
//! of its own that the enrolment's changes are written with, and the
//! user's subtree as the scope it was served. Only roles that receive
//! records on a device log in on a tablet ([`access::may_enrol_device`]):
//! an admin is refused with `403 role_not_allowed`, after the password
//! checked out (a wrong password says nothing about the role).
//!
//! A tablet's login also hands it the server's half of its **recovery
//! secret** (core's `vault` docs give the device's half): 32 random bytes
//! kept with the enrolment (`device_recovery`) and sent only in the
//! answer to a successful password login. The tablet wraps its data key
//! with them, so after ten wrong PINs a fresh password login unwraps its
//! data again. A login naming an earlier enrolment
//! (`LoginRequest::recovery_device`) gets that enrolment's secret when
//! it is the same user's and not revoked, lost or wiped; the secret then
//! moves to the new enrolment, so a lost mark on the newest one is enough
//! to keep it from a finder who knows the password. Anything else gets a
//! new secret, which opens nothing already on the tablet. The enrolment
//! and the secret are two transactions: a login that fails between them
//! answers 500 and its token was never sent, so nothing is left usable.

use std::net::IpAddr;

use gridwork_core::model::User;
use gridwork_core::sync::api::{Login, LoginRequest, LoginUser, RecoverySecret};

use crate::access;
use crate::auth::{LoginLimiter, authenticate, new_actor_hex, new_token};
use crate::error::ApiError;
use crate::escape::is_unsafe;
use crate::storage::{NewDevice, ServedScope, Storage};

/// Longest accepted device name, in characters.
pub const DEVICE_NAME_MAX: usize = 100;

/// A stored enrolment and what its holder gets.
#[derive(Debug)]
pub struct Enrolment {
    /// The bearer token (only its hash is stored).
    pub token: String,
    pub device: NewDevice,
    /// The materialized path of the user's grid.
    pub scope_path: String,
}

/// Enrols device `device_id` named `name` for `user` at `now`, served the
/// user's subtree.
pub fn enrol(
    storage: &dyn Storage,
    user: &User,
    device_id: String,
    name: String,
    now: jiff::Timestamp,
) -> Result<Enrolment, ApiError> {
    let scope_path = access::scope_path(storage, user)?.ok_or_else(|| {
        ApiError::Internal(format!(
            "user {}'s grid {} does not exist",
            user.id, user.grid
        ))
    })?;
    let (token, token_hash) = new_token();
    let device = NewDevice {
        id: device_id,
        user_id: user.id.clone(),
        name,
        token_hash,
        actor: new_actor_hex(),
        created_at: now.as_millisecond(),
        scope: ServedScope {
            epoch: 0,
            root: user.grid.clone(),
            grids_version: storage.grids_version()?,
            grids: storage.subtree_codes(&scope_path)?,
        },
    };
    storage.enrol_device(&device)?;
    Ok(Enrolment {
        token,
        device,
        scope_path,
    })
}

/// A tablet's login from `ip` at `now`: checks the request, the password
/// and the role, and enrols the device.
pub fn device_login(
    storage: &dyn Storage,
    limiter: &LoginLimiter,
    req: &LoginRequest,
    ip: IpAddr,
    now: jiff::Timestamp,
) -> Result<Login, ApiError> {
    let user_id = req.user.trim();
    let device_name = req.device_name.trim();
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
    let user = authenticate(storage, limiter, "device", user_id, &req.password, ip)?.user;
    if !access::may_enrol_device(user.role) {
        tracing::warn!(user = %user.id, source = %ip, reason = "role_not_allowed", "device sign-in refused: this role syncs no records to a device");
        return Err(ApiError::RoleNotAllowed);
    }
    let enrolment = enrol(
        storage,
        &user,
        uuid::Uuid::now_v7().to_string(),
        device_name.to_string(),
        now,
    )?;
    let secret = storage.hand_out_recovery_secret(
        &enrolment.device.id,
        &user.id,
        req.recovery_device.as_deref(),
        &rand::random(),
    )?;
    tracing::info!(user = %user.id, device = %enrolment.device.id, "device enrolled");
    Ok(Login {
        token: enrolment.token,
        device_id: enrolment.device.id,
        actor_id: enrolment.device.actor,
        user: LoginUser::from(&user),
        grids: storage.subtree(&enrolment.scope_path)?,
        recovery_secret: Some(RecoverySecret::from_bytes(&secret)),
    })
}
