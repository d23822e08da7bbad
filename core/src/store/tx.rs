//! Several reads and writes as one SQLite transaction ([`Store::write`]).
//!
//! An operation that touches more than one record, or reads a record to
//! decide how to write it (save a form: insert or update; record a visit:
//! the visit and its resident's next due date; report an incident: the
//! form and the report), runs inside one [`StoreTx`]: it commits whole or,
//! when any step fails, leaves nothing behind. [`Store::insert`],
//! [`Store::update`] and [`Store::save_doc`] are each one such transaction.

use automerge::ActorId;
use rusqlite::{Transaction, TransactionBehavior};
use uuid::Uuid;

use super::{Origin, Store, StoreError, doc_row, load_doc, load_id, persist, read_loaded};
use crate::calendar::WorkCalendar;
use crate::doc::{Author, RecordDoc};
use crate::model::{Record, ValidateCtx};

/// The store inside one open transaction. See the [module docs](self).
pub struct StoreTx<'a> {
    pub(super) tx: Transaction<'a>,
    calendar: &'a WorkCalendar,
    actor: &'a ActorId,
}

impl std::fmt::Debug for StoreTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreTx")
            .field("actor", &self.actor.to_hex_string())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled
    /// back (nothing written) when it returns `Err`.
    pub fn write<R, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut StoreTx<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let mut write = StoreTx {
            tx,
            calendar: &self.calendar,
            actor: &self.actor,
        };
        let out = f(&mut write)?;
        write.tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }
}

impl StoreTx<'_> {
    /// Whether a record with this id is stored (of any kind, deleted or
    /// not).
    pub fn exists(&self, id: Uuid) -> Result<bool, StoreError> {
        Ok(doc_row(&self.tx, id)?.is_some())
    }

    /// The calendar incidents' deadlines are counted with.
    pub fn calendar(&self) -> &WorkCalendar {
        self.calendar
    }

    /// Loads a record's document as this transaction sees it.
    pub fn load(&self, id: Uuid) -> Result<Option<RecordDoc>, StoreError> {
        load_id(&self.tx, id, self.actor)
    }

    /// Reads a record as its typed struct.
    pub fn get<T: Record>(&self, id: Uuid) -> Result<Option<T>, StoreError> {
        read_loaded(self.load(id)?)
    }

    /// Validates and writes a new record, as one change by this device.
    /// Returns the record as saved (normalized); refuses an invalid one
    /// ([`StoreError::Invalid`]) or one whose id is taken.
    pub fn insert<T: Record>(
        &mut self,
        mut record: T,
        author: &Author,
        today: jiff::civil::Date,
    ) -> Result<T, StoreError> {
        record.validate_state(&ValidateCtx { today })?;
        let id = record.meta().id;
        if doc_row(&self.tx, id)?.is_some() {
            return Err(StoreError::AlreadyExists(id));
        }
        let mut doc = RecordDoc::create(&record, self.actor.clone(), author)?;
        persist(
            &self.tx,
            self.calendar,
            None,
            &mut doc,
            &[],
            Origin::Local,
            Some(author.now_ms),
        )?;
        Ok(doc.read()?)
    }

    /// Edits a record: `edit` changes a copy, the copy is validated, and
    /// only what changed is written, as one change. Returns the record as
    /// saved.
    pub fn update<T: Record>(
        &mut self,
        id: Uuid,
        author: &Author,
        today: jiff::civil::Date,
        edit: impl FnOnce(&mut T),
    ) -> Result<T, StoreError> {
        self.try_update(id, author, today, |record: &mut T| {
            edit(record);
            Ok::<(), StoreError>(())
        })
    }

    /// [`StoreTx::update`] with an edit that may refuse: then its error is
    /// returned and nothing of the edit is written.
    pub fn try_update<T: Record, E: From<StoreError>>(
        &mut self,
        id: Uuid,
        author: &Author,
        today: jiff::civil::Date,
        edit: impl FnOnce(&mut T) -> Result<(), E>,
    ) -> Result<T, E> {
        let Some(row) = doc_row(&self.tx, id)? else {
            return Err(StoreError::NotFound(id).into());
        };
        let mut doc = load_doc(&self.tx, &row, self.actor.clone())?;
        let before: T = doc.read().map_err(StoreError::from)?;
        let mut after = before.clone();
        edit(&mut after)?;
        after
            .validate_state(&ValidateCtx { today })
            .map_err(StoreError::from)?;
        let heads = doc.heads();
        doc.write_diff(author, &before, &after)
            .map_err(StoreError::from)?;
        persist(
            &self.tx,
            self.calendar,
            Some(&row),
            &mut doc,
            &heads,
            Origin::Local,
            Some(author.now_ms),
        )?;
        Ok(doc.read().map_err(StoreError::from)?)
    }

    /// Writes what was done to `doc` through the document API (a workflow
    /// transition, a resolved conflict): every change the store lacks is
    /// stored and queued for the server. Afterwards `doc` also holds
    /// whatever the store had that it lacked.
    pub fn save_doc(&mut self, doc: &mut RecordDoc) -> Result<(), StoreError> {
        match doc_row(&self.tx, doc.id())? {
            None => {
                persist(&self.tx, self.calendar, None, doc, &[], Origin::Local, None)?;
            }
            Some(row) => {
                let mut stored = load_doc(&self.tx, &row, self.actor.clone())?;
                let before = stored.heads();
                // Heads `doc` lacks are skipped, so this may resend changes
                // the store has: merging ignores them.
                stored.apply_changes(doc.changes_since(&before))?;
                persist(
                    &self.tx,
                    self.calendar,
                    Some(&row),
                    &mut stored,
                    &before,
                    Origin::Local,
                    None,
                )?;
                let theirs = doc.heads();
                doc.apply_changes(stored.changes_since(&theirs))?;
            }
        }
        Ok(())
    }
}
