//! The device's data key while the app runs, and the idle lock's flag:
//! what the app state holds ([`crate::state::AppState`]) and the PIN
//! lock's commands ([`crate::lock`]) change. Its own module so that the
//! state and the lock's commands do not need each other.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use gridwork_core::problem::params;
use gridwork_core::vault::pin::PinRefused;
use gridwork_core::vault::{DataKey, KdfParams, KeyFile, VaultError, destroy_keys};

use crate::errors::{CommandError, ErrorCode};

/// The data key while the app runs, and whether the idle lock is on.
#[derive(Debug)]
pub struct Keys {
    pub(crate) key: Option<DataKey>,
    pub(crate) idle_locked: bool,
    /// The PIN's key derivation cost (cheaper in unit tests).
    pub(crate) kdf: KdfParams,
}

impl Default for Keys {
    fn default() -> Keys {
        Keys {
            key: None,
            idle_locked: false,
            kdf: KdfParams::DEFAULT,
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

/// The data key a sign-in seals its session and store with, and whether
/// it was made just now: the key held (a worker signing in again), or a
/// new one. Refused while a PIN is set but not typed. A key file locked
/// out by wrong PINs is destroyed: its data cannot be opened any more.
pub fn key_for_sign_in(
    keys: &Mutex<Keys>,
    data_dir: &Path,
) -> Result<(DataKey, bool), CommandError> {
    let keys = keys.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(key) = keys.key() {
        return Ok((key.clone(), false));
    }
    let file = KeyFile::load(data_dir).map_err(CommandError::vault)?;
    if let Some(file) = file {
        if !file
            .status(jiff::Timestamp::now().as_millisecond())
            .locked_out
        {
            return Err(CommandError::locked());
        }
        tracing::warn!("signing in after a PIN lock-out: the old data key is gone");
        destroy_keys(data_dir).map_err(CommandError::vault)?;
    }
    Ok((DataKey::generate(), true))
}
