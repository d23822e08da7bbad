//! The key file: the data key wrapped by the PIN and by the server's
//! recovery secret, and the count of wrong PINs. See the [vault](super)
//! docs for the design.

use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::OsRng;
use chacha20poly1305::aead::rand_core::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::keystore::{Keystore, new_device_secret};
use super::pin::{MAX_FAILURES, Pin, wait_after};
use super::{DataKey, KEY_LEN, VaultError, open_with, seal_with};

/// The key file's name in the data folder.
pub const KEYS_FILE: &str = "keys.json";

/// The only layout of the key file so far.
const VERSION: u32 = 1;
const PIN_AAD: &[u8] = b"gridwork data key, wrapped by the PIN";
const RECOVERY_AAD: &[u8] = b"gridwork data key, wrapped by the server's recovery secret";
const SALT_LEN: usize = 16;
/// HKDF's `info` for the PIN wrap's key made of argon2id(PIN) and the
/// platform keystore's device secret.
const KEYSTORE_KEK_INFO: &[u8] =
    b"gridwork PIN wrap key: argon2id(PIN) and the keystore's device secret";

/// argon2id's cost, stored beside each wrap so it can be raised later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// What the app uses: 64 MiB and 3 passes, about a third of a second
    /// on the project's 2-core machines (the bench's `unlock_ms`), well
    /// under the 1 s an unlock may take.
    pub const DEFAULT: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };
    /// Cheap parameters for tests, which unlock many times.
    pub const FAST_FOR_TESTS: KdfParams = KdfParams {
        m_kib: 256,
        t: 1,
        p: 1,
    };

    fn derive(&self, pin: &Pin, salt: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>, VaultError> {
        let params = Params::new(self.m_kib, self.t, self.p, Some(KEY_LEN))
            .map_err(|e| VaultError::Corrupt(format!("argon2 parameters: {e}")))?;
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(pin.as_bytes(), salt, out.as_mut())
            .map_err(|e| VaultError::Corrupt(format!("argon2: {e}")))?;
        Ok(out)
    }
}

/// The key that wraps the data key for `pin`: argon2id of the PIN, and
/// where the wrap was made with a platform keystore, that mixed with the
/// keystore's device secret through HKDF-SHA256 (the wrap's salt as
/// HKDF's salt). Without the device secret the PIN alone, tried offline,
/// opens nothing.
fn pin_kek(
    kdf: &KdfParams,
    pin: &Pin,
    salt: &[u8],
    device_secret: Option<&[u8]>,
) -> Result<Zeroizing<[u8; KEY_LEN]>, VaultError> {
    let from_pin = kdf.derive(pin, salt)?;
    let Some(secret) = device_secret else {
        return Ok(from_pin);
    };
    let mut ikm = Zeroizing::new(Vec::with_capacity(2 * KEY_LEN));
    ikm.extend_from_slice(from_pin.as_ref());
    ikm.extend_from_slice(secret);
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), &ikm)
        .expand(KEYSTORE_KEK_INFO, out.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    Ok(out)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PinWrap {
    /// Hex.
    salt: String,
    kdf: KdfParams,
    /// Hex: nonce, then the data key sealed, then the tag.
    wrapped: String,
    /// The platform keystore entry whose device secret the wrap's key
    /// needs; absent for a wrap made where there was none (and in key
    /// files written before the app used one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    keystore: Option<KeystoreRef>,
}

/// Where a PIN wrap's device secret is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct KeystoreRef {
    /// [`Keystore::kind`].
    kind: String,
    /// The entry's name in that keystore.
    entry: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RecoveryWrap {
    /// The device enrolment whose recovery secret wraps the key: a login
    /// names it to get the secret back.
    device_id: String,
    /// Hex, as [`PinWrap::wrapped`].
    wrapped: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Contents {
    version: u32,
    pin: Option<PinWrap>,
    recovery: Option<RecoveryWrap>,
    /// Wrong PINs in a row.
    failures: u32,
    /// No PIN is tried before this time (Unix ms).
    wait_until_ms: i64,
    /// The PIN's wrap was destroyed after too many wrong PINs.
    locked_out: bool,
    /// The PIN's wrap was destroyed because the keystore no longer had
    /// its device secret (also sets `locked_out`).
    #[serde(default)]
    keystore_lost: bool,
}

/// Whether a PIN is set and how the throttle stands, for the lock screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinStatus {
    /// A PIN opens this device's data.
    pub set: bool,
    /// Wrong PINs in a row.
    pub failures: u32,
    /// Milliseconds until the next try is allowed.
    pub wait_ms: i64,
    /// Too many wrong PINs: a fresh server login is needed.
    pub locked_out: bool,
    /// Wrong PINs left before the lock-out.
    pub tries_left: u32,
    /// The platform keystore the PIN's wrap needs ([`Keystore::kind`]);
    /// `None` where the PIN alone wraps the key.
    pub keystore: Option<String>,
    /// The lock-out came from the keystore losing the device secret (it
    /// was reset), not from wrong PINs.
    pub keystore_lost: bool,
}

/// The key file of one data folder. See the [vault](super) docs.
#[derive(Debug)]
pub struct KeyFile {
    path: PathBuf,
    contents: Contents,
}

impl KeyFile {
    /// The key file in `dir`, or `None` when there is none (a device that
    /// never set a PIN, or whose keys were destroyed).
    pub fn load(dir: &Path) -> Result<Option<KeyFile>, VaultError> {
        let path = dir.join(KEYS_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let contents: Contents =
            serde_json::from_slice(&bytes).map_err(|e| VaultError::Corrupt(e.to_string()))?;
        if contents.version != VERSION {
            return Err(VaultError::Corrupt(format!(
                "key file version {} (this build reads {VERSION})",
                contents.version
            )));
        }
        Ok(Some(KeyFile { path, contents }))
    }

    /// A key file for `dir` holding no wrap yet; written by the first
    /// [`KeyFile::set_pin`] or [`KeyFile::wrap_for_recovery`].
    pub fn new(dir: &Path) -> KeyFile {
        KeyFile {
            path: dir.join(KEYS_FILE),
            contents: Contents {
                version: VERSION,
                ..Contents::default()
            },
        }
    }

    /// The PIN's state at `now_ms` (Unix ms).
    pub fn status(&self, now_ms: i64) -> PinStatus {
        let c = &self.contents;
        PinStatus {
            set: c.pin.is_some(),
            failures: c.failures,
            wait_ms: (c.wait_until_ms - now_ms).max(0),
            locked_out: c.locked_out,
            tries_left: MAX_FAILURES.saturating_sub(c.failures),
            keystore: c
                .pin
                .as_ref()
                .and_then(|w| w.keystore.as_ref())
                .map(|k| k.kind.clone()),
            keystore_lost: c.keystore_lost,
        }
    }

    /// Unwraps the data key with `pin` at `now_ms`. A wrong PIN is
    /// counted (on disk, before the key derivation runs) and costs the
    /// next try a wait; the [`MAX_FAILURES`]th destroys the PIN's wrap.
    ///
    /// A wrap made with a platform keystore needs its device secret from
    /// `keystore`: a keystore that does not answer leaves everything as it
    /// was ([`VaultError::KeystoreUnavailable`], no try counted); one that
    /// answers without the entry (reset, or a data folder copied to
    /// another device) makes the PIN's wrap useless, so it is destroyed
    /// like after a lock-out ([`VaultError::KeystoreLost`]): a fresh
    /// server login recovers the same key. A wrap made without a keystore
    /// is made again with `keystore` when the PIN opens it.
    pub fn unlock(
        &mut self,
        pin: &Pin,
        now_ms: i64,
        keystore: Option<&dyn Keystore>,
    ) -> Result<DataKey, VaultError> {
        if self.contents.locked_out {
            return Err(if self.contents.keystore_lost {
                VaultError::KeystoreLost
            } else {
                VaultError::LockedOut
            });
        }
        let Some(wrap) = self.contents.pin.clone() else {
            return Err(VaultError::NoPin);
        };
        let wait_ms = self.contents.wait_until_ms - now_ms;
        if wait_ms > 0 {
            return Err(VaultError::Throttled { wait_ms });
        }
        let device_secret = match &wrap.keystore {
            Some(at) => Some(self.device_secret(at, keystore)?),
            None => None,
        };
        // Counted as wrong until it proves right.
        self.contents.failures += 1;
        self.contents.wait_until_ms = now_ms + wait_after(self.contents.failures);
        self.save()?;
        let salt = decode(&wrap.salt)?;
        let kek = pin_kek(
            &wrap.kdf,
            pin,
            &salt,
            device_secret.as_deref().map(|s| &s[..]),
        )?;
        if let Some(key) = unwrap_key(&kek, &decode(&wrap.wrapped)?, PIN_AAD) {
            self.contents.failures = 0;
            self.contents.wait_until_ms = 0;
            self.save()?;
            if wrap.keystore.is_none()
                && let Some(keystore) = keystore
            {
                // A wrap made before there was a keystore (an earlier
                // version, or a session without one): made again with it
                // now, while the PIN is at hand.
                tracing::info!(
                    keystore = keystore.kind(),
                    "the PIN's key wrap now needs the platform keystore too"
                );
                self.set_pin(&key, pin, wrap.kdf, Some(keystore))?;
            }
            return Ok(key);
        }
        let failures = self.contents.failures;
        if failures >= MAX_FAILURES {
            tracing::warn!(
                failures,
                "too many wrong PINs: the PIN's key wrap is destroyed"
            );
            self.contents.pin = None;
            self.contents.locked_out = true;
            self.save()?;
            return Err(VaultError::LockedOut);
        }
        Err(VaultError::WrongPin {
            failures,
            wait_ms: wait_after(failures),
        })
    }

    /// The device secret a wrap made with the keystore `at` needs; see
    /// [`KeyFile::unlock`].
    fn device_secret(
        &mut self,
        at: &KeystoreRef,
        keystore: Option<&dyn Keystore>,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let Some(keystore) = keystore else {
            tracing::warn!(keystore = %at.kind, "the PIN's wrap needs a platform keystore and none is available");
            return Err(VaultError::KeystoreUnavailable);
        };
        let found = if keystore.kind() == at.kind {
            keystore.get(&at.entry).map_err(|e| {
                tracing::warn!(error = %e, "the platform keystore did not answer");
                VaultError::KeystoreUnavailable
            })?
        } else {
            None
        };
        match found {
            Some(secret) if secret.len() == KEY_LEN => Ok(secret),
            _ => {
                tracing::warn!(
                    keystore = %at.kind,
                    "the platform keystore no longer holds the device secret: the PIN's key wrap is destroyed"
                );
                self.contents.pin = None;
                self.contents.locked_out = true;
                self.contents.keystore_lost = true;
                self.save()?;
                Err(VaultError::KeystoreLost)
            }
        }
    }

    /// Wraps `key` with a new `pin` (replacing the PIN's wrap, if any) and
    /// writes the file: setting a PIN, changing it, or setting a new one
    /// after a lock-out. The data is not re-encrypted. With a `keystore`
    /// the wrap's key also needs a new device secret kept there (the
    /// previous wrap's entry is deleted once the file is written); a
    /// keystore that refuses it leaves the PIN alone to wrap the key, as
    /// where there is none (logged).
    pub fn set_pin(
        &mut self,
        key: &DataKey,
        pin: &Pin,
        kdf: KdfParams,
        keystore: Option<&dyn Keystore>,
    ) -> Result<(), VaultError> {
        let mut salt = [0u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        let device = match keystore.map(|k| (k, new_device_secret(k))) {
            Some((k, Ok((entry, secret)))) => Some((
                KeystoreRef {
                    kind: k.kind().to_string(),
                    entry,
                },
                secret,
            )),
            Some((k, Err(e))) => {
                tracing::warn!(keystore = k.kind(), error = %e, "the platform keystore did not take a device secret: the PIN alone wraps the key");
                None
            }
            None => None,
        };
        let kek = pin_kek(&kdf, pin, &salt, device.as_ref().map(|(_, s)| &s[..]))?;
        let old = self.contents.pin.take().and_then(|w| w.keystore);
        self.contents.pin = Some(PinWrap {
            salt: hex::encode(salt),
            kdf,
            wrapped: hex::encode(seal_with(&kek, key.bytes(), PIN_AAD)),
            keystore: device.map(|(at, _)| at),
        });
        self.contents.failures = 0;
        self.contents.wait_until_ms = 0;
        self.contents.locked_out = false;
        self.contents.keystore_lost = false;
        self.save()?;
        if let (Some(old), Some(keystore)) = (old, keystore) {
            delete_entry(&old, keystore);
        }
        Ok(())
    }

    /// Wraps `key` also with the recovery `secret` the server keeps for
    /// enrolment `device_id`, and writes the file.
    pub fn wrap_for_recovery(
        &mut self,
        key: &DataKey,
        device_id: &str,
        secret: &[u8; KEY_LEN],
    ) -> Result<(), VaultError> {
        self.contents.recovery = Some(RecoveryWrap {
            device_id: device_id.to_string(),
            wrapped: hex::encode(seal_with(secret, key.bytes(), RECOVERY_AAD)),
        });
        self.save()
    }

    /// The enrolment whose recovery secret can unwrap the key, if any.
    pub fn recovery_device(&self) -> Option<&str> {
        self.contents
            .recovery
            .as_ref()
            .map(|r| r.device_id.as_str())
    }

    /// The data key, unwrapped with the server's recovery secret (after a
    /// fresh password login).
    pub fn recover(&self, secret: &[u8; KEY_LEN]) -> Result<DataKey, VaultError> {
        let wrap = self
            .contents
            .recovery
            .as_ref()
            .ok_or(VaultError::WrongRecovery)?;
        unwrap_key(secret, &decode(&wrap.wrapped)?, RECOVERY_AAD).ok_or(VaultError::WrongRecovery)
    }

    /// Deletes the PIN wrap's device secret from `keystore`, if it has
    /// one there: with the key file going too (a wipe), not even the PIN
    /// and a copy of the folder open it again.
    pub fn delete_device_secret(&self, keystore: &dyn Keystore) {
        if let Some(at) = self.contents.pin.as_ref().and_then(|w| w.keystore.as_ref()) {
            delete_entry(at, keystore);
        }
    }

    fn save(&self) -> Result<(), VaultError> {
        let json = serde_json::to_vec_pretty(&self.contents)
            .map_err(|e| VaultError::Corrupt(e.to_string()))?;
        write_atomic(&self.path, &json)?;
        Ok(())
    }
}

/// Deletes the keystore entry `at`, when it is in `keystore` (a failure
/// is logged: an entry left behind opens nothing without the key file).
fn delete_entry(at: &KeystoreRef, keystore: &dyn Keystore) {
    if at.kind == keystore.kind()
        && let Err(e) = keystore.delete(&at.entry)
    {
        tracing::warn!(error = %e, "an old device secret could not be deleted from the platform keystore");
    }
}

/// Crypto-erase: destroys the key file of the data folder `dir`, so the
/// store and every sealed file in it are random bytes from now on. The
/// file is overwritten with zeros and synced before it is removed (a
/// flash disk may still keep old blocks; the wraps in them need the PIN or
/// the server's secret, which a lost device no longer gets), and the PIN
/// wrap's device secret is deleted from `keystore`. Missing keys are not
/// an error.
pub fn destroy_keys(dir: &Path, keystore: Option<&dyn Keystore>) -> Result<(), VaultError> {
    let path = dir.join(KEYS_FILE);
    if let Some(keystore) = keystore
        && let Ok(Some(file)) = KeyFile::load(dir)
    {
        file.delete_device_secret(keystore);
    }
    match std::fs::metadata(&path) {
        Ok(meta) => {
            let mut file = std::fs::OpenOptions::new().write(true).open(&path)?;
            file.write_all(&vec![0u8; meta.len() as usize])?;
            file.sync_all()?;
            drop(file);
            std::fs::remove_file(&path)?;
            sync_dir(dir)?;
            tracing::info!("device keys destroyed");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn unwrap_key(kek: &[u8; KEY_LEN], wrapped: &[u8], aad: &[u8]) -> Option<DataKey> {
    let bytes = open_with(kek, wrapped, aad)?;
    let array: [u8; KEY_LEN] = bytes.as_slice().try_into().ok()?;
    Some(DataKey::from_bytes(Zeroizing::new(array)))
}

fn decode(text: &str) -> Result<Vec<u8>, VaultError> {
    hex::decode(text).map_err(|e| VaultError::Corrupt(e.to_string()))
}

/// Writes `bytes` to `path` through a synced temporary file renamed over
/// it: a crash leaves the old file or the new one, never a mix.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::pin::MAX_FAILURES;

    const FAST: KdfParams = KdfParams::FAST_FOR_TESTS;

    fn pin(s: &str) -> Pin {
        Pin::parse(s).unwrap()
    }

    #[test]
    fn the_pin_unwraps_the_key_and_a_new_pin_wraps_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        assert!(KeyFile::load(dir.path()).unwrap().is_none());
        let key = DataKey::generate();
        KeyFile::new(dir.path())
            .set_pin(&key, &pin("135792"), FAST, None)
            .unwrap();
        let raw = std::fs::read(dir.path().join(KEYS_FILE)).unwrap();
        assert!(
            !raw.windows(KEY_LEN).any(|w| w == key.bytes()),
            "the key is not in clear"
        );
        assert!(!String::from_utf8_lossy(&raw).contains(&hex::encode(key.bytes())));

        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert_eq!(
            file.unlock(&pin("135792"), 0, None).unwrap().bytes(),
            key.bytes()
        );
        file.set_pin(&key, &pin("246813"), FAST, None).unwrap();
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert!(matches!(
            file.unlock(&pin("135792"), 0, None),
            Err(VaultError::WrongPin { failures: 1, .. })
        ));
        assert_eq!(
            file.unlock(&pin("246813"), 0, None).unwrap().bytes(),
            key.bytes()
        );
        assert_eq!(file.status(0).failures, 0, "a right PIN clears the count");
    }

    #[test]
    fn wrong_pins_wait_longer_each_time_across_restarts_and_ten_lock_out() {
        let dir = tempfile::tempdir().unwrap();
        let key = DataKey::generate();
        let mut file = KeyFile::new(dir.path());
        file.set_pin(&key, &pin("135792"), FAST, None).unwrap();
        file.wrap_for_recovery(&key, "device-1", &[9; KEY_LEN])
            .unwrap();
        let mut now = 1_000_000;
        let mut waits = Vec::new();
        for n in 1..MAX_FAILURES {
            // A restart between tries: the count is on disk.
            let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
            match file.unlock(&pin("000001"), now, None) {
                Err(VaultError::WrongPin { failures, wait_ms }) => {
                    assert_eq!(failures, n);
                    waits.push(wait_ms);
                    if wait_ms > 0 {
                        // Even the right PIN waits.
                        let early = file.unlock(&pin("135792"), now + wait_ms - 1, None);
                        assert!(matches!(early, Err(VaultError::Throttled { .. })));
                        assert_eq!(file.status(now).wait_ms, wait_ms);
                    }
                    now += wait_ms;
                }
                other => panic!("try {n}: {other:?}"),
            }
        }
        assert!(
            waits[2] > 0 && waits.windows(2).all(|w| w[1] >= w[0]),
            "{waits:?}"
        );
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert!(matches!(
            file.unlock(&pin("000001"), now, None),
            Err(VaultError::LockedOut)
        ));
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        let status = file.status(now);
        assert!(status.locked_out && !status.set, "{status:?}");
        assert!(matches!(
            file.unlock(&pin("135792"), now + 1_000_000_000, None),
            Err(VaultError::LockedOut)
        ));

        // The server's secret gets the same key back; a new PIN opens it.
        assert!(matches!(
            file.recover(&[8; KEY_LEN]),
            Err(VaultError::WrongRecovery)
        ));
        assert_eq!(file.recovery_device(), Some("device-1"));
        let recovered = file.recover(&[9; KEY_LEN]).unwrap();
        assert_eq!(recovered.bytes(), key.bytes());
        file.set_pin(&recovered, &pin("246813"), FAST, None)
            .unwrap();
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert_eq!(
            file.unlock(&pin("246813"), now, None).unwrap().bytes(),
            key.bytes()
        );
    }

    #[test]
    fn with_a_keystore_the_pin_alone_opens_nothing_and_a_reset_keystore_needs_the_server() {
        use crate::vault::keystore::MemoryKeystore;
        let dir = tempfile::tempdir().unwrap();
        let keystore = MemoryKeystore::default();
        let ks: Option<&dyn Keystore> = Some(&keystore);
        let key = DataKey::generate();
        let mut file = KeyFile::new(dir.path());
        file.set_pin(&key, &pin("135792"), FAST, ks).unwrap();
        file.wrap_for_recovery(&key, "device-1", &[9; KEY_LEN])
            .unwrap();
        assert_eq!(keystore.len(), 1);
        let status = file.status(0);
        assert_eq!(status.keystore.as_deref(), Some("memory"));
        let raw = std::fs::read_to_string(dir.path().join(KEYS_FILE)).unwrap();
        assert!(raw.contains("\"keystore\""), "{raw}");

        // The keystore's secret and the PIN open it.
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert_eq!(
            file.unlock(&pin("135792"), 0, ks).unwrap().bytes(),
            key.bytes()
        );

        // A copy of the folder whose key file is edited to say no keystore
        // is needed: the right PIN alone does not open it.
        let copy = tempfile::tempdir().unwrap();
        let mut json: serde_json::Value = serde_json::from_str(&raw).unwrap();
        json["pin"].as_object_mut().unwrap().remove("keystore");
        std::fs::write(copy.path().join(KEYS_FILE), json.to_string()).unwrap();
        let mut stolen = KeyFile::load(copy.path()).unwrap().unwrap();
        assert!(matches!(
            stolen.unlock(&pin("135792"), 0, None),
            Err(VaultError::WrongPin { failures: 1, .. })
        ));

        // No keystore answering: nothing is counted or destroyed.
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert!(matches!(
            file.unlock(&pin("135792"), 0, None),
            Err(VaultError::KeystoreUnavailable)
        ));
        assert_eq!(file.status(0).failures, 0);
        assert!(file.status(0).set);

        // Changing the PIN makes a new device secret and deletes the old.
        file.set_pin(&key, &pin("246813"), FAST, ks).unwrap();
        assert_eq!(keystore.len(), 1);

        // The keystore is reset: the PIN's wrap is useless and destroyed,
        // the server's secret still gets the key back.
        keystore.clear();
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert!(matches!(
            file.unlock(&pin("246813"), 0, ks),
            Err(VaultError::KeystoreLost)
        ));
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        let status = file.status(0);
        assert!(
            status.locked_out && status.keystore_lost && !status.set,
            "{status:?}"
        );
        assert!(matches!(
            file.unlock(&pin("246813"), 0, ks),
            Err(VaultError::KeystoreLost)
        ));
        let recovered = file.recover(&[9; KEY_LEN]).unwrap();
        assert_eq!(recovered.bytes(), key.bytes());
        file.set_pin(&recovered, &pin("246813"), FAST, ks).unwrap();
        assert!(!file.status(0).keystore_lost);
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert_eq!(
            file.unlock(&pin("246813"), 0, ks).unwrap().bytes(),
            key.bytes()
        );

        // A wipe deletes the device secret too.
        destroy_keys(dir.path(), ks).unwrap();
        assert!(keystore.is_empty());
    }

    #[test]
    fn without_a_keystore_the_key_file_is_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let key = DataKey::generate();
        let mut file = KeyFile::new(dir.path());
        file.set_pin(&key, &pin("135792"), FAST, None).unwrap();
        assert_eq!(file.status(0).keystore, None);
        let raw = std::fs::read_to_string(dir.path().join(KEYS_FILE)).unwrap();
        assert!(!raw.contains("keystore\":"), "{raw}");
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert_eq!(
            file.unlock(&pin("135792"), 0, None).unwrap().bytes(),
            key.bytes()
        );

        // A keystore answering at a later unlock: the wrap is made again
        // with its device secret, and needs it from then on.
        let keystore = crate::vault::keystore::MemoryKeystore::default();
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert_eq!(
            file.unlock(&pin("135792"), 0, Some(&keystore))
                .unwrap()
                .bytes(),
            key.bytes()
        );
        assert_eq!(keystore.len(), 1);
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert_eq!(file.status(0).keystore.as_deref(), Some("memory"));
        assert!(matches!(
            file.unlock(&pin("135792"), 0, None),
            Err(VaultError::KeystoreUnavailable)
        ));
        assert_eq!(
            file.unlock(&pin("135792"), 0, Some(&keystore))
                .unwrap()
                .bytes(),
            key.bytes()
        );
    }

    #[test]
    fn destroyed_keys_are_gone() {
        let dir = tempfile::tempdir().unwrap();
        let key = DataKey::generate();
        KeyFile::new(dir.path())
            .set_pin(&key, &pin("135792"), FAST, None)
            .unwrap();
        destroy_keys(dir.path(), None).unwrap();
        assert!(KeyFile::load(dir.path()).unwrap().is_none());
        destroy_keys(dir.path(), None).unwrap();
    }
}
