//! Records that go where another record goes.
//!
//! An incident's parties record lies in the incident's grid: its readers
//! are that grid's staff and the supervisors above it
//! ([`gridwork_core::model::IncidentParties`], `crate::access`). When a
//! push moves an incident into another grid (its point moved, and the
//! tablet placed it again), the server moves the parties record with it,
//! in the same commit, by a change of its own: the new grid's devices then
//! receive the parties, and the old grid's stop receiving their later
//! changes (what a device already holds cannot be taken back). Nothing
//! else follows: every other record carries its own grid.

use automerge::AutoCommit;
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::model::{IncidentParties, RecordKind};

use super::push::ServerActor;
use crate::auth::{SERVER_DEVICE, SERVER_USER};
use crate::storage::{DocWrite, NewChange, ProjectionRow, Storage, StorageError};

/// The server's writes moving the parties record of every incident that
/// `writes` moves into another grid, unless the push writes that record
/// itself.
pub(super) fn parties_follow(
    storage: &dyn Storage,
    server: &mut ServerActor<'_>,
    writes: &[DocWrite],
    now: jiff::Timestamp,
) -> Result<Vec<DocWrite>, StorageError> {
    let mut follow = Vec::new();
    for moved in writes
        .iter()
        .filter(|w| w.moved && w.kind == RecordKind::Incident.as_str())
    {
        let id = IncidentParties::id_for(moved.id);
        if writes.iter().any(|w| w.id == id) {
            continue;
        }
        let Some(stored) = storage.load_doc(id)? else {
            continue;
        };
        if stored.grid == moved.grid {
            continue;
        }
        let damaged = |e: String| {
            StorageError::Corrupt(format!("the parties record {id} cannot be read: {e}"))
        };
        let am = AutoCommit::load(&stored.snapshot).map_err(|e| damaged(e.to_string()))?;
        let mut doc = RecordDoc::from_automerge(am).map_err(|e| damaged(e.to_string()))?;
        doc.set_actor(server.get()?);
        let author = Author::new(SERVER_USER, now.as_millisecond());
        let hash = doc
            .update::<IncidentParties>(&author, |p| p.meta.grid = moved.grid.clone())
            .map_err(|e| damaged(e.to_string()))?;
        let Some(hash) = hash else { continue };
        let bytes = doc
            .automerge()
            .get_change_by_hash(&hash)
            .map(|c| c.raw_bytes().to_vec())
            .ok_or_else(|| StorageError::Corrupt("the server's own change vanished".into()))?;
        let record = doc.read_any().map_err(|e| damaged(e.to_string()))?;
        follow.push(DocWrite {
            id,
            kind: stored.kind,
            grid: moved.grid.clone(),
            snapshot: doc.save(),
            base_rev: Some(stored.rev),
            moved: true,
            changes: vec![NewChange {
                hash: hash.0,
                bytes,
                device_id: Some(SERVER_DEVICE.to_string()),
            }],
            // A parties record holds no photo.
            photos: Vec::new(),
            // A parties record is no incident: no calendar needed.
            projection: ProjectionRow::of(&record, None),
        });
    }
    Ok(follow)
}
