//! The device's keys: everything the app keeps in its data folder is
//! encrypted with one random data key, and that key is never on disk in
//! clear.
//!
//! - **The data key** ([`DataKey`]): 32 random bytes made once per device
//!   (at the first sign-in). It is the SQLCipher key of the store
//!   (`device.sqlite`, photos included as BLOBs; [`crate::store::Store::open_encrypted`])
//!   and seals every other file the app writes ([`DataKey::seal`]:
//!   XChaCha20-Poly1305, a random 24-byte nonce per file, the file's
//!   purpose as associated data so one sealed file cannot stand in for
//!   another). It lives in memory only while the app is unlocked and is
//!   zeroized when dropped.
//! - **The key file** (`keys.json`, [`KeyFile`]) holds the data key
//!   wrapped (sealed) twice: by a key derived from the worker's six-digit
//!   PIN (argon2id, a random 16-byte salt, the parameters stored beside it
//!   so they can be raised later) and, where the platform has a keystore,
//!   a device secret kept there (below), and by a recovery secret the
//!   server keeps for this device ([`KeyFile::wrap_for_recovery`]).
//!   Changing the PIN wraps the same data key again: nothing else is
//!   re-encrypted.
//! - **The platform keystore** ([`Keystore`]; the app's is the Secret
//!   Service on Linux, the Keychain on Apple's systems, the Credential
//!   Manager on Windows: `src-tauri/src/keystore.rs`). Each PIN wrap made
//!   where one answers gets 32 random bytes of its own, stored there under
//!   a new entry and never in the data folder; the wrap's key is
//!   HKDF-SHA256 of argon2id(PIN) and that device secret, and the key file
//!   names the keystore and the entry beside the wrap. A copy of the data
//!   folder then does not open with the right PIN: the secret stays
//!   behind. At unlock a keystore that does not answer changes nothing
//!   ([`VaultError::KeystoreUnavailable`], no try counted); one that
//!   answers without the entry (a reset keyring, or another device) makes
//!   the PIN's wrap useless, so it is destroyed as after a lock-out
//!   ([`VaultError::KeystoreLost`]) and a fresh password login recovers
//!   the same key (below): a reset keystore never loses data. A new PIN
//!   gets a new secret and the old entry is deleted; a wipe deletes it
//!   too. A wrap made without one (an earlier version) is made again with
//!   it at the first unlock where one answers. Where there is no keystore (Android in this build, a Linux
//!   session without a Secret Service) or it refuses the secret, the PIN
//!   alone wraps the key, as before, and the app says so (its log, and
//!   the About screen: `PinView::keystore`).
//! - **Wrong PINs** are counted in the key file before the key derivation
//!   runs (a killed app cannot skip the count) and cost growing waits
//!   ([`pin::wait_after`]); a restart does not reset them. The
//!   [`pin::MAX_FAILURES`]th wrong PIN destroys the PIN's wrap. The
//!   encrypted data stays: the device needs a fresh password login to the
//!   server, which returns the recovery secret, which unwraps the data key,
//!   and the worker chooses a new PIN.
//! - **The recovery secret**: 32 random bytes the server makes at a
//!   device's password login and keeps with that enrolment, returned only
//!   in the answer to a successful password login
//!   (`sync::api::Login::recovery_secret`; the server's rules are
//!   `gridwork-server`'s `enrol` module). Each sign-in wraps the key with
//!   it ([`sign_in::key_for_sign_in`] holds the rule). A later login of the
//!   same user on the same tablet names that enrolment
//!   ([`KeyFile::recovery_device`]) to get it again. A device marked lost,
//!   revoked or wiped never gets it back, nor does another user, so its
//!   data stays sealed. A key file from an enrolment made before the server
//!   kept secrets has no recovery wrap: there ten wrong PINs still leave
//!   the data unreadable (crypto-erased) and the fresh login starts from
//!   an empty store ([`sign_in::SignInKey::Replaced`]).
//! - **The throttle's clock** ([`Clock`]) is the system's in the app and
//!   one a test moves, so tests of the waits do not sleep.
//! - **Crypto-erase** ([`destroy_keys`]): deleting the key file leaves the
//!   store and the sealed files as random bytes.
//!
//! What this does not stop: where the PIN alone wraps the key (no
//! keystore), someone holding a copy of the data folder can try every PIN
//! offline against the PIN's wrap (argon2id makes each try cost what an
//! unlock costs; the throttle only binds the app). With a keystore they
//! need its device secret as well, which a copy of the folder does not
//! carry; someone holding the unlocked device itself (its keystore open)
//! is bound by the throttle only.

pub mod keystore;
pub mod pin;
pub mod sign_in;

mod keyfile;

use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

pub use keyfile::{KEYS_FILE, KdfParams, KeyFile, PinStatus, destroy_keys};
pub use keystore::{Keystore, KeystoreError};
/// Keys and PINs held in memory are zeroized when dropped.
pub use zeroize::Zeroizing;

/// Bytes of a data key, a recovery secret and a PIN-derived key.
pub const KEY_LEN: usize = 32;
/// Bytes of an XChaCha20-Poly1305 nonce.
const NONCE_LEN: usize = 24;
/// Sealed files start with this, so a damaged or foreign file is told
/// apart from a wrong key.
const SEAL_MAGIC: &[u8] = b"GWSEAL1\n";

/// What can go wrong with the device's keys.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("the key file could not be read or written: {0}")]
    Io(#[from] std::io::Error),
    #[error("the key file is damaged: {0}")]
    Corrupt(String),
    #[error("wrong PIN ({failures} wrong so far)")]
    WrongPin {
        failures: u32,
        /// Milliseconds until the next try is allowed (0: right away).
        wait_ms: i64,
    },
    #[error("too many wrong PINs: wait {wait_ms} ms before the next try")]
    Throttled { wait_ms: i64 },
    #[error("too many wrong PINs: sign in to the server again to set a new PIN")]
    LockedOut,
    #[error("no PIN is set on this device")]
    NoPin,
    #[error("this PIN is not allowed: {0}")]
    PinRefused(#[from] pin::PinRefused),
    #[error("the data could not be unsealed: wrong key or damaged")]
    Unseal,
    #[error("the recovery secret does not open this device's key")]
    WrongRecovery,
    #[error("a PIN is set: it is typed before anything else")]
    PinNotTyped,
    #[error(
        "the platform keystore no longer holds the PIN's device secret: sign in to the server again to set a new PIN"
    )]
    KeystoreLost,
    #[error("the PIN's wrap needs the platform keystore, which did not answer")]
    KeystoreUnavailable,
}

impl VaultError {
    /// A stable code for the UI and the logs.
    pub fn code(&self) -> &'static str {
        match self {
            VaultError::Io(_) => "vault_io",
            VaultError::Corrupt(_) => "vault_corrupt",
            VaultError::WrongPin { .. } => "pin_wrong",
            VaultError::Throttled { .. } => "pin_throttled",
            VaultError::LockedOut => "pin_locked_out",
            VaultError::NoPin => "pin_not_set",
            VaultError::PinRefused(e) => e.code(),
            VaultError::Unseal => "vault_unseal",
            VaultError::WrongRecovery => "vault_wrong_recovery",
            VaultError::PinNotTyped => "locked",
            VaultError::KeystoreLost => "pin_keystore_lost",
            VaultError::KeystoreUnavailable => "keystore_unavailable",
        }
    }
}

/// The throttle's clock, in Unix ms: the system's, or a manual one that
/// only a test moves (shared by its clones).
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<std::sync::Arc<std::sync::atomic::AtomicI64>>);

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock standing at `start_ms` until [`Clock::advance`] moves it.
    pub fn manual(start_ms: i64) -> Clock {
        Clock(Some(std::sync::Arc::new(start_ms.into())))
    }

    /// Now, in Unix ms.
    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            Some(t) => t.load(std::sync::atomic::Ordering::SeqCst),
            None => jiff::Timestamp::now().as_millisecond(),
        }
    }

    /// Moves a manual clock on by `ms` (the system's is not moved).
    pub fn advance(&self, ms: i64) {
        if let Some(t) = &self.0 {
            t.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// The device's data key. Zeroized when dropped; never printed.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// A new random key, from the operating system's generator.
    pub fn generate() -> DataKey {
        DataKey(random_key())
    }

    pub(crate) fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> DataKey {
        DataKey(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The SQLCipher `PRAGMA key` value: the raw key form `x'…'`, so
    /// SQLCipher uses the key as it is and runs no key derivation of its
    /// own (the PIN's argon2id already did).
    pub fn sqlcipher_key(&self) -> Zeroizing<String> {
        let mut hex = Zeroizing::new(String::with_capacity(2 * KEY_LEN + 3));
        hex.push_str("x'");
        for b in self.0.iter() {
            hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        hex.push('\'');
        hex
    }

    /// `plaintext` sealed for `purpose` (for example the file's name):
    /// a header, a random nonce and the ciphertext with its tag.
    pub fn seal(&self, plaintext: &[u8], purpose: &str) -> Vec<u8> {
        let sealed = seal_with(&self.0, plaintext, purpose.as_bytes());
        let mut out = Vec::with_capacity(SEAL_MAGIC.len() + sealed.len());
        out.extend_from_slice(SEAL_MAGIC);
        out.extend_from_slice(&sealed);
        out
    }

    /// What [`DataKey::seal`] sealed for the same `purpose`.
    pub fn open(&self, sealed: &[u8], purpose: &str) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let body = sealed
            .strip_prefix(SEAL_MAGIC)
            .ok_or_else(|| VaultError::Corrupt("not a sealed file".into()))?;
        open_with(&self.0, body, purpose.as_bytes()).ok_or(VaultError::Unseal)
    }

    /// Writes `plaintext` sealed to `path`, atomically (a temporary file
    /// renamed over it), the file's name as its purpose.
    pub fn seal_file(&self, path: &std::path::Path, plaintext: &[u8]) -> Result<(), VaultError> {
        let sealed = self.seal(plaintext, &purpose_of(path));
        keyfile::write_atomic(path, &sealed)?;
        Ok(())
    }

    /// Reads a file [`DataKey::seal_file`] wrote; `None` when it is absent.
    pub fn open_file(
        &self,
        path: &std::path::Path,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        match std::fs::read(path) {
            Ok(bytes) => self.open(&bytes, &purpose_of(path)).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// Which of `needles` (a name, the bytes) stand anywhere in the files of
/// the folder `dir`: the check that a copied data folder gives nothing
/// away (used by the tests of the store and of the app).
pub fn found_in_folder<'a>(
    dir: &std::path::Path,
    needles: &[(&'a str, &[u8])],
) -> std::io::Result<Vec<&'a str>> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() {
            all.extend(std::fs::read(path)?);
        }
    }
    Ok(needles
        .iter()
        .filter(|(_, needle)| all.windows(needle.len()).any(|w| w == *needle))
        .map(|(name, _)| *name)
        .collect())
}

fn purpose_of(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// 32 random bytes from the operating system.
pub(crate) fn random_key() -> Zeroizing<[u8; KEY_LEN]> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    OsRng.fill_bytes(key.as_mut());
    key
}

/// Nonce then ciphertext and tag.
fn seal_with(key: &[u8; KEY_LEN], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any message that fits in memory");
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

fn open_with(key: &[u8; KEY_LEN], sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
        .map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bytes_open_with_their_key_and_purpose_only() {
        let key = DataKey::generate();
        let sealed = key.seal(b"token-secret", "session");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(&key.open(&sealed, "session").unwrap()[..], b"token-secret");
        assert!(matches!(
            key.open(&sealed, "other"),
            Err(VaultError::Unseal)
        ));
        assert!(matches!(
            DataKey::generate().open(&sealed, "session"),
            Err(VaultError::Unseal)
        ));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(matches!(
            key.open(&flipped, "session"),
            Err(VaultError::Unseal)
        ));
    }

    #[test]
    fn the_sqlcipher_key_is_the_raw_hex_form() {
        let key = DataKey::from_bytes(Zeroizing::new([0xab; KEY_LEN]));
        let text = key.sqlcipher_key();
        assert_eq!(text.len(), 67);
        assert!(text.starts_with("x'abab") && text.ends_with("ab'"));
        assert_eq!(format!("{key:?}"), "DataKey(..)");
    }
}
