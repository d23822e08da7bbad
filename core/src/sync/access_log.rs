//! Uploading the device's access log: `POST /v1/access-log` with the
//! reveals the server has not taken yet (JSON: a handful of small entries,
//! not worth the sync framing). The server answers with the ids it holds,
//! new or already stored, and the ids it refuses with a code; only those
//! are marked here (sent or refused), so an upload cut anywhere is simply
//! sent again and stored once, and a refused entry is never sent again
//! (see [`crate::store`]'s access log for which entries are sent when).
//!
//! The server takes from an entry only what the device alone knows: which
//! field was shown, how protected it is, and the device's time. The user,
//! the device, the time received and the record's kind are its own (the
//! token's, its clock, the stored record), whatever the entry says.

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

/// The answer: the ids of the request now held by the server, how many of
/// them were new, and the ids it will not store, each with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealReceipt {
    pub stored: Vec<Uuid>,
    pub added: usize,
    /// Absent from an older server's answer.
    #[serde(default)]
    pub refused: Vec<RevealRefusal>,
}

/// The code of a refused entry: the server holds no such record in the
/// device's scope (it never reached the server, its push was refused, the
/// role may not see it, or it left the user's grids). Final: the device
/// keeps the entry in its own log and does not send it again.
pub const REFUSED_OUTSIDE_SCOPE: &str = "outside_scope";

/// One entry the server will not store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealRefusal {
    pub id: Uuid,
    /// [`REFUSED_OUTSIDE_SCOPE`] (the only code so far).
    pub code: String,
    /// The reason in Chinese, then English.
    pub message: String,
}

/// Sends every unsent reveal, in batches, marking each entry sent or
/// refused once the server answered. Returns how many the server held new.
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
        let sent: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
        let receipt = transport.upload_reveals(&RevealUpload { entries }).await?;
        let answered = receipt
            .stored
            .iter()
            .chain(receipt.refused.iter().map(|r| &r.id))
            .any(|id| sent.contains(id));
        if !answered {
            // Nothing of this batch answered: do not spin; the next sync
            // tries again.
            return Ok(added);
        }
        store.mark_reveals_sent(&receipt.stored, now_ms)?;
        let refused: Vec<(Uuid, &str)> = receipt
            .refused
            .iter()
            .map(|r| (r.id, r.code.as_str()))
            .collect();
        store.mark_reveals_refused(&refused, now_ms)?;
        added += receipt.added;
    }
}
