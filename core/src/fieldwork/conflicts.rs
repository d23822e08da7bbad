//! Conflicts: a field written differently at once on two devices keeps
//! both values until a person chooses one; the choice is an ordinary
//! edit that syncs.

use uuid::Uuid;

use super::{WorkError, Worker};
use crate::doc::{Author, Conflict, DocError, RecordDoc};
use crate::problem::{Params, params};
use crate::store::{Store, StoreError};

/// Why a conflict could not be settled as asked.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The field has one value now (settled meanwhile, maybe on another
    /// device), or the chosen value is no longer among its values.
    #[error("the conflict at {0} has changed; look at it again")]
    Changed(String),
    #[error(transparent)]
    Doc(#[from] DocError),
}

impl ResolveError {
    /// The stable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            ResolveError::Changed(_) => "conflict_changed",
            ResolveError::Doc(e) => e.code(),
        }
    }

    /// The params of the UI's message: the conflict's `path`.
    pub fn params(&self) -> Params {
        match self {
            ResolveError::Changed(path) => params([("path", path.clone().into())]),
            ResolveError::Doc(_) => Params::new(),
        }
    }
}

/// Settles the same-field conflict at `path` with `chosen`, which must be
/// one of its current values: one ordinary change by `author`, synced like
/// any edit, after which every device sees that value alone.
pub fn resolve_conflict(
    doc: &mut RecordDoc,
    author: &Author,
    path: &str,
    chosen: &serde_json::Value,
) -> Result<(), ResolveError> {
    let conflicts: Vec<Conflict> = doc.conflicts();
    let found = conflicts
        .iter()
        .find(|c| c.path == path)
        .is_some_and(|c| c.values.iter().any(|v| &v.value == chosen));
    if !found {
        return Err(ResolveError::Changed(path.to_string()));
    }
    doc.resolve(author, path, chosen)?;
    Ok(())
}

/// The conflicts of record `id`, each with every value, who wrote it and
/// when.
pub fn list(store: &Store, id: Uuid) -> Result<Vec<Conflict>, StoreError> {
    let mut doc = store.load(id)?.ok_or(StoreError::NotFound(id))?;
    Ok(doc.conflicts())
}

/// Settles the conflict at `path` of record `id` with `chosen`, by the
/// worker, in one transaction ([`resolve_conflict`]); returns the
/// conflicts left.
pub fn resolve(
    store: &mut Store,
    worker: &Worker<'_>,
    id: Uuid,
    path: &str,
    chosen: &serde_json::Value,
    now_ms: i64,
) -> Result<Vec<Conflict>, WorkError> {
    store.write(|tx| {
        let mut doc = tx.load(id)?.ok_or(StoreError::NotFound(id))?;
        resolve_conflict(&mut doc, &worker.author(now_ms), path, chosen)?;
        tx.save_doc(&mut doc)?;
        Ok(doc.conflicts())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fieldwork::forms::{self, blank_household};
    use crate::fieldwork::testkit::{NOW, household, open_store, worker};
    use crate::model::Household;

    #[test]
    fn resolving_a_conflict_leaves_the_chosen_value_alone_on_every_device() {
        let h = blank_household("440106001001001", "gw-1", NOW);
        let actor = |n: u8| automerge::ActorId::from(vec![n; 16]);
        let mut a = RecordDoc::create(&h, actor(1), &Author::new("gw-1", NOW)).unwrap();
        let mut b = a.fork(actor(2));
        a.update::<Household>(&Author::new("gw-1", NOW), |h| {
            h.owner_name = "王芳芳".into()
        })
        .unwrap();
        b.update::<Household>(&Author::new("cs-1", NOW), |h| h.owner_name = "汪芳".into())
            .unwrap();
        a.merge(&mut b).unwrap();
        assert_eq!(a.conflicts().len(), 1);

        let stale = resolve_conflict(
            &mut a,
            &Author::new("gw-1", NOW),
            "owner_name",
            &"王方".into(),
        );
        assert_eq!(stale.unwrap_err().code(), "conflict_changed");
        let elsewhere =
            resolve_conflict(&mut a, &Author::new("gw-1", NOW), "usage", &"rented".into());
        assert_eq!(elsewhere.unwrap_err().code(), "conflict_changed");

        resolve_conflict(
            &mut a,
            &Author::new("gw-1", NOW),
            "owner_name",
            &"汪芳".into(),
        )
        .unwrap();
        assert!(a.conflicts().is_empty());
        b.merge(&mut a).unwrap();
        assert!(b.conflicts().is_empty(), "the choice syncs as an edit");
        assert_eq!(b.read::<Household>().unwrap().owner_name, "汪芳");
        // Settled: choosing again is refused, not written twice.
        let again = resolve_conflict(
            &mut a,
            &Author::new("gw-1", NOW),
            "owner_name",
            &"汪芳".into(),
        );
        assert!(again.is_err());
    }

    #[test]
    fn a_conflict_in_the_store_is_settled_in_one_write_and_a_stale_choice_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open_store(&dir.path().join("device.sqlite"));
        let gw = worker("gw-1");
        let mut h = household();
        h.owner_name = "王芳".into();
        let h = forms::save(&mut store, &gw, h, NOW).unwrap();
        // A supervisor's device writes the same field meanwhile.
        let mut theirs = store
            .load(h.meta.id)
            .unwrap()
            .unwrap()
            .fork(automerge::ActorId::from(vec![9; 16]));
        let base = theirs.heads();
        theirs
            .update::<Household>(&Author::new("cs-1", NOW), |h| h.owner_name = "汪芳".into())
            .unwrap();
        let mut mine = h.clone();
        mine.owner_name = "王芳芳".into();
        forms::save(&mut store, &gw, mine, NOW + 1).unwrap();
        store
            .apply_remote(h.meta.id, theirs.changes_since(&base))
            .unwrap();
        assert_eq!(list(&store, h.meta.id).unwrap().len(), 1);

        let pending = store.pending_count().unwrap();
        let stale = resolve(
            &mut store,
            &gw,
            h.meta.id,
            "owner_name",
            &"王方".into(),
            NOW + 2,
        );
        assert_eq!(stale.unwrap_err().code(), "conflict_changed");
        assert_eq!(store.pending_count().unwrap(), pending, "nothing written");

        let left = resolve(
            &mut store,
            &gw,
            h.meta.id,
            "owner_name",
            &"汪芳".into(),
            NOW + 2,
        )
        .unwrap();
        assert!(left.is_empty());
        assert!(
            list(&store, h.meta.id).unwrap().is_empty(),
            "stored settled"
        );
        assert_eq!(
            store
                .get::<Household>(h.meta.id)
                .unwrap()
                .unwrap()
                .owner_name,
            "汪芳"
        );
        assert_eq!(
            store.pending_count().unwrap(),
            pending + 1,
            "one edit to sync"
        );
    }
}
