//! The repair path: Automerge's per-document sync protocol, for one
//! document found divergent, never for bulk sync.
//!
//! A document is divergent when the batched sync cannot settle it by
//! itself: changes from the server wait in the store for dependencies that
//! never came, or the server refused the device's changes because a change
//! they build on is missing there (a server restored from an older backup
//! lost what it had acknowledged). The device and the server then run
//! Automerge's sync protocol over `POST /v1/repair/{doc}`: Bloom filters
//! find what each side lacks whatever the cursor says.
//!
//! The server only ever *sends* through this path. What the device has and
//! the server lacks is found by comparing with the server's heads, and the
//! device's own such changes go back to the outbox: the next push carries
//! them, and the server checks them like any other (scope, validation,
//! field permissions). Another device's changes are that device's to send.

use automerge::sync::{Message, State, SyncDoc};
use automerge::{AutoCommit, Change, ChangeHash};
use uuid::Uuid;

use super::client::{StoreAccess, SyncClient, SyncError, Transport};
use super::wire::{self, RepairRequest, RepairResponse};
use crate::store::Store;

/// Most protocol rounds for one document; one is usual, more only after a
/// Bloom filter false positive.
const MAX_ROUNDS: usize = 4;

/// What repairing one document did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repaired {
    /// Protocol rounds (requests) used.
    pub rounds: u32,
    /// Changes received from the server that the device lacked.
    pub received: u64,
    /// The device's own changes the server lacked, back in the outbox.
    pub requeued: u64,
    /// Both sides now agree on the document's history (apart from the
    /// requeued changes, which the next push carries).
    pub settled: bool,
}

impl SyncClient {
    /// Runs the repair protocol for one document. The store is locked only
    /// while a message is built or an answer stored.
    pub async fn repair<S: StoreAccess, T: Transport>(
        &self,
        store: &mut S,
        transport: &T,
        doc: Uuid,
    ) -> Result<Repaired, SyncError> {
        let mut state = State::new();
        let mut repaired = Repaired::default();
        for _ in 0..MAX_ROUNDS {
            let message = store.with(|s| -> Result<Option<Message>, SyncError> {
                Ok(local_doc(s, doc)?.sync().generate_sync_message(&mut state))
            })?;
            let Some(message) = message else {
                break;
            };
            let body = wire::encode(&RepairRequest {
                message: message.encode(),
            });
            let answer = transport.repair(doc, body).await?;
            repaired.rounds += 1;
            let response: RepairResponse = wire::decode(&answer)?;
            let round = store.with(|s| take_answer(s, doc, &mut state, response))?;
            repaired.received += round.received;
            repaired.requeued += round.requeued;
            if round.settled {
                repaired.settled = true;
                break;
            }
        }
        Ok(repaired)
    }
}

/// The device's copy of the document (empty when only waiting changes are
/// here).
fn local_doc(store: &Store, doc: Uuid) -> Result<AutoCommit, SyncError> {
    Ok(match store.load(doc)? {
        Some(mut record) => record.automerge().clone(),
        None => AutoCommit::new(),
    })
}

/// Stores what the server sent and, once the server's heads are all known
/// here, puts the device's own changes the server lacks back in the outbox.
fn take_answer(
    store: &mut Store,
    doc: Uuid,
    state: &mut State,
    response: RepairResponse,
) -> Result<Repaired, SyncError> {
    let mut am = local_doc(store, doc)?;
    let before = am.get_heads();
    let mut round = Repaired::default();
    if let Some(bytes) = &response.message {
        let message = Message::decode(bytes)
            .map_err(|e| SyncError::BadChange(format!("a repair message: {e}")))?;
        am.sync()
            .receive_sync_message(state, message)
            .map_err(|e| SyncError::BadChange(e.to_string()))?;
        let new: Vec<Change> = am.get_changes(&before);
        if !new.is_empty() {
            round.received = new.len() as u64;
            store.apply_remote(doc, new)?;
        }
    }
    let mut server_heads = Vec::with_capacity(response.heads.len());
    for bytes in &response.heads {
        server_heads.push(
            ChangeHash::try_from(bytes.as_slice())
                .map_err(|_| SyncError::BadChange("a repair answer's heads".into()))?,
        );
    }
    if server_heads
        .iter()
        .any(|h| am.get_change_meta_by_hash(h).is_none())
    {
        // A Bloom filter false positive kept something back: another round.
        return Ok(round);
    }
    // This device's own: under its actor or an earlier sign-in's.
    let mine = store.own_actors()?;
    let missing: Vec<Change> = am
        .get_changes(&server_heads)
        .into_iter()
        .filter(|c| mine.contains(c.actor_id()))
        .collect();
    round.requeued = store.requeue(doc, &missing)? as u64;
    round.settled = true;
    Ok(round)
}
