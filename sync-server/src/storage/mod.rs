//! Server storage: grids, users, devices, record documents and the change
//! log, behind the [`Storage`] trait.
//!
//! The trait speaks in the server's own terms (enrol a device, commit a
//! push, read a page of the log) so a second backend (PostgreSQL, for a
//! city) can implement the same operations with its own SQL. Calls are
//! blocking: the HTTP layer runs them on tokio's blocking pool. The
//! embedded default, [`SqliteStorage`], keeps everything in one file in the
//! data directory; [`PgStorage`] keeps it in a PostgreSQL database, chosen
//! by a `postgres://` URL in the settings ([`open`]). Each backend's SQL
//! and migrations are its own (`sqlite.rs` and `migrations/`,
//! `postgres/` and `migrations/postgres/`); both pass the same tests
//! (`conformance.rs`).
//!
//! Concurrency: a push is checked against the document as loaded and
//! committed with the revision it was loaded at ([`DocWrite::base_rev`]);
//! if another push changed the document in between, the commit is refused
//! as a whole ([`CommitOutcome::Conflict`]) and the caller checks again.
//! Log sequence numbers are assigned at commit, so a reader never sees a
//! later number before an earlier one.

#[cfg(test)]
mod conformance;
mod device_states;
mod grants;
pub mod postgres;
pub mod projections;
mod recovery;
mod sqlite;
mod sqlite_projections;
pub mod to_postgres;

pub use postgres::PgStorage;
pub use projections::{Boundaries, ProjectionRow, Projections};
pub use sqlite::SqliteStorage;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use gridwork_core::doc::RecordDoc;
use gridwork_core::model::{AnyRecord, User};
use gridwork_core::store::{RevealEntry, photo_hashes};
use uuid::Uuid;

use crate::grids::{Grid, GridKind, GridLevel, PlacedGrid};
use gridwork_core::model::grid::WGS84;

/// Opens (creating or migrating if needed) the storage the settings
/// choose: the PostgreSQL database at `database_url` when one is given
/// (with a pool of at most `pool_size` connections), else SQLite in
/// `data_dir`. Photo blobs stay in `data_dir` either way.
pub fn open(
    data_dir: &Path,
    database_url: Option<&str>,
    pool_size: u32,
) -> Result<Arc<dyn Storage>, StorageError> {
    match database_url {
        Some(url) => {
            std::fs::create_dir_all(data_dir.join(sqlite::BLOB_DIR))?;
            Ok(Arc::new(PgStorage::open(url, pool_size)?))
        }
        None => Ok(Arc::new(SqliteStorage::open(data_dir)?)),
    }
}

/// [`open`] for admin commands: the database must exist already (`init`),
/// so a typo in `--data` or in the URL does not make a new one.
pub fn open_existing(
    data_dir: &Path,
    database_url: Option<&str>,
    pool_size: u32,
) -> Result<Arc<dyn Storage>, StorageError> {
    match database_url {
        Some(url) => Ok(Arc::new(PgStorage::open_existing(url, pool_size)?)),
        None => Ok(Arc::new(SqliteStorage::open_existing(data_dir)?)),
    }
}

/// What can go wrong in storage, whichever backend stores it.
///
/// The database's own errors arrive as [`StorageError::Database`]: each
/// backend converts its driver's error (the SQLite backend through a
/// `From<rusqlite::Error>` in its own file), so nothing above storage
/// names a driver. What a caller acts on has a variant of its own
/// ([`StorageError::NotFound`], [`StorageError::Exists`]; a lost race on
/// a document is [`CommitOutcome::Conflict`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database refused or failed a statement, or could not be reached.
    #[error("database: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(
        "the database was written by a newer gridwork-server (schema version {found}, this build knows up to {known}); upgrade gridwork-server or use a backup"
    )]
    TooNew { found: i64, known: i64 },
    #[error("there is no database at {0}; run `gridwork-server init` first")]
    NotInitialised(String),
    #[error("{what} {key} not found")]
    NotFound { what: &'static str, key: String },
    #[error("{what} {key} already exists")]
    Exists { what: &'static str, key: String },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// A user with what only the server keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub user: User,
    /// argon2id PHC string.
    pub password_hash: String,
    pub disabled: bool,
}

/// The grid scope a device has been served in its current epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedScope {
    /// Bumped whenever the scope grows: cursors of an older epoch restart
    /// from the beginning of the log.
    pub epoch: u16,
    /// The user's grid when this was recorded.
    pub root: String,
    /// The grid tree's version when this was recorded.
    pub grids_version: i64,
    /// Every grid code in the scope.
    pub grids: Vec<String>,
}

/// A device enrolment to store at login.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// SHA-256 of the bearer token.
    pub token_hash: [u8; 32],
    /// Hex actor id assigned to the device.
    pub actor: String,
    pub created_at: i64,
    pub scope: ServedScope,
}

/// An enrolled device, for admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub actor: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// When an admin reported it lost (see [`crate::devices`]).
    pub lost_at: Option<i64>,
    /// When it reported that it erased its data (server clock).
    pub wiped_at: Option<i64>,
    /// The last cursor the device confirmed.
    pub cursor: u64,
    pub confirmed_at: Option<i64>,
}

/// Who a bearer token belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenOwner {
    pub device_id: String,
    /// Hex actor id the enrolment was given.
    pub actor: String,
    pub revoked: bool,
    /// Reported lost and not yet wiped: the token is good for the last
    /// push and the wipe report only ([`crate::devices`]).
    pub lost: bool,
    /// Reported wiped: the token is dead.
    pub wiped: bool,
    pub account_disabled: bool,
    pub user: User,
}

/// The server's copy of a record document.
#[derive(Debug, Clone)]
pub struct StoredDoc {
    pub kind: String,
    pub grid: String,
    /// Automerge `save()` bytes.
    pub snapshot: Vec<u8>,
    pub rev: i64,
    /// Its history holds fields that not every role receiving the record
    /// may see (see [`crate::access`]); set by [`Storage::mark_pi_history`].
    pub pi_history: bool,
}

/// Where a stored document is and how recent it is, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocHead {
    pub id: Uuid,
    pub kind: String,
    pub grid: String,
    pub rev: i64,
    /// Unix ms, server clock, of the last write.
    pub updated_at: i64,
}

/// One new change to append to the log.
#[derive(Debug, Clone)]
pub struct NewChange {
    pub hash: [u8; 32],
    pub bytes: Vec<u8>,
    /// The device the log credits, when not the pushing one (the server's
    /// compensating changes): pulls skip only the asking device's own.
    pub device_id: Option<String>,
}

/// A checked document to write in a push.
#[derive(Debug, Clone)]
pub struct DocWrite {
    pub id: Uuid,
    pub kind: String,
    pub grid: String,
    pub snapshot: Vec<u8>,
    /// The revision the document was checked against; `None` for a new one.
    pub base_rev: Option<i64>,
    /// The document changed grid: its whole history is re-published to the
    /// new grid's users at this push's sequence number.
    pub moved: bool,
    pub changes: Vec<NewChange>,
    /// Every photo and thumbnail the written record references
    /// ([`photo_references`]).
    pub photos: Vec<String>,
    /// The written record's console row ([`projections`]), stored in the
    /// same transaction.
    pub projection: ProjectionRow,
}

/// Everything one sync request stores, in one transaction.
#[derive(Debug, Clone)]
pub struct PushCommit {
    pub device_id: String,
    pub user_id: String,
    /// Unix ms, server clock.
    pub received_at: i64,
    pub docs: Vec<DocWrite>,
    /// Photo references the push adds to records (`crate::blob_grants`).
    pub blob_refs: Vec<BlobRef>,
}

/// Every photo and thumbnail a record references, sorted, once each: what
/// [`DocWrite::photos`] stores. It is here, beside the rows it fills, so
/// that the grants backfill and `crate::blob_grants` both read it without
/// one depending on the other.
pub fn photo_references(record: &AnyRecord) -> Vec<String> {
    photo_hashes(record)
        .into_iter()
        .map(|(sha, _)| sha.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// [`photo_references`] of a stored document's snapshot.
pub fn photo_references_in_snapshot(snapshot: &[u8]) -> Result<Vec<String>, String> {
    Ok(photo_references(&read_snapshot(snapshot)?))
}

/// The record a stored document's snapshot holds.
pub fn read_snapshot(snapshot: &[u8]) -> Result<AnyRecord, String> {
    let am = automerge::AutoCommit::load(snapshot).map_err(|e| e.to_string())?;
    let doc = RecordDoc::from_automerge(am).map_err(|e| e.to_string())?;
    doc.read_any().map_err(|e| e.to_string())
}

/// A photo reference a push adds to a record: granted when the push-time
/// check allowed it, otherwise a pending claim of the pushing user (made a
/// grant at once if that user has uploaded the blob).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub doc: Uuid,
    pub sha256: String,
    pub granted: bool,
}

/// A finished, checked upload of a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobUpload {
    pub sha256: String,
    pub device_id: String,
    pub user_id: String,
    /// Unix ms, server clock.
    pub at: i64,
}

/// Who an actor id belongs to: the enrolment (device) the server assigned
/// it to at login or sign-in, and that enrolment's user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorOwner {
    pub device_id: String,
    pub user_id: String,
}

/// Whether a push was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    Committed,
    /// Another push changed one of the documents since they were loaded:
    /// nothing was stored; check again.
    Conflict,
}

/// Which part of the log a device asks for.
#[derive(Debug, Clone)]
pub struct PullQuery {
    /// Sequence number already received (0 for everything).
    pub after: u64,
    /// Materialized path of the user's grid (see [`crate::grids`]).
    pub scope_path: String,
    /// Changes this device pushed itself are not sent back.
    pub device_id: String,
    /// Stop after this many bytes of changes (at least one position is
    /// always sent whole).
    pub budget: usize,
}

/// One change in a pull, at its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledChange {
    /// Position in the log: the change's own sequence number, or, for the
    /// history of a document that moved into the scope, the move's.
    pub position: u64,
    pub doc: Uuid,
    pub bytes: Vec<u8>,
}

/// A page of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullPage {
    pub changes: Vec<PulledChange>,
    /// Cut short by the budget.
    pub more: bool,
    /// Everything up to here has been sent (or is not the device's to see).
    pub cursor: u64,
}

/// One row of the append-only access log: an export or a reveal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
pub struct AccessEntry {
    /// Assigned when appended; ignored by [`Storage::append_access`].
    pub seq: i64,
    /// Unix ms, server clock.
    pub at: i64,
    pub user_id: String,
    /// The console session's enrolment or the device.
    pub device_id: String,
    /// `export` or `reveal`.
    pub action: String,
    /// The list or page: `incidents`, `households`, `residents`, `queue`,
    /// `dashboard`.
    pub target: String,
    /// The list's filter, as JSON.
    pub filter: String,
    /// `xlsx`, `csv`, `geojson`.
    pub format: Option<String>,
    /// The records the rows came from.
    pub record_ids: Vec<Uuid>,
    pub row_count: usize,
    /// Protected classes sent in clear: `""`, `"pi"` or `"pi,s"`.
    pub revealed: String,
}

/// A grid row: code, name, level, parent, kind, boundary, centroid.
/// A grid's stored columns: code, name, level, parent, kind, boundary,
/// centroid.
pub(super) type GridRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

/// A grid from its stored columns.
pub(super) fn grid_from_columns(
    (code, name, level, parent, kind, boundary, centroid): GridRow,
) -> Result<Grid, StorageError> {
    Ok(Grid {
        level: level
            .parse::<GridLevel>()
            .map_err(|_| StorageError::Corrupt(format!("grid {code}: level {level}")))?,
        kind: kind
            .parse::<GridKind>()
            .map_err(|_| StorageError::Corrupt(format!("grid {code}: kind {kind}")))?,
        boundary: json_column(&code, "boundary", boundary)?,
        centroid: json_column(&code, "centroid", centroid)?,
        crs: WGS84.to_string(),
        code,
        name,
        parent,
    })
}

fn json_column<T: serde::de::DeserializeOwned>(
    code: &str,
    what: &str,
    text: Option<String>,
) -> Result<Option<T>, StorageError> {
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| StorageError::Corrupt(format!("grid {code}: {what}: {e}")))
}

/// A grid's `boundary` and `centroid` columns, as JSON.
pub(super) fn grid_json_columns(
    g: &Grid,
) -> Result<(Option<String>, Option<String>), StorageError> {
    let boundary = g
        .boundary
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StorageError::Corrupt(format!("grid {}: boundary: {e}", g.code)))?;
    let centroid = g
        .centroid
        .map(|c| serde_json::to_string(&c))
        .transpose()
        .map_err(|e| StorageError::Corrupt(format!("grid {}: centroid: {e}", g.code)))?;
    Ok((boundary, centroid))
}

/// A device reveal's `filter` and `record_ids` columns. The device's own
/// claims end here: the field and its clock. User, device and receipt time
/// are the server's.
pub(super) fn reveal_columns(e: &RevealEntry) -> (String, String) {
    let filter = serde_json::json!({
        "field": e.field,
        "device_at": e.at,
    })
    .to_string();
    (filter, serde_json::json!([e.record_id]).to_string())
}

/// Held while this process runs the data migrations
/// ([`Storage::data_migration_lock`]); dropping it lets the next process
/// in.
pub struct MigrationLock(
    /// What holds the lock, never read: it is kept for its drop.
    #[allow(dead_code)]
    pub(crate) Option<Box<dyn Send>>,
);

impl std::fmt::Debug for MigrationLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationLock")
            .field("held", &self.0.is_some())
            .finish()
    }
}

/// The storage operations the server needs (the console's queries are in
/// [`Projections`]).
pub trait Storage: Projections + Send + Sync + std::fmt::Debug {
    /// Checks the database answers (readiness).
    fn ping(&self) -> Result<(), StorageError>;
    /// Refreshes the planner's statistics, after a bulk load (the demo, a
    /// copy into PostgreSQL): a planner that still believes the tables
    /// empty picks plans that take seconds (a first dashboard of 18.9 s
    /// on PostgreSQL right after a 20,000-record load).
    fn analyze(&self) -> Result<(), StorageError>;

    // Grids.
    /// Every stored grid.
    fn all_grids(&self) -> Result<Vec<Grid>, StorageError>;
    /// Stores placed grids (inserting or replacing by code) and bumps the
    /// grid tree's version.
    fn put_grids(&self, grids: &[PlacedGrid]) -> Result<(), StorageError>;
    /// A grid's materialized path.
    fn grid_path(&self, code: &str) -> Result<Option<String>, StorageError>;
    /// The grid at `path` and all its descendants, in path order.
    fn subtree(&self, path: &str) -> Result<Vec<Grid>, StorageError>;
    /// The codes of the grid at `path` and all its descendants, sorted.
    fn subtree_codes(&self, path: &str) -> Result<Vec<String>, StorageError>;
    /// Changes whenever the grid tree does.
    fn grids_version(&self) -> Result<i64, StorageError>;

    // Users and devices.
    fn add_user(&self, account: &Account) -> Result<(), StorageError>;
    fn account(&self, user_id: &str) -> Result<Option<Account>, StorageError>;
    fn set_password(&self, user_id: &str, password_hash: &str) -> Result<(), StorageError>;
    /// Assigns the user another grid subtree. Their devices are served the
    /// new scope at their next sync.
    fn set_user_grid(&self, user_id: &str, grid: &str) -> Result<(), StorageError>;
    fn enrol_device(&self, device: &NewDevice) -> Result<(), StorageError>;
    fn token_owner(&self, token_hash: &[u8; 32]) -> Result<Option<TokenOwner>, StorageError>;
    /// Marks a device revoked; `false` if it was already.
    fn revoke_device(&self, device_id: &str, at: i64) -> Result<bool, StorageError>;
    fn list_devices(&self, user_id: Option<&str>) -> Result<Vec<DeviceInfo>, StorageError>;
    /// Marks a device lost at `at`; `false` if it was already lost (or
    /// wiped). See [`crate::devices`].
    fn mark_device_lost(&self, device_id: &str, at: i64) -> Result<bool, StorageError>;
    /// Records that a lost device erased its data, at `at` (server clock);
    /// `false` if it was already recorded, or the device is not lost.
    fn record_device_wipe(&self, device_id: &str, at: i64) -> Result<bool, StorageError>;
    /// Gives enrolment `device_id` of `user_id` its recovery secret and
    /// returns it: the one enrolment `earlier` held, moved over, when
    /// `earlier` is the same user's and not revoked, lost or wiped;
    /// `fresh` otherwise. See [`crate::enrol`].
    fn hand_out_recovery_secret(
        &self,
        device_id: &str,
        user_id: &str,
        earlier: Option<&str>,
        fresh: &[u8; 32],
    ) -> Result<[u8; 32], StorageError>;
    /// The changes of `doc` that a device pushed after it was reported
    /// lost: (hash, device id), in log order.
    fn changes_from_lost_devices(&self, doc: Uuid)
    -> Result<Vec<([u8; 32], String)>, StorageError>;

    // Sync.
    fn served_scope(&self, device_id: &str) -> Result<Option<ServedScope>, StorageError>;
    fn set_served_scope(&self, device_id: &str, scope: &ServedScope) -> Result<(), StorageError>;
    /// Records the cursor a device confirmed.
    fn confirm_cursor(&self, device_id: &str, cursor: u64, at: i64) -> Result<(), StorageError>;
    /// Which of these change hashes are already in the log.
    fn known_changes(&self, hashes: &[[u8; 32]]) -> Result<Vec<[u8; 32]>, StorageError>;
    /// The enrolment and user each of these actors was assigned to, for
    /// those the server assigned.
    fn actor_owners(&self, actors: &[String]) -> Result<Vec<(String, ActorOwner)>, StorageError>;
    /// When the server received each change of a document: (hash, Unix ms
    /// on the server's clock), from the log.
    fn change_receipts(&self, doc: Uuid) -> Result<Vec<([u8; 32], i64)>, StorageError>;
    /// One stored document, read as [`Storage::load_docs`] reads many.
    fn load_doc(&self, id: Uuid) -> Result<Option<StoredDoc>, StorageError> {
        Ok(self.load_docs(&[id])?.pop().map(|(_, doc)| doc))
    }
    /// The stored documents of `ids` in one read (a console page's or an
    /// export chunk's records), in the order of `ids`; an id not stored is
    /// left out.
    fn load_docs(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, StoredDoc)>, StorageError>;
    /// Marks a document as holding, in its history, fields not every role
    /// receiving it may see; `false` if it already was. Never undone.
    fn mark_pi_history(&self, id: Uuid) -> Result<bool, StorageError>;
    /// The ids of every stored document of `kind`, in id order.
    fn docs_of_kind(&self, kind: &str) -> Result<Vec<Uuid>, StorageError>;
    /// Whether the data migration `name` ([`crate::migrate`]) has run to
    /// the end.
    fn data_migration_done(&self, name: &str) -> Result<bool, StorageError>;
    /// Records that the data migration `name` ran to the end.
    fn mark_data_migration(&self, name: &str, at: i64) -> Result<(), StorageError>;
    /// Waits until no other server process runs data migrations on this
    /// database, and keeps them off until the lock is dropped: processes
    /// over one PostgreSQL that start together would each scan and
    /// rewrite the same documents. One process owns a SQLite file, so
    /// there it holds nothing.
    fn data_migration_lock(&self) -> Result<MigrationLock, StorageError> {
        Ok(MigrationLock(None))
    }
    /// Every document in the subtree at `scope_path`, without its bytes
    /// (the console's listings).
    fn doc_heads(&self, scope_path: &str) -> Result<Vec<DocHead>, StorageError>;
    /// The first `limit` documents placed in a grid whose ids come after
    /// `after` (from the first with `None`), in id order, each with when
    /// it last changed (Unix ms, server clock): a walk over every
    /// document, a page at a time.
    fn doc_ids_after(
        &self,
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<(Uuid, i64)>, StorageError>;
    /// Stores a checked push in one transaction: new changes (a hash
    /// already in the log is skipped), the documents' new snapshots and
    /// their projection rows ([`DocWrite::projection`], with the push's
    /// `received_at` as their `updated_at`).
    fn commit_push(&self, push: &PushCommit) -> Result<CommitOutcome, StorageError>;
    /// The next page of the log for a device.
    fn pull(&self, query: &PullQuery) -> Result<PullPage, StorageError>;

    // Photo grants (see `crate::blobs`).
    /// Stores a finished upload and turns the user's pending claims on the
    /// blob into grants; returns how many grants that made.
    fn record_upload(&self, upload: &BlobUpload) -> Result<usize, StorageError>;
    /// Whether the user finished uploading the blob (on any device).
    fn has_uploaded(&self, user_id: &str, sha256: &str) -> Result<bool, StorageError>;
    /// Whether the record is granted the photo.
    fn blob_granted(&self, doc: Uuid, sha256: &str) -> Result<bool, StorageError>;
    /// Records granted the photo, at most `limit`.
    fn blob_grant_docs(&self, sha256: &str, limit: usize) -> Result<Vec<Uuid>, StorageError>;
    /// Every photo the record is granted or has a pending claim for.
    fn blob_refs_known(&self, doc: Uuid) -> Result<Vec<String>, StorageError>;

    /// Appends to the access log; returns the row's sequence number.
    fn append_access(&self, entry: &AccessEntry) -> Result<i64, StorageError>;
    /// Appends reveals made on a device (action `reveal`, target the record
    /// kind, the field and device time in `filter`) by `user_id` on
    /// `device_id`, received at `at`, skipping entry ids already stored;
    /// returns how many were new. The entries' own `user_id` is not stored:
    /// callers pass entries already checked against the device's scope.
    fn append_device_reveals(
        &self,
        user_id: &str,
        device_id: &str,
        at: i64,
        entries: &[RevealEntry],
    ) -> Result<usize, StorageError>;
    /// The newest access-log rows first, of one user or everyone.
    fn access_log(
        &self,
        user_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AccessEntry>, StorageError>;

    /// Reads the login-limit state of `keys` (the default for a key with
    /// none), lets `apply` change it and stores the result, as one step:
    /// no other update of these keys, in this process or any other over
    /// the same database, runs between the read and the write. The rule
    /// itself is `crate::auth::LoginLimiter`'s; storage only keeps the
    /// rows. Rows whose `expires_at` is before `now` (Unix ms) may be
    /// deleted by any call.
    fn update_login_limits(
        &self,
        keys: &[&str],
        now: i64,
        apply: &mut dyn FnMut(&mut [LoginLimitState]),
    ) -> Result<(), StorageError>;
}

/// What the login limits keep of one key between attempts, in the
/// database so every server process counts the same attempts (see
/// `crate::auth::LoginLimiter`). Times are Unix ms, server clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginLimitState {
    /// The rate limit's theoretical arrival time (GCRA): an attempt is
    /// heard while this is at most the burst ahead of now.
    pub tat: i64,
    /// Wrong passwords in a row.
    pub failures: u32,
    /// When the last of them came.
    pub last_failure: i64,
    /// No attempt is heard before this.
    pub blocked_until: i64,
    /// After this the row holds nothing back and may be deleted.
    pub expires_at: i64,
}
