//! The platform keystore, as the key file sees it: a place outside the
//! data folder that keeps one random device secret per PIN wrap (see the
//! [vault](super) docs). The app brings the real one (the Secret Service
//! on Linux, the Keychain on Apple's systems, the Credential Manager on
//! Windows: `src-tauri/src/keystore.rs`); where the platform has none, the
//! PIN's wrap is made without it, as before.

use zeroize::Zeroizing;

use super::KEY_LEN;

/// A platform keystore: named secrets kept outside the data folder.
pub trait Keystore: Send + Sync + std::fmt::Debug {
    /// Which keystore this is, recorded in the key file beside the wrap
    /// that needs it (for example `secret-service`).
    fn kind(&self) -> &'static str;

    /// The secret stored under `entry`; `Ok(None)` when the keystore
    /// answers and has no such entry (it was reset, or the data folder was
    /// copied to another device). An `Err` is a keystore that did not
    /// answer (not running, locked): nothing is concluded from it.
    fn get(&self, entry: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeystoreError>;

    /// Stores `secret` under `entry`, replacing what was there.
    fn set(&self, entry: &str, secret: &[u8]) -> Result<(), KeystoreError>;

    /// Deletes `entry`; a missing one is not an error.
    fn delete(&self, entry: &str) -> Result<(), KeystoreError>;
}

/// A keystore that did not answer, with its own words for the log.
#[derive(Debug, thiserror::Error)]
#[error("the platform keystore failed: {0}")]
pub struct KeystoreError(pub String);

/// A new device secret in `keystore`, under a new entry name: what a PIN
/// wrap made with the keystore mixes into its key.
pub(super) fn new_device_secret(
    keystore: &dyn Keystore,
) -> Result<(String, Zeroizing<[u8; KEY_LEN]>), KeystoreError> {
    let secret = super::random_key();
    let entry = format!("device-secret-{}", uuid::Uuid::now_v7());
    keystore.set(&entry, secret.as_ref())?;
    Ok((entry, secret))
}

/// An in-memory keystore for tests (a map shared by its clones): it
/// stands in for the platform's where only the wrap's rules are tested.
#[derive(Debug, Clone, Default)]
pub struct MemoryKeystore(
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>>,
);

impl MemoryKeystore {
    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Vec<u8>>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.map().is_empty()
    }

    /// Forgets every entry: a keystore reset.
    pub fn clear(&self) {
        self.map().clear();
    }
}

impl Keystore for MemoryKeystore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn get(&self, entry: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeystoreError> {
        Ok(self.map().get(entry).cloned().map(Zeroizing::new))
    }

    fn set(&self, entry: &str, secret: &[u8]) -> Result<(), KeystoreError> {
        self.map().insert(entry.to_string(), secret.to_vec());
        Ok(())
    }

    fn delete(&self, entry: &str) -> Result<(), KeystoreError> {
        self.map().remove(entry);
        Ok(())
    }
}
