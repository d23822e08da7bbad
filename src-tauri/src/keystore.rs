//! The platform keystore the app hands to core's vault
//! (`gridwork_core::vault::Keystore`): where the device secret of the
//! PIN's key wrap is kept, outside the data folder, so a copy of the folder
//! and the PIN are not enough to open the data (see the vault's docs).
//!
//! It is the `keyring` crate's store for the platform: the Secret Service
//! on Linux (GNOME Keyring, KWallet; over D-Bus), the Keychain on macOS and
//! iOS, the Credential Manager on Windows. Android has none in this build
//! (keyring 3 has no Android store): there, and wherever the keystore does
//! not answer at start (no Secret Service running), the app runs without
//! one, as before, logs "no platform keystore", and the About screen says
//! so ([`platform`], `PinView::keystore`).

use std::sync::Arc;

use gridwork_core::vault::{Keystore, KeystoreError, Zeroizing};

/// The service name of the app's entries in the keystore.
const SERVICE: &str = "gridwork";
/// An entry that is never written: reading it tells a keystore that
/// answers from one that does not.
const PROBE: &str = "probe";

/// The platform's keystore through `keyring`.
#[derive(Debug, Clone, Copy)]
pub struct PlatformKeystore;

/// The platform's keystore when it answers now; `None` (logged) where
/// there is none.
pub fn platform() -> Option<Arc<dyn Keystore>> {
    if !SUPPORTED {
        tracing::warn!("no platform keystore on this platform: the PIN alone wraps the data key");
        return None;
    }
    match PlatformKeystore.get(PROBE) {
        Ok(_) => {
            tracing::info!(
                keystore = PlatformKeystore.kind(),
                "platform keystore available: the PIN's key wrap also needs its device secret"
            );
            Some(Arc::new(PlatformKeystore))
        }
        Err(e) => {
            tracing::warn!(error = %e, "no platform keystore: the PIN alone wraps the data key");
            None
        }
    }
}

/// Whether this build has a keystore for the platform at all (elsewhere
/// `keyring` has only its in-memory mock, which is no keystore).
const SUPPORTED: bool = cfg!(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "macos",
    target_os = "ios",
    target_os = "windows"
));

impl Keystore for PlatformKeystore {
    fn kind(&self) -> &'static str {
        if cfg!(any(target_os = "macos", target_os = "ios")) {
            "apple-keychain"
        } else if cfg!(target_os = "windows") {
            "windows-credential-manager"
        } else {
            "secret-service"
        }
    }

    fn get(&self, entry: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeystoreError> {
        match keyring::Entry::new(SERVICE, entry).and_then(|e| e.get_secret()) {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(KeystoreError(e.to_string())),
        }
    }

    fn set(&self, entry: &str, secret: &[u8]) -> Result<(), KeystoreError> {
        keyring::Entry::new(SERVICE, entry)
            .and_then(|e| e.set_secret(secret))
            .map_err(|e| KeystoreError(e.to_string()))
    }

    fn delete(&self, entry: &str) -> Result<(), KeystoreError> {
        match keyring::Entry::new(SERVICE, entry).and_then(|e| e.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(KeystoreError(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests;
