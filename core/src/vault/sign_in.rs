//! Which data key a password sign-in uses, and the recovery wrap it
//! leaves behind: the rule the app's sign-in calls (see the
//! [vault](super) docs for the design).
//!
//! - The key the app holds (a worker signing in again while unlocked) is
//!   kept.
//! - With a PIN set but not typed, the sign-in is refused: the PIN comes
//!   first ([`VaultError::PinNotTyped`]).
//! - With a key file but no PIN (ten wrong PINs destroyed its wrap, or the
//!   platform keystore lost its device secret, or the first sign-in ended
//!   before a PIN was chosen), the server's recovery
//!   secret from this login unwraps the same key: the store, the outbox
//!   and the photos are kept, and the worker chooses a new PIN.
//! - When it does not (a key file from an enrolment made before the
//!   server kept secrets, or one the server no longer hands on: revoked,
//!   lost, wiped, another user), the old key file is destroyed and a new
//!   key made; the data sealed with the old key is unreadable from then on
//!   ([`SignInKey::Replaced`] says so, for the worker to be told).
//! - Every sign-in that got a secret wraps the key with it for the new
//!   enrolment, so the key file always names the enrolment whose secret
//!   the server holds.

use std::path::Path;

use serde::Serialize;

use super::{DataKey, KEY_LEN, KeyFile, Keystore, VaultError, destroy_keys};

/// What a sign-in did with the data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInKey {
    /// The key the app held.
    Held,
    /// A new key on a device that had none (the first sign-in).
    New,
    /// The key unwrapped with the server's recovery secret: the data on
    /// the device is kept.
    Recovered,
    /// A new key in place of one that could not be recovered: the data
    /// sealed with the old one is lost.
    Replaced,
}

/// The enrolment a sign-in names so the server hands on its recovery
/// secret (`LoginRequest::recovery_device`), if the device has one.
pub fn recovery_device(dir: &Path) -> Result<Option<String>, VaultError> {
    Ok(KeyFile::load(dir)?.and_then(|f| f.recovery_device().map(str::to_string)))
}

/// The data key for a sign-in in data folder `dir` (see the module
/// docs): `held` is the key the app holds, `recovery` the new enrolment
/// and the secret its login answer carried, `keystore` the platform
/// keystore whose device secret a destroyed key file's PIN wrap used.
pub fn key_for_sign_in(
    dir: &Path,
    held: Option<&DataKey>,
    recovery: Option<(&str, &[u8; KEY_LEN])>,
    keystore: Option<&dyn Keystore>,
) -> Result<(DataKey, SignInKey), VaultError> {
    let file = KeyFile::load(dir)?;
    let (key, how) = match (held, file) {
        (Some(key), _) => (key.clone(), SignInKey::Held),
        (None, None) => (DataKey::generate(), SignInKey::New),
        // A time of 0: only whether a PIN is set matters here.
        (None, Some(file)) if file.status(0).set => return Err(VaultError::PinNotTyped),
        (None, Some(file)) => match recovery.map(|(_, secret)| file.recover(secret)) {
            Some(Ok(key)) => {
                tracing::info!(
                    "signed in after a PIN lock-out or a keystore reset: the data key is recovered"
                );
                (key, SignInKey::Recovered)
            }
            _ => {
                tracing::warn!(
                    "signing in without a PIN and without a recovery secret that opens the key: the old data key is gone"
                );
                destroy_keys(dir, keystore)?;
                (DataKey::generate(), SignInKey::Replaced)
            }
        },
    };
    if let Some((device_id, secret)) = recovery {
        let mut file = KeyFile::load(dir)?.unwrap_or_else(|| KeyFile::new(dir));
        file.wrap_for_recovery(&key, device_id, secret)?;
    }
    Ok((key, how))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::KdfParams;
    use crate::vault::pin::{MAX_FAILURES, Pin};

    fn lock_out(dir: &Path) {
        let mut file = KeyFile::load(dir).unwrap().unwrap();
        let wrong = Pin::parse("000001").unwrap();
        let mut now = 0;
        for _ in 0..MAX_FAILURES {
            let _ = file.unlock(&wrong, now, None);
            now += 1_000_000_000;
        }
        assert!(file.status(now).locked_out);
    }

    #[test]
    fn a_locked_out_device_gets_its_key_back_with_the_secret_and_loses_it_without() {
        let dir = tempfile::tempdir().unwrap();
        let (key, how) =
            key_for_sign_in(dir.path(), None, Some(("d1", &[1; KEY_LEN])), None).unwrap();
        assert_eq!(how, SignInKey::New);
        assert_eq!(recovery_device(dir.path()).unwrap().as_deref(), Some("d1"));
        let pin = Pin::parse("135792").unwrap();
        KeyFile::load(dir.path())
            .unwrap()
            .unwrap()
            .set_pin(&key, &pin, KdfParams::FAST_FOR_TESTS, None)
            .unwrap();
        assert!(matches!(
            key_for_sign_in(dir.path(), None, Some(("d2", &[1; KEY_LEN])), None),
            Err(VaultError::PinNotTyped)
        ));
        let (again, how) =
            key_for_sign_in(dir.path(), Some(&key), Some(("d2", &[2; KEY_LEN])), None).unwrap();
        assert_eq!((again.bytes(), how), (key.bytes(), SignInKey::Held));
        assert_eq!(recovery_device(dir.path()).unwrap().as_deref(), Some("d2"));

        lock_out(dir.path());
        let (back, how) =
            key_for_sign_in(dir.path(), None, Some(("d3", &[2; KEY_LEN])), None).unwrap();
        assert_eq!((back.bytes(), how), (key.bytes(), SignInKey::Recovered));
        assert_eq!(recovery_device(dir.path()).unwrap().as_deref(), Some("d3"));

        // A secret that does not open it (the server refused to hand it on).
        let (other, how) =
            key_for_sign_in(dir.path(), None, Some(("d4", &[9; KEY_LEN])), None).unwrap();
        assert_eq!(how, SignInKey::Replaced);
        assert_ne!(other.bytes(), key.bytes());
        let file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert_eq!(file.recover(&[9; KEY_LEN]).unwrap().bytes(), other.bytes());
        assert!(!file.status(0).locked_out);
    }

    #[test]
    fn without_a_secret_a_locked_out_key_is_destroyed_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let key = DataKey::generate();
        KeyFile::new(dir.path())
            .set_pin(
                &key,
                &Pin::parse("135792").unwrap(),
                KdfParams::FAST_FOR_TESTS,
                None,
            )
            .unwrap();
        lock_out(dir.path());
        let (new, how) = key_for_sign_in(dir.path(), None, None, None).unwrap();
        assert_eq!(how, SignInKey::Replaced);
        assert_ne!(new.bytes(), key.bytes());
        assert!(KeyFile::load(dir.path()).unwrap().is_none());
    }
}
