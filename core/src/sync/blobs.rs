//! Photo blobs over HTTP: resumable uploads and downloads by SHA-256.
//!
//! Records sync first ([`super::client::SyncClient::sync`]); then
//! [`sync_photos`] moves the photos, so a slow photo never holds up the
//! data. The protocol is the tus idea, three requests on
//! `/v1/blobs/{sha256}`:
//!
//! - `HEAD` answers `Upload-Offset` (the bytes the server holds) and, when
//!   it holds the blob whole and checked, `Upload-Complete: ?1` ("already
//!   have it": nothing is sent);
//! - `PATCH` with `Upload-Offset` and `Upload-Length` headers appends one
//!   chunk; a wrong offset is answered 409 with the server's own offset,
//!   which the client adopts; the last chunk makes the server check the
//!   hash and that the bytes are an image it accepts;
//! - `GET ?doc={record id}` with a `Range` reads a blob the device may see
//!   through that record.
//!
//! The offset the server confirmed is written to the store after every
//! chunk, and downloaded pieces are appended there too, so a connection
//! cut anywhere, or an app killed mid-upload, costs at most one chunk
//! resent.
//!
//! Only an upload that started before asks with `HEAD` (the server may
//! hold more than the stored offset, if an answer was lost). A photo this
//! device never started goes straight to its first `PATCH` at offset 0:
//! on 2G that saves a round trip (about a second) a photo, and the
//! `PATCH`'s own answer (`Upload-Complete`, or 409 with the server's
//! offset) says whatever the `HEAD` would have.
//!
//! Two photos go up at once, so that one's chunk travels while the
//! other's answer comes back. A cut connection costs its own chunk; the
//! other upload finishes its chunk in flight and the run stops there.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::task::Poll;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, HeaderMap, RANGE};
use uuid::Uuid;

use super::client::{SyncError, TransportError};
use super::http::failure;
use super::trust::{self, Trust};
use crate::store::{PendingPhoto, PhotoError, Store, StoreError};

pub use super::api::{UPLOAD_COMPLETE, UPLOAD_LENGTH, UPLOAD_OFFSET};
/// Chunk size when none is set: small enough for a 2G link to finish one
/// between drop-outs, large enough that headers are a small overhead.
pub const DEFAULT_CHUNK_BYTES: usize = 256 * 1024;
/// A photo the server could not give is asked for again after this long.
pub const UNAVAILABLE_RETRY_MS: i64 = 10 * 60 * 1000;
/// How often one upload adopts the server's offset after a 409 before it
/// gives up until the next sync.
const MAX_OFFSET_RETRIES: u32 = 3;

/// What the server holds of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteBlob {
    /// Bytes received so far (the whole length when complete).
    pub offset: u64,
    /// Held whole and checked: nothing to send.
    pub complete: bool,
}

/// One piece of a blob read from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Where the piece starts in the blob.
    pub start: u64,
    /// The blob's whole length.
    pub total: u64,
    pub bytes: Vec<u8>,
}

/// The blob API over HTTP with a device token.
#[derive(Debug, Clone)]
pub struct BlobTransport {
    client: reqwest::Client,
    base: String,
    token: String,
    chunk_bytes: usize,
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `bytes a-b/total` from a `Content-Range` header.
fn content_range(headers: &HeaderMap) -> Option<(u64, u64)> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let (range, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    Some((start.parse().ok()?, total.parse().ok()?))
}

impl BlobTransport {
    /// The blob API of the server at `base_url`, with [`DEFAULT_CHUNK_BYTES`],
    /// trusting it as [`Trust::default`] does.
    pub fn new(base_url: &str, token: &str) -> Result<BlobTransport, TransportError> {
        BlobTransport::trusting(base_url, &Trust::default(), token)
    }

    /// [`BlobTransport::new`] under `trust`.
    pub fn trusting(
        base_url: &str,
        trust: &Trust,
        token: &str,
    ) -> Result<BlobTransport, TransportError> {
        Ok(BlobTransport {
            client: trust::client(trust)?,
            base: trust::server_address(base_url, trust)?,
            token: token.to_string(),
            chunk_bytes: DEFAULT_CHUNK_BYTES,
        })
    }

    /// Sends and reads in chunks of `bytes` (at least 1 KiB).
    pub fn with_chunk_bytes(mut self, bytes: usize) -> BlobTransport {
        self.chunk_bytes = bytes.max(1024);
        self
    }

    /// The chunk size in use.
    pub fn chunk_bytes(&self) -> usize {
        self.chunk_bytes
    }

    fn url(&self, sha256: &str) -> String {
        format!("{}{}", self.base, super::api::blob_path(sha256))
    }

    /// Asks how much of a blob the server holds.
    pub async fn remote(&self, sha256: &str) -> Result<RemoteBlob, TransportError> {
        let response = self
            .client
            .head(self.url(sha256))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(trust::failed)?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        Ok(RemoteBlob {
            offset: header_u64(response.headers(), UPLOAD_OFFSET).unwrap_or(0),
            complete: response
                .headers()
                .get(UPLOAD_COMPLETE)
                .is_some_and(|v| v == "?1"),
        })
    }

    /// Appends `chunk` at `offset` of a blob of `total` bytes. A wrong
    /// offset comes back as `Ok` with the server's offset, to adopt.
    pub async fn send_chunk(
        &self,
        sha256: &str,
        offset: u64,
        total: u64,
        chunk: Vec<u8>,
    ) -> Result<RemoteBlob, TransportError> {
        let response = self
            .client
            .patch(self.url(sha256))
            .bearer_auth(&self.token)
            .header(UPLOAD_OFFSET, offset)
            .header(UPLOAD_LENGTH, total)
            .header(CONTENT_TYPE, super::api::UPLOAD_CONTENT_TYPE)
            .body(chunk)
            .send()
            .await
            .map_err(trust::failed)?;
        let status = response.status();
        let remote = RemoteBlob {
            offset: header_u64(response.headers(), UPLOAD_OFFSET).unwrap_or(0),
            complete: response
                .headers()
                .get(UPLOAD_COMPLETE)
                .is_some_and(|v| v == "?1"),
        };
        if status.is_success() || status == StatusCode::CONFLICT {
            return Ok(remote);
        }
        Err(failure(response).await)
    }

    /// Reads up to one chunk of a blob from `start`, as a device that may
    /// see record `doc`, which references it.
    pub async fn fetch(
        &self,
        sha256: &str,
        doc: Uuid,
        start: u64,
    ) -> Result<Piece, TransportError> {
        let end = start + self.chunk_bytes as u64 - 1;
        let response = self
            .client
            .get(format!("{}?doc={doc}", self.url(sha256)))
            .bearer_auth(&self.token)
            .header(RANGE, format!("bytes={start}-{end}"))
            .send()
            .await
            .map_err(trust::failed)?;
        let status = response.status();
        if !status.is_success() {
            return Err(failure(response).await);
        }
        let range = content_range(response.headers());
        let bytes = response.bytes().await.map_err(trust::failed)?.to_vec();
        Ok(match (status, range) {
            (StatusCode::PARTIAL_CONTENT, Some((start, total))) => Piece {
                start,
                total,
                bytes,
            },
            // The whole blob (the server ignored the range).
            _ => Piece {
                start: 0,
                total: bytes.len() as u64,
                bytes,
            },
        })
    }
}

/// What a photo sync did, for the sync screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhotoProgress {
    /// Photos uploaded whole by this run.
    pub sent: u64,
    /// Photos the server already held ("already have it").
    pub already_there: u64,
    /// Photos downloaded whole by this run.
    pub received: u64,
    /// Photos still waiting for upload.
    pub pending: u64,
    /// Photos records reference that could not be had yet (not uploaded
    /// by their device yet, or not the user's to see).
    pub unavailable: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Photos the server refused, with its code (kept here all the same).
    pub refused: Vec<(String, String)>,
}

/// A refusal of one photo (its code and status), or an error that ends
/// the run: the network, a busy server, a revoked device.
fn refusal(e: TransportError) -> Result<(String, u16), SyncError> {
    match e {
        TransportError::Server { status, code, .. }
            if (400..500).contains(&status) && !matches!(status, 401 | 408 | 429) =>
        {
            Ok((code, status))
        }
        other => Err(other.into()),
    }
}

/// Uploads every pending photo, then downloads every photo records
/// reference that this device lacks. Run it after the record sync.
/// Network failures end the run with an error (the confirmed offsets are
/// stored, the next run resumes); a photo the server refuses, or cannot
/// give yet, is counted and skipped.
pub async fn sync_photos(
    store: &mut Store,
    transport: &BlobTransport,
) -> Result<PhotoProgress, SyncError> {
    sync_photos_reporting(store, transport, |_| {}).await
}

/// Where one photo's upload stands: the bytes the server holds of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadStep {
    pub sha256: String,
    /// Bytes the server has confirmed.
    pub sent: u64,
    /// The photo's whole length.
    pub total: u64,
}

/// [`sync_photos`], telling `on_upload` where each upload stands when it
/// starts and after every chunk the server confirmed (for progress bars).
pub async fn sync_photos_reporting(
    store: &mut Store,
    transport: &BlobTransport,
    mut on_upload: impl FnMut(&UploadStep),
) -> Result<PhotoProgress, SyncError> {
    store.drop_released_photos()?;
    let uploads = Mutex::new(Uploads {
        queue: store.pending_photos()?.into(),
        store: &mut *store,
        progress: PhotoProgress::default(),
        on_upload: &mut on_upload,
        stop: false,
    });
    // Two uploads at once. One alone leaves the link idle while each
    // chunk's answer comes back, a round trip (about a second on 2G) a
    // chunk, and a photo of the day is one chunk with its thumbnail
    // another; a second upload fills that time. The link's bandwidth is
    // shared, so more would not be faster, and every upload in flight is
    // a chunk a cut may cost.
    let (first, second) = both(lane(&uploads, transport), lane(&uploads, transport)).await;
    let mut progress = uploads
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .progress;
    first?;
    second?;
    progress.pending = store.pending_photos()?.len() as u64;
    let recently = jiff::Timestamp::now().as_millisecond() - UNAVAILABLE_RETRY_MS;
    for missing in store.missing_photos()? {
        if store.unavailable_since(&missing.sha256, recently)? {
            progress.unavailable += 1;
            continue;
        }
        match download(
            store,
            transport,
            &missing.sha256,
            missing.doc_id,
            &mut progress,
        )
        .await
        {
            Ok(()) => progress.received += 1,
            Err(SyncError::Transport(e)) => {
                let (code, status) = refusal(e)?;
                if status == 403 || status == 404 {
                    store.note_unavailable(&missing.sha256)?;
                    progress.unavailable += 1;
                } else {
                    progress.refused.push((missing.sha256.clone(), code));
                }
            }
            Err(SyncError::Store(StoreError::Photo(e @ PhotoError::HashMismatch { .. }))) => {
                store.drop_download(&missing.sha256)?;
                progress
                    .refused
                    .push((missing.sha256.clone(), e.code().to_string()));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(progress)
}

/// What the uploads in flight share, locked only between their awaits:
/// the store, the counts, the progress callback, and the photos no
/// upload has taken yet.
struct Uploads<'a, F> {
    store: &'a mut Store,
    progress: PhotoProgress,
    on_upload: F,
    queue: VecDeque<PendingPhoto>,
    /// An upload failed for a reason that ends the run (the network, a
    /// revoked device): the others stop after their chunk in flight.
    stop: bool,
}

impl<F: FnMut(&UploadStep)> Uploads<'_, F> {
    fn report(&mut self, sha256: &str, sent: u64, total: u64) {
        (self.on_upload)(&UploadStep {
            sha256: sha256.to_string(),
            sent,
            total,
        });
    }

    /// The server holds the photo whole: `sent` if this run sent its
    /// last byte, otherwise it was already there.
    fn done(&mut self, sha256: &str, total: u64, sent: bool) -> Result<(), StoreError> {
        self.store.mark_uploaded(sha256)?;
        if sent {
            self.progress.sent += 1;
        } else {
            self.progress.already_there += 1;
        }
        self.report(sha256, total, total);
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every store write is one transaction: a panic left nothing half done.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `a` and `b` at once on this task until both are done.
async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(move |cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        match (ra.take(), rb.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                (ra, rb) = (x, y);
                Poll::Pending
            }
        }
    })
    .await
}

/// Uploads photos from the queue one after the other until it is empty
/// or the run stops. A photo the server refuses is counted and skipped.
async fn lane<F: FnMut(&UploadStep)>(
    uploads: &Mutex<Uploads<'_, F>>,
    transport: &BlobTransport,
) -> Result<(), SyncError> {
    loop {
        let photo = {
            let mut u = lock(uploads);
            match u.queue.pop_front() {
                Some(photo) if !u.stop => photo,
                _ => return Ok(()),
            }
        };
        let refused = match upload(uploads, transport, &photo).await {
            Ok(()) => continue,
            Err(SyncError::Transport(e)) => refusal(e),
            Err(e) => Err(e),
        };
        match refused {
            Ok((code, _)) => lock(uploads)
                .progress
                .refused
                .push((photo.sha256.clone(), code)),
            Err(e) => {
                lock(uploads).stop = true;
                return Err(e);
            }
        }
    }
}

async fn upload<F: FnMut(&UploadStep)>(
    uploads: &Mutex<Uploads<'_, F>>,
    transport: &BlobTransport,
    photo: &PendingPhoto,
) -> Result<(), SyncError> {
    let sha256 = photo.sha256.as_str();
    let Some(bytes) = lock(uploads).store.photo_bytes(sha256)? else {
        return Ok(());
    };
    let total = bytes.len() as u64;
    // A photo never started is sent at once: the server holds none of
    // this device's upload, and the first chunk's answer says "complete"
    // if this user already finished it elsewhere. One started may be
    // further on the server than stored (an answer lost to a cut): ask,
    // a round trip rather than a chunk sent twice.
    let mut offset = if photo.started {
        let remote = transport.remote(sha256).await?;
        if remote.complete {
            return Ok(lock(uploads).done(sha256, total, false)?);
        }
        remote.offset.min(total)
    } else {
        0
    };
    {
        let mut u = lock(uploads);
        // Marks it started before the first chunk leaves.
        u.store.set_upload_offset(sha256, offset)?;
        u.report(sha256, offset, total);
    }
    let mut retries = 0;
    loop {
        if lock(uploads).stop {
            // Another upload hit a network failure: this one resumes
            // from its confirmed offset next time.
            return Ok(());
        }
        let end = (offset + transport.chunk_bytes as u64).min(total);
        let chunk = bytes[offset as usize..end as usize].to_vec();
        let sent = chunk.len() as u64;
        let answer = transport.send_chunk(sha256, offset, total, chunk).await?;
        // The lock is taken and released in this block: a guard must not
        // be held across the next wait (nor could the future then move
        // between threads).
        {
            let mut u = lock(uploads);
            if answer.complete {
                u.progress.bytes_sent += sent;
                // Complete before its last chunk: a photo not started here
                // that this user finished before (on another device).
                return Ok(u.done(sha256, total, end == total)?);
            }
            if answer.offset == end {
                u.progress.bytes_sent += sent;
            } else {
                // A 409: another attempt got further (or the server lost a
                // partial file). Carry on from what it holds.
                retries += 1;
                if retries > MAX_OFFSET_RETRIES {
                    return Err(TransportError::Server {
                        status: 409,
                        code: "upload_offset_mismatch".into(),
                        message: "the server's offset kept moving".into(),
                    }
                    .into());
                }
            }
            offset = answer.offset.min(total);
            u.store.set_upload_offset(sha256, offset)?;
            u.report(sha256, offset, total);
        }
        if offset == total {
            // Everything is there but the server has not said it is whole
            // and checked: ask once more.
            let remote = transport.remote(sha256).await?;
            if remote.complete {
                return Ok(lock(uploads).done(sha256, total, true)?);
            }
            retries += 1;
            if retries > MAX_OFFSET_RETRIES {
                return Err(TransportError::Server {
                    status: 409,
                    code: "upload_offset_mismatch".into(),
                    message: "the server holds every byte but not the blob".into(),
                }
                .into());
            }
            offset = remote.offset.min(total);
        }
    }
}

async fn download(
    store: &mut Store,
    transport: &BlobTransport,
    sha256: &str,
    doc: Uuid,
    progress: &mut PhotoProgress,
) -> Result<(), SyncError> {
    let mut have = store.partial_download(sha256)?.len() as u64;
    loop {
        let piece = transport.fetch(sha256, doc, have).await?;
        progress.bytes_received += piece.bytes.len() as u64;
        if piece.start != have {
            // The server sent the blob whole, not the range: start over.
            store.drop_download(sha256)?;
            have = 0;
            if piece.start != 0 {
                return Err(TransportError::Unreachable(format!(
                    "the server answered a range request from byte {}",
                    piece.start
                ))
                .into());
            }
        }
        store.append_download(sha256, &piece.bytes)?;
        have += piece.bytes.len() as u64;
        if have >= piece.total || piece.bytes.is_empty() {
            let bytes = store.partial_download(sha256)?;
            return Ok(store.put_downloaded_photo(sha256, &bytes)?);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn content_ranges_are_read() {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_RANGE,
            HeaderValue::from_static("bytes 100-199/1000"),
        );
        assert_eq!(content_range(&h), Some((100, 1000)));
        h.insert(CONTENT_RANGE, HeaderValue::from_static("bytes */1000"));
        assert_eq!(content_range(&h), None);
    }
}
