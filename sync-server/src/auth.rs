//! Passwords, device tokens, login rate limits and the authenticated
//! session every API call but login needs.
//!
//! Passwords are argon2id hashes (PHC strings). A login enrols a device and
//! hands it a random 32-byte bearer token; the server keeps only the
//! token's SHA-256, so a copy of the database cannot be used to sign in.
//! Revoking the device (or disabling the user) makes the token useless at
//! once: the app gets `token_revoked` and asks for the password again.
//! A device reported lost keeps a token good for its last push and its
//! wipe report only ([`SyncSession`], [`crate::devices`]).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

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
use crate::storage::{Account, Storage};

/// The pseudo-user that owns the server's own device. It is disabled, so
/// it can never sign in; it exists because an actor binding names a device
/// and a device names a user. It is kept here with the accounts because
/// `access`, `admin`, `migrate` and `sync` all name it (in `admin` it made
/// the cycle `access → admin → blob_grants → access`).
pub const SERVER_USER: &str = "gridwork-server";

/// The server's own device: its actor writes the documents the server
/// makes (the demo records), and the log credits their changes to it.
pub const SERVER_DEVICE: &str = "server";

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

/// How logins are limited, as the settings give it.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Attempts a minute for one user id from one source (also the burst).
    pub per_user_source: NonZeroU32,
    /// Attempts a minute from one source, whatever the user (also the burst).
    pub per_source: NonZeroU32,
    /// Wrong passwords for one user from one source before backoff starts.
    pub free_failures: u32,
    /// The longest backoff after repeated failures.
    pub backoff_max: Duration,
}

/// Login rate limits and backoff.
///
/// Every limit is keyed by the *source* ([`source_of`]: the client address,
/// an IPv6 address by its /64, which one host usually holds whole). No
/// limit counts a user name alone: when wrong passwords for `sup` from one
/// source made `sup` wait everywhere, anyone could lock a supervisor out.
/// So:
/// - per source, a rate of attempts whatever the user
///   ([`LoginLimits::per_source`]): one host cannot spray many names;
/// - per (user, source), a rate of attempts ([`LoginLimits::per_user_source`])
///   and, after [`LoginLimits::free_failures`] wrong passwords in a row, a
///   backoff that doubles with each further failure (1 s, 2 s, 4 s … up to
///   [`LoginLimits::backoff_max`]); a successful login clears it.
///
/// What this leaves open: many sources guessing one user's password each
/// pay their own limits, so a wide botnet gets more guesses than one host.
/// Each guess still costs an argon2id hash on the server, every failure is
/// logged with its source ([`authenticate`]), and the password rules make
/// guessing slow; locking the account instead would hand the same botnet a
/// way to keep any supervisor out. The source is the connection's peer
/// address: behind a reverse proxy every client is the proxy, so the
/// server should face clients directly until it learns which forwarded
/// header to trust.
#[derive(Debug)]
pub struct LoginLimiter {
    limits: LoginLimits,
    per_source: DefaultKeyedRateLimiter<IpAddr>,
    per_user_source: DefaultKeyedRateLimiter<(String, IpAddr)>,
    failures: Mutex<HashMap<(String, IpAddr), Failures>>,
}

/// Wrong passwords in a row for one user from one source.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    /// No attempt is heard before this.
    until: Instant,
}

/// Entries kept before old ones are dropped (a spray of names from many
/// sources must not grow memory without bound).
const TABLE_MAX: usize = 100_000;

/// The key of a client address: an IPv4 address (also when mapped into
/// IPv6) as it is, an IPv6 address by its /64 prefix.
pub fn source_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(Ipv6Addr::from(segments))
            }
        },
    }
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> LoginLimiter {
        LoginLimiter {
            limits,
            per_source: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limits.per_source)),
            per_user_source: DefaultKeyedRateLimiter::keyed(Quota::per_minute(
                limits.per_user_source,
            )),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt; `Err` with the seconds to wait when a limit or
    /// a backoff holds it.
    pub fn check(&self, user: &str, ip: IpAddr) -> Result<(), u64> {
        self.check_at(user, ip, Instant::now())
    }

    fn check_at(&self, user: &str, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let source = source_of(ip);
        let key = (user.to_string(), source);
        if let Some(f) = self.table().get(&key)
            && f.until > now
        {
            return Err(secs_ceil(f.until - now));
        }
        // Keep the tables from growing without bound under a spray.
        if self.per_source.len() > TABLE_MAX {
            self.per_source.retain_recent();
        }
        if self.per_user_source.len() > TABLE_MAX {
            self.per_user_source.retain_recent();
        }
        let clock = governor::clock::DefaultClock::default();
        let wait = |e: governor::NotUntil<_>| {
            e.wait_time_from(governor::clock::Clock::now(&clock))
                .as_secs()
                .max(1)
        };
        let by_source = self.per_source.check_key(&source).map_err(wait);
        let by_user = self.per_user_source.check_key(&key).map_err(wait);
        by_source.and(by_user)
    }

    /// Notes a wrong password (or an unknown user) for `user` from `ip`;
    /// returns how many in a row, and the backoff it started, if any.
    pub fn failed(&self, user: &str, ip: IpAddr) -> (u32, Option<Duration>) {
        self.failed_at(user, ip, Instant::now())
    }

    fn failed_at(&self, user: &str, ip: IpAddr, now: Instant) -> (u32, Option<Duration>) {
        let mut table = self.table();
        if table.len() >= TABLE_MAX {
            // Forget what no longer holds anyone back, then the oldest.
            let horizon = self.limits.backoff_max.max(Duration::from_secs(3600));
            table.retain(|_, f| f.until > now || now.duration_since(f.last) < horizon);
            if table.len() >= TABLE_MAX
                && let Some(oldest) = table
                    .iter()
                    .min_by_key(|(_, f)| f.last)
                    .map(|(k, _)| k.clone())
            {
                table.remove(&oldest);
            }
        }
        let entry = table
            .entry((user.to_string(), source_of(ip)))
            .or_insert(Failures {
                count: 0,
                last: now,
                until: now,
            });
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        let backoff = entry
            .count
            .checked_sub(self.limits.free_failures)
            .filter(|over| *over > 0)
            .map(|over| {
                let secs = 1u64 << (over - 1).min(30);
                Duration::from_secs(secs).min(self.limits.backoff_max)
            });
        if let Some(b) = backoff {
            entry.until = now + b;
        }
        (entry.count, backoff)
    }

    /// A successful login: the user's failures from this source are
    /// forgotten.
    pub fn succeeded(&self, user: &str, ip: IpAddr) {
        self.table().remove(&(user.to_string(), source_of(ip)));
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<(String, IpAddr), Failures>> {
        // A panic while holding the lock leaves a consistent map.
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn secs_ceil(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The longest user name a login log line quotes: what is typed at the
/// user field is logged, escaped, and cut here (a password pasted into it
/// is not kept whole).
const LOGGED_USER_CHARS: usize = 64;

/// Checks a login's user and password, under the limits: the one way both
/// the device login and the console's sign-in authenticate. Blocking
/// (argon2id): run it on the blocking pool.
///
/// Failed logins and refusals by a limit go to the tracing log at `warn`,
/// escaped: the channel (`device` or `console`), the user name as typed
/// (cut at 64 characters), the source address, the reason
/// (`unknown_user`, `wrong_password`, `account_disabled`, `rate_limited`),
/// the failures in a row and the backoff started. Never the password. They
/// are not written to the access log: that log records who saw or exported
/// personal data, and every row of it is kept for good, so a row per
/// failed guess would let anyone without an account grow the database
/// without bound; a log line costs nothing to rotate.
pub fn authenticate(
    storage: &dyn Storage,
    limiter: &LoginLimiter,
    channel: &'static str,
    user_id: &str,
    password: &str,
    ip: IpAddr,
) -> Result<Account, ApiError> {
    let logged: String = user_id.chars().take(LOGGED_USER_CHARS).collect();
    if let Err(retry_after_secs) = limiter.check(user_id, ip) {
        tracing::warn!(
            channel,
            user = %logged,
            source = %ip,
            reason = "rate_limited",
            retry_after_secs,
            "login refused"
        );
        return Err(ApiError::RateLimited { retry_after_secs });
    }
    let account = if user_id.chars().any(crate::escape::is_unsafe) {
        // No account can have such a name (see `add_user`).
        None
    } else {
        storage.account(user_id)?
    };
    let refused = |reason: &'static str| {
        let (failures, backoff) = limiter.failed(user_id, ip);
        tracing::warn!(
            channel,
            user = %logged,
            source = %ip,
            reason,
            failures,
            backoff_secs = backoff.map(|b| b.as_secs()),
            "login failed"
        );
        ApiError::BadCredentials
    };
    let Some(account) = account else {
        verify_dummy(password);
        return Err(refused("unknown_user"));
    };
    if !verify_password(password, &account.password_hash) {
        return Err(refused("wrong_password"));
    }
    limiter.succeeded(user_id, ip);
    if account.disabled {
        tracing::warn!(channel, user = %logged, source = %ip, reason = "account_disabled", "login refused");
        return Err(ApiError::AccountDisabled);
    }
    Ok(account)
}

/// An authenticated device: the extractor every API call but login uses.
#[derive(Debug, Clone)]
pub struct Session {
    pub device_id: String,
    pub user: User,
}

/// Console enrolments' device ids start with this: a console sign-in is a
/// device enrolment of its own (see [`crate::console`]).
pub const CONSOLE_DEVICE_PREFIX: &str = "console-";

impl Session {
    /// Whether this is a console sign-in rather than a tablet.
    pub fn is_console(&self) -> bool {
        self.device_id.starts_with(CONSOLE_DEVICE_PREFIX)
    }
}

/// Who acts in the console: the signed-in enrolment and its actor.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    pub session: Session,
    pub actor: automerge::ActorId,
    /// Materialized path of the user's grid.
    pub scope_path: String,
}

/// A device as `POST /v1/sync` and `POST /v1/wiped` accept it: also one
/// an admin reported lost, which may push and report its wipe but nothing
/// else ([`crate::devices`]). Every other device endpoint takes a
/// [`Session`], which refuses a lost device with `device_lost`.
#[derive(Debug, Clone)]
pub struct SyncSession {
    pub session: Session,
    /// Reported lost and not yet wiped.
    pub lost: bool,
}

impl FromRequestParts<AppState> for SyncSession {
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
        let session = |o: crate::storage::TokenOwner, lost| SyncSession {
            session: Session {
                device_id: o.device_id,
                user: o.user,
            },
            lost,
        };
        match owner {
            None => Err(ApiError::Unauthenticated),
            // A console session is a cookie for the browser, not a device:
            // its token does not open the device API.
            Some(o) if o.device_id.starts_with(CONSOLE_DEVICE_PREFIX) => {
                Err(ApiError::Unauthenticated)
            }
            Some(o) if o.wiped => Err(ApiError::TokenRevoked),
            // Lost outranks revoked and disabled: the token still opens
            // the push and the wipe report, so the tablet gets erased.
            Some(o) if o.lost => Ok(session(o, true)),
            Some(o) if o.revoked || o.account_disabled => Err(ApiError::TokenRevoked),
            Some(o) => Ok(session(o, false)),
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match SyncSession::from_request_parts(parts, state).await? {
            SyncSession { lost: true, .. } => Err(ApiError::DeviceLost),
            SyncSession { session, .. } => Ok(session),
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

    fn limits(per_user_source: u32, per_source: u32) -> LoginLimits {
        LoginLimits {
            per_user_source: NonZeroU32::new(per_user_source).unwrap(),
            per_source: NonZeroU32::new(per_source).unwrap(),
            free_failures: 3,
            backoff_max: Duration::from_secs(60),
        }
    }

    #[test]
    fn the_limiter_counts_per_user_and_source_and_per_source() {
        let limiter = LoginLimiter::new(limits(2, 3));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(limiter.check("a", ip).is_ok());
        assert!(limiter.check("a", ip).is_ok());
        assert!(limiter.check("a", ip).is_err(), "per user and source");
        assert!(limiter.check("a", other).is_ok(), "not per user alone");
        assert!(limiter.check("b", ip).is_err(), "per source");
    }

    #[test]
    fn failures_back_off_per_user_and_source_and_success_clears_them() {
        let limiter = LoginLimiter::new(limits(1000, 1000));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        let mut backoffs = Vec::new();
        for _ in 0..10 {
            backoffs.push(limiter.failed_at("sup", ip, t0).1.map(|b| b.as_secs()));
        }
        assert_eq!(
            backoffs,
            [
                None,
                None,
                None,
                Some(1),
                Some(2),
                Some(4),
                Some(8),
                Some(16),
                Some(32),
                Some(60)
            ]
        );
        assert_eq!(limiter.check_at("sup", ip, t0), Err(60));
        assert_eq!(
            limiter.check_at("sup", ip, t0 + Duration::from_millis(59_500)),
            Err(1)
        );
        // Another source, or another user from this source, is not held.
        assert!(limiter.check_at("sup", other, t0).is_ok());
        assert!(limiter.check_at("worker", ip, t0).is_ok());
        // The backoff ends; one more failure waits the longest again.
        let later = t0 + Duration::from_secs(61);
        assert!(limiter.check_at("sup", ip, later).is_ok());
        assert_eq!(
            limiter.failed_at("sup", ip, later),
            (11, Some(Duration::from_secs(60)))
        );
        limiter.succeeded("sup", ip);
        assert!(limiter.check_at("sup", ip, later).is_ok());
        assert_eq!(limiter.failed_at("sup", ip, later), (1, None));
    }

    #[test]
    fn an_ipv6_host_is_one_source_by_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source_of(a), source_of(b));
        assert_ne!(source_of(a), source_of(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(source_of(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }
}
