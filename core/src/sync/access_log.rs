//! Uploading the device's access log: `POST /v1/access-log` with the
//! reveals the server has not taken yet (JSON: a handful of small entries,
//! not worth the sync framing). The server answers with the ids it holds,
//! new or already stored, and only those are marked sent here, so an
//! upload cut anywhere is simply sent again and stored once.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::client::SyncError;
use super::http::HttpTransport;
use crate::store::{RevealEntry, Store};

/// The endpoint, under the server's base URL.
pub const PATH: &str = "/v1/access-log";
/// At most this many entries go in one request (the server refuses more).
pub const MAX_PER_UPLOAD: usize = 500;

/// The request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealUpload {
    pub entries: Vec<RevealEntry>,
}

/// The answer: every id of the request, now held by the server, and how
/// many of them were new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealReceipt {
    pub stored: Vec<Uuid>,
    pub added: usize,
}

/// Sends every unsent reveal, in batches, marking each batch sent once the
/// server answered. Returns how many the server held new.
pub async fn upload_reveals(
    store: &mut Store,
    transport: &HttpTransport,
    now_ms: i64,
) -> Result<usize, SyncError> {
    let mut added = 0;
    loop {
        let entries = store.unsent_reveals(MAX_PER_UPLOAD as u32)?;
        if entries.is_empty() {
            return Ok(added);
        }
        let receipt = transport.upload_reveals(&RevealUpload { entries }).await?;
        if receipt.stored.is_empty() {
            // Nothing taken: do not spin; the next sync tries again.
            return Ok(added);
        }
        store.mark_reveals_sent(&receipt.stored, now_ms)?;
        added += receipt.added;
    }
}
