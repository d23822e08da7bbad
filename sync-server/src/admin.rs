//! What the admin commands do, as library functions: the binary parses
//! flags and prints, tests call these directly.

use std::collections::{BTreeMap, HashMap, HashSet};

use automerge::ActorId;
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::{Author, DocError, RecordDoc};
use gridwork_core::model::{AnyRecord, Role, User};
use gridwork_demo::{Demo, DemoConfig};

use crate::auth::{SERVER_DEVICE, SERVER_USER, hash_password, new_actor_hex};
use crate::grids::{self, GeoError};
use crate::storage::{
    Account, Boundaries, CommitOutcome, DocWrite, NewChange, NewDevice, ProjectionRow, PushCommit,
    ServedScope, Storage, StorageError,
};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Import(#[from] GeoError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Invalid(String),
    #[error("a demo record cannot be made into a document: {0}")]
    Doc(#[from] DocError),
    #[error("the log kept changing while the demo was being stored; run load-demo again")]
    Busy,
}

/// What [`import_grids`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridsImported {
    /// Grids the file held.
    pub grids: usize,
    /// Patrols whose covered cells were laid again on their grid's new
    /// boundary.
    pub patrols_relaid: usize,
}

/// Imports (adds or replaces) grids from a GeoJSON FeatureCollection.
/// Nothing is stored if any check fails. A patrol of a grid whose
/// boundary changed has its cells laid again on the new one, so the
/// dashboard's coverage stays what its track covers.
pub fn import_grids(storage: &dyn Storage, geojson: &str) -> Result<GridsImported, AdminError> {
    let existing = storage.all_grids()?;
    let import = grids::import(&existing, geojson)?;
    storage.put_grids(&import.placed)?;
    // The server's calendar (`AppState` uses the bundled one too).
    let patrols_relaid =
        crate::storage::projections::relay_patrols(storage, &WorkCalendar::bundled())?;
    Ok(GridsImported {
        grids: import.imported,
        patrols_relaid,
    })
}

fn check_password(password: &str) -> Result<String, AdminError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    hash_password(password)
        .map_err(|e| AdminError::Invalid(format!("cannot hash the password: {e}")))
}

/// Adds a user with a role and a grid subtree.
pub fn add_user(storage: &dyn Storage, user: User, password: &str) -> Result<(), AdminError> {
    if user.id.is_empty()
        || !user
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(AdminError::Invalid(format!(
            "user id {:?} may hold only ASCII letters, digits, '-', '_' and '.'",
            user.id
        )));
    }
    if user.name.trim().is_empty() {
        return Err(AdminError::Invalid("a user needs a name".into()));
    }
    let password_hash = check_password(password)?;
    storage.add_user(&Account {
        user,
        password_hash,
        disabled: false,
    })?;
    Ok(())
}

/// Sets a new password. Devices already enrolled stay signed in; revoke
/// them if the old password leaked.
pub fn reset_password(
    storage: &dyn Storage,
    user_id: &str,
    password: &str,
) -> Result<(), AdminError> {
    let hash = check_password(password)?;
    storage.set_password(user_id, &hash)?;
    Ok(())
}

/// The password demo users get when none is given.
pub const DEMO_PASSWORD: &str = "gridwork-demo";

/// How many documents go into one transaction.
const DEMO_BATCH: usize = 1_000;

/// What [`load_demo`] did.
#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    /// Grids in the demo tree (imported or replaced).
    pub grids: usize,
    pub users_added: Vec<String>,
    /// Demo users that already existed (left as they were).
    pub users_existing: Vec<String>,
    /// Records stored by this run, by kind (`household` …).
    pub stored: BTreeMap<String, usize>,
    /// Records already on the server, by kind.
    pub existing: BTreeMap<String, usize>,
    /// Kinds not stored because their documents cannot be read back (a
    /// device could not open them), with how many and why.
    pub skipped: BTreeMap<String, (usize, String)>,
    /// A grid worker and a supervisor to sign in as.
    pub grid_worker: Option<User>,
    pub supervisor: Option<User>,
}

impl DemoSummary {
    /// Records stored by this run.
    pub fn stored_total(&self) -> usize {
        self.stored.values().sum()
    }

    /// Records that were already there.
    pub fn existing_total(&self) -> usize {
        self.existing.values().sum()
    }
}

/// The demo for `seed`: about `records` records, or the default demo
/// (about 7,000) when `None`.
pub fn demo_config(seed: u64, records: Option<usize>) -> DemoConfig {
    match records {
        Some(n) => DemoConfig::with_total_records(seed, n),
        None => DemoConfig {
            seed,
            ..DemoConfig::default()
        },
    }
}

/// Loads a generated demo: imports its grid tree, adds its users with
/// `password` (users that exist are left alone) and stores every record as
/// an Automerge document made by its creator's demo pseudo-device (see
/// [`DemoAuthors`]), appended to the log like an accepted push. Running it again stores nothing twice: a
/// record whose first change is already in the log (or whose document
/// exists) is skipped.
pub fn load_demo(
    storage: &dyn Storage,
    demo: &Demo,
    password: &str,
) -> Result<DemoSummary, AdminError> {
    let mut summary = DemoSummary {
        grids: import_grids(storage, &demo.grid_tree_geojson)?.grids,
        ..DemoSummary::default()
    };

    // One hash for every demo user: argon2 is deliberately slow, and the
    // users share the password anyway.
    let password_hash = check_password(password)?;
    for user in &demo.users {
        if storage.account(&user.id)?.is_some() {
            summary.users_existing.push(user.id.clone());
            continue;
        }
        storage.add_user(&Account {
            user: user.clone(),
            password_hash: password_hash.clone(),
            disabled: false,
        })?;
        summary.users_added.push(user.id.clone());
    }
    summary.grid_worker = demo
        .users
        .iter()
        .find(|u| u.role == Role::GridWorker)
        .cloned();
    summary.supervisor = demo
        .users
        .iter()
        .find(|u| u.role == Role::CommunitySupervisor)
        .or_else(|| demo.users.iter().find(|u| u.role == Role::StreetSupervisor))
        .cloned();

    let root = demo
        .users
        .iter()
        .find(|u| u.role == Role::Admin)
        .or(demo.users.first())
        .map(|u| u.grid.clone())
        .ok_or_else(|| AdminError::Invalid("the demo has no users".into()))?;
    let actor = hex_actor(&server_actor(storage, &root)?)?;
    let mut authors = DemoAuthors {
        server: actor.clone(),
        users: demo.users.iter().map(|u| u.id.clone()).collect(),
        actors: HashMap::new(),
    };

    // A kind whose document does not read back would wedge every device
    // that pulls it: check one of each kind first and leave such kinds out.
    let mut unreadable: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut checked = HashSet::new();
    for record in demo.records() {
        let kind = record.kind().as_str();
        if !checked.insert(kind) {
            continue;
        }
        let bytes = demo_doc(&record, &actor)?.save();
        if let Err(e) = RecordDoc::load(&bytes, actor.clone()).and_then(|d| d.read_any()) {
            tracing::warn!(kind, error = %e, "demo records of this kind cannot be read back; skipping them");
            unreadable.insert(kind, e.to_string());
        }
    }
    let mut records: Vec<AnyRecord> = Vec::with_capacity(demo.len());
    for record in demo.records() {
        match unreadable.get(record.kind().as_str()) {
            Some(why) => {
                summary
                    .skipped
                    .entry(record.kind().as_str().to_string())
                    .or_insert_with(|| (0, why.clone()))
                    .0 += 1;
            }
            None => records.push(record),
        }
    }
    // In the order they were made, as a server that took them from
    // devices over the months holds them: a household beside its residents,
    // an incident beside its parties. Stored kind by kind instead, a grid's
    // first pull would carry its households in one page and their residents
    // in the next, each naming its household by the whole id (issue #14).
    records.sort_by_key(|r| r.meta().created_at);
    // The server's calendar (`AppState` uses the bundled one too).
    let calendar = WorkCalendar::bundled();
    for chunk in records.chunks(DEMO_BATCH) {
        store_demo_batch(storage, &calendar, chunk, &mut authors, &mut summary)?;
    }
    storage.analyze()?;
    Ok(summary)
}

/// The server's own device and its actor (hex), created on first use.
pub(crate) fn server_actor(storage: &dyn Storage, grid: &str) -> Result<String, AdminError> {
    if storage.account(SERVER_USER)?.is_none() {
        storage.add_user(&Account {
            user: User {
                id: SERVER_USER.into(),
                name: "服务器 (server)".into(),
                phone: String::new(),
                role: Role::Admin,
                grid: grid.into(),
                department: None,
            },
            // Not a PHC string: no password verifies against it.
            password_hash: "!".into(),
            disabled: true,
        })?;
    }
    if let Some(device) = storage
        .list_devices(Some(SERVER_USER))?
        .into_iter()
        .find(|d| d.id == SERVER_DEVICE)
    {
        return Ok(device.actor);
    }
    let actor = new_actor_hex();
    storage.enrol_device(&NewDevice {
        id: SERVER_DEVICE.into(),
        user_id: SERVER_USER.into(),
        name: "gridwork-server".into(),
        // A random token hash nobody holds the token of; the account is
        // disabled besides.
        token_hash: rand::random(),
        actor: actor.clone(),
        created_at: jiff::Timestamp::now().as_millisecond(),
        scope: ServedScope {
            epoch: 0,
            root: grid.into(),
            grids_version: storage.grids_version()?,
            grids: Vec::new(),
        },
    })?;
    Ok(actor)
}

fn hex_actor(hex: &str) -> Result<ActorId, StorageError> {
    ActorId::try_from(hex).map_err(|_| StorageError::Corrupt(format!("the actor {hex} is not hex")))
}

/// The id of a demo user's pseudo-device.
pub const DEMO_DEVICE_PREFIX: &str = "demo-";

/// Who writes the demo's records. The history shows the user the server
/// bound a change's actor to, so a record the demo says a worker made is
/// written with an actor of that worker: each demo user gets a
/// pseudo-device (`demo-<user>`, named 演示数据, revoked at once: nobody
/// holds its token) whose actor writes the records they created. The
/// history then names the demo worker, with the load's time as the
/// server's receipt time and the record's own creation time as the
/// device's. A record whose creator is not a demo user is written by the
/// server's own actor.
struct DemoAuthors {
    server: ActorId,
    users: HashSet<String>,
    actors: HashMap<String, ActorId>,
}

impl DemoAuthors {
    fn actor_for(&mut self, storage: &dyn Storage, user: &str) -> Result<ActorId, AdminError> {
        if !self.users.contains(user) {
            return Ok(self.server.clone());
        }
        if let Some(actor) = self.actors.get(user) {
            return Ok(actor.clone());
        }
        let device_id = format!("{DEMO_DEVICE_PREFIX}{user}");
        let existing = storage
            .list_devices(Some(user))?
            .into_iter()
            .find(|d| d.id == device_id);
        let hex = match existing {
            Some(device) => device.actor,
            None => {
                let hex = new_actor_hex();
                let now = jiff::Timestamp::now().as_millisecond();
                let grid = storage
                    .account(user)?
                    .map(|a| a.user.grid)
                    .unwrap_or_default();
                storage.enrol_device(&NewDevice {
                    id: device_id.clone(),
                    user_id: user.into(),
                    name: "演示数据 (demo data)".into(),
                    token_hash: rand::random(),
                    actor: hex.clone(),
                    created_at: now,
                    scope: ServedScope {
                        epoch: 0,
                        root: grid,
                        grids_version: storage.grids_version()?,
                        grids: Vec::new(),
                    },
                })?;
                storage.revoke_device(&device_id, now)?;
                hex
            }
        };
        let actor = hex_actor(&hex)?;
        self.actors.insert(user.to_string(), actor.clone());
        Ok(actor)
    }
}

/// The record's document, made by `actor` on behalf of the record's
/// creator (the change's message) at the creation time the demo gives.
fn demo_doc(record: &AnyRecord, actor: &ActorId) -> Result<RecordDoc, DocError> {
    let meta = record.meta();
    let author = Author::new(meta.created_by.clone(), meta.created_at);
    RecordDoc::create_any(record, actor.clone(), &author)
}

/// Stores one batch of demo records in one transaction, skipping what the
/// server already has.
fn store_demo_batch(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    records: &[AnyRecord],
    authors: &mut DemoAuthors,
    summary: &mut DemoSummary,
) -> Result<(), AdminError> {
    let mut writes = Vec::with_capacity(records.len());
    let mut boundaries = Boundaries::new(storage);
    for record in records {
        let actor = authors.actor_for(storage, &record.meta().created_by)?;
        let mut doc = demo_doc(record, &actor)?;
        let changes: Vec<NewChange> = doc
            .changes_since(&[])
            .into_iter()
            .map(|c| NewChange {
                hash: c.hash().0,
                bytes: c.raw_bytes().to_vec(),
                device_id: None,
            })
            .collect();
        writes.push((
            record.kind().as_str(),
            DocWrite {
                id: record.meta().id,
                kind: record.kind().as_str().to_string(),
                grid: record.meta().grid.clone(),
                snapshot: doc.save(),
                base_rev: None,
                moved: false,
                changes,
                photos: crate::storage::photo_references(record),
                projection: ProjectionRow::read(record, calendar, &mut boundaries)?,
            },
        ));
    }
    let hashes: Vec<[u8; 32]> = writes
        .iter()
        .flat_map(|(_, w)| w.changes.iter().map(|c| c.hash))
        .collect();
    let known: HashSet<[u8; 32]> = storage.known_changes(&hashes)?.into_iter().collect();
    let mut fresh = Vec::with_capacity(writes.len());
    let mut stored: BTreeMap<String, usize> = BTreeMap::new();
    for (kind, write) in writes {
        let seen = write.changes.iter().any(|c| known.contains(&c.hash))
            || storage.load_doc(write.id)?.is_some();
        if seen {
            *summary.existing.entry(kind.to_string()).or_default() += 1;
        } else {
            *stored.entry(kind.to_string()).or_default() += 1;
            fresh.push(write);
        }
    }
    if fresh.is_empty() {
        return Ok(());
    }
    let commit = PushCommit {
        device_id: SERVER_DEVICE.into(),
        user_id: SERVER_USER.into(),
        received_at: jiff::Timestamp::now().as_millisecond(),
        blob_refs: crate::blob_grants::granted_by_server(&fresh),
        docs: fresh,
    };
    match storage.commit_push(&commit)? {
        CommitOutcome::Committed => {
            for (kind, n) in stored {
                *summary.stored.entry(kind).or_default() += n;
            }
            Ok(())
        }
        CommitOutcome::Conflict => Err(AdminError::Busy),
    }
}
