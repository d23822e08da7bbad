//! Compact changes rebuilt before a push is checked (protocol version 3,
//! [`gridwork_core::sync::compact`]).
//!
//! A device may push a change without what the server already knows:
//! dependencies and other actors as prefixes, its own actor and its
//! user's id left out. The server rebuilds the exact change from the
//! document it holds (the changes and actors of the stored copy, and the
//! changes pushed before it in the same request) and from the session:
//! the enrolment's actor and the signed-in user's id come from the token's
//! records, never from the payload. The rebuilt change must match the
//! checksum the device sent, so a wrong prefix or a claim of someone
//! else's identity gives no change at all; the document is then refused
//! with `compact_unresolved` and the device sends its changes whole. What
//! is rebuilt goes through exactly the same checks as a change pushed
//! whole: this module only turns bytes into bytes.
//!
//! The stored documents read here are the ones the check reads next: it
//! takes them from [`Preloaded`] instead of reading them again, decoded
//! once: the Automerge document decoded to rebuild a change is the one
//! the check applies the push to.

use std::collections::HashMap;

use automerge::{AutoCommit, Change};
use gridwork_core::sync::compact::{self, ExpandError, Held};
use uuid::Uuid;

use crate::storage::{Storage, StorageError, StoredDoc};

/// Stored documents read to rebuild compact changes, for the check to
/// take instead of reading them again (first attempt only).
pub(super) type Preloaded = HashMap<Uuid, Preload>;

/// A stored document read for a push, and its snapshot decoded once a
/// compact change needed it.
pub(super) struct Preload {
    pub(super) stored: StoredDoc,
    pub(super) decoded: Option<AutoCommit>,
}

/// What the stored copy holds, decoding it (kept for the check); nothing
/// when there is none or it cannot be read (its changes then go whole,
/// and the check says what is wrong with it).
fn held(preload: Option<&mut Preload>) -> Held {
    let Some(preload) = preload else {
        return Held::default();
    };
    if preload.decoded.is_none() {
        preload.decoded = AutoCommit::load(&preload.stored.snapshot).ok();
    }
    preload
        .decoded
        .as_mut()
        .map(|am| am.get_changes(&[]).iter().collect())
        .unwrap_or_default()
}

/// The documents of `push` that carry a compact change, read in one go.
pub(super) fn preload<'a>(
    storage: &dyn Storage,
    push: impl Iterator<Item = (Uuid, &'a [Vec<u8>])>,
) -> Result<Preloaded, StorageError> {
    let mut ids: Vec<Uuid> = push
        .filter(|(_, changes)| changes.iter().any(|c| compact::is_compact(c)))
        .map(|(doc, _)| doc)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Preloaded::new());
    }
    Ok(storage
        .load_docs(&ids)?
        .into_iter()
        .map(|(id, stored)| {
            let preload = Preload {
                stored,
                decoded: None,
            };
            (id, preload)
        })
        .collect())
}

/// What each document's compact changes are rebuilt against, made on
/// first use and grown with every change of the push.
#[derive(Default)]
pub(super) struct Rebuild {
    docs: HashMap<Uuid, Held>,
}

impl Rebuild {
    /// The whole change of `bytes`, pushed for `doc` by the enrolment
    /// whose actor is `own_actor` (empty when unknown) as `user`:
    /// rebuilt when compact, as sent otherwise.
    pub(super) fn whole(
        &mut self,
        preloaded: &mut Preloaded,
        doc: Uuid,
        own_actor: &[u8],
        user: &str,
        bytes: Vec<u8>,
    ) -> Result<Vec<u8>, ExpandError> {
        if !compact::is_compact(&bytes) {
            return Ok(bytes);
        }
        let known = self
            .docs
            .entry(doc)
            .or_insert_with(|| held(preloaded.get_mut(&doc)));
        compact::expand(&bytes, own_actor, user, known)
    }

    /// Counts a parsed change of `doc` for the push's later changes.
    pub(super) fn add(&mut self, preloaded: &mut Preloaded, doc: Uuid, change: &Change) {
        self.docs
            .entry(doc)
            .or_insert_with(|| held(preloaded.get_mut(&doc)))
            .add(change);
    }
}
