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

use super::pin::{MAX_FAILURES, Pin, wait_after};
use super::{DataKey, KEY_LEN, VaultError, open_with, seal_with};

/// The key file's name in the data folder.
pub const KEYS_FILE: &str = "keys.json";

/// The only layout of the key file so far.
const VERSION: u32 = 1;
const PIN_AAD: &[u8] = b"gridwork data key, wrapped by the PIN";
const RECOVERY_AAD: &[u8] = b"gridwork data key, wrapped by the server's recovery secret";
const SALT_LEN: usize = 16;

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

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PinWrap {
    /// Hex.
    salt: String,
    kdf: KdfParams,
    /// Hex: nonce, then the data key sealed, then the tag.
    wrapped: String,
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
        }
    }

    /// Unwraps the data key with `pin` at `now_ms`. A wrong PIN is
    /// counted (on disk, before the key derivation runs) and costs the
    /// next try a wait; the [`MAX_FAILURES`]th destroys the PIN's wrap.
    pub fn unlock(&mut self, pin: &Pin, now_ms: i64) -> Result<DataKey, VaultError> {
        if self.contents.locked_out {
            return Err(VaultError::LockedOut);
        }
        let Some(wrap) = self.contents.pin.clone() else {
            return Err(VaultError::NoPin);
        };
        let wait_ms = self.contents.wait_until_ms - now_ms;
        if wait_ms > 0 {
            return Err(VaultError::Throttled { wait_ms });
        }
        // Counted as wrong until it proves right.
        self.contents.failures += 1;
        self.contents.wait_until_ms = now_ms + wait_after(self.contents.failures);
        self.save()?;
        let salt = decode(&wrap.salt)?;
        let kek = wrap.kdf.derive(pin, &salt)?;
        if let Some(key) = unwrap_key(&kek, &decode(&wrap.wrapped)?, PIN_AAD) {
            self.contents.failures = 0;
            self.contents.wait_until_ms = 0;
            self.save()?;
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

    /// Wraps `key` with a new `pin` (replacing the PIN's wrap, if any) and
    /// writes the file: setting a PIN, changing it, or setting a new one
    /// after a lock-out. The data is not re-encrypted.
    pub fn set_pin(&mut self, key: &DataKey, pin: &Pin, kdf: KdfParams) -> Result<(), VaultError> {
        let mut salt = [0u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        let kek = kdf.derive(pin, &salt)?;
        self.contents.pin = Some(PinWrap {
            salt: hex::encode(salt),
            kdf,
            wrapped: hex::encode(seal_with(&kek, key.bytes(), PIN_AAD)),
        });
        self.contents.failures = 0;
        self.contents.wait_until_ms = 0;
        self.contents.locked_out = false;
        self.save()
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

    fn save(&self) -> Result<(), VaultError> {
        let json = serde_json::to_vec_pretty(&self.contents)
            .map_err(|e| VaultError::Corrupt(e.to_string()))?;
        write_atomic(&self.path, &json)?;
        Ok(())
    }
}

/// Crypto-erase: destroys the key file of the data folder `dir`, so the
/// store and every sealed file in it are random bytes from now on. The
/// file is overwritten with zeros and synced before it is removed (a
/// flash disk may still keep old blocks; the wraps in them need the PIN or
/// the server's secret, which a lost device no longer gets). Missing keys
/// are not an error.
pub fn destroy_keys(dir: &Path) -> Result<(), VaultError> {
    let path = dir.join(KEYS_FILE);
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
            .set_pin(&key, &pin("135792"), FAST)
            .unwrap();
        let raw = std::fs::read(dir.path().join(KEYS_FILE)).unwrap();
        assert!(
            !raw.windows(KEY_LEN).any(|w| w == key.bytes()),
            "the key is not in clear"
        );
        assert!(!String::from_utf8_lossy(&raw).contains(&hex::encode(key.bytes())));

        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert_eq!(file.unlock(&pin("135792"), 0).unwrap().bytes(), key.bytes());
        file.set_pin(&key, &pin("246813"), FAST).unwrap();
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert!(matches!(
            file.unlock(&pin("135792"), 0),
            Err(VaultError::WrongPin { failures: 1, .. })
        ));
        assert_eq!(file.unlock(&pin("246813"), 0).unwrap().bytes(), key.bytes());
        assert_eq!(file.status(0).failures, 0, "a right PIN clears the count");
    }

    #[test]
    fn wrong_pins_wait_longer_each_time_across_restarts_and_ten_lock_out() {
        let dir = tempfile::tempdir().unwrap();
        let key = DataKey::generate();
        let mut file = KeyFile::new(dir.path());
        file.set_pin(&key, &pin("135792"), FAST).unwrap();
        file.wrap_for_recovery(&key, "device-1", &[9; KEY_LEN])
            .unwrap();
        let mut now = 1_000_000;
        let mut waits = Vec::new();
        for n in 1..MAX_FAILURES {
            // A restart between tries: the count is on disk.
            let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
            match file.unlock(&pin("000001"), now) {
                Err(VaultError::WrongPin { failures, wait_ms }) => {
                    assert_eq!(failures, n);
                    waits.push(wait_ms);
                    if wait_ms > 0 {
                        // Even the right PIN waits.
                        let early = file.unlock(&pin("135792"), now + wait_ms - 1);
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
            file.unlock(&pin("000001"), now),
            Err(VaultError::LockedOut)
        ));
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        let status = file.status(now);
        assert!(status.locked_out && !status.set, "{status:?}");
        assert!(matches!(
            file.unlock(&pin("135792"), now + 1_000_000_000),
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
        file.set_pin(&recovered, &pin("246813"), FAST).unwrap();
        let mut file = KeyFile::load(dir.path()).unwrap().unwrap();
        assert_eq!(
            file.unlock(&pin("246813"), now).unwrap().bytes(),
            key.bytes()
        );
    }

    #[test]
    fn destroyed_keys_are_gone() {
        let dir = tempfile::tempdir().unwrap();
        let key = DataKey::generate();
        KeyFile::new(dir.path())
            .set_pin(&key, &pin("135792"), FAST)
            .unwrap();
        destroy_keys(dir.path()).unwrap();
        assert!(KeyFile::load(dir.path()).unwrap().is_none());
        destroy_keys(dir.path()).unwrap();
    }
}
