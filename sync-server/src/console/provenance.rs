//! Who wrote each change of a record and when the server received it, as
//! the console shows it in a record's history and conflicts.
//!
//! Nothing here is read from the change's message or time as the truth:
//! the user is the one the server bound the change's actor to (actor →
//! enrolment → user, the `actors` table) and the time is the server's
//! clock when the change reached it (`log.received_at`). The device's own
//! time is shown beside it, since it is when the worker did it if their
//! clock was right. See [`crate::sync`]'s authorship checks for why a
//! stored change's actor is always one the server assigned.

use std::collections::HashMap;

use automerge::{AutoCommit, ChangeHash};
use gridwork_core::doc::{Conflict, RecordDoc};
use gridwork_core::model::RecordKind;
use gridwork_core::privacy::{self, Reveal};
use serde::Serialize;
use serde_json::Value as Json;
use uuid::Uuid;

use crate::storage::{Storage, StorageError};

/// The server's facts about a document's changes.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    received: HashMap<[u8; 32], i64>,
    /// Actor (hex) → user id.
    users: HashMap<String, String>,
}

impl Provenance {
    /// From receipt times by change hash and users by hex actor id.
    pub fn new(
        received: impl IntoIterator<Item = ([u8; 32], i64)>,
        users: impl IntoIterator<Item = (String, String)>,
    ) -> Provenance {
        Provenance {
            received: received.into_iter().collect(),
            users: users.into_iter().collect(),
        }
    }

    /// Looks up the receipt time of every logged change of `doc` and the
    /// user of every actor in `snapshot`.
    pub fn load(
        storage: &dyn Storage,
        doc: Uuid,
        snapshot: &[u8],
    ) -> Result<Provenance, StorageError> {
        let received = storage.change_receipts(doc)?.into_iter().collect();
        let mut actors: Vec<String> = AutoCommit::load(snapshot)
            .map(|mut am| {
                am.get_changes(&[])
                    .iter()
                    .map(|c| c.actor_id().to_hex_string())
                    .collect()
            })
            .unwrap_or_default();
        actors.sort_unstable();
        actors.dedup();
        let users = storage
            .actor_owners(&actors)?
            .into_iter()
            .map(|(actor, owner)| (actor, owner.user_id))
            .collect();
        Ok(Provenance { received, users })
    }

    /// The user the server bound `actor` (hex) to.
    pub fn user(&self, actor: &str) -> Option<&str> {
        self.users.get(actor).map(String::as_str)
    }

    /// When the server received the change (Unix ms, server clock).
    pub fn received_at(&self, hash: &ChangeHash) -> Option<i64> {
        self.received.get(&hash.0).copied()
    }
}

/// One value of a conflicted field, as the console shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ConflictValue {
    /// Masked like the history's values.
    pub value: Json,
    /// The user the server bound the writing actor to.
    pub user: Option<String>,
    /// Unix ms, server clock: when the change reached the server.
    pub at: Option<i64>,
    /// Unix ms on the writing device's clock.
    pub device_at: Option<i64>,
    /// Hex actor id (the enrolment).
    pub actor: String,
}

/// A field with several concurrent values, as the console shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ConsoleConflict {
    pub path: String,
    /// The first is the one currently shown.
    pub values: Vec<ConflictValue>,
}

/// The record's conflicts with the server's authorship and receipt times.
pub fn conflicts(snapshot: &[u8], provenance: &Provenance) -> Result<Vec<ConsoleConflict>, String> {
    let am = AutoCommit::load(snapshot).map_err(|e| e.to_string())?;
    let mut doc = RecordDoc::from_automerge(am).map_err(|e| e.to_string())?;
    let kind = doc.kind();
    Ok(doc
        .conflicts()
        .into_iter()
        .map(|c| shown(kind, c, provenance))
        .collect())
}

fn shown(kind: RecordKind, conflict: Conflict, provenance: &Provenance) -> ConsoleConflict {
    let values = conflict
        .values
        .into_iter()
        .map(|v| {
            let hash = v
                .change
                .as_deref()
                .and_then(|h| h.parse::<ChangeHash>().ok());
            ConflictValue {
                value: privacy::mask_at(kind, &conflict.path, &v.value, Reveal::MASKED),
                user: provenance.user(&v.actor).map(str::to_string),
                at: hash.and_then(|h| provenance.received_at(&h)),
                device_at: v.time.map(|s| s * 1000),
                actor: v.actor,
            }
        })
        .collect();
    ConsoleConflict {
        path: conflict.path,
        values,
    }
}
