//! The device's data key while the app runs, and the idle lock's flag:
//! what the app state holds ([`crate::state::AppState`]) and the PIN
//! lock's commands ([`crate::lock`]) change. Its own module so that the
//! state and the lock's commands do not need each other.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use gridwork_core::problem::params;
use gridwork_core::sync::api::RecoverySecret;
use gridwork_core::vault::pin::PinRefused;
use gridwork_core::vault::sign_in::{self, SignInKey};
use gridwork_core::vault::{Clock, DataKey, KdfParams, Keystore, VaultError};

use crate::errors::{CommandError, ErrorCode};

/// The data key while the app runs, and whether the idle lock is on.
#[derive(Debug)]
pub struct Keys {
    pub(crate) key: Option<DataKey>,
    pub(crate) idle_locked: bool,
    /// The PIN's key derivation cost (cheaper in unit tests).
    pub(crate) kdf: KdfParams,
    /// The throttle's clock (moved by hand in tests).
    pub(crate) clock: Clock,
    /// What the last sign-in did with the key, until a PIN is chosen.
    pub(crate) after_sign_in: Option<SignInKey>,
    /// The platform keystore the PIN's wrap uses (`crate::keystore`);
    /// `None` where there is none, and in tests that do not bring one.
    pub(crate) keystore: Option<Arc<dyn Keystore>>,
}

impl Default for Keys {
    fn default() -> Keys {
        Keys {
            key: None,
            idle_locked: false,
            kdf: KdfParams::DEFAULT,
            clock: Clock::system(),
            after_sign_in: None,
            keystore: None,
        }
    }
}

impl Keys {
    /// The data key, once signed in or unlocked.
    pub fn key(&self) -> Option<&DataKey> {
        self.key.as_ref()
    }

    /// Whether the idle lock is on (the session stays open underneath).
    pub fn idle_locked(&self) -> bool {
        self.idle_locked
    }

    /// The platform keystore, if the app has one.
    pub fn keystore(&self) -> Option<&dyn Keystore> {
        self.keystore.as_deref()
    }

    /// Holds `key`: signed in or unlocked.
    pub fn hold(&mut self, key: DataKey) {
        self.key = Some(key);
        self.idle_locked = false;
    }
}

impl CommandError {
    /// The app is locked: the PIN is asked for first.
    pub fn locked() -> Self {
        Self::code(ErrorCode::Locked)
    }

    /// A PIN refused or a key that could not be unwrapped.
    pub fn vault(e: VaultError) -> Self {
        let secs = |ms: i64| u64::try_from((ms + 999) / 1000).unwrap_or(0);
        match e {
            VaultError::WrongPin { failures, wait_ms } => {
                let left = gridwork_core::vault::pin::MAX_FAILURES.saturating_sub(failures);
                let left = ("left", u64::from(left).into());
                if wait_ms > 0 {
                    Self::new(
                        ErrorCode::PinWrongWait,
                        params([left, ("wait_s", secs(wait_ms).into())]),
                    )
                } else {
                    Self::new(ErrorCode::PinWrong, params([left]))
                }
            }
            VaultError::Throttled { wait_ms } => Self::new(
                ErrorCode::PinThrottled,
                params([("wait_s", secs(wait_ms).into())]),
            ),
            VaultError::LockedOut => Self::code(ErrorCode::PinLockedOut),
            VaultError::NoPin => Self::code(ErrorCode::PinNotSet),
            VaultError::PinNotTyped => Self::locked(),
            VaultError::KeystoreLost => Self::code(ErrorCode::PinKeystoreLost),
            VaultError::KeystoreUnavailable => Self::code(ErrorCode::KeystoreUnavailable),
            VaultError::PinRefused(r) => Self::code(match r {
                PinRefused::NotSixDigits => ErrorCode::PinNotSixDigits,
                PinRefused::SameDigit => ErrorCode::PinSameDigit,
                PinRefused::Run => ErrorCode::PinRun,
                PinRefused::Alternating => ErrorCode::PinAlternating,
                PinRefused::BirthDate => ErrorCode::PinBirthDate,
            }),
            other => {
                tracing::error!(error = %other, "device keys failed");
                Self::code(ErrorCode::VaultFailed)
            }
        }
    }
}

/// The data key a sign-in seals its session and store with (core's
/// `vault::sign_in` holds the rule): the key held, the key recovered with
/// the login's recovery secret after a PIN lock-out, or a new one.
/// Refused while a PIN is set but not typed. Remembers a recovery or a
/// loss for the PIN screen that follows.
pub fn key_for_sign_in(
    keys: &Mutex<Keys>,
    data_dir: &Path,
    recovery: Option<(&str, &RecoverySecret)>,
) -> Result<(DataKey, SignInKey), CommandError> {
    let mut keys = keys.lock().unwrap_or_else(PoisonError::into_inner);
    let secret = recovery.and_then(|(device, s)| Some((device, s.bytes()?)));
    let (key, how) = sign_in::key_for_sign_in(
        data_dir,
        keys.key(),
        secret.as_ref().map(|(device, s)| (*device, &**s)),
        keys.keystore(),
    )
    .map_err(CommandError::vault)?;
    keys.after_sign_in = Some(how);
    Ok((key, how))
}

/// The enrolment whose recovery secret the key file holds, for the login
/// to name.
pub fn recovery_device(data_dir: &Path) -> Result<Option<String>, CommandError> {
    sign_in::recovery_device(data_dir).map_err(CommandError::vault)
}
