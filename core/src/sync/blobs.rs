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

use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, HeaderMap, RANGE};
use uuid::Uuid;

use super::client::{SyncError, TransportError};
use super::http::failure;
use super::trust::{self, Trust};
use crate::store::{PhotoError, Store, StoreError};

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
    let mut progress = PhotoProgress::default();
    store.drop_released_photos()?;
    for photo in store.pending_photos()? {
        match upload(
            store,
            transport,
            &photo.sha256,
            &mut progress,
            &mut on_upload,
        )
        .await
        {
            Ok(()) => {}
            Err(SyncError::Transport(e)) => {
                let (code, _) = refusal(e)?;
                progress.refused.push((photo.sha256.clone(), code));
            }
            Err(e) => return Err(e),
        }
    }
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

async fn upload(
    store: &mut Store,
    transport: &BlobTransport,
    sha256: &str,
    progress: &mut PhotoProgress,
    on_upload: &mut impl FnMut(&UploadStep),
) -> Result<(), SyncError> {
    let Some(bytes) = store.photo_bytes(sha256)? else {
        return Ok(());
    };
    let total = bytes.len() as u64;
    let mut report = |sent: u64| {
        on_upload(&UploadStep {
            sha256: sha256.to_string(),
            sent,
            total,
        })
    };
    let remote = transport.remote(sha256).await?;
    if remote.complete {
        store.mark_uploaded(sha256)?;
        progress.already_there += 1;
        report(total);
        return Ok(());
    }
    let mut offset = remote.offset.min(total);
    store.set_upload_offset(sha256, offset)?;
    report(offset);
    let mut retries = 0;
    loop {
        let end = (offset + transport.chunk_bytes as u64).min(total);
        let chunk = bytes[offset as usize..end as usize].to_vec();
        let sent = chunk.len() as u64;
        let answer = transport.send_chunk(sha256, offset, total, chunk).await?;
        if answer.complete {
            progress.bytes_sent += sent;
            store.mark_uploaded(sha256)?;
            progress.sent += 1;
            report(total);
            return Ok(());
        }
        if answer.offset == end {
            progress.bytes_sent += sent;
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
        store.set_upload_offset(sha256, offset)?;
        report(offset);
        if offset == total {
            // Everything is there but the server has not said it is whole
            // and checked: ask once more.
            let remote = transport.remote(sha256).await?;
            if remote.complete {
                store.mark_uploaded(sha256)?;
                progress.sent += 1;
                report(total);
                return Ok(());
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
