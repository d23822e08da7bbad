//! Passwords, device tokens, login rate limits and the authenticated
//! session every API call but login needs.
//!
//! Passwords are argon2id hashes (PHC strings). A login enrols a device and
//! hands it a random 32-byte bearer token; the server keeps only the
//! token's SHA-256, so a copy of the database cannot be used to sign in.
//! Revoking the device (or disabling the user) makes the token useless at
//! once: the app gets `token_revoked` and asks for the password again.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use governor::{DefaultKeyedRateLimiter, Quota};
use gridwork_core::model::User;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Checks a password against a stored hash. A malformed hash never
/// matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .and_then(|h| Argon2::default().verify_password(password.as_bytes(), &h))
        .is_ok()
}

/// Spends the same work as a real check, so an unknown user takes as long
/// to refuse as a wrong password.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("gridwork-dummy").unwrap_or_default());
    let _ = verify_password(password, hash);
}

/// A new bearer token (32 random bytes, base64url) and the SHA-256 the
/// server stores.
pub fn new_token() -> (String, [u8; 32]) {
    let bytes: [u8; 32] = rand::random();
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new Automerge actor id for a device: 16 random bytes, as hex.
pub fn new_actor_hex() -> String {
    let bytes: [u8; 16] = rand::random();
    automerge::ActorId::from(&bytes[..]).to_hex_string()
}

/// Login attempts allowed per minute, per user id and per client address.
#[derive(Debug)]
pub struct LoginLimiter {
    per_user: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimiter {
    /// Allows `per_user` attempts a minute for one user id and `per_ip`
    /// from one address (both also the burst size).
    pub fn new(per_user: NonZeroU32, per_ip: NonZeroU32) -> LoginLimiter {
        LoginLimiter {
            per_user: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_user)),
            per_ip: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_ip)),
        }
    }

    /// Counts an attempt; `Err` with the seconds to wait when over the
    /// limit. Both limits are counted, so neither many users from one
    /// address nor one user from many addresses get unlimited guesses.
    pub fn check(&self, user: &str, ip: IpAddr) -> Result<(), u64> {
        // Keep the tables from growing without bound under a spray.
        if self.per_user.len() > 100_000 {
            self.per_user.retain_recent();
        }
        if self.per_ip.len() > 100_000 {
            self.per_ip.retain_recent();
        }
        let now = governor::clock::Clock::now(&governor::clock::DefaultClock::default());
        let wait = |e: governor::NotUntil<_>| e.wait_time_from(now).as_secs().max(1);
        let by_ip = self.per_ip.check_key(&ip).map_err(wait);
        let by_user = self.per_user.check_key(&user.to_string()).map_err(wait);
        by_ip.and(by_user)
    }
}

/// An authenticated device: the extractor every API call but login uses.
#[derive(Debug, Clone)]
pub struct Session {
    pub device_id: String,
    pub user: User,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthenticated)?;
        let hash = token_hash(token);
        let storage = state.storage().clone();
        let owner = tokio::task::spawn_blocking(move || storage.token_owner(&hash)).await??;
        match owner {
            None => Err(ApiError::Unauthenticated),
            Some(o) if o.revoked || o.account_disabled => Err(ApiError::TokenRevoked),
            // A console session is a cookie for the browser, not a device:
            // its token does not open the device API.
            Some(o) if o.device_id.starts_with(crate::console::DEVICE_PREFIX) => {
                Err(ApiError::Unauthenticated)
            }
            Some(o) => Ok(Session {
                device_id: o.device_id,
                user: o.user,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("正确的马电池钉").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("正确的马电池钉", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), ha);
        assert_eq!(new_actor_hex().len(), 32);
    }

    #[test]
    fn the_limiter_counts_per_user_and_per_address() {
        let limiter = LoginLimiter::new(NonZeroU32::new(2).unwrap(), NonZeroU32::new(2).unwrap());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(limiter.check("a", ip).is_ok());
        assert!(limiter.check("a", other).is_ok());
        assert!(limiter.check("a", other).is_err(), "per user");
        assert!(limiter.check("b", ip).is_ok());
        assert!(limiter.check("c", ip).is_err(), "per address");
    }
}
