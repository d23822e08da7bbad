//! The server's side of the repair path (`gridwork_core::sync::repair`):
//! one round of Automerge's per-document sync protocol for a document a
//! device found divergent.
//!
//! The server keeps no protocol state between rounds and stores nothing
//! here: it answers from a throwaway copy of the document with a fresh
//! sync state, so the answer carries every change the device's Bloom
//! filter says it lacks, plus the server's real heads. Changes the device
//! sent along are merged into the copy only to shape the answer; the
//! device pushes its own through `/v1/sync`, where they are checked.
//!
//! A document the user may not see, or any document for a role that
//! receives nothing on a device (an admin), is answered exactly like one
//! the server does not have (no heads, no message), so the answer leaks
//! nothing.

use automerge::AutoCommit;
use automerge::sync::{Message, State, SyncDoc};
use gridwork_core::sync::wire::{RepairRequest, RepairResponse};
use uuid::Uuid;

use super::SyncContext;
use super::contain::contained;
use crate::access::{self, Channel};
use crate::auth::Session;
use crate::storage::{Storage, StorageError};

/// Why a repair round could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("the repair message could not be read: {0}")]
    BadMessage(String),
}

/// Answers one repair round. Blocking.
#[tracing::instrument(skip_all, err, fields(device = %session.device_id, %doc))]
pub fn repair(
    storage: &dyn Storage,
    ctx: &SyncContext,
    session: &Session,
    doc: Uuid,
    request: RepairRequest,
) -> Result<RepairResponse, RepairError> {
    let message = contained("Message::decode", || Message::decode(&request.message))
        .map_err(RepairError::BadMessage)?
        .map_err(|e| RepairError::BadMessage(e.to_string()))?;
    let Some(mut am) = visible_doc(storage, ctx, session, doc)? else {
        return Ok(RepairResponse {
            heads: Vec::new(),
            message: None,
        });
    };
    let heads = am.get_heads().iter().map(|h| h.0.to_vec()).collect();
    let reply = contained("a repair round", || {
        let mut state = State::new();
        am.sync().receive_sync_message(&mut state, message)?;
        Ok::<_, automerge::AutomergeError>(am.sync().generate_sync_message(&mut state))
    })
    .map_err(RepairError::BadMessage)?
    .map_err(|e| RepairError::BadMessage(e.to_string()))?;
    Ok(RepairResponse {
        heads,
        message: reply.map(Message::encode),
    })
}

/// The stored document, if it goes to the user's device
/// ([`access::device_doc`]).
fn visible_doc(
    storage: &dyn Storage,
    ctx: &SyncContext,
    session: &Session,
    doc: Uuid,
) -> Result<Option<AutoCommit>, RepairError> {
    let Some(stored) = access::device_doc(storage, &ctx.calendar, session, doc, Channel::Repair)?
    else {
        return Ok(None);
    };
    AutoCommit::load(&stored.snapshot)
        .map(Some)
        .map_err(|e| RepairError::Storage(StorageError::Corrupt(format!("document {doc}: {e}"))))
}
