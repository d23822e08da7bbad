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

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::OnceLock;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gridwork_core::model::User;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;
use crate::storage::{Account, LoginLimitState, Storage, StorageError};

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
/// A rate is a GCRA (generic cell rate algorithm): a limit of n a minute
/// lets a burst of n through, then one every 60/n seconds.
///
/// **The counts live in the database** ([`Storage::update_login_limits`],
/// table `login_limits`), so several server processes over one
/// PostgreSQL database count the same attempts: n tries split between
/// them are refused at the limit as on one process. Each key's row is read
/// and written back under a lock, this rule deciding in between; it is
/// the one rule for both backends. A row no longer holding anyone back
/// (its rate window passed, no backoff, no failure within the last hour
/// or `backoff_max`) expires and is deleted, so a spray of names does not
/// grow the table without bound. Times are the server's wall clock, in
/// milliseconds: processes share it.
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
}

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

/// The row of a source's attempts.
fn source_key(source: IpAddr) -> String {
    format!("source {source}")
}

/// The row of a user name's attempts from a source. The name is hashed:
/// whatever is typed at the user field has a key of bounded length.
fn user_key(user: &str, source: IpAddr) -> String {
    let digest = Sha256::digest(user.as_bytes());
    format!("user {source} {}", URL_SAFE_NO_PAD.encode(&digest[..18]))
}

/// One rate step (GCRA) at `now` for `per_minute` attempts a minute:
/// counts the attempt, or returns the milliseconds to wait.
fn take_rate(state: &mut LoginLimitState, per_minute: NonZeroU32, now: i64) -> Result<(), i64> {
    let n = i64::from(per_minute.get());
    let interval = 60_000 / n;
    let tolerance = interval * (n - 1);
    let tat = state.tat.max(now);
    if tat - now > tolerance {
        return Err(tat - now - tolerance);
    }
    state.tat = tat + interval;
    Ok(())
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> LoginLimiter {
        LoginLimiter { limits }
    }

    /// How long a failure is remembered (the count that doubles the
    /// backoff) when no backoff holds.
    fn horizon_ms(&self) -> i64 {
        self.limits
            .backoff_max
            .max(Duration::from_secs(3600))
            .as_millis() as i64
    }

    fn expiry(&self, s: &LoginLimitState) -> i64 {
        let failures = if s.failures > 0 {
            s.last_failure + self.horizon_ms()
        } else {
            0
        };
        s.tat.max(s.blocked_until).max(failures)
    }

    /// Counts an attempt; `Err` with the seconds to wait when a limit or
    /// a backoff holds it.
    pub fn check(&self, storage: &dyn Storage, user: &str, ip: IpAddr) -> Result<(), LimitError> {
        self.check_at(storage, user, ip, now_ms())
    }

    fn check_at(
        &self,
        storage: &dyn Storage,
        user: &str,
        ip: IpAddr,
        now: i64,
    ) -> Result<(), LimitError> {
        let source = source_of(ip);
        let (by_source, by_user) = (source_key(source), user_key(user, source));
        let mut verdict = Ok(());
        storage.update_login_limits(&[&by_source, &by_user], now, &mut |rows| {
            let [source_row, user_row] = rows else {
                return;
            };
            if user_row.blocked_until > now {
                verdict = Err(user_row.blocked_until - now);
                return;
            }
            // Both count, as two separate limits would.
            let a = take_rate(source_row, self.limits.per_source, now);
            let b = take_rate(user_row, self.limits.per_user_source, now);
            verdict = a.and(b);
            source_row.expires_at = self.expiry(source_row);
            user_row.expires_at = self.expiry(user_row);
        })?;
        verdict.map_err(|ms| LimitError::Wait(ms_to_secs(ms)))
    }

    /// Notes a wrong password (or an unknown user) for `user` from `ip`;
    /// returns how many in a row, and the backoff it started, if any.
    pub fn failed(
        &self,
        storage: &dyn Storage,
        user: &str,
        ip: IpAddr,
    ) -> Result<(u32, Option<Duration>), StorageError> {
        self.failed_at(storage, user, ip, now_ms())
    }

    fn failed_at(
        &self,
        storage: &dyn Storage,
        user: &str,
        ip: IpAddr,
        now: i64,
    ) -> Result<(u32, Option<Duration>), StorageError> {
        let key = user_key(user, source_of(ip));
        let mut outcome = (0, None);
        storage.update_login_limits(&[&key], now, &mut |rows| {
            let [row] = rows else { return };
            row.failures = row.failures.saturating_add(1);
            row.last_failure = now;
            let backoff = row
                .failures
                .checked_sub(self.limits.free_failures)
                .filter(|over| *over > 0)
                .map(|over| {
                    let secs = 1u64 << (over - 1).min(30);
                    Duration::from_secs(secs).min(self.limits.backoff_max)
                });
            if let Some(b) = backoff {
                row.blocked_until = now + b.as_millis() as i64;
            }
            row.expires_at = self.expiry(row);
            outcome = (row.failures, backoff);
        })?;
        Ok(outcome)
    }

    /// A successful login: the user's failures from this source are
    /// forgotten (its rate is not).
    pub fn succeeded(
        &self,
        storage: &dyn Storage,
        user: &str,
        ip: IpAddr,
    ) -> Result<(), StorageError> {
        let key = user_key(user, source_of(ip));
        let now = now_ms();
        storage.update_login_limits(&[&key], now, &mut |rows| {
            for row in rows.iter_mut() {
                row.failures = 0;
                row.last_failure = 0;
                row.blocked_until = 0;
                row.expires_at = self.expiry(row);
            }
        })
    }
}

/// Why a login attempt is not heard.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// A limit or a backoff holds it: wait this many seconds.
    #[error("rate limited for {0} s")]
    Wait(u64),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Whole seconds to wait, at least one.
fn ms_to_secs(ms: i64) -> u64 {
    (ms.max(1) as u64).div_ceil(1000)
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
    if let Err(e) = limiter.check(storage, user_id, ip) {
        let retry_after_secs = match e {
            LimitError::Wait(secs) => secs,
            LimitError::Storage(e) => return Err(e.into()),
        };
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
    let refused = |reason: &'static str| -> Result<ApiError, ApiError> {
        let (failures, backoff) = limiter.failed(storage, user_id, ip)?;
        tracing::warn!(
            channel,
            user = %logged,
            source = %ip,
            reason,
            failures,
            backoff_secs = backoff.map(|b| b.as_secs()),
            "login failed"
        );
        Ok(ApiError::BadCredentials)
    };
    let Some(account) = account else {
        verify_dummy(password);
        return Err(refused("unknown_user")?);
    };
    if !verify_password(password, &account.password_hash) {
        return Err(refused("wrong_password")?);
    }
    limiter.succeeded(storage, user_id, ip)?;
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
    /// The actor the enrolment was given, from its own record (never from
    /// a payload): what a compact change's own-actor flag stands for
    /// ([`gridwork_core::sync::compact`]). `None` when it cannot be read.
    pub actor: Option<automerge::ActorId>,
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
    /// The hash of the token it came with, to look it up again while a
    /// streamed answer goes on ([`SyncSession::of_token`]).
    pub token_hash: [u8; 32],
}

impl SyncSession {
    /// The device session the token with this hash opens now, or why it
    /// opens none. Blocking.
    pub fn of_token(storage: &dyn Storage, token_hash: [u8; 32]) -> Result<SyncSession, ApiError> {
        let session = |o: crate::storage::TokenOwner, lost| SyncSession {
            session: Session {
                actor: automerge::ActorId::try_from(o.actor.as_str()).ok(),
                device_id: o.device_id,
                user: o.user,
            },
            lost,
            token_hash,
        };
        match storage.token_owner(&token_hash)? {
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
        tokio::task::spawn_blocking(move || SyncSession::of_token(storage.as_ref(), hash)).await?
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

    /// A real SQLite database for the counts (the PostgreSQL side of
    /// `update_login_limits` is in the storage conformance suite, and
    /// tests/tests/two_processes.rs counts across two processes).
    fn storage() -> (tempfile::TempDir, crate::storage::SqliteStorage) {
        let dir = tempfile::tempdir().unwrap();
        let storage = crate::storage::SqliteStorage::open(dir.path()).unwrap();
        (dir, storage)
    }

    fn wait(r: Result<(), LimitError>) -> Option<u64> {
        match r {
            Ok(()) => None,
            Err(LimitError::Wait(s)) => Some(s),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_limiter_counts_per_user_and_source_and_per_source() {
        let (_dir, s) = storage();
        let limiter = LoginLimiter::new(limits(2, 3));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let t0 = 1_000_000;
        assert_eq!(wait(limiter.check_at(&s, "a", ip, t0)), None);
        assert_eq!(wait(limiter.check_at(&s, "a", ip, t0)), None);
        assert_eq!(
            wait(limiter.check_at(&s, "a", ip, t0)),
            Some(30),
            "per user and source: the next of 2 a minute in 30 s"
        );
        assert_eq!(
            wait(limiter.check_at(&s, "a", other, t0)),
            None,
            "not per user alone"
        );
        assert!(
            wait(limiter.check_at(&s, "b", ip, t0)).is_some(),
            "per source"
        );
        // The rate refills: one attempt every 60/2 s for the user.
        assert_eq!(wait(limiter.check_at(&s, "a", ip, t0 + 30_000)), None);
        assert!(wait(limiter.check_at(&s, "a", ip, t0 + 30_000)).is_some());
        // A second limiter over the same database (another process) sees
        // the same counts.
        let elsewhere = LoginLimiter::new(limits(2, 3));
        assert!(wait(elsewhere.check_at(&s, "a", ip, t0 + 30_000)).is_some());
    }

    #[test]
    fn failures_back_off_per_user_and_source_and_success_clears_them() {
        let (_dir, s) = storage();
        let limiter = LoginLimiter::new(limits(1000, 1000));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = 5_000_000;
        let mut backoffs = Vec::new();
        for _ in 0..10 {
            let (_, b) = limiter.failed_at(&s, "sup", ip, t0).unwrap();
            backoffs.push(b.map(|b| b.as_secs()));
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
        assert_eq!(wait(limiter.check_at(&s, "sup", ip, t0)), Some(60));
        assert_eq!(wait(limiter.check_at(&s, "sup", ip, t0 + 59_500)), Some(1));
        // Another source, or another user from this source, is not held.
        assert_eq!(wait(limiter.check_at(&s, "sup", other, t0)), None);
        assert_eq!(wait(limiter.check_at(&s, "worker", ip, t0)), None);
        // The backoff ends; one more failure waits the longest again.
        let later = t0 + 61_000;
        assert_eq!(wait(limiter.check_at(&s, "sup", ip, later)), None);
        assert_eq!(
            limiter.failed_at(&s, "sup", ip, later).unwrap(),
            (11, Some(Duration::from_secs(60)))
        );
        limiter.succeeded(&s, "sup", ip).unwrap();
        assert_eq!(wait(limiter.check_at(&s, "sup", ip, later)), None);
        assert_eq!(limiter.failed_at(&s, "sup", ip, later).unwrap(), (1, None));
    }

    #[test]
    fn rows_that_hold_nobody_back_expire() {
        let (dir, s) = storage();
        let limiter = LoginLimiter::new(limits(5, 5));
        let ip: IpAddr = "10.0.0.9".parse().unwrap();
        let t0 = 9_000_000;
        for n in 0..50 {
            limiter.check_at(&s, &format!("name{n}"), ip, t0).ok();
        }
        limiter.failed_at(&s, "sup", ip, t0).unwrap();
        let db = rusqlite::Connection::open(dir.path().join("gridwork.sqlite")).unwrap();
        let rows = |_: &crate::storage::SqliteStorage| -> i64 {
            db.query_row("SELECT count(*) FROM login_limits", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(rows(&s), 52, "one source, 50 names, the failure's");
        // A minute on, only the failure (remembered for an hour) is left;
        // a new name from the source is heard again.
        assert_eq!(wait(limiter.check_at(&s, "x", ip, t0 + 61_000)), None);
        assert_eq!(rows(&s), 3);
        assert_eq!(wait(limiter.check_at(&s, "x", ip, t0 + 3_700_000)), None);
        assert_eq!(rows(&s), 2);
    }

    #[test]
    fn a_long_user_name_has_a_short_key() {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let long = "名".repeat(10_000);
        assert!(user_key(&long, ip).len() < 64);
        assert_ne!(user_key("a", ip), user_key("b", ip));
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
