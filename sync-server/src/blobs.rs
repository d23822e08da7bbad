//! Photo blobs: content-addressed bytes behind the [`BlobStore`] trait,
//! received in resumable chunks and checked before they count.
//!
//! A blob is addressed by the SHA-256 of its bytes. An upload appends
//! chunks at the offset the server holds (a chunk is written whole or not
//! at all, so an upload cut anywhere resumes after the last whole chunk);
//! when the last byte arrives the bytes are hashed and inspected
//! ([`gridwork_core::media::inspect`]: a JPEG, PNG or WebP whose announced
//! dimensions are within limits, read from the header without decoding, so
//! a decompression bomb costs nothing). Anything refused is deleted at
//! once: a partial file never becomes a blob. Only then is the blob moved
//! to its final name, so a blob that exists is whole and checked.
//!
//! The embedded default, [`FsBlobStore`], keeps `blobs/<aa>/<sha256>` and
//! `blobs/partial/<device>/<sha256>` in the data directory. A city's
//! deployment implements the same trait over an S3-compatible store (its
//! multipart upload plays the partial file's part).
//!
//! ## A hash is not a key (issue #10, item 4)
//!
//! A photo's SHA-256 travels in records, so it must not open the photo:
//! a worker who learned a hash could name it in a record of their own and
//! download another grid's photo, and `HEAD` told any device whether a
//! photo existed. The rules, and why:
//!
//! - **Uploads are per device.** Each device's partial upload is its own
//!   file, and `HEAD` answers for the caller's own uploads only: the bytes
//!   it has sent of an unfinished upload, or "complete" when the *same
//!   user* finished uploading that blob (on this device or another of
//!   theirs; a user learns nothing from their own upload). Anyone else
//!   sees offset 0 and must send every byte, which proves they hold the
//!   photo. The server keeps one copy on disk: a second upload of a blob
//!   it holds is checked against the address and then deleted. Every
//!   finished upload is stored (`blob_uploads`: blob, device, user, time).
//! - **A record references a photo through a grant.** Downloads
//!   (`GET /v1/blobs/{sha}?doc=`, the console's record photos) need a grant
//!   for that record and that photo (`blob_grants`), besides the record
//!   being one the user may see. A grant is made when a pushed change adds
//!   the reference and the rule holds: the same user uploaded the blob, or
//!   a record the user may see already holds a grant for it (a photo
//!   copied between records of one grid). Records are pushed before their
//!   photos, so a new reference usually arrives first: it is kept as a
//!   pending claim (record, photo, user, device) that this user's finished
//!   upload turns into a grant. A claim that never comes true grants
//!   nothing; the record keeps the reference (a CRDT change cannot be
//!   taken back) but nobody can read the photo through it. Only references
//!   a push *adds* are judged, each by the user who added it: a supervisor
//!   editing a record does not vouch for a hash a worker put there.
//!   [`crate::blob_grants`] holds the push-time check.
//! - **Documents stored before this rule** are granted every reference
//!   they hold by the migration `20261204120000_blob_grants`: it keeps the
//!   access that existed, and cannot tell an honest old reference from a
//!   forged one; every reference from then on follows the rule.
//!
//! ## Bounds (items 12 and 14)
//!
//! Checking a finished upload holds it in memory, so it runs under the
//! server's image-work budget ([`crate::limits`]). Each device may hold at
//! most `blob_partial_quota_bytes` of unfinished uploads (a chunk past it
//! is refused with `upload_quota_exceeded`), and an unfinished upload not
//! written to for `blob_partial_expiry_secs` is deleted by
//! [`sweep_partials`], which the server runs in the background.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use gridwork_core::media::{self, MediaError};
use gridwork_core::store::is_sha256;

use crate::storage::{BlobUpload, Storage, StorageError};

/// What a device holds on the server of a blob it uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobState {
    /// Nothing.
    Absent,
    /// This device's upload in progress: this many bytes so far.
    Partial(u64),
    /// The whole blob, checked and uploaded by this user: this many bytes.
    Complete(u64),
}

impl BlobState {
    /// The bytes held.
    pub fn offset(self) -> u64 {
        match self {
            BlobState::Absent => 0,
            BlobState::Partial(n) | BlobState::Complete(n) => n,
        }
    }
}

/// Why a blob operation failed. Each has a stable code.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("照片地址不是 SHA-256 (the blob address must be 64 lowercase hex digits)")]
    BadAddress,
    #[error("上传位置不符，服务器已有 {server} 字节 (the upload is at byte {server}, not {sent})")]
    OffsetMismatch { server: u64, sent: u64 },
    #[error(
        "照片超过 {limit} 字节的上限 (the blob is {size} bytes, more than the {limit} allowed)"
    )]
    TooLarge { size: u64, limit: u64 },
    #[error("上传的字节超过声明的长度 (the chunk runs past the declared Upload-Length)")]
    PastLength,
    #[error(
        "本设备未完成的上传已达 {quota} 字节的上限，请先完成或等待过期 (this device's unfinished uploads would exceed {quota} bytes)"
    )]
    QuotaExceeded { quota: u64 },
    #[error("照片内容与地址不符 (the bytes hash to {found}, not to the address)")]
    HashMismatch { found: String },
    #[error("不是可接受的图片：{0} (the blob is not an accepted image)")]
    Media(#[from] MediaError),
    #[error("blob storage: {0}")]
    Io(#[from] std::io::Error),
    #[error("blob records: {0}")]
    Storage(#[from] StorageError),
}

impl BlobError {
    /// The stable code the app translates.
    pub fn code(&self) -> &'static str {
        match self {
            BlobError::BadAddress => "blob_bad_address",
            BlobError::OffsetMismatch { .. } => "upload_offset_mismatch",
            BlobError::TooLarge { .. } => "blob_too_large",
            BlobError::PastLength => "upload_past_length",
            BlobError::QuotaExceeded { .. } => "upload_quota_exceeded",
            BlobError::HashMismatch { .. } => "blob_hash_mismatch",
            BlobError::Media(e) => match e {
                MediaError::NotAnImage => "blob_not_an_image",
                MediaError::TooManyPixels { .. } => "blob_too_many_pixels",
                MediaError::TooLarge(_) => "blob_too_large",
                MediaError::Corrupt(_) => "blob_corrupt_image",
            },
            BlobError::Io(_) | BlobError::Storage(_) => "internal",
        }
    }
}

/// What [`FsBlobStore::expire_partials`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expired {
    pub uploads: usize,
    pub bytes: u64,
}

/// Where blob bytes live. Calls are blocking: the HTTP layer runs them on
/// tokio's blocking pool. Unfinished uploads belong to a device.
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// The length of the whole, checked blob, if held.
    fn complete(&self, sha256: &str) -> Result<Option<u64>, BlobError>;
    /// The bytes held of a device's unfinished upload, if any.
    fn partial_len(&self, device: &str, sha256: &str) -> Result<Option<u64>, BlobError>;
    /// Appends `chunk` to the device's unfinished upload, which holds
    /// exactly `offset` bytes (starting one at 0); returns the new length.
    /// Refused when the device's unfinished uploads would then hold more
    /// than `quota` bytes. The chunk is written whole or not at all.
    fn append(
        &self,
        device: &str,
        sha256: &str,
        offset: u64,
        chunk: &[u8],
        quota: u64,
    ) -> Result<u64, BlobError>;
    /// The unfinished upload's bytes.
    fn partial(&self, device: &str, sha256: &str) -> Result<Vec<u8>, BlobError>;
    /// Makes a checked unfinished upload the blob; when the blob is held
    /// already, deletes the upload instead (one copy on disk).
    fn promote(&self, device: &str, sha256: &str) -> Result<(), BlobError>;
    /// Deletes an unfinished upload.
    fn discard(&self, device: &str, sha256: &str) -> Result<(), BlobError>;
    /// Reads `len` bytes of a complete blob from `start`.
    fn read(&self, sha256: &str, start: u64, len: u64) -> Result<Vec<u8>, BlobError>;
    /// Deletes every unfinished upload not written to for `max_age`.
    fn expire_partials(&self, max_age: Duration) -> Result<Expired, BlobError>;
}

/// Blobs as files in a folder of the data directory.
///
/// **Several processes** may share the folder (a shared mount): a
/// device's appends, promotions and discards run one at a time under an
/// exclusive lock on the file `locks/<device>` (`flock`, which processes
/// and threads alike wait on), so the offset and quota checks see every
/// append even when a retried chunk reaches two processes at once. The
/// sweep takes the same lock for each device's folder it cleans. An upload
/// started on one process is resumed on another: the partial file is the
/// only state.
#[derive(Debug)]
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// Blobs under `root` (created on the first upload).
    pub fn new(root: impl Into<PathBuf>) -> FsBlobStore {
        FsBlobStore { root: root.into() }
    }

    fn complete_path(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }

    fn partials(&self) -> PathBuf {
        self.root.join("partial")
    }

    fn device_dir(&self, device: &str) -> PathBuf {
        self.partials().join(device_folder(device))
    }

    fn partial_path(&self, device: &str, sha256: &str) -> PathBuf {
        self.device_dir(device).join(sha256)
    }

    /// Holds `device`'s uploads until the returned file is dropped. Lock
    /// files are empty and never deleted (one per device that uploaded):
    /// deleting one another process waits on would split the lock.
    fn lock(&self, device: &str) -> Result<File, std::io::Error> {
        self.lock_folder(&device_folder(device))
    }

    fn lock_folder(&self, folder: &str) -> Result<File, std::io::Error> {
        let dir = self.root.join("locks");
        fs::create_dir_all(&dir)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(folder))?;
        file.lock()?;
        Ok(file)
    }
}

/// A device id as a folder name: as it is when it is plain (the server's
/// ids are UUIDs, `console-<uuid>`, `server`), hex otherwise.
fn device_folder(device: &str) -> String {
    let plain = !device.is_empty()
        && device.len() <= 100
        && !device.starts_with('.')
        && device
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plain {
        device.to_string()
    } else {
        std::iter::once("x".to_string())
            .chain(device.bytes().map(|b| format!("{b:02x}")))
            .collect()
    }
}

fn len_of(path: &Path) -> Result<Option<u64>, std::io::Error> {
    match fs::metadata(path) {
        Ok(m) => Ok(Some(m.len())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The bytes of the files directly in `dir` (none when it is absent).
fn folder_bytes(dir: &Path) -> Result<u64, std::io::Error> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut total = 0;
    for entry in entries {
        let meta = entry?.metadata()?;
        if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

fn sync_dir(dir: &Path) -> Result<(), std::io::Error> {
    File::open(dir)?.sync_all()
}

fn remove_if_present(path: &Path) -> Result<(), std::io::Error> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

impl BlobStore for FsBlobStore {
    fn complete(&self, sha256: &str) -> Result<Option<u64>, BlobError> {
        Ok(len_of(&self.complete_path(sha256))?)
    }

    fn partial_len(&self, device: &str, sha256: &str) -> Result<Option<u64>, BlobError> {
        Ok(len_of(&self.partial_path(device, sha256))?)
    }

    fn append(
        &self,
        device: &str,
        sha256: &str,
        offset: u64,
        chunk: &[u8],
        quota: u64,
    ) -> Result<u64, BlobError> {
        let _guard = self.lock(device)?;
        let path = self.partial_path(device, sha256);
        let held = len_of(&path)?.unwrap_or(0);
        if held != offset {
            return Err(BlobError::OffsetMismatch {
                server: held,
                sent: offset,
            });
        }
        let dir = self.device_dir(device);
        if folder_bytes(&dir)? + chunk.len() as u64 > quota {
            return Err(BlobError::QuotaExceeded { quota });
        }
        fs::create_dir_all(&dir)?;
        let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
        if let Err(e) = file.write_all(chunk).and_then(|()| file.sync_data()) {
            // Whole chunks only: cut back what was written of this one.
            let _ = file.set_len(held);
            return Err(e.into());
        }
        Ok(held + chunk.len() as u64)
    }

    fn partial(&self, device: &str, sha256: &str) -> Result<Vec<u8>, BlobError> {
        Ok(fs::read(self.partial_path(device, sha256))?)
    }

    fn promote(&self, device: &str, sha256: &str) -> Result<(), BlobError> {
        let _guard = self.lock(device)?;
        let from = self.partial_path(device, sha256);
        let target = self.complete_path(sha256);
        if len_of(&target)?.is_some() {
            remove_if_present(&from)?;
            return Ok(());
        }
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir)?;
            fs::rename(from, &target)?;
            sync_dir(dir)?;
        }
        Ok(())
    }

    fn discard(&self, device: &str, sha256: &str) -> Result<(), BlobError> {
        let _guard = self.lock(device)?;
        Ok(remove_if_present(&self.partial_path(device, sha256))?)
    }

    fn read(&self, sha256: &str, start: u64, len: u64) -> Result<Vec<u8>, BlobError> {
        let mut file = File::open(self.complete_path(sha256))?;
        file.seek(SeekFrom::Start(start))?;
        let mut out = Vec::with_capacity(len.min(16 * 1024 * 1024) as usize);
        file.take(len).read_to_end(&mut out)?;
        Ok(out)
    }

    fn expire_partials(&self, max_age: Duration) -> Result<Expired, BlobError> {
        let cutoff = SystemTime::now()
            .checked_sub(max_age)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut expired = Expired::default();
        let entries = match fs::read_dir(self.partials()) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(expired),
            Err(e) => return Err(e.into()),
        };
        let mut stale = |path: &Path, meta: &fs::Metadata| -> Result<(), std::io::Error> {
            if meta.modified()? < cutoff {
                remove_if_present(path)?;
                expired.uploads += 1;
                expired.bytes += meta.len();
            }
            Ok(())
        };
        for entry in entries {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.is_dir() {
                // The device's lock: no append of it runs in between.
                let _guard = self.lock_folder(&entry.file_name().to_string_lossy())?;
                for file in fs::read_dir(entry.path())? {
                    let file = file?;
                    stale(&file.path(), &file.metadata()?)?;
                }
                // Gone once empty; a folder still in use stays.
                let _ = fs::remove_dir(entry.path());
            } else {
                // An upload from before partial uploads were per device.
                stale(&entry.path(), &meta)?;
            }
        }
        Ok(expired)
    }
}

/// Who sends an upload: the token's device and user.
#[derive(Debug, Clone, Copy)]
pub struct Uploader<'a> {
    pub device_id: &'a str,
    pub user_id: &'a str,
}

/// The limits an upload is received within.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// Largest blob accepted (`max_blob_bytes`).
    pub max_bytes: u64,
    /// Unfinished uploads one device may hold (`blob_partial_quota_bytes`).
    pub partial_quota: u64,
}

/// One chunk of an upload: the blob's address, where the chunk starts,
/// the whole blob's declared length, and the chunk's bytes.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    pub sha256: &'a str,
    pub offset: u64,
    pub length: u64,
    pub bytes: &'a [u8],
}

/// The outcome of one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// More is expected: this many bytes held.
    Partial(u64),
    /// The blob is whole and checked (now, or already before).
    Complete(u64),
}

/// What the server holds of a blob for this uploader (`HEAD`): complete
/// only when the same user finished uploading it, otherwise this device's
/// unfinished upload. Nothing of other users' uploads shows. Blocking.
pub fn held_for(
    blobs: &dyn BlobStore,
    storage: &dyn Storage,
    who: &Uploader<'_>,
    sha256: &str,
) -> Result<BlobState, BlobError> {
    if !is_sha256(sha256) {
        return Err(BlobError::BadAddress);
    }
    if storage.has_uploaded(who.user_id, sha256)?
        && let Some(n) = blobs.complete(sha256)?
    {
        return Ok(BlobState::Complete(n));
    }
    Ok(match blobs.partial_len(who.device_id, sha256)? {
        Some(n) => BlobState::Partial(n),
        None => BlobState::Absent,
    })
}

/// Takes one chunk of an upload of a blob declared `length` bytes long:
/// appends it at `offset` of the device's own upload, and when it was the
/// last, checks the whole blob and keeps it (one copy), stores the upload
/// and turns the user's pending claims on the blob into grants; or
/// deletes it with the reason. Blocking.
pub fn receive(
    blobs: &dyn BlobStore,
    storage: &dyn Storage,
    limits: &UploadLimits,
    who: &Uploader<'_>,
    chunk: Chunk<'_>,
) -> Result<Received, BlobError> {
    let Chunk {
        sha256,
        offset,
        length,
        bytes: chunk,
    } = chunk;
    let device = who.device_id;
    if let BlobState::Complete(n) = held_for(blobs, storage, who, sha256)? {
        return Ok(Received::Complete(n));
    }
    if length > limits.max_bytes {
        blobs.discard(device, sha256)?;
        return Err(BlobError::TooLarge {
            size: length,
            limit: limits.max_bytes,
        });
    }
    if offset + chunk.len() as u64 > length {
        blobs.discard(device, sha256)?;
        return Err(BlobError::PastLength);
    }
    let held = blobs.append(device, sha256, offset, chunk, limits.partial_quota)?;
    if held < length {
        return Ok(Received::Partial(held));
    }
    let bytes = blobs.partial(device, sha256)?;
    if let Err(e) = check(sha256, &bytes) {
        blobs.discard(device, sha256)?;
        return Err(e);
    }
    drop(bytes);
    blobs.promote(device, sha256)?;
    let granted = storage.record_upload(&BlobUpload {
        sha256: sha256.to_string(),
        device_id: device.to_string(),
        user_id: who.user_id.to_string(),
        at: jiff::Timestamp::now().as_millisecond(),
    })?;
    tracing::info!(sha256, bytes = held, device, granted, "blob received");
    Ok(Received::Complete(held))
}

/// The memory checking a finished upload of `length` bytes takes: the
/// bytes, and the image decoder's copy of them while it reads the header.
pub fn check_cost(length: u64) -> u64 {
    length.saturating_mul(2)
}

/// A whole blob is the image its address names.
fn check(sha256: &str, bytes: &[u8]) -> Result<(), BlobError> {
    let found = media::sha256_hex(bytes);
    if found != sha256 {
        return Err(BlobError::HashMismatch { found });
    }
    media::inspect(bytes)?;
    Ok(())
}

/// Deletes stale unfinished uploads every `interval`, for as long as the
/// server runs (see the module doc).
pub async fn sweep_partials(blobs: std::sync::Arc<dyn BlobStore>, max_age: Duration) {
    let interval = (max_age / 4).clamp(Duration::from_secs(1), Duration::from_secs(600));
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let store = blobs.clone();
        match tokio::task::spawn_blocking(move || store.expire_partials(max_age)).await {
            Ok(Ok(e)) if e.uploads > 0 => {
                tracing::info!(
                    uploads = e.uploads,
                    bytes = e.bytes,
                    "expired unfinished uploads"
                );
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "expiring unfinished uploads failed"),
            Err(e) => tracing::warn!(error = %e, "expiring unfinished uploads failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SqliteStorage;

    const LIMITS: UploadLimits = UploadLimits {
        max_bytes: 1 << 20,
        partial_quota: 2 << 20,
    };
    const ME: Uploader<'static> = Uploader {
        device_id: "tablet-1",
        user_id: "gw-1",
    };

    fn chunk<'a>(sha256: &'a str, offset: u64, length: u64, bytes: &'a [u8]) -> Chunk<'a> {
        Chunk {
            sha256,
            offset,
            length,
            bytes,
        }
    }

    fn store() -> (tempfile::TempDir, FsBlobStore, SqliteStorage) {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FsBlobStore::new(dir.path().join("blobs"));
        let storage = SqliteStorage::open(dir.path()).unwrap();
        (dir, blobs, storage)
    }

    #[test]
    fn an_upload_in_chunks_becomes_a_blob_once_whole_and_checked() {
        let (_dir, blobs, db) = store();
        let photo = media::synthetic_photo(300, 200, 4);
        let sha = media::sha256_hex(&photo);
        let len = photo.len() as u64;
        let half = photo.len() / 2;
        let up = |who: &Uploader<'_>, offset: u64, bytes: &[u8]| {
            receive(&blobs, &db, &LIMITS, who, chunk(&sha, offset, len, bytes))
        };
        assert_eq!(held_for(&blobs, &db, &ME, &sha).unwrap(), BlobState::Absent);
        assert_eq!(
            up(&ME, 0, &photo[..half]).unwrap(),
            Received::Partial(half as u64)
        );
        // A resent chunk at a stale offset is refused with the real one.
        let err = up(&ME, 0, &photo[..half]).unwrap_err();
        assert!(matches!(err, BlobError::OffsetMismatch { server, .. } if server == half as u64));
        assert_eq!(
            up(&ME, half as u64, &photo[half..]).unwrap(),
            Received::Complete(len)
        );
        assert_eq!(
            held_for(&blobs, &db, &ME, &sha).unwrap(),
            BlobState::Complete(len)
        );
        assert_eq!(blobs.read(&sha, 10, 20).unwrap(), photo[10..30]);
        // Already have it, for the same user on another device too.
        let other_tablet = Uploader {
            device_id: "tablet-2",
            ..ME
        };
        assert_eq!(
            up(&other_tablet, 0, &photo[..10]).unwrap(),
            Received::Complete(len)
        );
        assert!(db.has_uploaded("gw-1", &sha).unwrap());
    }

    /// Issue #10, item 4: another user's upload shows nothing, and a
    /// second upload must send every byte; the server keeps one copy.
    #[test]
    fn another_users_upload_is_invisible_and_kept_once() {
        let (dir, blobs, db) = store();
        let photo = media::synthetic_photo(300, 200, 5);
        let sha = media::sha256_hex(&photo);
        let len = photo.len() as u64;
        receive(&blobs, &db, &LIMITS, &ME, chunk(&sha, 0, len, &photo)).unwrap();
        let stranger = Uploader {
            device_id: "tablet-9",
            user_id: "gw-9",
        };
        assert_eq!(
            held_for(&blobs, &db, &stranger, &sha).unwrap(),
            BlobState::Absent
        );
        let half = photo.len() / 2;
        assert_eq!(
            receive(
                &blobs,
                &db,
                &LIMITS,
                &stranger,
                chunk(&sha, 0, len, &photo[..half])
            )
            .unwrap(),
            Received::Partial(half as u64)
        );
        assert_eq!(
            held_for(&blobs, &db, &stranger, &sha).unwrap(),
            BlobState::Partial(half as u64)
        );
        // The uploader's view is unchanged by the stranger's partial.
        assert_eq!(
            held_for(&blobs, &db, &ME, &sha).unwrap(),
            BlobState::Complete(len)
        );
        // Wrong bytes for the rest are refused, and nothing is recorded.
        let mut wrong = photo[half..].to_vec();
        wrong[0] ^= 0xff;
        let rest = chunk(&sha, half as u64, len, &wrong);
        let err = receive(&blobs, &db, &LIMITS, &stranger, rest).unwrap_err();
        assert_eq!(err.code(), "blob_hash_mismatch");
        assert!(!db.has_uploaded("gw-9", &sha).unwrap());
        receive(&blobs, &db, &LIMITS, &stranger, chunk(&sha, 0, len, &photo)).unwrap();
        assert!(db.has_uploaded("gw-9", &sha).unwrap());
        let files: Vec<_> = walk(&dir.path().join("blobs"));
        assert_eq!(files.len(), 1, "one copy on disk: {files:?}");
    }

    /// The files under `dir`, but the devices' lock files (`locks/`).
    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_name() == "locks" {
                continue;
            } else if entry.path().is_dir() {
                out.extend(walk(&entry.path()));
            } else {
                out.push(entry.path());
            }
        }
        out
    }

    /// Two stores over one folder, as two processes over a shared mount,
    /// each given the same chunk at once (a retry that reached both): the
    /// chunk is written once, the other is told the offset moved.
    #[test]
    fn a_chunk_sent_to_two_processes_at_once_is_written_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("blobs");
        let chunk = vec![7u8; 64 * 1024];
        for round in 0..20 {
            let sha = format!("{round:064x}");
            let barrier = std::sync::Barrier::new(2);
            let results: Vec<_> = std::thread::scope(|s| {
                let tries: Vec<_> = (0..2)
                    .map(|_| {
                        let (root, sha, chunk, barrier) = (&root, &sha, &chunk, &barrier);
                        s.spawn(move || {
                            let store = FsBlobStore::new(root);
                            barrier.wait();
                            store.append("dev-1", sha, 0, chunk, u64::MAX)
                        })
                    })
                    .collect();
                tries.into_iter().map(|t| t.join().unwrap()).collect()
            });
            let written = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(written, 1, "round {round}: {results:?}");
            assert!(results.iter().any(|r| matches!(
                r,
                Err(BlobError::OffsetMismatch { server, sent: 0 }) if *server == chunk.len() as u64
            )));
            let held = FsBlobStore::new(&root).partial_len("dev-1", &sha).unwrap();
            assert_eq!(held, Some(chunk.len() as u64));
        }
    }

    #[test]
    fn wrong_bytes_are_refused_and_deleted() {
        let (_dir, blobs, db) = store();
        let text = b"just some text, not an image".to_vec();
        let sha = media::sha256_hex(&text);
        let err = receive(
            &blobs,
            &db,
            &LIMITS,
            &ME,
            chunk(&sha, 0, text.len() as u64, &text),
        )
        .unwrap_err();
        assert_eq!(err.code(), "blob_not_an_image");
        assert_eq!(held_for(&blobs, &db, &ME, &sha).unwrap(), BlobState::Absent);

        let photo = media::synthetic_photo(64, 64, 1);
        let wrong = media::sha256_hex(b"other");
        let whole = chunk(&wrong, 0, photo.len() as u64, &photo);
        let err = receive(&blobs, &db, &LIMITS, &ME, whole).unwrap_err();
        assert_eq!(err.code(), "blob_hash_mismatch");
        assert_eq!(
            held_for(&blobs, &db, &ME, &wrong).unwrap(),
            BlobState::Absent
        );

        let small = UploadLimits {
            max_bytes: 100,
            ..LIMITS
        };
        let err = receive(
            &blobs,
            &db,
            &small,
            &ME,
            chunk(&wrong, 0, 101, &photo[..10]),
        )
        .unwrap_err();
        assert_eq!(err.code(), "blob_too_large");
        assert_eq!(
            receive(&blobs, &db, &LIMITS, &ME, chunk("NOT-HEX", 0, 1, b"x"))
                .unwrap_err()
                .code(),
            "blob_bad_address"
        );
    }

    /// Issue #10, item 14: a device's unfinished uploads are held to its
    /// quota, other devices are not affected, and stale ones expire.
    #[test]
    fn unfinished_uploads_have_a_quota_and_expire() {
        let (dir, blobs, db) = store();
        let limits = UploadLimits {
            max_bytes: 1000,
            partial_quota: 2500,
        };
        let sha = |i: u8| media::sha256_hex(&[i]);
        for i in 0..2 {
            assert_eq!(
                receive(
                    &blobs,
                    &db,
                    &limits,
                    &ME,
                    chunk(&sha(i), 0, 1000, &[0; 900])
                )
                .unwrap(),
                Received::Partial(900)
            );
        }
        let err = receive(
            &blobs,
            &db,
            &limits,
            &ME,
            chunk(&sha(3), 0, 1000, &[0; 900]),
        )
        .unwrap_err();
        assert_eq!(err.code(), "upload_quota_exceeded");
        assert!(err.to_string().starts_with("本设备"), "{err}");
        // Another device has a quota of its own.
        let other = Uploader {
            device_id: "tablet-2",
            ..ME
        };
        receive(
            &blobs,
            &db,
            &limits,
            &other,
            chunk(&sha(3), 0, 1000, &[0; 900]),
        )
        .unwrap();

        // Nothing is stale yet; then everything is.
        assert_eq!(
            blobs.expire_partials(Duration::from_secs(3600)).unwrap(),
            Expired::default()
        );
        // An upload from before uploads were per device.
        fs::write(dir.path().join("blobs/partial").join(sha(7)), [0; 50]).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let gone = blobs.expire_partials(Duration::from_millis(10)).unwrap();
        assert_eq!(
            gone,
            Expired {
                uploads: 4,
                bytes: 3 * 900 + 50
            }
        );
        assert!(walk(&dir.path().join("blobs")).is_empty());
        assert_eq!(
            receive(
                &blobs,
                &db,
                &limits,
                &ME,
                chunk(&sha(3), 0, 1000, &[0; 900])
            )
            .unwrap(),
            Received::Partial(900),
            "room again"
        );
    }

    #[test]
    fn device_ids_become_safe_folder_names() {
        assert_eq!(device_folder("console-0190abcd"), "console-0190abcd");
        assert_eq!(device_folder("../x"), "x2e2e2f78");
        assert_eq!(device_folder(""), "x");
        assert_eq!(device_folder(".hidden"), "x2e68696464656e");
    }
}
