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
//! `blobs/partial/<sha256>` in the data directory. A city's deployment
//! implements the same trait over an S3-compatible store (its multipart
//! upload plays the partial file's part).
//!
//! Who may read a blob is decided by the record that references it, not by
//! the blob: see [`crate::api::v1::blobs`].

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use gridwork_core::media::{self, MediaError};
use gridwork_core::store::is_sha256;

/// What the server holds of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobState {
    /// Nothing.
    Absent,
    /// An upload in progress: this many bytes so far.
    Partial(u64),
    /// The whole blob, checked: this many bytes.
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
    #[error("照片内容与地址不符 (the bytes hash to {found}, not to the address)")]
    HashMismatch { found: String },
    #[error("不是可接受的图片：{0} (the blob is not an accepted image)")]
    Media(#[from] MediaError),
    #[error("blob storage: {0}")]
    Io(#[from] std::io::Error),
}

impl BlobError {
    /// The stable code the app translates.
    pub fn code(&self) -> &'static str {
        match self {
            BlobError::BadAddress => "blob_bad_address",
            BlobError::OffsetMismatch { .. } => "upload_offset_mismatch",
            BlobError::TooLarge { .. } => "blob_too_large",
            BlobError::PastLength => "upload_past_length",
            BlobError::HashMismatch { .. } => "blob_hash_mismatch",
            BlobError::Media(e) => match e {
                MediaError::NotAnImage => "blob_not_an_image",
                MediaError::TooManyPixels { .. } => "blob_too_many_pixels",
                MediaError::TooLarge(_) => "blob_too_large",
                MediaError::Corrupt(_) => "blob_corrupt_image",
            },
            BlobError::Io(_) => "internal",
        }
    }
}

/// Where blob bytes live. Calls are blocking: the HTTP layer runs them on
/// tokio's blocking pool.
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// What is held of a blob.
    fn state(&self, sha256: &str) -> Result<BlobState, BlobError>;
    /// Appends `chunk` to a partial blob that holds exactly `offset` bytes
    /// (starting one at 0); returns the new length. The chunk is written
    /// whole or not at all.
    fn append(&self, sha256: &str, offset: u64, chunk: &[u8]) -> Result<u64, BlobError>;
    /// The partial blob's bytes.
    fn partial(&self, sha256: &str) -> Result<Vec<u8>, BlobError>;
    /// Makes a checked partial blob the blob.
    fn promote(&self, sha256: &str) -> Result<(), BlobError>;
    /// Deletes a partial blob.
    fn discard(&self, sha256: &str) -> Result<(), BlobError>;
    /// Reads `len` bytes of a complete blob from `start`.
    fn read(&self, sha256: &str, start: u64, len: u64) -> Result<Vec<u8>, BlobError>;
}

/// Blobs as files in a folder of the data directory.
#[derive(Debug)]
pub struct FsBlobStore {
    root: PathBuf,
    /// Appends and promotions of all blobs in turn: a chunk is a few
    /// hundred kilobytes, and two devices uploading the same photo must
    /// not interleave their bytes.
    writing: Mutex<()>,
}

impl FsBlobStore {
    /// Blobs under `root` (created on the first upload).
    pub fn new(root: impl Into<PathBuf>) -> FsBlobStore {
        FsBlobStore {
            root: root.into(),
            writing: Mutex::new(()),
        }
    }

    fn complete_path(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }

    fn partial_path(&self, sha256: &str) -> PathBuf {
        self.root.join("partial").join(sha256)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // A panic while writing leaves at worst a partial file, which the
        // offset check copes with: go on.
        self.writing.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn len_of(path: &Path) -> Result<Option<u64>, std::io::Error> {
    match fs::metadata(path) {
        Ok(m) => Ok(Some(m.len())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn sync_dir(dir: &Path) -> Result<(), std::io::Error> {
    File::open(dir)?.sync_all()
}

impl BlobStore for FsBlobStore {
    fn state(&self, sha256: &str) -> Result<BlobState, BlobError> {
        if let Some(n) = len_of(&self.complete_path(sha256))? {
            return Ok(BlobState::Complete(n));
        }
        Ok(match len_of(&self.partial_path(sha256))? {
            Some(n) => BlobState::Partial(n),
            None => BlobState::Absent,
        })
    }

    fn append(&self, sha256: &str, offset: u64, chunk: &[u8]) -> Result<u64, BlobError> {
        let _guard = self.lock();
        let path = self.partial_path(sha256);
        let held = len_of(&path)?.unwrap_or(0);
        if held != offset {
            return Err(BlobError::OffsetMismatch {
                server: held,
                sent: offset,
            });
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
        if let Err(e) = file.write_all(chunk).and_then(|()| file.sync_data()) {
            // Whole chunks only: cut back what was written of this one.
            let _ = file.set_len(held);
            return Err(e.into());
        }
        Ok(held + chunk.len() as u64)
    }

    fn partial(&self, sha256: &str) -> Result<Vec<u8>, BlobError> {
        Ok(fs::read(self.partial_path(sha256))?)
    }

    fn promote(&self, sha256: &str) -> Result<(), BlobError> {
        let _guard = self.lock();
        let target = self.complete_path(sha256);
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir)?;
            fs::rename(self.partial_path(sha256), &target)?;
            sync_dir(dir)?;
        }
        Ok(())
    }

    fn discard(&self, sha256: &str) -> Result<(), BlobError> {
        let _guard = self.lock();
        match fs::remove_file(self.partial_path(sha256)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn read(&self, sha256: &str, start: u64, len: u64) -> Result<Vec<u8>, BlobError> {
        let mut file = File::open(self.complete_path(sha256))?;
        file.seek(SeekFrom::Start(start))?;
        let mut out = Vec::with_capacity(len.min(16 * 1024 * 1024) as usize);
        file.take(len).read_to_end(&mut out)?;
        Ok(out)
    }
}

/// The outcome of one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// More is expected: this many bytes held.
    Partial(u64),
    /// The blob is whole and checked (now, or already before).
    Complete(u64),
}

/// Takes one chunk of an upload of a blob declared `length` bytes long:
/// appends it at `offset`, and when it was the last, checks the whole
/// blob and keeps it, or deletes it with the reason. Blocking.
pub fn receive(
    blobs: &dyn BlobStore,
    max_bytes: u64,
    sha256: &str,
    offset: u64,
    length: u64,
    chunk: &[u8],
) -> Result<Received, BlobError> {
    if !is_sha256(sha256) {
        return Err(BlobError::BadAddress);
    }
    match blobs.state(sha256)? {
        BlobState::Complete(n) => return Ok(Received::Complete(n)),
        BlobState::Partial(_) | BlobState::Absent => {}
    }
    if length > max_bytes {
        blobs.discard(sha256)?;
        return Err(BlobError::TooLarge {
            size: length,
            limit: max_bytes,
        });
    }
    if offset + chunk.len() as u64 > length {
        blobs.discard(sha256)?;
        return Err(BlobError::PastLength);
    }
    let held = blobs.append(sha256, offset, chunk)?;
    if held < length {
        return Ok(Received::Partial(held));
    }
    let bytes = blobs.partial(sha256)?;
    if let Err(e) = check(sha256, &bytes) {
        blobs.discard(sha256)?;
        return Err(e);
    }
    blobs.promote(sha256)?;
    tracing::info!(sha256, bytes = held, "blob received");
    Ok(Received::Complete(held))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, FsBlobStore) {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FsBlobStore::new(dir.path().join("blobs"));
        (dir, blobs)
    }

    #[test]
    fn an_upload_in_chunks_becomes_a_blob_once_whole_and_checked() {
        let (_dir, blobs) = store();
        let photo = media::synthetic_photo(300, 200, 4);
        let sha = media::sha256_hex(&photo);
        let len = photo.len() as u64;
        let half = photo.len() / 2;
        assert_eq!(blobs.state(&sha).unwrap(), BlobState::Absent);
        assert_eq!(
            receive(&blobs, 1 << 20, &sha, 0, len, &photo[..half]).unwrap(),
            Received::Partial(half as u64)
        );
        // A resent chunk at a stale offset is refused with the real one.
        let err = receive(&blobs, 1 << 20, &sha, 0, len, &photo[..half]).unwrap_err();
        assert!(matches!(err, BlobError::OffsetMismatch { server, .. } if server == half as u64));
        assert_eq!(
            receive(&blobs, 1 << 20, &sha, half as u64, len, &photo[half..]).unwrap(),
            Received::Complete(len)
        );
        assert_eq!(blobs.state(&sha).unwrap(), BlobState::Complete(len));
        assert_eq!(blobs.read(&sha, 10, 20).unwrap(), photo[10..30]);
        // Already have it.
        assert_eq!(
            receive(&blobs, 1 << 20, &sha, 0, len, &photo[..10]).unwrap(),
            Received::Complete(len)
        );
    }

    #[test]
    fn wrong_bytes_are_refused_and_deleted() {
        let (_dir, blobs) = store();
        let text = b"just some text, not an image".to_vec();
        let sha = media::sha256_hex(&text);
        let err = receive(&blobs, 1 << 20, &sha, 0, text.len() as u64, &text).unwrap_err();
        assert_eq!(err.code(), "blob_not_an_image");
        assert_eq!(blobs.state(&sha).unwrap(), BlobState::Absent);

        let photo = media::synthetic_photo(64, 64, 1);
        let wrong = media::sha256_hex(b"other");
        let err = receive(&blobs, 1 << 20, &wrong, 0, photo.len() as u64, &photo).unwrap_err();
        assert_eq!(err.code(), "blob_hash_mismatch");
        assert_eq!(blobs.state(&wrong).unwrap(), BlobState::Absent);

        let err = receive(&blobs, 100, &wrong, 0, 101, &photo[..10]).unwrap_err();
        assert_eq!(err.code(), "blob_too_large");
        assert_eq!(
            receive(&blobs, 1 << 20, "NOT-HEX", 0, 1, b"x")
                .unwrap_err()
                .code(),
            "blob_bad_address"
        );
    }
}
