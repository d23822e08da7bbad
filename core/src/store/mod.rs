//! The device's local store: record documents, their query projections,
//! Chinese full-text search and the outbox, in one SQLite file.
//!
//! Every write is one SQLite transaction holding the document's new
//! changes, its refreshed projection row (the plain columns the UI lists
//! and filters), its full-text rows and, for local writes, outbox entries.
//! A write that committed is whole after any crash; a write that did not
//! left nothing behind. The app never waits for the network to save.
//!
//! A document is stored as a compacted snapshot plus the changes made
//! since, which are folded into the snapshot every [`COMPACT_EVERY`]
//! changes, so loading a record costs one snapshot and a few changes
//! however long its history grows. The outbox keeps its own copy of each
//! unsent change, so compaction never loses what the server has yet to
//! receive. Changes from the server ([`Store::apply_remote`]) are merged
//! the same way but not put in the outbox; one whose dependencies have not
//! arrived yet waits in the store until they do.
//!
//! Search: see the `search` module: a trigram table for terms of three
//! characters or more and a character-bigram table for shorter ones
//! (漏水, 3栋), every term required.
//!
//! The file uses write-ahead logging with `synchronous = FULL`: a commit
//! that returned survives a killed process and a power cut. Migrations are
//! timestamped SQL files applied in one transaction; a database from a
//! newer Gridwork is refused untouched ([`StoreError::TooNew`]).

mod access_log;
mod cipher;
mod drafts;
mod photos;
mod schema;
mod search;
mod sync_state;
#[cfg(test)]
mod tests;
mod tx;
pub mod wipe;

use std::collections::BTreeSet;
use std::path::Path;

use automerge::{ActorId, AutoCommit, Change, ChangeHash, ROOT, ReadDoc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use tracing::instrument;
use uuid::Uuid;

use crate::calendar::WorkCalendar;
use crate::doc::{Author, DocError, RecordDoc};
use crate::model::{AnyRecord, GeoPoint, Projection, Record, RecordKind, ValidateCtx, limits};
use crate::validate::ValidationErrors;
use crate::workflow;

pub use access_log::{MAX_FIELD_CHARS, Protection, RevealEntry};
pub use drafts::{Draft, MAX_DRAFT_BYTES, MAX_DRAFT_KEY_CHARS, draft_kind};
pub use photos::{MissingPhoto, PendingPhoto, PhotoError, PhotoKind, is_sha256, photo_hashes};
pub use schema::SCHEMA_VERSION;
use search::FtsQuery;
pub use sync_state::{StoredNotice, StoredRejection};
pub use tx::StoreTx;
pub use wipe::wipe;

/// A document's stored changes are folded into its snapshot once this many
/// have accumulated.
pub const COMPACT_EVERY: i64 = 32;

/// Up to this many full-text hits, a search starts from the hits; past it,
/// from the list order (see `Store::select`).
const FEW_HITS: i64 = 1000;

/// After a remote batch that changed this many records, the planner's
/// statistics are refreshed.
const BIG_BATCH: usize = 500;

/// Rows a list or search returns when the query sets no limit.
pub const DEFAULT_LIMIT: u32 = 100;

/// The derivation of list rows this build writes: bump it when what a
/// record's projection holds changes, and stores opened by this build
/// derive their rows again. 1: a tagged resident never visited is due
/// from registration. 2: an ID number in a list row keeps only its
/// province (`privacy::mask_id_number`); rows written before kept the
/// whole region code, which gives the 户籍地 back (found by the fixture
/// `core/tests/fixtures/layout-v1-parties-in-incident`).
/// 3: rows carry the record's point (for the map).
pub const PROJECTIONS_VERSION: i64 = 3;

/// What can go wrong in the local store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the local database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the local data was written by a newer version of Gridwork (schema {found}; this app \
         reads up to {supported}): update the app"
    )]
    TooNew { found: u32, supported: u32 },
    #[error("the record is not valid: {}", describe(.0))]
    Invalid(#[from] ValidationErrors),
    #[error(transparent)]
    Doc(#[from] DocError),
    #[error("no record {0}")]
    NotFound(Uuid),
    #[error("record {0} already exists")]
    AlreadyExists(Uuid),
    #[error("changes sent for record {expected} belong to record {found}")]
    WrongDocument { expected: Uuid, found: String },
    #[error("the local data is damaged: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Photo(#[from] PhotoError),
    #[error("the local data could not be erased: {0}")]
    Erase(String),
    #[error("the local data does not open with this key")]
    WrongKey,
    #[error("a form draft of {bytes} bytes is over the {max} a draft may hold")]
    DraftTooBig { bytes: usize, max: usize },
    #[error("{0:?} is not a draft key (`<kind>.<what>`)")]
    BadDraftKey(String),
}

impl StoreError {
    /// A stable code for the UI and the logs.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Sqlite(_) => "store_database",
            StoreError::TooNew { .. } => "store_too_new",
            StoreError::Invalid(_) => "invalid",
            StoreError::Doc(e) => e.code(),
            StoreError::NotFound(_) => "not_found",
            StoreError::AlreadyExists(_) => "already_exists",
            StoreError::WrongDocument { .. } => "wrong_document",
            StoreError::Corrupt(_) => "store_corrupt",
            StoreError::Photo(e) => e.code(),
            StoreError::Erase(_) => "store_erase",
            StoreError::WrongKey => "store_wrong_key",
            StoreError::DraftTooBig { .. } => "draft_too_big",
            StoreError::BadDraftKey(_) => "draft_bad_key",
        }
    }
}

impl From<automerge::AutomergeError> for StoreError {
    fn from(e: automerge::AutomergeError) -> StoreError {
        StoreError::Doc(DocError::from(e))
    }
}

fn describe(errors: &ValidationErrors) -> String {
    let fields: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
    fields.join(", ")
}

/// Which grids a list covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum GridFilter {
    /// Every grid.
    #[default]
    Any,
    /// These grid codes exactly.
    In(Vec<String>),
    /// Every grid whose code starts with this one: a grid and the grids
    /// below it in the code hierarchy.
    Prefix(String),
}

/// Filters, order and page of a list or search. Rows come newest first
/// (by `created_at`); deleted records are left out unless asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub kind: Option<RecordKind>,
    pub grids: GridFilter,
    /// Any of these statuses; empty for any status.
    pub status: Vec<String>,
    pub category: Option<String>,
    pub parent_id: Option<Uuid>,
    /// Only records due strictly before this date.
    pub due_before: Option<jiff::civil::Date>,
    pub include_deleted: bool,
    /// At most this many rows ([`DEFAULT_LIMIT`] when unset).
    pub limit: Option<u32>,
    pub offset: u32,
}

/// A local change the server has not acknowledged yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Position in the outbox: entries are sent in this order.
    pub seq: i64,
    pub doc_id: Uuid,
    pub hash: ChangeHash,
    /// The change as Automerge encodes it ([`Change::from_bytes`]).
    pub bytes: Vec<u8>,
    /// The server could not rebuild its compact form: it goes whole
    /// ([`Store::send_whole`]).
    pub whole: bool,
}

impl OutboxEntry {
    /// The change itself.
    pub fn change(&self) -> Result<Change, StoreError> {
        decode_change(self.bytes.clone())
    }
}

/// What applying the server's changes did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteOutcome {
    /// Changes that were new to this device and are now merged.
    pub applied: usize,
    /// Changes held back because changes they depend on have not arrived;
    /// they are merged when those do.
    pub waiting: usize,
    /// Records whose content changed, for the UI to refresh.
    pub changed: Vec<Uuid>,
}

/// The device's local store. See the [module docs](self).
pub struct Store {
    conn: Connection,
    actor: ActorId,
    calendar: WorkCalendar,
    /// [`FEW_HITS`], lowered by tests to take the other plan.
    few_hits: i64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.conn.path())
            .field("actor", &self.actor.to_hex_string())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the store at `path` in clear. Local changes are
    /// made by `actor`, this device's own actor id. The app opens its store
    /// with [`Store::open_encrypted`]; this is for tests, the bench's
    /// baseline and tools.
    #[instrument(skip_all, err)]
    pub fn open(path: impl AsRef<Path>, actor: ActorId) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        schema::prepare(&mut conn, true)?;
        Store::finish_open(conn, actor)
    }

    fn finish_open(conn: Connection, actor: ActorId) -> Result<Store, StoreError> {
        let mut store = Store::with_connection(conn, actor);
        store.remember_actor()?;
        store.refresh_stale_projections()?;
        Ok(store)
    }

    /// Records this store's actor among the ones it has made changes with.
    fn remember_actor(&self) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO own_actors (actor) VALUES (?1)",
            [self.actor.to_bytes()],
        )?;
        Ok(())
    }

    /// Every actor this store has made changes with: the current one and
    /// those of earlier sign-ins on this device.
    pub fn own_actors(&self) -> Result<Vec<ActorId>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT actor FROM own_actors")?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        let mut actors = Vec::new();
        for row in rows {
            actors.push(ActorId::from(row?));
        }
        Ok(actors)
    }

    /// Derives every list row again when they were written by an older
    /// derivation ([`PROJECTIONS_VERSION`]), once, after an app update.
    fn refresh_stale_projections(&mut self) -> Result<(), StoreError> {
        let written: i64 =
            self.conn
                .query_row("SELECT version FROM projection_version", [], |r| r.get(0))?;
        if written < PROJECTIONS_VERSION {
            let changed = self.rebuild_projections()?;
            self.conn.execute(
                "UPDATE projection_version SET version = ?1",
                [PROJECTIONS_VERSION],
            )?;
            tracing::info!(changed, "list rows derived again after an update");
        }
        Ok(())
    }

    /// A store that lives in memory only, for unit tests.
    pub fn open_in_memory(actor: ActorId) -> Result<Store, StoreError> {
        let mut conn = Connection::open_in_memory()?;
        schema::prepare(&mut conn, false)?;
        let store = Store::with_connection(conn, actor);
        store.remember_actor()?;
        Ok(store)
    }

    fn with_connection(conn: Connection, actor: ActorId) -> Store {
        Store {
            conn,
            actor,
            calendar: WorkCalendar::bundled(),
            few_hits: FEW_HITS,
        }
    }

    /// Uses `calendar` for incidents' deadlines from now on. Projections
    /// already stored keep the deadlines they were written with until
    /// [`Store::rebuild_projections`].
    pub fn with_calendar(mut self, calendar: WorkCalendar) -> Store {
        self.calendar = calendar;
        self
    }

    /// The calendar incidents' deadlines are counted with.
    pub fn calendar(&self) -> &WorkCalendar {
        &self.calendar
    }

    /// This device's actor id.
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// Inserts many new records in one transaction: an import (a demo
    /// community, a sync bundle). Every record is validated first; if any
    /// is invalid or already exists, nothing is written.
    #[instrument(skip_all, err, fields(records = records.len()))]
    pub fn insert_all(
        &mut self,
        mut records: Vec<AnyRecord>,
        author: &Author,
        today: jiff::civil::Date,
    ) -> Result<usize, StoreError> {
        for record in &mut records {
            record.validate_state(&ValidateCtx { today })?;
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for record in &records {
            let id = record.meta().id;
            if doc_row(&tx, id)?.is_some() {
                return Err(StoreError::AlreadyExists(id));
            }
            let mut doc = RecordDoc::create_any(record, self.actor.clone(), author)?;
            persist(
                &tx,
                &self.calendar,
                None,
                &mut doc,
                &[],
                Origin::Local,
                Some(author.now_ms),
            )?;
        }
        tx.commit()?;
        Ok(records.len())
    }

    /// Validates and saves a new record, as one change by this device.
    /// Returns the record as saved (normalized). Nothing is written if the
    /// record is invalid ([`StoreError::Invalid`]). See [`StoreTx::insert`].
    #[instrument(skip_all, err, fields(kind = %T::KIND, id = %record.meta().id))]
    pub fn insert<T: Record>(
        &mut self,
        record: T,
        author: &Author,
        today: jiff::civil::Date,
    ) -> Result<T, StoreError> {
        self.write(|tx| tx.insert(record, author, today))
    }

    /// Edits a record: `edit` changes a copy, the copy is validated, and
    /// only what changed is written, as one change. Nothing is written if
    /// the edited record is invalid. Returns the record as saved. See
    /// [`StoreTx::update`].
    #[instrument(skip_all, err, fields(kind = %T::KIND, id = %id))]
    pub fn update<T: Record>(
        &mut self,
        id: Uuid,
        author: &Author,
        today: jiff::civil::Date,
        edit: impl FnOnce(&mut T),
    ) -> Result<T, StoreError> {
        self.write(|tx| tx.update(id, author, today, edit))
    }

    /// Saves what was done to `doc` through the document API (a workflow
    /// transition, a resolved conflict, a delete): every change the store
    /// does not have yet is stored and queued for the server. Afterwards
    /// `doc` also holds whatever the store had that it lacked.
    #[instrument(skip_all, err, fields(id = %doc.id()))]
    pub fn save_doc(&mut self, doc: &mut RecordDoc) -> Result<(), StoreError> {
        self.write(|tx| tx.save_doc(doc))
    }

    /// Merges changes from the server into one record, creating it if it
    /// is new. See [`Store::apply_remote_batch`].
    pub fn apply_remote(
        &mut self,
        doc_id: Uuid,
        changes: Vec<Change>,
    ) -> Result<RemoteOutcome, StoreError> {
        self.apply_remote_batch(vec![(doc_id, changes)])
    }

    /// Merges changes from the server into many records in one transaction
    /// (one sync response). Duplicates are ignored; nothing goes to the
    /// outbox. A change whose dependencies have not arrived waits in the
    /// store and is merged when they do.
    #[instrument(skip_all, err, fields(docs = batch.len()))]
    pub fn apply_remote_batch(
        &mut self,
        batch: Vec<(Uuid, Vec<Change>)>,
    ) -> Result<RemoteOutcome, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcome = RemoteOutcome::default();
        for (doc_id, changes) in batch {
            apply_remote_one(
                &tx,
                &self.calendar,
                &self.actor,
                doc_id,
                changes,
                &mut outcome,
            )?;
        }
        tx.commit()?;
        if outcome.changed.len() >= BIG_BATCH {
            // A first sync: give the planner statistics before the lists.
            schema::optimize(&self.conn)?;
        }
        Ok(outcome)
    }

    /// Loads a record's document, with this device as its actor.
    pub fn load(&self, id: Uuid) -> Result<Option<RecordDoc>, StoreError> {
        load_id(&self.conn, id, &self.actor)
    }

    /// Reads a record as its typed struct.
    pub fn get<T: Record>(&self, id: Uuid) -> Result<Option<T>, StoreError> {
        read_loaded(self.load(id)?)
    }

    /// The heads of a record's document as stored, sorted.
    pub fn heads(&self, id: Uuid) -> Result<Option<Vec<ChangeHash>>, StoreError> {
        doc_row(&self.conn, id)?
            .map(|row| decode_heads(&row.heads))
            .transpose()
    }

    /// The projection the store keeps for a document (with an incident's
    /// status and deadline derived from its log).
    pub fn projection(&self, doc: &RecordDoc) -> Result<Projection, StoreError> {
        Ok(projection_of(doc, &self.calendar)?)
    }

    /// Derives every projection and full-text row again from its document,
    /// in one transaction: after the calendar changed (new holidays move
    /// deadlines) or an app update changed what projections hold. Returns
    /// how many rows changed.
    #[instrument(skip_all, err)]
    pub fn rebuild_projections(&mut self) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids: Vec<String> = tx
            .prepare("SELECT id FROM documents ORDER BY rid")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let mut changed = 0;
        for id in ids {
            let Some(row) = doc_row(&tx, parse_uuid(&id)?)? else {
                continue;
            };
            let doc = load_doc(&tx, &row, self.actor.clone())?;
            let (projection, record) = projection_and_record(&doc, &self.calendar)?;
            let point = located(&record);
            let stored = tx
                .prepare_cached(&format!(
                    "SELECT {PROJECTION_COLUMNS}, p.lon, p.lat FROM projections p WHERE p.rid = ?1"
                ))?
                .query_row([row.rid], |r| {
                    let at: (Option<f64>, Option<f64>) = (
                        r.get(PROJECTION_COLUMN_COUNT)?,
                        r.get(PROJECTION_COLUMN_COUNT + 1)?,
                    );
                    Ok(read_projection(r)?.map(|p| (p, at)))
                })
                .optional()?
                .transpose()?;
            let expected = (point.map(|g| g.lon), point.map(|g| g.lat));
            if stored.as_ref() != Some(&(projection.clone(), expected)) {
                // updated_at stays: the record itself did not change.
                write_projection(&tx, row.rid, &projection, point, 0, false)?;
                changed += 1;
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Up to `limit` unacknowledged local changes, oldest first.
    pub fn outbox(&self, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, doc_id, hash, bytes, whole FROM outbox ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Vec<u8>>(2)?,
                row.get::<_, Vec<u8>>(3)?,
                row.get::<_, bool>(4)?,
            ))
        })?;
        let mut entries = Vec::new();
        for row in rows {
            let (seq, doc_id, hash, bytes, whole) = row?;
            entries.push(OutboxEntry {
                seq,
                doc_id: parse_uuid(&doc_id)?,
                hash: decode_hash(&hash)?,
                bytes,
                whole,
            });
        }
        Ok(entries)
    }

    /// Marks outbox entries to be pushed whole from now on: the server
    /// could not rebuild their compact form (`compact_unresolved`). They
    /// stay in the outbox. Returns how many were marked.
    pub fn send_whole(&mut self, hashes: &[ChangeHash]) -> Result<usize, StoreError> {
        self.each_outbox_hash("UPDATE outbox SET whole = 1 WHERE hash = ?1", hashes)
    }

    /// Removes changes the server acknowledged from the outbox. Unknown
    /// hashes are ignored. Returns how many entries were removed.
    #[instrument(skip_all, err, fields(hashes = hashes.len()))]
    pub fn ack(&mut self, hashes: &[ChangeHash]) -> Result<usize, StoreError> {
        self.each_outbox_hash("DELETE FROM outbox WHERE hash = ?1", hashes)
    }

    /// Runs `sql` (an outbox statement of one hash, `?1`) for each of
    /// `hashes` in one transaction; returns how many rows it touched.
    fn each_outbox_hash(&mut self, sql: &str, hashes: &[ChangeHash]) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let mut touched = 0;
        {
            let mut stmt = tx.prepare_cached(sql)?;
            for hash in hashes {
                touched += stmt.execute([&hash.0[..]])?;
            }
        }
        tx.commit()?;
        Ok(touched)
    }

    /// How many local changes wait for the server.
    pub fn pending_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM outbox", [], |row| row.get(0))?;
        Ok(n.try_into().unwrap_or(0))
    }

    /// The outbox's changes and their bytes as stored (about what pushing
    /// them takes), for the sync screen's "left" figures.
    pub fn pending_size(&self) -> Result<(u64, u64), StoreError> {
        let (n, bytes): (i64, i64) = self.conn.query_row(
            "SELECT count(*), coalesce(sum(length(bytes)), 0) FROM outbox",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok((n.try_into().unwrap_or(0), bytes.try_into().unwrap_or(0)))
    }

    /// Everything this store holds that the server has not got yet:
    /// unacknowledged changes, photos waiting for upload and reveal log
    /// entries not yet uploaded. Zero means the store can be let go.
    pub fn unsent_work(&self) -> Result<u64, StoreError> {
        let photos = self.pending_photos()?.len() as u64;
        Ok(self.pending_count()? + photos + self.unsent_reveal_count()?)
    }

    /// Deletes the store file at `path` with its journal files (`-wal`,
    /// `-shm`); a missing file is no error. The store must be closed.
    pub fn erase(path: impl AsRef<Path>) -> Result<(), StoreError> {
        let path = path.as_ref();
        let mut names = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            names.push(name.into());
        }
        for name in names {
            match std::fs::remove_file(&name) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(StoreError::Erase(format!("{}: {e}", name.display())));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Listed records of `kinds` that have a point (see
    /// [`AnyRecord::point`]), with the point's longitude and latitude, in
    /// list order, at most `limit`: one query over the list rows.
    pub fn located(
        &self,
        kinds: &[RecordKind],
        limit: u32,
    ) -> Result<Vec<(Projection, f64, f64)>, StoreError> {
        let marks: Vec<String> = (1..=kinds.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "SELECT {PROJECTION_COLUMNS}, p.lon, p.lat FROM projections p \
             WHERE p.kind IN ({}) AND p.lon IS NOT NULL AND p.lat IS NOT NULL \
             AND p.deleted = 0 ORDER BY p.created_at DESC, p.rid DESC LIMIT {limit}",
            marks.join(", ")
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            rusqlite::params_from_iter(kinds.iter().map(|k| k.as_str())),
            |row| {
                let lon: f64 = row.get(PROJECTION_COLUMN_COUNT)?;
                let lat: f64 = row.get(PROJECTION_COLUMN_COUNT + 1)?;
                Ok(read_projection(row)?.map(|p| (p, lon, lat)))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Records matching `query`, newest first.
    pub fn list(&self, query: &ListQuery) -> Result<Vec<Projection>, StoreError> {
        self.select(None, query)
    }

    /// Records whose title or search text contains every space-separated
    /// term of `text` (any length, Chinese or not), filtered and ordered as
    /// [`Store::list`]. Text with no letters or digits lists everything.
    pub fn search(&self, text: &str, query: &ListQuery) -> Result<Vec<Projection>, StoreError> {
        self.select(FtsQuery::parse(text).as_ref(), query)
    }

    fn select(
        &self,
        fts: Option<&FtsQuery>,
        query: &ListQuery,
    ) -> Result<Vec<Projection>, StoreError> {
        let mut sql = String::new();
        let mut args: Vec<SqlValue> = Vec::new();
        let mut hit_sources = Vec::new();
        if let Some(fts) = fts {
            if let Some(q) = &fts.trigram {
                args.push(q.clone().into());
                hit_sources.push(format!(
                    "SELECT rowid FROM search_trigram WHERE search_trigram MATCH ?{}",
                    args.len()
                ));
            }
            if let Some(q) = &fts.bigram {
                args.push(q.clone().into());
                hit_sources.push(format!(
                    "SELECT rowid FROM search_bigram WHERE search_bigram MATCH ?{}",
                    args.len()
                ));
            }
        }
        let mut conds: Vec<String> = Vec::new();
        if hit_sources.is_empty() {
            sql.push_str(&format!("SELECT {PROJECTION_COLUMNS} FROM projections p"));
        } else {
            let hits = hit_sources.join(" INTERSECT ");
            let count: i64 = self
                .conn
                .prepare_cached(&format!(
                    "SELECT count(*) FROM ({hits} LIMIT {})",
                    FEW_HITS + 1
                ))?
                .query_row(rusqlite::params_from_iter(&args), |row| row.get(0))?;
            if count == 0 {
                return Ok(Vec::new());
            }
            if count <= self.few_hits {
                // Few hits: look each one's projection up by rowid and sort
                // them; the cost follows the number of hits.
                sql.push_str(&format!(
                    "WITH hits(rid) AS ({hits}) SELECT {PROJECTION_COLUMNS} FROM hits \
                     CROSS JOIN projections p ON p.rid = hits.rid"
                ));
            } else {
                // Many hits (a common character): walk the projections in
                // list order through the best index for the filters and
                // test each against the hits, stopping at the page's end.
                // The `+` keeps SQLite from driving the query from the hits.
                sql.push_str(&format!("SELECT {PROJECTION_COLUMNS} FROM projections p"));
                conds.push(format!("+p.rid IN ({hits})"));
            }
        }
        let arg = |args: &mut Vec<SqlValue>, value: SqlValue| {
            args.push(value);
            format!("?{}", args.len())
        };
        if !query.include_deleted {
            conds.push("p.deleted = 0".into());
        }
        if let Some(kind) = query.kind {
            let a = arg(&mut args, kind.as_str().to_string().into());
            conds.push(format!("p.kind = {a}"));
        }
        match &query.grids {
            GridFilter::Any => {}
            GridFilter::In(grids) => {
                let list: Vec<String> = grids
                    .iter()
                    .map(|g| arg(&mut args, g.clone().into()))
                    .collect();
                conds.push(format!("p.grid IN ({})", list.join(", ")));
            }
            GridFilter::Prefix(prefix) => {
                // A range, not LIKE, so the (kind, grid) index serves it.
                let low = arg(&mut args, prefix.clone().into());
                let high = arg(&mut args, format!("{prefix}\u{10FFFF}").into());
                conds.push(format!("p.grid >= {low} AND p.grid < {high}"));
            }
        }
        if !query.status.is_empty() {
            let list: Vec<String> = query
                .status
                .iter()
                .map(|s| arg(&mut args, s.clone().into()))
                .collect();
            conds.push(format!("p.status IN ({})", list.join(", ")));
        }
        if let Some(category) = &query.category {
            let a = arg(&mut args, category.clone().into());
            conds.push(format!("p.category = {a}"));
        }
        if let Some(parent) = query.parent_id {
            let a = arg(&mut args, parent.to_string().into());
            conds.push(format!("p.parent_id = {a}"));
        }
        if let Some(date) = query.due_before {
            let a = arg(&mut args, date.to_string().into());
            conds.push(format!("p.due < {a}"));
        }
        if !conds.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        let limit = arg(
            &mut args,
            i64::from(query.limit.unwrap_or(DEFAULT_LIMIT)).into(),
        );
        let offset = arg(&mut args, i64::from(query.offset).into());
        sql.push_str(&format!(
            " ORDER BY p.created_at DESC, p.rid DESC LIMIT {limit} OFFSET {offset}"
        ));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), read_projection)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Checks that everything stored agrees with itself: the database file,
    /// every document loads with the heads recorded for it and matches its
    /// projection and full-text rows, and every outbox entry and stored
    /// change is part of its document. Returns the problems found (empty
    /// when all is well). Loads every document: a diagnostic, not for every
    /// start.
    #[instrument(skip_all, err)]
    pub fn check_integrity(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let quick: Vec<String> = self
            .conn
            .prepare("PRAGMA quick_check")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        if quick != ["ok"] {
            problems.push(format!("quick_check: {}", quick.join("; ")));
        }
        let dangling: i64 =
            self.conn
                .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
                    row.get(0)
                })?;
        if dangling > 0 {
            problems.push(format!("{dangling} rows refer to missing rows"));
        }
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT id FROM documents ORDER BY rid")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        for id in ids {
            let uuid = parse_uuid(&id)?;
            if let Err(problem) = self.check_document(uuid) {
                problems.push(format!("{id}: {problem}"));
            }
        }
        let orphans: i64 = self.conn.query_row(
            "SELECT count(*) FROM projections WHERE rid NOT IN (SELECT rid FROM documents)",
            [],
            |row| row.get(0),
        )?;
        if orphans > 0 {
            problems.push(format!("{orphans} projections without a document"));
        }
        for table in ["search_trigram", "search_bigram"] {
            let stray: i64 = self.conn.query_row(
                &format!(
                    "SELECT count(*) FROM {table} WHERE rowid NOT IN (SELECT rid FROM projections)"
                ),
                [],
                |row| row.get(0),
            )?;
            if stray > 0 {
                problems.push(format!("{stray} rows of {table} without a projection"));
            }
        }
        Ok(problems)
    }

    /// One document's checks, the first problem found as a sentence.
    fn check_document(&self, id: Uuid) -> Result<(), String> {
        let row = doc_row(&self.conn, id)
            .map_err(|e| e.to_string())?
            .ok_or("vanished")?;
        let mut doc = load_doc(&self.conn, &row, self.actor.clone())
            .map_err(|e| format!("does not load: {e}"))?;
        if doc.id() != id || doc.kind().as_str() != row.kind {
            return Err("document id or kind differs from its row".into());
        }
        let mut heads = doc.heads();
        heads.sort();
        if encode_heads(&heads) != row.heads {
            return Err("document heads differ from the stored heads".into());
        }
        let hashes = |sql: &str, key: SqlValue| -> Result<Vec<Vec<u8>>, String> {
            let mut stmt = self.conn.prepare(sql).map_err(|e| e.to_string())?;
            let rows = stmt
                .query_map([key], |r| r.get(0))
                .map_err(|e| e.to_string())?;
            rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
        };
        let stored = hashes("SELECT hash FROM changes WHERE doc = ?1", row.rid.into())?;
        let queued = hashes(
            "SELECT hash FROM outbox WHERE doc_id = ?1",
            id.to_string().into(),
        )?;
        for hash in stored.iter().chain(&queued) {
            let hash = decode_hash(hash).map_err(|e| e.to_string())?;
            if doc.automerge().get_change_by_hash(&hash).is_none() {
                return Err(format!("change {hash} is not part of the document"));
            }
        }
        let change_count: i64 = stored.len().try_into().unwrap_or(i64::MAX);
        if change_count != row.change_count {
            return Err("change count differs from the stored changes".into());
        }
        let expected = projection_of(&doc, &self.calendar).map_err(|e| e.to_string())?;
        let actual = self
            .conn
            .query_row(
                &format!("SELECT {PROJECTION_COLUMNS} FROM projections p WHERE p.rid = ?1"),
                [row.rid],
                read_projection,
            )
            .optional()
            .map_err(|e| e.to_string())?
            .ok_or("no projection row")?
            .map_err(|e| e.to_string())?;
        if actual != expected {
            return Err(format!(
                "projection differs: stored {actual:?}, document {expected:?}"
            ));
        }
        for table in ["search_trigram", "search_bigram"] {
            let n: i64 = self
                .conn
                .query_row(
                    &format!("SELECT count(*) FROM {table} WHERE rowid = ?1"),
                    [row.rid],
                    |r| r.get(0),
                )
                .map_err(|e| e.to_string())?;
            if n != 1 {
                return Err(format!("{n} rows in {table}"));
            }
        }
        Ok(())
    }
}

/// Whether a write's changes were made here (and must go to the server) or
/// came from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Local,
    Remote,
}

/// A `documents` row without its snapshot.
#[derive(Debug)]
struct DocRow {
    rid: i64,
    kind: String,
    heads: Vec<u8>,
    change_count: i64,
}

fn doc_row(conn: &Connection, id: Uuid) -> Result<Option<DocRow>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT rid, kind, heads, change_count FROM documents WHERE id = ?1")?;
    Ok(stmt
        .query_row([id.to_string()], |row| {
            Ok(DocRow {
                rid: row.get(0)?,
                kind: row.get(1)?,
                heads: row.get(2)?,
                change_count: row.get(3)?,
            })
        })
        .optional()?)
}

/// Record `id`'s document, if stored, with `actor` as its actor.
fn load_id(conn: &Connection, id: Uuid, actor: &ActorId) -> Result<Option<RecordDoc>, StoreError> {
    doc_row(conn, id)?
        .map(|row| load_doc(conn, &row, actor.clone()))
        .transpose()
}

/// A loaded document read as its typed record.
fn read_loaded<T: Record>(doc: Option<RecordDoc>) -> Result<Option<T>, StoreError> {
    Ok(doc.map(|doc| doc.read()).transpose()?)
}

/// The snapshot followed by the changes since, loaded as one document.
fn load_doc(conn: &Connection, row: &DocRow, actor: ActorId) -> Result<RecordDoc, StoreError> {
    let mut bytes: Vec<u8> = conn
        .prepare_cached("SELECT snapshot FROM documents WHERE rid = ?1")?
        .query_row([row.rid], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached("SELECT bytes FROM changes WHERE doc = ?1 ORDER BY seq")?;
    let mut rows = stmt.query([row.rid])?;
    while let Some(r) = rows.next()? {
        bytes.extend(r.get::<_, Vec<u8>>(0)?);
    }
    Ok(RecordDoc::load(&bytes, actor)?)
}

/// Stores what a write added to `doc` since `before`: its new changes (or
/// a fresh snapshot), heads, projection, full-text rows and, for local
/// writes, outbox entries. `row` is the document's row, `None` if it is new.
/// `updated_at` defaults to the newest change's time.
fn persist(
    tx: &Transaction<'_>,
    calendar: &WorkCalendar,
    row: Option<&DocRow>,
    doc: &mut RecordDoc,
    before: &[ChangeHash],
    origin: Origin,
    updated_at: Option<i64>,
) -> Result<usize, StoreError> {
    // Automerge rebuilds every change it hands out from its op set, which
    // costs as much as the merge: do it once, here.
    let new = doc.changes_since(before);
    persist_new(tx, calendar, row, doc, new, origin, updated_at)
}

/// A new document's first changes are stored as they are (a concatenation
/// of changes loads like a snapshot) up to this many; past it, compacted.
const RAW_SNAPSHOT_MAX: usize = 4;

/// [`persist`] with the changes the write added already in hand.
fn persist_new(
    tx: &Transaction<'_>,
    calendar: &WorkCalendar,
    row: Option<&DocRow>,
    doc: &mut RecordDoc,
    mut new: Vec<Change>,
    origin: Origin,
    updated_at: Option<i64>,
) -> Result<usize, StoreError> {
    if new.is_empty() && row.is_some() {
        return Ok(0);
    }
    // Everything that can fail on the document's content comes first.
    let (projection, record) = projection_and_record(doc, calendar)?;
    if origin == Origin::Local {
        check_sizes(tx, row, doc, &mut new)?;
    }
    let updated_at = updated_at.unwrap_or_else(|| {
        new.iter()
            .map(|c| c.timestamp().saturating_mul(1000))
            .max()
            .unwrap_or(0)
    });
    let mut heads = doc.heads();
    heads.sort();
    let heads = encode_heads(&heads);
    let id = doc.id().to_string();
    let rid = match row {
        None => {
            // A new record is one change or a few: their bytes are already
            // compressed, and `save()` would spend more than the merge did.
            let snapshot = if new.len() <= RAW_SNAPSHOT_MAX {
                new.iter_mut().flat_map(|c| c.bytes().to_vec()).collect()
            } else {
                doc.save()
            };
            tx.prepare_cached(
                "INSERT INTO documents (id, kind, grid, snapshot, heads, change_count) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 0)",
            )?
            .execute(params![
                id,
                doc.kind().as_str(),
                projection.grid,
                snapshot,
                heads
            ])?;
            tx.last_insert_rowid()
        }
        Some(row) if row.change_count + len_i64(&new) >= COMPACT_EVERY => {
            tx.prepare_cached(
                "UPDATE documents SET grid = ?2, snapshot = ?3, heads = ?4, change_count = 0 \
                 WHERE rid = ?1",
            )?
            .execute(params![row.rid, projection.grid, doc.save(), heads])?;
            tx.prepare_cached("DELETE FROM changes WHERE doc = ?1")?
                .execute([row.rid])?;
            row.rid
        }
        Some(row) => {
            let mut added: i64 = 0;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO changes (doc, hash, bytes) VALUES (?1, ?2, ?3)",
            )?;
            for change in &mut new {
                if insert.execute(params![row.rid, &change.hash().0[..], change.bytes()])? > 0 {
                    added += 1;
                }
            }
            tx.prepare_cached(
                "UPDATE documents SET grid = ?2, heads = ?3, change_count = change_count + ?4 \
                 WHERE rid = ?1",
            )?
            .execute(params![row.rid, projection.grid, heads, added])?;
            row.rid
        }
    };
    if origin == Origin::Local {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO outbox (doc_id, hash, bytes) VALUES (?1, ?2, ?3)",
        )?;
        for change in &mut new {
            insert.execute(params![id, &change.hash().0[..], change.bytes()])?;
        }
    }
    write_projection(
        tx,
        rid,
        &projection,
        located(&record),
        updated_at,
        row.is_none(),
    )?;
    photos::mark_referenced(tx, &record)?;
    Ok(new.len())
}

/// The server refuses a change or a document over the model's size limits
/// ([`crate::model::limits`]): a local write over them is refused here
/// first, so the device never makes a change the server refuses. The
/// document is compacted only when the bytes stored for it (snapshot and
/// changes, never less than compacted) and the new changes could be over.
fn check_sizes(
    tx: &Transaction<'_>,
    row: Option<&DocRow>,
    doc: &mut RecordDoc,
    new: &mut [Change],
) -> Result<(), StoreError> {
    let mut errors = ValidationErrors::default();
    let mut added = 0;
    for change in new.iter_mut() {
        let bytes = change.bytes().len();
        added += bytes;
        if let Err(e) = limits::check_change_bytes(bytes) {
            errors.push(e);
            break;
        }
    }
    let stored: i64 = match row {
        Some(row) => tx.query_row(
            "SELECT length(snapshot) + COALESCE((SELECT sum(length(bytes)) FROM changes \
             WHERE doc = ?1), 0) FROM documents WHERE rid = ?1",
            [row.rid],
            |r| r.get(0),
        )?,
        None => 0,
    };
    if usize::try_from(stored)
        .unwrap_or(usize::MAX)
        .saturating_add(added)
        > limits::MAX_DOCUMENT_BYTES
        && let Err(e) = limits::check_document_bytes(doc.save().len())
    {
        errors.push(e);
    }
    Ok(errors.into_result()?)
}

fn len_i64<T>(items: &[T]) -> i64 {
    items.len().try_into().unwrap_or(i64::MAX)
}

/// Upserts the projection row and, when the searchable text changed, the
/// full-text rows.
fn write_projection(
    tx: &Transaction<'_>,
    rid: i64,
    p: &Projection,
    point: Option<&GeoPoint>,
    updated_at: i64,
    fresh: bool,
) -> Result<(), StoreError> {
    // A new document has no rows yet: nothing to compare or delete.
    let old_text: Option<(String, String)> = if fresh {
        None
    } else {
        tx.prepare_cached("SELECT title, search_text FROM projections WHERE rid = ?1")?
            .query_row([rid], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
    };
    tx.prepare_cached(
        "INSERT INTO projections (rid, id, kind, grid, title, subtitle, status, category, \
         urgency, parent_id, due, created_at, created_by, deleted, updated_at, search_text, \
         lon, lat) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) \
         ON CONFLICT (rid) DO UPDATE SET kind = excluded.kind, grid = excluded.grid, \
         title = excluded.title, subtitle = excluded.subtitle, status = excluded.status, \
         category = excluded.category, urgency = excluded.urgency, \
         parent_id = excluded.parent_id, due = excluded.due, created_at = excluded.created_at, \
         created_by = excluded.created_by, deleted = excluded.deleted, \
         updated_at = max(updated_at, excluded.updated_at), search_text = excluded.search_text, \
         lon = excluded.lon, lat = excluded.lat",
    )?
    .execute(params![
        rid,
        p.id.to_string(),
        p.kind.as_str(),
        p.grid,
        p.title,
        p.subtitle,
        p.status,
        p.category,
        p.urgency,
        p.parent_id.map(|id| id.to_string()),
        p.due,
        p.created_at,
        p.created_by,
        p.deleted,
        updated_at,
        p.search_text,
        point.map(|g| g.lon),
        point.map(|g| g.lat),
    ])?;
    if old_text.is_some_and(|(title, text)| title == p.title && text == p.search_text) {
        return Ok(());
    }
    let text = search::trigram_text(&p.title, &p.search_text);
    let bigrams = search::bigram_text(&text);
    for (table, text) in [("search_trigram", &text), ("search_bigram", &bigrams)] {
        if !fresh {
            tx.prepare_cached(&format!("DELETE FROM {table} WHERE rowid = ?1"))?
                .execute([rid])?;
        }
        tx.prepare_cached(&format!(
            "INSERT INTO {table} (rowid, text) VALUES (?1, ?2)"
        ))?
        .execute(params![rid, text])?;
    }
    Ok(())
}

const PROJECTION_COLUMNS: &str = "p.id, p.kind, p.grid, p.title, p.subtitle, p.status, \
    p.category, p.urgency, p.parent_id, p.due, p.created_at, p.created_by, p.deleted, \
    p.search_text";
/// How many columns [`PROJECTION_COLUMNS`] names.
const PROJECTION_COLUMN_COUNT: usize = 14;

/// Reads a row of [`PROJECTION_COLUMNS`]. The outer error is SQLite's, the
/// inner one a value SQLite cannot judge (an unknown kind, a bad id).
fn read_projection(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Projection, StoreError>> {
    let id: String = row.get(0)?;
    let kind: String = row.get(1)?;
    let parent: Option<String> = row.get(8)?;
    let build = || -> Result<Projection, StoreError> {
        Ok(Projection {
            id: parse_uuid(&id)?,
            kind: RecordKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown kind {kind}")))?,
            grid: row.get(2)?,
            title: row.get(3)?,
            subtitle: row.get(4)?,
            status: row.get(5)?,
            category: row.get(6)?,
            urgency: row.get(7)?,
            parent_id: parent.as_deref().map(parse_uuid).transpose()?,
            due: row.get(9)?,
            created_at: row.get(10)?,
            created_by: row.get(11)?,
            deleted: row.get(12)?,
            search_text: row.get(13)?,
        })
    };
    Ok(build())
}

/// The point a list row keeps: the record's, when it is a real place
/// (SQLite keeps no NaN, and the map draws no infinity).
fn located(record: &AnyRecord) -> Option<&GeoPoint> {
    record
        .point()
        .filter(|p| p.lon.is_finite() && p.lat.is_finite())
}

/// The projection of a document: the record's own, with an incident's
/// status and deadline derived from its transition log.
fn projection_of(doc: &RecordDoc, calendar: &WorkCalendar) -> Result<Projection, DocError> {
    Ok(projection_and_record(doc, calendar)?.0)
}

/// [`projection_of`], with the record it was derived from.
fn projection_and_record(
    doc: &RecordDoc,
    calendar: &WorkCalendar,
) -> Result<(Projection, AnyRecord), DocError> {
    let record = doc.read_any()?;
    let mut projection = record.projection();
    if let AnyRecord::Incident(incident) = &record {
        let derived = workflow::derive(incident, calendar);
        projection.status = Some(derived.status.as_str().to_string());
        projection.due = derived.deadline.map(|d| d.to_string());
    }
    Ok((projection, record))
}

/// Merges one record's changes from the server (and any that were waiting
/// for them), inside the batch's transaction.
fn apply_remote_one(
    tx: &Transaction<'_>,
    calendar: &WorkCalendar,
    actor: &ActorId,
    doc_id: Uuid,
    changes: Vec<Change>,
    outcome: &mut RemoteOutcome,
) -> Result<(), StoreError> {
    let mut all = waiting_changes(tx, doc_id)?;
    let mut seen: BTreeSet<ChangeHash> = all.iter().map(Change::hash).collect();
    all.extend(changes.into_iter().filter(|c| seen.insert(c.hash())));
    let row = doc_row(tx, doc_id)?;
    // Presence is asked of the change graph's metadata: asking for the
    // changes themselves would rebuild each one from the op set.
    let has = |doc: &mut AutoCommit, hash: &ChangeHash| doc.get_change_meta_by_hash(hash).is_some();
    let mut known: BTreeSet<ChangeHash> = BTreeSet::new();
    let mut doc = match &row {
        Some(row) => {
            let mut doc = load_doc(tx, row, actor.clone())?;
            let am = doc.automerge();
            known.extend(all.iter().map(Change::hash).filter(|h| has(am, h)));
            doc.apply_changes(all.clone())?;
            doc
        }
        None => {
            let mut am = AutoCommit::new().with_actor(actor.clone());
            am.apply_changes(all.clone())?;
            if am.get_heads().is_empty() {
                // Not even the record's first change is here yet.
                park(tx, doc_id, &mut all, outcome)?;
                return Ok(());
            }
            RecordDoc::from_automerge(am)?
        }
    };
    check_document_id(&mut doc, doc_id)?;
    let mut new: Vec<Change> = Vec::new();
    let mut unplaced: Vec<Change> = Vec::new();
    let mut placed = tx.prepare_cached("DELETE FROM remote_pending WHERE hash = ?1")?;
    for change in all {
        let hash = change.hash();
        if has(doc.automerge(), &hash) {
            placed.execute([&hash.0[..]])?;
            if !known.contains(&hash) {
                new.push(change);
            }
        } else {
            unplaced.push(change);
        }
    }
    let applied = persist_new(
        tx,
        calendar,
        row.as_ref(),
        &mut doc,
        new,
        Origin::Remote,
        None,
    )?;
    if applied > 0 {
        outcome.applied += applied;
        outcome.changed.push(doc_id);
    }
    park(tx, doc_id, &mut unplaced, outcome)
}

/// Keeps changes whose dependencies are missing until they arrive.
fn park(
    tx: &Transaction<'_>,
    doc_id: Uuid,
    changes: &mut [Change],
    outcome: &mut RemoteOutcome,
) -> Result<(), StoreError> {
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO remote_pending (hash, doc_id, bytes) VALUES (?1, ?2, ?3)",
    )?;
    for change in changes.iter_mut() {
        insert.execute(params![
            &change.hash().0[..],
            doc_id.to_string(),
            change.bytes()
        ])?;
    }
    outcome.waiting += changes.len();
    Ok(())
}

fn waiting_changes(tx: &Transaction<'_>, doc_id: Uuid) -> Result<Vec<Change>, StoreError> {
    let mut stmt = tx.prepare_cached("SELECT bytes FROM remote_pending WHERE doc_id = ?1")?;
    let rows = stmt.query_map([doc_id.to_string()], |r| r.get::<_, Vec<u8>>(0))?;
    let mut changes = Vec::new();
    for bytes in rows {
        changes.push(decode_change(bytes?)?);
    }
    Ok(changes)
}

/// Refuses changes that would graft another record into this one: the
/// document must have exactly one `id`, the expected one.
fn check_document_id(doc: &mut RecordDoc, expected: Uuid) -> Result<(), StoreError> {
    let ids = doc.automerge().get_all(ROOT, "id")?;
    let found: Vec<String> = ids
        .iter()
        .map(|(value, _)| value.as_str().unwrap_or_default().to_string())
        .collect();
    if found.len() != 1 || found[0] != expected.to_string() {
        return Err(StoreError::WrongDocument {
            expected,
            found: found.join(", "),
        });
    }
    Ok(())
}

fn decode_change(bytes: Vec<u8>) -> Result<Change, StoreError> {
    Change::from_bytes(bytes).map_err(|e| StoreError::Corrupt(format!("a stored change: {e}")))
}

fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

fn decode_heads(bytes: &[u8]) -> Result<Vec<ChangeHash>, StoreError> {
    if !bytes.len().is_multiple_of(32) {
        return Err(StoreError::Corrupt("stored heads".into()));
    }
    bytes.chunks_exact(32).map(decode_hash).collect()
}

fn decode_hash(bytes: &[u8]) -> Result<ChangeHash, StoreError> {
    ChangeHash::try_from(bytes).map_err(|_| StoreError::Corrupt("a stored change hash".into()))
}

fn parse_uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|_| StoreError::Corrupt(format!("a stored record id {s:?}")))
}
