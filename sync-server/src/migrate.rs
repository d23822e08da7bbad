//! Data migrations: changes to stored documents that the server makes at
//! start, after the schema migrations (`storage`) and before it answers any
//! request ([`run`]).
//!
//! A schema migration cannot change a record: a document changes only by an
//! Automerge change in the log, so every device holding it receives the
//! change at its next sync. A data migration writes such changes with the
//! server's own actor, credited to the server's device, like the server's
//! compensating changes.
//!
//! **Why at start, and not an admin command.** A server started without
//! running it would go on serving documents laid out the old way (to
//! department handlers: the parties' ID numbers), so the server runs it
//! itself, before it listens. Each migration is idempotent: a document
//! already migrated is skipped, so a crash half-way loses nothing and the
//! next start finishes the job; once one has run to the end it is recorded
//! (`data_migrations`) and later starts skip the scan.
//!
//! **Projections** ([`PROJECTIONS`]): the console's projection tables
//! (`crate::storage::projections`) are filled from the documents once, on
//! a server whose documents predate them; from then on every write keeps
//! them. [`DASHBOARD_FACTS`]: the facts the dashboard counts (visit
//! cycles and times, patrols and the cells they cover) were added to the
//! rows later; a server with documents older than them rebuilds its rows
//! once. [`VISIT_CYCLES`]: each household's visit cycle, kept beside the
//! rows later still, is made from the rows once.
//!
//! **Incident parties** ([`split_incident_parties`]): an incident's parties
//! moved from the incident to their own linked record
//! ([`gridwork_core::model::IncidentParties`], see [`crate::access`] for
//! why). For every stored incident whose document holds parties, the server
//! writes the linked record (or adds to it) and a change deleting the
//! incident's `parties` key, both in one transaction, and marks the
//! incident as holding personal data in its history (`pi_history`): a CRDT
//! change cannot be redacted, so department handlers are no longer sent
//! that incident on a device and work it in the console. The mark is
//! written first: if the process dies between the two writes, the next
//! start finds the parties still there and does the rest.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ROOT, ReadDoc};
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::{Author, DocError, RecordDoc};
use gridwork_core::model::{AnyRecord, IncidentParties, IncidentWithParties, RecordKind};
use uuid::Uuid;

use crate::admin::{AdminError, server_actor};
use crate::auth::{SERVER_DEVICE, SERVER_USER};
use crate::storage::{
    Boundaries, CommitOutcome, DocWrite, NewChange, ProjectionRow, PushCommit, Storage,
    StorageError,
};

/// The name [`split_incident_parties`] is recorded under once it ran.
pub const INCIDENT_PARTIES: &str = "20261204100000_incident_parties";

/// The name the first fill of the console's projection tables is recorded
/// under (a server whose documents predate them).
pub const PROJECTIONS: &str = "20261205150000_projections";

/// The name the rebuild that fills the dashboard's facts (visit cycles,
/// patrols and their cells) is recorded under.
pub const DASHBOARD_FACTS: &str = "20261206010000_dashboard_facts";

/// The name the rebuild that fills the ledger records (each record as
/// JSON beside its projection row) is recorded under.
pub const LEDGER_RECORDS: &str = "20261206090000_ledger_records";

/// The name the first fill of the households' visit cycles (table
/// `visit_cycles`, made from the projection rows) is recorded under.
pub const VISIT_CYCLES: &str = "20261206210000_visit_cycles";

/// How often one document is retried after losing a race.
const MAX_ATTEMPTS: usize = 5;

/// Makes every projection row again from the documents when `needed`,
/// and records the data migration `name` as run.
fn rebuild_once(storage: &dyn Storage, name: &str, needed: bool) -> Result<bool, MigrateError> {
    let started = std::time::Instant::now();
    let rows = if needed {
        // The server's calendar (`AppState` uses the bundled one too).
        crate::storage::projections::rebuild(storage, &WorkCalendar::bundled())?.rows
    } else {
        0
    };
    storage.mark_data_migration(name, jiff::Timestamp::now().as_millisecond())?;
    tracing::info!(
        rows,
        secs = started.elapsed().as_secs_f64(),
        "data migration {name}: console projections filled"
    );
    Ok(needed)
}

/// Why a data migration stopped. The server does not start: it would
/// serve documents laid out the old way.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("the server's own device: {0}")]
    ServerActor(String),
    #[error("document {id} cannot be migrated: {source}")]
    Doc { id: Uuid, source: Box<DocError> },
    #[error("document {0} kept changing while it was migrated")]
    Busy(Uuid),
}

/// Runs every data migration not yet run to the end.
pub fn run(storage: &dyn Storage) -> Result<(), MigrateError> {
    // Processes over one database that start together take turns: the
    // first runs what is left, the others find it done.
    let _turn = storage.data_migration_lock()?;
    // First: the parties split below writes rows of its own.
    // Whether every row was written again already: each later rebuild
    // would write the same rows.
    let mut rebuilt = false;
    if !storage.data_migration_done(PROJECTIONS)? {
        // Only when rows are missing: a server whose rows were all written
        // at push time (a demo loaded before the first start) keeps them.
        let docs = storage.doc_heads("/")?.len() as u64;
        let missing = storage.projection_count()? != docs;
        rebuilt |= rebuild_once(storage, PROJECTIONS, missing)?;
    }
    if !storage.data_migration_done(DASHBOARD_FACTS)? {
        // Rows written before these facts lack them: every row again (a
        // new server has none to redo).
        let written = storage.projection_count()? > 0;
        rebuilt |= rebuild_once(storage, DASHBOARD_FACTS, written && !rebuilt)?;
    }
    if !storage.data_migration_done(LEDGER_RECORDS)? {
        // Rows written before the ledger records lack them: every row
        // again (a new server has none to redo, a rebuild above wrote
        // them).
        let written = storage.projection_count()? > 0;
        rebuilt |= rebuild_once(storage, LEDGER_RECORDS, written && !rebuilt)?;
    }
    if !storage.data_migration_done(VISIT_CYCLES)? {
        // Rows written before the table have no cycles beside them: a
        // rebuild above kept them already, a new server has none.
        let started = std::time::Instant::now();
        if !rebuilt && storage.projection_count()? > 0 {
            storage.refill_visit_cycles()?;
        }
        storage.mark_data_migration(VISIT_CYCLES, jiff::Timestamp::now().as_millisecond())?;
        tracing::info!(
            secs = started.elapsed().as_secs_f64(),
            "data migration {VISIT_CYCLES}: households' visit cycles filled"
        );
    }
    if !storage.data_migration_done(INCIDENT_PARTIES)? {
        let started = std::time::Instant::now();
        let moved = split_incident_parties(storage, jiff::Timestamp::now())?;
        storage.mark_data_migration(INCIDENT_PARTIES, jiff::Timestamp::now().as_millisecond())?;
        tracing::info!(
            incidents = moved,
            secs = started.elapsed().as_secs_f64(),
            "data migration {INCIDENT_PARTIES}: incident parties moved to their own records"
        );
    }
    Ok(())
}

/// Moves the parties of every stored incident that holds some into the
/// incident's parties record. Returns how many incidents it changed.
pub fn split_incident_parties(
    storage: &dyn Storage,
    now: jiff::Timestamp,
) -> Result<usize, MigrateError> {
    let mut actor = None;
    let mut moved = 0;
    for id in storage.docs_of_kind(RecordKind::Incident.as_str())? {
        let mut done = false;
        for _ in 0..MAX_ATTEMPTS {
            match split_one(storage, &mut actor, id, now)? {
                Split::Nothing => {
                    done = true;
                    break;
                }
                Split::Moved => {
                    moved += 1;
                    done = true;
                    break;
                }
                Split::Conflict => continue,
            }
        }
        if !done {
            return Err(MigrateError::Busy(id));
        }
    }
    Ok(moved)
}

enum Split {
    /// The incident holds no parties.
    Nothing,
    Moved,
    /// Someone wrote the document meanwhile: read it again.
    Conflict,
}

fn split_one(
    storage: &dyn Storage,
    actor: &mut Option<ActorId>,
    id: Uuid,
    now: jiff::Timestamp,
) -> Result<Split, MigrateError> {
    let doc_error = |source| MigrateError::Doc {
        id,
        source: Box::new(source),
    };
    let Some(stored) = storage.load_doc(id)? else {
        return Ok(Split::Nothing);
    };
    let mut doc = match AutoCommit::load(&stored.snapshot) {
        Ok(am) => RecordDoc::from_automerge(am).map_err(doc_error)?,
        Err(e) => {
            // Unreadable documents are the admin's to look at; the pull
            // cannot decode them either.
            tracing::error!(doc = %id, error = %e, "a stored incident cannot be read; not migrated");
            return Ok(Split::Nothing);
        }
    };
    if doc
        .automerge()
        .get(ROOT, "parties")
        .ok()
        .flatten()
        .is_none()
    {
        return Ok(Split::Nothing);
    }
    let IncidentWithParties { incident, parties } = doc.read().map_err(doc_error)?;
    if parties.is_empty() {
        return Ok(Split::Nothing);
    }
    storage.mark_pi_history(id)?;

    let actor = match actor {
        Some(a) => a.clone(),
        None => {
            let a = own_actor(storage, &stored.grid)?;
            *actor = Some(a.clone());
            a
        }
    };
    let now_ms = now.as_millisecond();
    let options = CommitOptions::default()
        .with_message(SERVER_USER.to_string())
        .with_time(now_ms.div_euclid(1000));

    // The incident: its parties key deleted, by the server.
    let am = doc.automerge();
    am.set_actor(actor.clone());
    am.delete(ROOT, "parties")
        .map_err(|e| doc_error(DocError::Automerge(e)))?;
    let cleared = am
        .commit_with(options)
        .and_then(|h| {
            am.get_change_by_hash(&h)
                .map(|c| c.raw_bytes().to_vec())
                .map(|b| (h, b))
        })
        .ok_or_else(|| MigrateError::Busy(id))?;
    let incident_write = DocWrite {
        id,
        kind: stored.kind.clone(),
        grid: stored.grid.clone(),
        snapshot: am.save(),
        base_rev: Some(stored.rev),
        moved: false,
        changes: vec![NewChange {
            hash: cleared.0.0,
            bytes: cleared.1,
            device_id: None,
        }],
        photos: crate::storage::photo_references(&AnyRecord::Incident(incident.clone())),
        // The server's calendar (`AppState` uses the bundled one too).
        // An incident: no grid boundary is read.
        projection: ProjectionRow::read(
            &AnyRecord::Incident(incident.clone()),
            &WorkCalendar::bundled(),
            &mut Boundaries::new(storage),
        )?,
    };

    // The parties record: made, or given the parties it lacks.
    let author = Author::new(SERVER_USER, now_ms);
    let parties_id = IncidentParties::id_for(id);
    let parties_write = match storage.load_doc(parties_id)? {
        None => {
            let record = IncidentParties::of(
                &incident,
                parties,
                incident.meta.created_by.clone(),
                incident.meta.created_at,
            );
            let mut made =
                RecordDoc::create(&record, actor, &author).map_err(|e| MigrateError::Doc {
                    id: parties_id,
                    source: Box::new(e),
                })?;
            Some(DocWrite {
                id: parties_id,
                kind: RecordKind::IncidentParties.as_str().into(),
                grid: record.meta.grid.clone(),
                snapshot: made.save(),
                base_rev: None,
                moved: false,
                changes: new_changes(made.changes_since(&[])),
                photos: Vec::new(),
                projection: ProjectionRow::of(&AnyRecord::IncidentParties(record), None),
            })
        }
        Some(existing) => {
            let linked_error = |source| MigrateError::Doc {
                id: parties_id,
                source: Box::new(source),
            };
            let mut linked = RecordDoc::load(&existing.snapshot, actor).map_err(linked_error)?;
            let before: IncidentParties = linked.read().map_err(linked_error)?;
            let heads = linked.heads();
            let mut after = before.clone();
            for p in parties {
                if !after.parties.contains(&p) {
                    after.parties.push(p);
                }
            }
            linked
                .write_diff(&author, &before, &after)
                .map_err(linked_error)?;
            let changes = new_changes(linked.changes_since(&heads));
            (!changes.is_empty()).then(|| DocWrite {
                id: parties_id,
                kind: existing.kind.clone(),
                grid: existing.grid.clone(),
                snapshot: linked.save(),
                base_rev: Some(existing.rev),
                moved: false,
                changes,
                photos: Vec::new(),
                projection: ProjectionRow::of(&AnyRecord::IncidentParties(after), None),
            })
        }
    };

    let commit = PushCommit {
        device_id: SERVER_DEVICE.into(),
        user_id: SERVER_USER.into(),
        received_at: now_ms,
        docs: std::iter::once(incident_write)
            .chain(parties_write)
            .collect(),
        // The server adds no photo: the incident keeps its references and
        // their grants, and a parties record holds none.
        blob_refs: Vec::new(),
    };
    match storage.commit_push(&commit)? {
        CommitOutcome::Committed => Ok(Split::Moved),
        CommitOutcome::Conflict => Ok(Split::Conflict),
    }
}

fn new_changes(changes: Vec<automerge::Change>) -> Vec<NewChange> {
    changes
        .into_iter()
        .map(|c| NewChange {
            hash: c.hash().0,
            bytes: c.raw_bytes().to_vec(),
            device_id: None,
        })
        .collect()
}

/// The server's own actor; its pseudo-user hangs from the root of the
/// tree `grid` is in.
fn own_actor(storage: &dyn Storage, grid: &str) -> Result<ActorId, MigrateError> {
    let root = storage
        .grid_path(grid)?
        .and_then(|p| p.split('/').find(|s| !s.is_empty()).map(str::to_string))
        .unwrap_or_else(|| grid.to_string());
    let hex = server_actor(storage, &root).map_err(|e| match e {
        AdminError::Storage(s) => MigrateError::Storage(s),
        other => MigrateError::ServerActor(other.to_string()),
    })?;
    ActorId::try_from(hex.as_str())
        .map_err(|_| MigrateError::ServerActor(format!("the server's actor {hex} is not hex")))
}

#[cfg(test)]
mod tests {
    use gridwork_core::model::{Incident, Meta, Party};
    use gridwork_demo::{DemoConfig, generate};

    use super::*;
    use crate::storage::projections::IdRange;
    use crate::storage::{Projections, SqliteStorage};

    fn party(name: &str, id_number: &str) -> Party {
        Party {
            name: name.into(),
            phone: "13812345678".into(),
            id_number: id_number.into(),
            role: "申请人".into(),
        }
    }

    /// A store with the demo's grids and users, and an incident document
    /// laid out as before the split, as the server's device stored it.
    fn old_incident(parties: Vec<Party>) -> (tempfile::TempDir, SqliteStorage, Incident) {
        let (dir, storage, demo) = demo_storage();
        let mut incident = demo.incidents[0].clone();
        incident.meta = Meta::new(incident.meta.grid.clone(), "gw-1", 1_000);
        let old = IncidentWithParties {
            incident: incident.clone(),
            parties,
        };
        let actor = own_actor(&storage, &incident.meta.grid).unwrap();
        let mut doc = RecordDoc::create(&old, actor, &Author::new("gw-1", 1_000)).unwrap();
        store(&storage, &mut doc);
        (dir, storage, incident)
    }

    /// A store with the demo's grids and users.
    fn demo_storage() -> (tempfile::TempDir, SqliteStorage, gridwork_demo::Demo) {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        let demo = generate(&DemoConfig {
            households_per_grid: 1,
            incidents_per_grid: 1,
            patrols_per_grid: 0,
            visits_per_grid: 0,
            ..DemoConfig::default()
        });
        crate::admin::load_demo(&storage, &demo, "gridwork-demo").unwrap();
        (dir, storage, demo)
    }

    /// Stores `doc` as the server's device pushed it.
    fn store(storage: &SqliteStorage, doc: &mut RecordDoc) {
        let record = doc.to_json();
        let commit = PushCommit {
            device_id: SERVER_DEVICE.into(),
            user_id: SERVER_USER.into(),
            received_at: 1_000,
            docs: vec![DocWrite {
                id: doc.id(),
                kind: doc.kind().as_str().into(),
                grid: record["grid"].as_str().unwrap().into(),
                snapshot: doc.save(),
                base_rev: None,
                moved: false,
                changes: new_changes(doc.changes_since(&[])),
                photos: Vec::new(),
                projection: ProjectionRow::read(
                    &doc.read_any().unwrap(),
                    &WorkCalendar::bundled(),
                    &mut Boundaries::new(storage),
                )
                .unwrap(),
            }],
            blob_refs: Vec::new(),
        };
        assert_eq!(
            storage.commit_push(&commit).unwrap(),
            CommitOutcome::Committed
        );
    }

    fn read(storage: &SqliteStorage, id: Uuid) -> (RecordDoc, bool) {
        let stored = storage.load_doc(id).unwrap().expect("stored");
        let doc = RecordDoc::load(&stored.snapshot, ActorId::random()).unwrap();
        (doc, stored.pi_history)
    }

    #[test]
    fn an_incidents_parties_move_to_their_record_once() {
        let held = vec![party("张三", "11010119900307803X"), party("李四", "")];
        let (_dir, storage, incident) = old_incident(held.clone());
        let now = jiff::Timestamp::now();
        assert_eq!(split_incident_parties(&storage, now).unwrap(), 1);

        let (mut doc, pi_history) = read(&storage, incident.meta.id);
        assert!(pi_history, "marked: its history holds the parties");
        assert!(doc.to_json().get("parties").is_none(), "cleared");
        let still: Incident = doc.read().unwrap();
        assert_eq!(still, incident, "nothing else changed");
        let last = doc.changes_since(&[]).pop().unwrap();
        assert_eq!(last.message(), Some(SERVER_USER));

        let (linked, linked_pi) = read(&storage, IncidentParties::id_for(incident.meta.id));
        let linked: IncidentParties = linked.read().unwrap();
        assert!(!linked_pi);
        assert_eq!(linked.parties, held);
        assert_eq!(linked.incident, incident.meta.id);
        assert_eq!(linked.meta.grid, incident.meta.grid);
        assert_eq!(linked.meta.created_by, "gw-1");

        // Idempotent: a second run finds nothing to do and writes nothing.
        let rev = storage.load_doc(incident.meta.id).unwrap().unwrap().rev;
        assert_eq!(split_incident_parties(&storage, now).unwrap(), 0);
        assert_eq!(
            storage.load_doc(incident.meta.id).unwrap().unwrap().rev,
            rev
        );
        run(&storage).unwrap();
        assert!(storage.data_migration_done(INCIDENT_PARTIES).unwrap());
    }

    #[test]
    fn rows_older_than_the_dashboard_facts_are_filled_once() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        // A new database has no rows to fill: done at once.
        assert!(storage.data_migration_done(DASHBOARD_FACTS).unwrap());
        let demo = generate(&DemoConfig::with_total_records(3, 400));
        crate::admin::load_demo(&storage, &demo, "gridwork-demo").unwrap();
        let kept = storage.all_projections().unwrap();
        // Rows as a server before the facts wrote them, not yet filled.
        let old: Vec<_> = kept
            .iter()
            .cloned()
            .map(|mut r| {
                r.row.cycle_days = None;
                r.row.visit_at = None;
                r.row.patrol = None;
                r
            })
            .collect();
        storage.replace_projections(IdRange::ALL, &old).unwrap();
        rusqlite::Connection::open(dir.path().join("gridwork.sqlite"))
            .unwrap()
            .execute(
                "DELETE FROM data_migrations WHERE name = ?1",
                [DASHBOARD_FACTS],
            )
            .unwrap();
        assert_ne!(storage.all_projections().unwrap(), kept);
        run(&storage).unwrap();
        assert_eq!(storage.all_projections().unwrap(), kept);
        assert!(storage.data_migration_done(DASHBOARD_FACTS).unwrap());
    }

    #[test]
    fn rows_older_than_the_ledger_records_are_given_them_once() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        // A new database has no rows to fill: done at once.
        assert!(storage.data_migration_done(LEDGER_RECORDS).unwrap());
        let demo = generate(&DemoConfig::with_total_records(3, 400));
        crate::admin::load_demo(&storage, &demo, "gridwork-demo").unwrap();
        let kept = storage.all_projections().unwrap();
        assert!(kept.iter().all(|r| r.row.ledger.is_some()));
        // Rows as a server before the ledger records wrote them.
        let old: Vec<_> = kept
            .iter()
            .cloned()
            .map(|mut r| {
                r.row.ledger = None;
                r
            })
            .collect();
        storage.replace_projections(IdRange::ALL, &old).unwrap();
        let ids: Vec<Uuid> = kept.iter().map(|r| r.row.id).collect();
        assert!(storage.ledger_records(&ids).unwrap().is_empty());
        rusqlite::Connection::open(dir.path().join("gridwork.sqlite"))
            .unwrap()
            .execute(
                "DELETE FROM data_migrations WHERE name = ?1",
                [LEDGER_RECORDS],
            )
            .unwrap();
        run(&storage).unwrap();
        assert_eq!(storage.all_projections().unwrap(), kept);
        assert_eq!(storage.ledger_records(&ids).unwrap().len(), ids.len());
        assert!(storage.data_migration_done(LEDGER_RECORDS).unwrap());
    }

    /// A server of a small demo whose rows the check finds right, and the
    /// check.
    fn checked_demo() -> (
        tempfile::TempDir,
        SqliteStorage,
        impl Fn(&SqliteStorage) -> Vec<Uuid>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        let demo = generate(&DemoConfig::with_total_records(3, 400));
        crate::admin::load_demo(&storage, &demo, "gridwork-demo").unwrap();
        let cal = WorkCalendar::bundled();
        let check = move |s: &SqliteStorage| crate::storage::projections::check(s, &cal).unwrap();
        assert_eq!(check(&storage), Vec::<Uuid>::new());
        (dir, storage, check)
    }

    #[test]
    fn households_older_than_their_visit_cycles_are_given_them_once() {
        let (dir, storage, check) = checked_demo();
        let check = || check(&storage);
        // Rows as a server before the table wrote them: no cycles beside.
        let db = rusqlite::Connection::open(dir.path().join("gridwork.sqlite")).unwrap();
        let count = || -> usize {
            let n: i64 = db
                .query_row("SELECT COUNT(*) FROM visit_cycles", [], |r| r.get(0))
                .unwrap();
            n as usize
        };
        let kept = count();
        assert!(kept > 0, "the demo's households have cycles");
        db.execute("DELETE FROM visit_cycles", []).unwrap();
        db.execute(
            "DELETE FROM data_migrations WHERE name = ?1",
            [VISIT_CYCLES],
        )
        .unwrap();
        assert_eq!(
            check().len(),
            kept,
            "each household found without its cycle"
        );
        run(&storage).unwrap();
        assert_eq!(count(), kept);
        assert_eq!(check(), Vec::<Uuid>::new());
        assert!(storage.data_migration_done(VISIT_CYCLES).unwrap());
    }

    /// The schema migration that gives an incident's and a patrol's own
    /// row copies of their record's columns fills them from the rows a
    /// server before it wrote (its SQL run on tables of that shape).
    #[test]
    fn incident_and_patrol_rows_older_than_their_copies_are_given_them() {
        let (dir, storage, check) = checked_demo();
        let check = || check(&storage);
        let db = rusqlite::Connection::open(dir.path().join("gridwork.sqlite")).unwrap();
        let mut older = String::new();
        for table in ["incident_projections", "patrol_projections"] {
            older.push_str(&format!("DROP INDEX {table}_figures;"));
            for column in ["grid", "status", "category", "deleted"] {
                older.push_str(&format!("ALTER TABLE {table} DROP COLUMN {column};"));
            }
        }
        db.execute_batch(&older).unwrap();
        let rows = |table: &str| -> i64 {
            db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        };
        let (incidents, patrols) = (rows("incident_projections"), rows("patrol_projections"));
        assert!(incidents > 0 && patrols > 0, "the demo has both");
        db.execute_batch(include_str!(
            "storage/migrations/20261207000000_index_only_reads.sql"
        ))
        .unwrap();
        assert_eq!(check(), Vec::<Uuid>::new(), "every copy is its row's");
        let of_grid = |table: &str| -> i64 {
            db.query_row(
                &format!("SELECT COUNT(*) FROM {table} WHERE grid <> ''"),
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(of_grid("incident_projections"), incidents);
        assert_eq!(of_grid("patrol_projections"), patrols);
    }

    #[test]
    fn an_incident_without_parties_is_left_alone() {
        let (_dir, storage, incident) = old_incident(Vec::new());
        assert_eq!(
            split_incident_parties(&storage, jiff::Timestamp::now()).unwrap(),
            0
        );
        let (_, pi_history) = read(&storage, incident.meta.id);
        assert!(!pi_history);
        let linked = storage
            .load_doc(IncidentParties::id_for(incident.meta.id))
            .unwrap();
        assert!(linked.is_none());
    }

    /// The incident document the last build before the split wrote
    /// (core/tests/fixtures/layout-v1-parties-in-incident, by commit
    /// c098fe7), moved by today's migration.
    #[test]
    fn an_incident_written_before_the_split_has_its_parties_moved() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../core/tests/fixtures/layout-v1-parties-in-incident"
        );
        let bytes = std::fs::read(format!("{dir}/incident.automerge")).unwrap();
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}/expected.json")).unwrap())
                .unwrap();
        let written = manifest["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["file"] == "incident.automerge")
            .unwrap()["record"]
            .clone();
        let held: Vec<Party> = serde_json::from_value(written["parties"].clone()).unwrap();
        assert!(!held.is_empty());

        let (_dir, storage, _) = demo_storage();
        let mut doc = RecordDoc::load(&bytes, ActorId::random()).unwrap();
        let id = doc.id();
        let before: Incident = doc.read().unwrap();
        store(&storage, &mut doc);
        assert_eq!(
            split_incident_parties(&storage, jiff::Timestamp::now()).unwrap(),
            1
        );

        let (doc, pi_history) = read(&storage, id);
        assert!(pi_history);
        assert!(doc.to_json().get("parties").is_none(), "cleared");
        assert_eq!(
            doc.read::<Incident>().unwrap(),
            before,
            "nothing else changed"
        );
        let (linked, _) = read(&storage, IncidentParties::id_for(id));
        let linked: IncidentParties = linked.read().unwrap();
        assert_eq!(linked.parties, held);
        assert_eq!(linked.incident, id);
        assert_eq!(linked.meta.grid, before.meta.grid);
        assert_eq!(linked.meta.created_by, before.meta.created_by);
    }
}
