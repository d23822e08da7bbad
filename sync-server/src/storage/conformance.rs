//! The storage tests every backend passes: each test below runs once on
//! SQLite (a temporary data directory) and once on PostgreSQL (a fresh
//! database on the server `GRIDWORK_TEST_POSTGRES` names; see
//! `postgres::testing`). Without that variable the PostgreSQL half says it
//! was skipped and passes, unless `GRIDWORK_REQUIRE_POSTGRES=1`
//! (`scripts/test-postgres` sets both), where it fails.
//!
//! Changes and snapshots here are opaque bytes: storage never reads them.

// The whole module is test code (`#[cfg(test)] mod conformance`); the
// attribute below also says so to `crate::module_graph`, which reads the
// sources and leaves test code out of the layering.
#[cfg(test)]
use std::collections::BTreeSet;
use std::sync::Arc;

use gridwork_core::calendar::WorkCalendar;
use gridwork_core::model::{RecordKind, Role, User};
use uuid::Uuid;

use super::postgres::testing::test_database_or_skip;
use super::projections::{DeadlineWindow, Dispatchee, IdRange, ListFilter, StoredProjection};
use super::*;
use crate::grids::Grid;

/// Runs one statement outside the trait: for checks on the schema.
type Raw = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// One backend under test, with what keeps its data alive.
struct Backend {
    storage: Arc<dyn Storage>,
    raw: Raw,
    _keep: Box<dyn std::any::Any + Send + Sync>,
}

fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(SqliteStorage::open(dir.path()).unwrap());
    let db = dir.path().join(sqlite::DB_FILE);
    Backend {
        storage,
        raw: Box::new(move |sql| {
            rusqlite::Connection::open(&db)
                .and_then(|c| c.execute(sql, []))
                .map(|_| ())
                .map_err(|e| e.to_string())
        }),
        _keep: Box::new(dir),
    }
}

fn postgres() -> Option<Backend> {
    let db = test_database_or_skip()?;
    let storage = Arc::new(PgStorage::open(db.url(), 8).unwrap());
    let url = db.url().to_string();
    Some(Backend {
        storage,
        raw: Box::new(move |sql| {
            let mut c =
                ::postgres::Client::connect(&url, ::postgres::NoTls).map_err(|e| e.to_string())?;
            c.batch_execute(sql).map_err(|e| {
                e.as_db_error()
                    .map(|d| d.message().to_string())
                    .unwrap_or_else(|| e.to_string())
            })
        }),
        _keep: Box::new(db),
    })
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $( #[test] fn $name() { super::$name(&super::sqlite()); } )*
        }
        mod on_postgres {
            $( #[test] fn $name() {
                if let Some(b) = super::postgres() { super::$name(&b); }
            } )*
        }
    };
}

on_both_backends!(
    grids_are_stored_as_a_tree,
    users_devices_and_tokens,
    a_push_is_stored_whole_or_not_at_all,
    pulls_page_by_budget_and_skip_the_devices_own_changes,
    a_moved_document_is_republished_at_the_move,
    photo_claims_become_grants_on_upload,
    the_access_log_is_append_only,
    documents_and_data_migrations,
    concurrent_commits_never_slip_behind_a_cursor,
    projections_are_kept_at_push_time_and_listed_with_every_filter,
    the_lost_device_filter_holds_what_a_device_changed_after_it_was_lost,
    the_dashboard_in_sql_is_the_dashboard_of_the_documents,
    visit_cycles_follow_every_write_of_a_household_resident_or_visit,
    incident_and_patrol_rows_carry_their_records_columns_through_every_write,
    login_limits_are_read_and_written_as_one_step,
);

/// The demo's grid tree, stored; its grid-level codes.
fn grids(s: &dyn Storage) -> Vec<Grid> {
    let demo = gridwork_demo::generate(&gridwork_demo::DemoConfig {
        households_per_grid: 0,
        incidents_per_grid: 0,
        patrols_per_grid: 0,
        visits_per_grid: 0,
        ..gridwork_demo::DemoConfig::default()
    });
    // Placed by `grids` directly: the storage layer's tests stay below
    // `admin` (module_graph).
    let import = crate::grids::import(&[], &demo.grid_tree_geojson).unwrap();
    s.put_grids(&import.placed).unwrap();
    s.all_grids()
        .unwrap()
        .into_iter()
        .filter(|g| g.level == crate::grids::GridLevel::Grid)
        .collect()
}

fn account(id: &str, grid: &str) -> Account {
    Account {
        user: User {
            id: id.into(),
            name: format!("用户{id}"),
            phone: String::new(),
            role: Role::GridWorker,
            grid: grid.into(),
            department: None,
        },
        password_hash: "$argon2id$not-a-real-hash".into(),
        disabled: false,
    }
}

fn device(id: &str, user: &str, root: &str) -> NewDevice {
    let mut token_hash = [0u8; 32];
    token_hash[..id.len().min(32)].copy_from_slice(&id.as_bytes()[..id.len().min(32)]);
    NewDevice {
        id: id.into(),
        user_id: user.into(),
        name: format!("平板 {id}"),
        token_hash,
        actor: id.bytes().map(|b| format!("{b:02x}")).collect(),
        created_at: 1_000,
        scope: ServedScope {
            epoch: 1,
            root: root.into(),
            grids_version: 1,
            grids: vec![root.into()],
        },
    }
}

fn hash(n: u32, salt: u8) -> [u8; 32] {
    let mut h = [salt; 32];
    h[..4].copy_from_slice(&n.to_be_bytes());
    h
}

/// A push of one new document with `changes` changes.
fn new_doc(device: &str, grid: &str, id: Uuid, changes: u32, salt: u8) -> PushCommit {
    PushCommit {
        device_id: device.into(),
        user_id: "u1".into(),
        received_at: 5_000,
        docs: vec![DocWrite {
            id,
            kind: "household".into(),
            grid: grid.into(),
            snapshot: vec![salt; 10],
            base_rev: None,
            moved: false,
            changes: (0..changes)
                .map(|i| NewChange {
                    hash: hash(i, salt),
                    bytes: vec![salt; 100],
                    device_id: None,
                })
                .collect(),
            photos: Vec::new(),
            projection: bare_row(id, grid),
        }],
        blob_refs: Vec::new(),
    }
}

/// A stand-in projection row for a document of opaque bytes.
fn bare_row(id: Uuid, grid: &str) -> ProjectionRow {
    ProjectionRow {
        id,
        kind: RecordKind::Household,
        grid: grid.into(),
        title: "某户".into(),
        subtitle: String::new(),
        status: "pending".into(),
        category: None,
        urgency: None,
        parent_id: None,
        created_at: 1_000,
        created_by: "u1".into(),
        deleted: false,
        return_comment: None,
        point: None,
        cycle_days: None,
        visit_at: None,
        incident: None,
        patrol: None,
        ledger: None,
    }
}

fn path_of(s: &dyn Storage, code: &str) -> String {
    s.grid_path(code).unwrap().unwrap()
}

/// Every live record of the stored tree, as a dashboard reads them, with
/// deadlines on 2026-12-01 and visit cycles judged at `at_ms`.
fn whole_tree(s: &dyn Storage, at_ms: i64) -> ListFilter {
    ListFilter {
        scope_path: path_of(s, &s.all_grids().unwrap()[0].code),
        kinds: RecordKind::ALL.to_vec(),
        live: true,
        statuses: None,
        dispatched_to: None,
        from_lost_device: false,
        window: DeadlineWindow::on(jiff::civil::date(2026, 12, 1), &WorkCalendar::bundled()),
        figure: None,
        at_ms,
    }
}

/// Everything a device at `after` is sent, page by page: (position, doc).
fn pull_all(
    s: &dyn Storage,
    scope: &str,
    device: &str,
    after: u64,
    budget: usize,
) -> (Vec<(u64, Uuid, Vec<u8>)>, u64) {
    let mut cursor = after;
    let mut got = Vec::new();
    loop {
        let page = s
            .pull(&PullQuery {
                after: cursor,
                scope_path: scope.into(),
                device_id: device.into(),
                budget,
            })
            .unwrap();
        got.extend(
            page.changes
                .into_iter()
                .map(|c| (c.position, c.doc, c.bytes)),
        );
        cursor = page.cursor;
        if !page.more {
            return (got, cursor);
        }
    }
}

fn grids_are_stored_as_a_tree(b: &Backend) {
    let s = b.storage.as_ref();
    let before = s.grids_version().unwrap();
    let leaves = grids(s);
    assert!(s.grids_version().unwrap() > before);
    let all = s.all_grids().unwrap();
    let root = all.iter().find(|g| g.parent.is_none()).unwrap();
    let root_path = path_of(s, &root.code);
    assert_eq!(
        s.subtree(&root_path).unwrap(),
        all,
        "the root's subtree is all, in path order"
    );
    let leaf = &leaves[0];
    let leaf_path = path_of(s, &leaf.code);
    assert!(leaf_path.starts_with(&root_path) && leaf_path.ends_with(&format!("/{}/", leaf.code)));
    let below = s.subtree_codes(&leaf_path).unwrap();
    assert_eq!(below[0], leaf.code, "{below:?}");
    assert!(below.iter().all(|c| c.starts_with(&leaf.code)), "{below:?}");
    let parent = leaf.parent.clone().unwrap();
    let siblings = s.subtree_codes(&path_of(s, &parent)).unwrap();
    assert!(
        siblings.windows(2).all(|w| w[0] < w[1]),
        "sorted: {siblings:?}"
    );
    assert!(siblings.contains(&leaf.code) && siblings.contains(&parent));
    assert_eq!(
        s.subtree(&leaf_path).unwrap()[0],
        *leaf,
        "boundary and centroid read back"
    );
    assert_eq!(s.grid_path("999").unwrap(), None);
}

fn users_devices_and_tokens(b: &Backend) {
    let s = b.storage.as_ref();
    let leaves = grids(s);
    let (g1, g2) = (&leaves[0].code, &leaves[1].code);
    s.add_user(&account("u1", g1)).unwrap();
    assert!(matches!(
        s.add_user(&account("u1", g1)),
        Err(StorageError::Exists { .. })
    ));
    assert!(matches!(
        s.add_user(&account("u2", "999")),
        Err(StorageError::NotFound { what: "grid", .. })
    ));
    assert_eq!(s.account("u1").unwrap().unwrap(), account("u1", g1));
    assert_eq!(s.account("nobody").unwrap(), None);
    s.set_password("u1", "$argon2id$other").unwrap();
    assert_eq!(
        s.account("u1").unwrap().unwrap().password_hash,
        "$argon2id$other"
    );
    assert!(matches!(
        s.set_password("nobody", "x"),
        Err(StorageError::NotFound { .. })
    ));
    s.set_user_grid("u1", g2).unwrap();
    assert!(s.set_user_grid("u1", "999").is_err());
    assert_eq!(s.account("u1").unwrap().unwrap().user.grid, *g2);

    let d = device("d1", "u1", g2);
    s.enrol_device(&d).unwrap();
    assert!(s.enrol_device(&d).is_err(), "an enrolment is made once");
    let owner = s.token_owner(&d.token_hash).unwrap().unwrap();
    assert_eq!(
        (owner.device_id.as_str(), owner.revoked, owner.lost),
        ("d1", false, false)
    );
    assert_eq!(owner.user.id, "u1");
    assert_eq!(s.token_owner(&[9; 32]).unwrap(), None);
    assert_eq!(s.served_scope("d1").unwrap(), Some(d.scope.clone()));
    let wider = ServedScope {
        epoch: 2,
        grids: vec![g1.clone(), g2.clone()],
        ..d.scope.clone()
    };
    s.set_served_scope("d1", &wider).unwrap();
    assert_eq!(s.served_scope("d1").unwrap(), Some(wider));
    s.confirm_cursor("d1", 42, 7_000).unwrap();
    let listed = s.list_devices(Some("u1")).unwrap();
    assert_eq!(
        (listed.len(), listed[0].cursor, listed[0].confirmed_at),
        (1, 42, Some(7_000))
    );
    assert!(s.list_devices(Some("u2")).unwrap().is_empty());
    assert_eq!(s.list_devices(None).unwrap().len(), 1);
    let owners = s.actor_owners(&[d.actor.clone(), "ffff".into()]).unwrap();
    assert_eq!(
        owners,
        vec![(
            d.actor.clone(),
            ActorOwner {
                device_id: "d1".into(),
                user_id: "u1".into()
            }
        )]
    );

    assert!(s.mark_device_lost("d1", 8_000).unwrap());
    assert!(!s.mark_device_lost("d1", 8_001).unwrap());
    assert!(s.token_owner(&d.token_hash).unwrap().unwrap().lost);
    assert!(s.record_device_wipe("d1", 9_000).unwrap());
    assert!(!s.record_device_wipe("d1", 9_001).unwrap());
    assert!(s.revoke_device("d1", 9_500).unwrap());
    assert!(!s.revoke_device("d1", 9_600).unwrap());
    assert!(matches!(
        s.revoke_device("nope", 1),
        Err(StorageError::NotFound { .. })
    ));
    let info = &s.list_devices(None).unwrap()[0];
    assert_eq!(
        (info.lost_at, info.wiped_at, info.revoked_at),
        (Some(8_000), Some(9_000), Some(9_500))
    );
}

fn a_push_is_stored_whole_or_not_at_all(b: &Backend) {
    let s = b.storage.as_ref();
    let g = grids(s)[0].code.clone();
    let id = Uuid::now_v7();
    assert_eq!(
        s.commit_push(&new_doc("d1", &g, id, 3, 1)).unwrap(),
        CommitOutcome::Committed
    );
    let stored = s.load_doc(id).unwrap().unwrap();
    assert_eq!(
        (stored.rev, stored.grid.as_str(), stored.snapshot.clone()),
        (1, g.as_str(), vec![1; 10])
    );
    // The same new document again: someone else made it meanwhile.
    assert_eq!(
        s.commit_push(&new_doc("d1", &g, id, 0, 1)).unwrap(),
        CommitOutcome::Conflict
    );

    // A second document plus an edit of the first at a stale revision:
    // nothing of it is stored.
    let other = Uuid::now_v7();
    let mut push = new_doc("d1", &g, other, 2, 2);
    push.docs.push(DocWrite {
        base_rev: Some(0),
        changes: vec![NewChange {
            hash: hash(9, 3),
            bytes: vec![3],
            device_id: None,
        }],
        ..new_doc("d1", &g, id, 0, 1).docs.remove(0)
    });
    assert_eq!(s.commit_push(&push).unwrap(), CommitOutcome::Conflict);
    assert!(s.load_doc(other).unwrap().is_none());
    assert!(
        s.known_changes(&[hash(0, 2), hash(9, 3)])
            .unwrap()
            .is_empty()
    );
    // A change already in the log: the snapshot it was checked on is stale.
    let mut again = new_doc("d1", &g, other, 1, 1);
    again.docs[0].changes[0].hash = hash(0, 1);
    assert_eq!(s.commit_push(&again).unwrap(), CommitOutcome::Conflict);

    // At the right revision it is stored, and the revision moves on.
    push.docs[1].base_rev = Some(1);
    assert_eq!(s.commit_push(&push).unwrap(), CommitOutcome::Committed);
    assert_eq!(s.load_doc(id).unwrap().unwrap().rev, 2);
    // Several at once: in the order asked, an unknown id left out, each
    // as load_doc reads it.
    let many = s.load_docs(&[other, Uuid::nil(), id]).unwrap();
    assert_eq!(
        many.iter()
            .map(|(i, d)| (*i, d.rev, d.grid.clone()))
            .collect::<Vec<_>>(),
        vec![(other, 1, g.clone()), (id, 2, g.clone())]
    );
    assert_eq!(
        many[1].1.snapshot,
        s.load_doc(id).unwrap().unwrap().snapshot
    );
    assert!(s.load_docs(&[]).unwrap().is_empty());
    assert_eq!(
        s.known_changes(&[hash(7, 7), hash(1, 2), hash(9, 3)])
            .unwrap(),
        vec![hash(1, 2), hash(9, 3)]
    );
    let receipts = s.change_receipts(id).unwrap();
    assert_eq!(receipts.len(), 4);
    assert!(receipts.iter().all(|(_, at)| *at == 5_000));
}

fn pulls_page_by_budget_and_skip_the_devices_own_changes(b: &Backend) {
    let s = b.storage.as_ref();
    let leaves = grids(s);
    let (g1, g2) = (&leaves[0].code, &leaves[1].code);
    let mut docs = Vec::new();
    for i in 0..6u8 {
        let id = Uuid::now_v7();
        let (dev, grid) = if i % 3 == 0 {
            ("mine", g1)
        } else {
            ("theirs", g1)
        };
        s.commit_push(&new_doc(dev, grid, id, 2, 10 + i)).unwrap();
        docs.push(id);
    }
    s.commit_push(&new_doc("theirs", g2, Uuid::now_v7(), 2, 30))
        .unwrap();
    let scope = path_of(s, g1);
    let (whole, end) = pull_all(s, &scope, "mine", 0, usize::MAX);
    assert_eq!(
        whole.len(),
        8,
        "4 documents of 2 changes: not mine, not the other grid's"
    );
    assert!(whole.windows(2).all(|w| w[0].0 < w[1].0), "in log order");
    assert!(
        whole
            .iter()
            .all(|(_, doc, bytes)| bytes.len() == 100 && docs.contains(doc))
    );
    // Page by page, at most a little over the budget each, the same.
    let (paged, paged_end) = pull_all(s, &scope, "mine", 0, 150);
    assert_eq!(paged, whole);
    assert_eq!(paged_end, end);
    // From the end: nothing new.
    let (none, at) = pull_all(s, &scope, "mine", end, 150);
    assert!(none.is_empty());
    assert_eq!(at, end);
    // A cursor past the end of the log (a restored database) starts over.
    assert_eq!(
        pull_all(s, &scope, "mine", end + 1_000, usize::MAX).0,
        whole
    );
}

fn a_moved_document_is_republished_at_the_move(b: &Backend) {
    let s = b.storage.as_ref();
    let leaves = grids(s);
    let (g1, g2) = (&leaves[0].code, &leaves[1].code);
    let id = Uuid::now_v7();
    s.commit_push(&new_doc("d1", g1, id, 3, 1)).unwrap();
    let (_, cursor) = pull_all(s, &path_of(s, g2), "d2", 0, usize::MAX);
    let mut moved = new_doc("d1", g2, id, 1, 2);
    moved.docs[0].base_rev = Some(1);
    moved.docs[0].moved = true;
    assert_eq!(s.commit_push(&moved).unwrap(), CommitOutcome::Committed);
    let (got, _) = pull_all(s, &path_of(s, g2), "d2", cursor, usize::MAX);
    assert_eq!(got.len(), 4, "its whole history reaches the new grid");
    let at = got[0].0;
    assert!(
        at > cursor && got.iter().all(|(p, doc, _)| *p == at && *doc == id),
        "{got:?}"
    );
    assert!(
        pull_all(s, &path_of(s, g1), "d2", cursor, usize::MAX)
            .0
            .is_empty()
    );
}

fn photo_claims_become_grants_on_upload(b: &Backend) {
    let s = b.storage.as_ref();
    let g = grids(s)[0].code.clone();
    let (doc, other) = (Uuid::now_v7(), Uuid::now_v7());
    let sha = "ab".repeat(32);
    let mut push = new_doc("d1", &g, doc, 1, 1);
    push.blob_refs = vec![
        BlobRef {
            doc,
            sha256: sha.clone(),
            granted: false,
        },
        BlobRef {
            doc,
            sha256: "cd".repeat(32),
            granted: true,
        },
    ];
    s.commit_push(&push).unwrap();
    assert!(
        !s.blob_granted(doc, &sha).unwrap(),
        "a claim is not a grant"
    );
    assert!(s.blob_granted(doc, &"cd".repeat(32)).unwrap());
    let known: BTreeSet<String> = s.blob_refs_known(doc).unwrap().into_iter().collect();
    assert_eq!(known, BTreeSet::from([sha.clone(), "cd".repeat(32)]));
    assert!(!s.has_uploaded("u1", &sha).unwrap());
    let upload = BlobUpload {
        sha256: sha.clone(),
        device_id: "d1".into(),
        user_id: "u1".into(),
        at: 6_000,
    };
    assert_eq!(s.record_upload(&upload).unwrap(), 1);
    assert_eq!(s.record_upload(&upload).unwrap(), 0, "once");
    assert!(s.has_uploaded("u1", &sha).unwrap());
    assert!(!s.has_uploaded("u2", &sha).unwrap());
    assert!(s.blob_granted(doc, &sha).unwrap());
    // Uploaded already: a later reference by the same user is granted.
    let mut later = new_doc("d1", &g, other, 1, 2);
    later.blob_refs = vec![BlobRef {
        doc: other,
        sha256: sha.clone(),
        granted: false,
    }];
    s.commit_push(&later).unwrap();
    let mut both = vec![doc, other];
    both.sort();
    assert_eq!(s.blob_grant_docs(&sha, 10).unwrap(), both);
    assert_eq!(s.blob_grant_docs(&sha, 1).unwrap().len(), 1);
}

fn the_access_log_is_append_only(b: &Backend) {
    let s = b.storage.as_ref();
    let entry = AccessEntry {
        seq: 0,
        at: 1_000,
        user_id: "cs-1".into(),
        device_id: "console-1".into(),
        action: "export".into(),
        target: "households".into(),
        filter: "{}".into(),
        format: Some("xlsx".into()),
        record_ids: vec![Uuid::nil()],
        row_count: 1,
        revealed: "pi,s".into(),
    };
    let first = s.append_access(&entry).unwrap();
    let second = s
        .append_access(&AccessEntry {
            user_id: "cs-2".into(),
            ..entry.clone()
        })
        .unwrap();
    assert!(second > first);
    assert_eq!(
        s.access_log(Some("cs-1"), 10).unwrap(),
        vec![AccessEntry {
            seq: first,
            ..entry
        }]
    );
    assert_eq!(s.access_log(None, 10).unwrap().len(), 2);
    assert_eq!(
        s.access_log(None, 1).unwrap()[0].seq,
        second,
        "newest first"
    );
    for sql in [
        "UPDATE access_log SET row_count = 0",
        "DELETE FROM access_log",
    ] {
        let err = (b.raw)(sql).unwrap_err();
        assert!(err.contains("append-only"), "{err}");
    }
    let reveal = gridwork_core::store::RevealEntry {
        id: Uuid::now_v7(),
        at: 500,
        user_id: "someone-else".into(),
        record_kind: gridwork_core::model::RecordKind::Resident,
        record_id: Uuid::now_v7(),
        field: "id_number".into(),
        protection: gridwork_core::privacy::Protection::Pi,
    };
    assert_eq!(
        s.append_device_reveals("gw-1", "d1", 2_000, std::slice::from_ref(&reveal))
            .unwrap(),
        1
    );
    assert_eq!(
        s.append_device_reveals("gw-1", "d1", 2_001, &[reveal])
            .unwrap(),
        0,
        "once"
    );
    let logged = &s.access_log(Some("gw-1"), 10).unwrap()[0];
    assert_eq!(
        (logged.action.as_str(), logged.at, logged.device_id.as_str()),
        ("reveal", 2_000, "d1")
    );
}

fn documents_and_data_migrations(b: &Backend) {
    let s = b.storage.as_ref();
    let leaves = grids(s);
    let (g1, g2) = (&leaves[0].code, &leaves[1].code);
    let mut ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    for (i, id) in ids.iter().enumerate() {
        s.commit_push(&new_doc(
            "d1",
            if i == 2 { g2 } else { g1 },
            *id,
            1,
            i as u8,
        ))
        .unwrap();
    }
    ids.sort();
    assert_eq!(s.docs_of_kind("household").unwrap(), ids);
    assert!(s.docs_of_kind("incident").unwrap().is_empty());
    let heads = s.doc_heads(&path_of(s, g1)).unwrap();
    assert_eq!(heads.len(), 2);
    assert!(
        heads
            .iter()
            .all(|h| h.grid == *g1 && h.rev == 1 && h.updated_at == 5_000 && h.kind == "household")
    );
    assert!(s.mark_pi_history(ids[0]).unwrap());
    assert!(!s.mark_pi_history(ids[0]).unwrap());
    assert!(s.load_doc(ids[0]).unwrap().unwrap().pi_history);
    assert!(!s.load_doc(ids[1]).unwrap().unwrap().pi_history);
    assert!(!s.data_migration_done("m1").unwrap());
    s.mark_data_migration("m1", 1).unwrap();
    s.mark_data_migration("m1", 2).unwrap();
    assert!(s.data_migration_done("m1").unwrap());
    assert!(s.load_doc(Uuid::nil()).unwrap().is_none());
}

/// Four writers commit at once while a device follows the log by its
/// cursor: it ends up with every change exactly once. A change numbered
/// below a position the device already read past would be missed.
fn concurrent_commits_never_slip_behind_a_cursor(b: &Backend) {
    let s = &b.storage;
    let g = grids(s.as_ref())[0].code.clone();
    let scope = path_of(s.as_ref(), &g);
    const WRITERS: u8 = 4;
    const PUSHES: u32 = 25;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (s, scope, done) = (s.clone(), scope.clone(), done.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut cursor = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let (got, at) = pull_all(s.as_ref(), &scope, "reader", cursor, 300);
                seen.extend(got.into_iter().map(|(_, _, bytes)| bytes));
                cursor = at;
                if finished {
                    return seen;
                }
            }
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (s, g) = (s.clone(), g.clone());
            std::thread::spawn(move || {
                for p in 0..PUSHES {
                    let mut push = new_doc("writer", &g, Uuid::now_v7(), 2, w);
                    for (i, c) in push.docs[0].changes.iter_mut().enumerate() {
                        c.hash = hash(p * 2 + i as u32, 100 + w);
                        c.bytes = format!("{w}-{p}-{i}").into_bytes();
                    }
                    assert_eq!(s.commit_push(&push).unwrap(), CommitOutcome::Committed);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.join().unwrap();
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "nothing twice");
    assert_eq!(
        seen.len(),
        WRITERS as usize * PUSHES as usize * 2,
        "nothing skipped"
    );
}

/// Many logins at once over the same keys (as from several processes:
/// each PostgreSQL call is a connection of its own) lose no count and do
/// not deadlock, whichever order they name the keys in; expired rows go.
fn login_limits_are_read_and_written_as_one_step(b: &Backend) {
    let s = &b.storage;
    const THREADS: u32 = 6;
    const EACH: u32 = 40;
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                let keys: [&str; 2] = if t % 2 == 0 {
                    ["k1", "k2"]
                } else {
                    ["k2", "k1"]
                };
                for _ in 0..EACH {
                    s.update_login_limits(&keys, 1_000, &mut |rows| {
                        for r in rows.iter_mut() {
                            r.failures += 1;
                            r.tat += 10;
                            r.expires_at = 5_000;
                        }
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut seen = Vec::new();
    s.update_login_limits(&["k1", "k2", "k3"], 1_000, &mut |rows| {
        seen = rows.to_vec();
    })
    .unwrap();
    let n = THREADS * EACH;
    assert_eq!(
        seen.iter().map(|r| (r.failures, r.tat)).collect::<Vec<_>>(),
        [(n, 10 * i64::from(n)), (n, 10 * i64::from(n)), (0, 0)],
        "every update counted, an unknown key is the default"
    );
    // Past their expiry, rows are gone: read as the default again.
    s.update_login_limits(&["k1"], 6_000, &mut |rows| {
        seen = rows.to_vec();
    })
    .unwrap();
    assert_eq!(seen, [LoginLimitState::default()]);
}

/// What `filter` holds, worked out here from every stored row: the
/// expectation the backends' SQL is held to. (id, overdue, due soon), in
/// list order.
fn expected(s: &dyn Storage, all: &[StoredProjection], f: &ListFilter) -> Vec<(Uuid, bool, bool)> {
    let in_scope: BTreeSet<String> = s
        .subtree_codes(&f.scope_path)
        .unwrap()
        .into_iter()
        .collect();
    let lost: BTreeSet<Uuid> = if f.from_lost_device {
        all.iter()
            .map(|r| r.row.id)
            .filter(|id| !s.changes_from_lost_devices(*id).unwrap().is_empty())
            .collect()
    } else {
        BTreeSet::new()
    };
    let w = &f.window;
    let mut rows: Vec<&StoredProjection> = all
        .iter()
        .filter(|r| {
            let p = &r.row;
            let i = p.incident.as_ref();
            f.kinds.contains(&p.kind)
                && in_scope.contains(&p.grid)
                && !(f.live && p.deleted)
                && f.statuses.as_ref().is_none_or(|st| {
                    st.iter()
                        .any(|(k, status)| *k == p.kind && *status == p.status)
                })
                && (!f.from_lost_device || lost.contains(&p.id))
                && f.dispatched_to.as_ref().is_none_or(|d| {
                    match i.and_then(|i| i.assignee.as_ref()) {
                        Some((k, id, _)) if k == "person" => *id == d.user_id,
                        Some((k, id, name)) if k == "department" => {
                            !d.department.is_empty()
                                && (*id == d.department || *name == d.department)
                        }
                        _ => false,
                    }
                })
        })
        .collect();
    rows.sort_by_key(|r| (r.updated_at, r.row.id));
    rows.into_iter()
        .map(|r| {
            let deadline = r.row.incident.as_ref().and_then(|i| i.deadline.clone());
            let open = w.open.contains(&r.row.status);
            let overdue = deadline
                .as_deref()
                .is_some_and(|d| open && d < w.today.as_str());
            let due_soon = deadline
                .as_deref()
                .is_some_and(|d| open && d >= w.today.as_str() && d <= w.soon.as_str());
            (r.row.id, overdue, due_soon)
        })
        .collect()
}

/// The whole list `filter` holds, checked against [`expected`]; its rows.
fn listed(s: &dyn Storage, all: &[StoredProjection], f: &ListFilter) -> Vec<(Uuid, bool, bool)> {
    let page = s.list_projections(f, 0, None).unwrap();
    let got: Vec<(Uuid, bool, bool)> = page
        .rows
        .iter()
        .map(|r| (r.projection.row.id, r.overdue, r.due_soon))
        .collect();
    assert_eq!(got, expected(s, all, f), "{f:?}");
    assert_eq!(page.total as usize, got.len());
    for r in &page.rows {
        let stored = all
            .iter()
            .find(|a| a.row.id == r.projection.row.id)
            .unwrap();
        // A list does not read the ledger record.
        let mut whole = r.projection.clone();
        whole.row.ledger.clone_from(&stored.row.ledger);
        assert_eq!(&whole, stored);
        assert_eq!(r.projection.row.ledger, None);
    }
    got
}

fn projections_are_kept_at_push_time_and_listed_with_every_filter(b: &Backend) {
    let s = b.storage.as_ref();
    let demo = gridwork_demo::generate(&gridwork_demo::DemoConfig {
        communities: 2,
        grids_per_community: 2,
        households_per_grid: 8,
        incidents_per_grid: 12,
        patrols_per_grid: 2,
        visits_per_grid: 3,
        ..gridwork_demo::DemoConfig::default()
    });
    crate::admin::load_demo(s, &demo, "demo-password-1").unwrap();
    let cal = WorkCalendar::bundled();

    // The rows written at push time are the ones a rebuild makes.
    let all = s.all_projections().unwrap();
    assert_eq!(all.len(), s.doc_heads("/").unwrap().len());
    assert_eq!(s.projection_count().unwrap() as usize, all.len());
    assert_eq!(projections::check(s, &cal).unwrap(), Vec::<Uuid>::new());
    let mut changed = all.clone();
    changed[0].row.title.push('!');
    changed.pop();
    s.replace_projections(IdRange::ALL, &changed).unwrap();
    assert_eq!(
        projections::check(s, &cal).unwrap(),
        vec![all[0].row.id, all[all.len() - 1].row.id]
    );
    assert_eq!(projections::rebuild(s, &cal).unwrap().rows, all.len());
    assert_eq!(s.all_projections().unwrap(), all);

    // A check and a rebuild walk the documents a page at a time, whatever
    // the page: a row changed in a middle page, one missing at a page's
    // end, one dropped from the last page, and rows read back by range.
    assert!(all.len() > 3 * 7, "several pages of 7");
    let mut changed = all.clone();
    changed[9].row.subtitle.push('!');
    changed.remove(13);
    changed.pop();
    s.replace_projections(IdRange::ALL, &changed).unwrap();
    let wrong = vec![all[9].row.id, all[13].row.id, all[all.len() - 1].row.id];
    for page in [1, 7, 13, all.len() - 1, all.len(), all.len() + 1] {
        assert_eq!(
            projections::check_paged(s, &cal, page).unwrap(),
            wrong,
            "pages of {page}"
        );
    }
    let range = IdRange {
        after: Some(all[6].row.id),
        through: Some(all[13].row.id),
    };
    assert_eq!(s.projection_range(range).unwrap(), changed[7..13]);
    assert_eq!(
        projections::rebuild_paged(s, &cal, 7).unwrap().rows,
        all.len()
    );
    assert_eq!(s.all_projections().unwrap(), all);
    // Rows put by id replace only theirs.
    let mut one = all[5].clone();
    one.row.title.push('!');
    s.put_projections(std::slice::from_ref(&one)).unwrap();
    assert_eq!(projections::check(s, &cal).unwrap(), vec![one.row.id]);
    s.put_projections(&all[5..6]).unwrap();
    assert_eq!(s.all_projections().unwrap(), all);

    // Every row keeps its record as the ledgers read it: the record its
    // document holds, read by id in the order asked, an unknown id left
    // out.
    let ids: Vec<Uuid> = all
        .iter()
        .rev()
        .map(|r| r.row.id)
        .chain([Uuid::now_v7()])
        .collect();
    let kept = s.ledger_records(&ids).unwrap();
    assert_eq!(kept.len(), all.len());
    for ((id, json), asked) in kept.iter().zip(&ids) {
        assert_eq!(id, asked);
        let doc = s.load_doc(*id).unwrap().unwrap();
        assert_eq!(
            projections::ledger_record(json).unwrap(),
            crate::storage::read_snapshot(&doc.snapshot).unwrap()
        );
    }
    // A row that lost its record, or holds another, is found by the check
    // and given its own again by a rebuild.
    let mut changed = all.clone();
    changed[1].row.ledger = None;
    changed[2].row.ledger.clone_from(&all[3].row.ledger);
    s.replace_projections(IdRange::ALL, &changed).unwrap();
    assert!(s.ledger_records(&[all[1].row.id]).unwrap().is_empty());
    assert_eq!(
        projections::check(s, &cal).unwrap(),
        vec![all[1].row.id, all[2].row.id]
    );
    projections::rebuild(s, &cal).unwrap();
    assert_eq!(s.all_projections().unwrap(), all);

    // The day of the latest open incident's deadline: it is due soon, and
    // the open incidents with earlier deadlines are overdue.
    let open = DeadlineWindow::on("2026-01-01".parse().unwrap(), &cal).open;
    let mut deadlines: Vec<String> = all
        .iter()
        .filter(|r| open.contains(&r.row.status))
        .filter_map(|r| r.row.incident.as_ref()?.deadline.clone())
        .collect();
    deadlines.sort();
    assert!(deadlines.len() > 1 && deadlines[0] < deadlines[deadlines.len() - 1]);
    let today: jiff::civil::Date = deadlines[deadlines.len() - 1].parse().unwrap();
    let root = s.all_grids().unwrap()[0].code.clone();
    let base = ListFilter {
        scope_path: path_of(s, &root),
        kinds: RecordKind::ALL.to_vec(),
        live: false,
        statuses: None,
        dispatched_to: None,
        from_lost_device: false,
        window: DeadlineWindow::on(today, &cal),
        figure: None,
        at_ms: 0,
    };
    let everything = listed(s, &all, &base);
    assert_eq!(everything.len(), all.len());
    assert!(everything.iter().any(|r| r.1), "none overdue");
    assert!(everything.iter().any(|r| r.2), "none due soon");

    // Scope: one grid's subtree.
    let grid = &all[all.len() / 2].row.grid;
    let scoped = listed(
        s,
        &all,
        &ListFilter {
            scope_path: path_of(s, grid),
            ..base.clone()
        },
    );
    assert!(!scoped.is_empty());
    assert!(scoped.len() < all.len());
    // Kind, live.
    let incidents = ListFilter {
        kinds: vec![RecordKind::Incident],
        ..base.clone()
    };
    assert!(!listed(s, &all, &incidents).is_empty());
    assert!(
        !listed(
            s,
            &all,
            &ListFilter {
                live: true,
                ..base.clone()
            }
        )
        .is_empty()
    );
    // Status, and no status at all.
    let an_incident = all.iter().find(|r| r.row.incident.is_some()).unwrap();
    let statuses = ListFilter {
        statuses: Some(vec![
            (RecordKind::Incident, an_incident.row.status.clone()),
            (RecordKind::Household, "pending".into()),
        ]),
        ..base.clone()
    };
    let by_status = listed(s, &all, &statuses);
    assert!(!by_status.is_empty() && by_status.len() < all.len());
    assert!(
        listed(
            s,
            &all,
            &ListFilter {
                statuses: Some(Vec::new()),
                ..base.clone()
            }
        )
        .is_empty()
    );
    // Dispatched to a person, and to a department by id or name.
    let assignees: Vec<(String, String, String)> = all
        .iter()
        .filter_map(|r| r.row.incident.as_ref()?.assignee.clone())
        .collect();
    let mut dispatched = 0;
    for (kind, id, name) in &assignees {
        let to = if kind == "person" {
            Dispatchee {
                user_id: id.clone(),
                department: String::new(),
            }
        } else {
            Dispatchee {
                user_id: "nobody".into(),
                department: name.clone(),
            }
        };
        dispatched += listed(
            s,
            &all,
            &ListFilter {
                dispatched_to: Some(to),
                ..incidents.clone()
            },
        )
        .len();
    }
    assert!(dispatched > 0, "no incident is dispatched in the demo");
    assert!(
        listed(
            s,
            &all,
            &ListFilter {
                dispatched_to: Some(Dispatchee {
                    user_id: "nobody".into(),
                    department: String::new()
                }),
                ..incidents.clone()
            }
        )
        .is_empty()
    );
    // Paging: a page is the slice of the whole list, with its total.
    let page = s.list_projections(&base, 5, Some(7)).unwrap();
    assert_eq!(page.total as usize, all.len());
    let ids: Vec<Uuid> = page.rows.iter().map(|r| r.projection.row.id).collect();
    let whole: Vec<Uuid> = everything.iter().map(|r| r.0).collect();
    assert_eq!(ids, whole[5..12]);
    assert!(
        s.list_projections(&base, all.len() as u64, Some(7))
            .unwrap()
            .rows
            .is_empty()
    );
    // projections_in: the subtree's rows of the kinds, in list order.
    let inc: Vec<Uuid> = s
        .projections_in(&path_of(s, grid), &[RecordKind::Incident])
        .unwrap()
        .iter()
        .map(|r| r.row.id)
        .collect();
    let want: Vec<Uuid> = listed(
        s,
        &all,
        &ListFilter {
            scope_path: path_of(s, grid),
            ..incidents.clone()
        },
    )
    .iter()
    .map(|r| r.0)
    .collect();
    assert_eq!(inc, want);
}

fn the_lost_device_filter_holds_what_a_device_changed_after_it_was_lost(b: &Backend) {
    let s = b.storage.as_ref();
    let leaves = grids(s);
    let g = leaves[0].code.clone();
    let root = path_of(s, &g);
    s.add_user(&account("u1", &g)).unwrap();
    s.enrol_device(&device("d1", "u1", &g)).unwrap();
    s.enrol_device(&device("d2", "u1", &g)).unwrap();
    let (before, after, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let push = |device: &str, id: Uuid, salt: u8, at: i64| {
        let mut p = new_doc(device, &g, id, 1, salt);
        p.received_at = at;
        assert_eq!(s.commit_push(&p).unwrap(), CommitOutcome::Committed);
    };
    push("d1", before, 1, 5_000);
    assert!(s.mark_device_lost("d1", 6_000).unwrap());
    push("d1", after, 2, 7_000);
    push("d2", other, 3, 8_000);
    let cal = WorkCalendar::bundled();
    let all = s.all_projections().unwrap();
    assert_eq!(all.len(), 3);
    let filter = ListFilter {
        scope_path: root,
        kinds: RecordKind::ALL.to_vec(),
        live: true,
        statuses: None,
        dispatched_to: None,
        from_lost_device: true,
        window: DeadlineWindow::on("2026-12-05".parse().unwrap(), &cal),
        figure: None,
        at_ms: 0,
    };
    let got: Vec<Uuid> = listed(s, &all, &filter).iter().map(|r| r.0).collect();
    assert_eq!(got, vec![after]);
    let got = listed(
        s,
        &all,
        &ListFilter {
            from_lost_device: false,
            ..filter
        },
    );
    assert_eq!(got.len(), 3);
}

/// The dashboard as the server computed it from decoded documents before
/// it was SQL (`console::dashboard`'s definitions, record by record), kept
/// here as what the SQL is held to.
mod decoded {
    use std::collections::{BTreeMap, HashMap};

    use gridwork_core::geo::{CoveredCells, boundary_of, covered_cells, patrol_metrics};
    use gridwork_core::model::{AnyRecord, RecordKind, VisitTargetKind};
    use gridwork_core::workflow::{Level, Satisfaction, Status};
    use uuid::Uuid;

    use crate::console::dashboard::{Dashboard, GridFigures, Share, WorkerPatrol};
    use crate::grids::Grid;
    use crate::index::{Entry, Flags};

    const DAY_MS: i64 = 86_400_000;

    /// Households with a cycle, and whether visited within it. Only
    /// residents and visits filed in the household's grid count.
    pub fn cycles(entries: &[(Entry, Flags)], at_ms: i64) -> HashMap<Uuid, bool> {
        let live = || {
            entries
                .iter()
                .map(|(e, _)| e)
                .filter(|e| !e.summary.deleted)
        };
        let grid_of: HashMap<Uuid, &str> = live()
            .filter(|e| e.summary.kind == RecordKind::Household)
            .map(|e| (e.summary.id, e.summary.grid.as_str()))
            .collect();
        let in_grid = |h: Uuid, e: &Entry| grid_of.get(&h) == Some(&e.summary.grid.as_str());
        let mut cycle: HashMap<Uuid, u32> = HashMap::new();
        let mut household_of: HashMap<Uuid, Uuid> = HashMap::new();
        for e in live() {
            if let AnyRecord::Resident(r) = &e.record
                && let Some(h) = r.household_id
                && in_grid(h, e)
            {
                household_of.insert(r.meta.id, h);
                if let Some(days) = r.care_tags.iter().map(|t| t.visit_cycle_days).min() {
                    let c = cycle.entry(h).or_insert(days);
                    *c = (*c).min(days);
                }
            }
        }
        let mut last: HashMap<Uuid, i64> = HashMap::new();
        let mut seen = |h: Uuid, t: i64| {
            let l = last.entry(h).or_insert(t);
            *l = (*l).max(t);
        };
        for e in live() {
            match &e.record {
                AnyRecord::Household(h) => {
                    if let Some(t) = h.last_visit_at {
                        seen(h.meta.id, t);
                    }
                }
                AnyRecord::Visit(v) => {
                    let h = match v.target.kind {
                        VisitTargetKind::Household => Some(v.target.id),
                        VisitTargetKind::Resident => household_of.get(&v.target.id).copied(),
                        VisitTargetKind::Incident => None,
                    };
                    if let Some(h) = h.filter(|h| in_grid(*h, e)) {
                        seen(h, v.visited_at);
                    }
                }
                _ => {}
            }
        }
        cycle
            .into_iter()
            .map(|(h, days)| {
                let within = last
                    .get(&h)
                    .is_some_and(|t| *t <= at_ms && at_ms - *t <= i64::from(days) * DAY_MS);
                (h, within)
            })
            .collect()
    }

    fn counted(e: &Entry) -> bool {
        !e.summary.deleted
            && matches!(e.record, AnyRecord::Incident(_))
            && e.derived
                .as_ref()
                .is_some_and(|d| d.status != Status::Draft)
    }

    fn resolved(e: &Entry) -> bool {
        counted(e)
            && e.derived.as_ref().is_some_and(|d| {
                matches!(
                    d.status,
                    Status::Resolved | Status::Verified | Status::FeedbackGiven | Status::Closed
                )
            })
    }

    fn satisfied(f: Option<Satisfaction>) -> bool {
        matches!(
            f,
            Some(Satisfaction::Satisfied | Satisfaction::VerySatisfied)
        )
    }

    /// Whether a record belongs to a figure's drill-down.
    pub fn picks(figure: &str, e: &Entry, flags: Flags, cycles: &HashMap<Uuid, bool>) -> bool {
        let d = e.derived.as_ref();
        let level = |ok: &[Level]| resolved(e) && d.is_some_and(|d| ok.contains(&d.level));
        match figure {
            "incidents" => counted(e),
            "resolved" => resolved(e),
            "on_the_spot" => resolved(e) && d.is_some_and(|d| d.resolved_on_spot),
            "within_village" => level(&[Level::Grid]),
            "within_town" => level(&[Level::Grid, Level::Street]),
            "overdue" => counted(e) && flags.overdue,
            "due_soon" => counted(e) && flags.due_soon,
            "with_feedback" => counted(e) && d.is_some_and(|d| d.feedback.is_some()),
            "satisfied" => counted(e) && d.is_some_and(|d| satisfied(d.feedback)),
            "dissatisfied" => {
                counted(e) && d.is_some_and(|d| d.feedback == Some(Satisfaction::Dissatisfied))
            }
            "with_cycle" => cycles.contains_key(&e.summary.id),
            "visited_in_cycle" => cycles.get(&e.summary.id) == Some(&true),
            "not_visited_in_cycle" => cycles.get(&e.summary.id) == Some(&false),
            other => match other.split_once(':') {
                Some(("status", s)) => counted(e) && e.summary.status == s,
                Some(("category", c)) => {
                    counted(e) && e.summary.incident.as_ref().is_some_and(|i| i.category == c)
                }
                Some(("grid", g)) => counted(e) && e.summary.grid == g,
                Some(("worker", w)) => {
                    matches!(&e.record, AnyRecord::Patrol(p) if !p.meta.deleted && p.worker == w)
                }
                _ => false,
            },
        }
    }

    fn median(mut v: Vec<i64>) -> Option<i64> {
        v.sort_unstable();
        let n = v.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(v[n / 2]),
            _ => Some((v[n / 2 - 1] + v[n / 2]) / 2),
        }
    }

    /// The figures of `entries`, and each grid's.
    pub fn compute(
        entries: &[(Entry, Flags)],
        grids: &[Grid],
        cycles: &HashMap<Uuid, bool>,
    ) -> (Dashboard, BTreeMap<String, GridFigures>) {
        let count = |figure: &str| {
            entries
                .iter()
                .filter(|(e, f)| picks(figure, e, *f, cycles))
                .count()
        };
        let mut by_status = BTreeMap::new();
        let mut by_category = BTreeMap::new();
        let mut by_grid = BTreeMap::new();
        let (mut accept, mut close) = (Vec::new(), Vec::new());
        for (e, _) in entries.iter().filter(|(e, _)| counted(e)) {
            *by_status.entry(e.summary.status.clone()).or_insert(0) += 1;
            if let Some(i) = &e.summary.incident {
                *by_category.entry(i.category.clone()).or_insert(0) += 1;
            }
            *by_grid.entry(e.summary.grid.clone()).or_insert(0) += 1;
            let d = e.derived.as_ref().unwrap();
            if let (Some(r), Some(a)) = (d.reported_at, d.accepted_at) {
                accept.push(a - r);
            }
            if let (Some(r), Some(c), Status::Closed) = (d.reported_at, d.closed_at, d.status) {
                close.push(c - r);
            }
        }
        let incidents = count("incidents");
        let resolved_n = count("resolved");
        // Patrols: hours, and coverage as the union of each track's cells
        // (a track alone is patrol_metrics' coverage).
        let mut by: BTreeMap<(String, String), (usize, i64, Vec<&[_]>)> = BTreeMap::new();
        for (e, _) in entries {
            if let AnyRecord::Patrol(p) = &e.record
                && !p.meta.deleted
            {
                let slot = by
                    .entry((p.worker.clone(), p.meta.grid.clone()))
                    .or_default();
                slot.0 += 1;
                if let Some(end) = p.ended_at {
                    slot.1 += (end - p.started_at).max(0);
                }
                slot.2.push(&p.track[..]);
            }
        }
        let patrols = by
            .into_iter()
            .map(|((worker, grid), (n, ms, tracks))| {
                let coverage = grids
                    .iter()
                    .find(|g| g.code == grid)
                    .and_then(boundary_of)
                    .map(|b| {
                        let mut union = CoveredCells {
                            cells_total: covered_cells(&[], &b).cells_total,
                            visited: Vec::new(),
                        };
                        for t in &tracks {
                            union.add(&covered_cells(t, &b).visited);
                        }
                        if let [alone] = &tracks[..] {
                            assert_eq!(union.share(), patrol_metrics(alone, &b).coverage_share);
                        }
                        union.share()
                    });
                WorkerPatrol {
                    worker,
                    grid,
                    patrols: n,
                    hours: ms as f64 / 3_600_000.0,
                    coverage,
                }
            })
            .collect();
        let dashboard = Dashboard {
            incidents,
            by_status,
            by_category,
            by_grid,
            resolved: Share::new(resolved_n, incidents),
            on_the_spot: Share::new(count("on_the_spot"), resolved_n),
            within_village: Share::new(count("within_village"), resolved_n),
            within_town: Share::new(count("within_town"), resolved_n),
            median_accept_ms: median(accept),
            median_close_ms: median(close),
            overdue: count("overdue"),
            due_soon: count("due_soon"),
            satisfaction: Share::new(count("satisfied"), count("with_feedback")),
            patrols,
            visited_in_cycle: Share::new(cycles.values().filter(|v| **v).count(), cycles.len()),
        };
        let mut raw: BTreeMap<String, [usize; 7]> = BTreeMap::new();
        for (e, f) in entries {
            let hits = [
                "incidents",
                "resolved",
                "overdue",
                "satisfied",
                "with_feedback",
                "visited_in_cycle",
                "with_cycle",
            ]
            .map(|fig| picks(fig, e, *f, cycles));
            if hits.iter().any(|h| *h) {
                let slot = raw.entry(e.summary.grid.clone()).or_default();
                for (n, hit) in slot.iter_mut().zip(hits) {
                    *n += usize::from(hit);
                }
            }
        }
        let per_grid = raw
            .into_iter()
            .map(|(grid, [n, resolved, overdue, sat, fb, vis, cyc])| {
                let f = GridFigures {
                    incidents: n,
                    resolved: Share::new(resolved, n),
                    overdue,
                    satisfaction: Share::new(sat, fb),
                    visited_in_cycle: Share::new(vis, cyc),
                };
                (grid, f)
            })
            .collect();
        (dashboard, per_grid)
    }
}

/// The demo's records in `scope_path`, decoded, with their flags on the
/// window's day; only those `reader` may see.
fn decoded_entries(
    s: &dyn Storage,
    scope_path: &str,
    today: jiff::civil::Date,
    reader: Option<&projections::Dispatchee>,
) -> Vec<(crate::index::Entry, crate::index::Flags)> {
    let cal = WorkCalendar::bundled();
    s.doc_heads(scope_path)
        .unwrap()
        .into_iter()
        .filter_map(|h| {
            let stored = s.load_doc(h.id).unwrap()?;
            let l = crate::index::load(&stored.snapshot, &cal).unwrap();
            let summary = crate::index::Summary::of(&l.record, l.derived.as_ref(), h.updated_at);
            if summary.kind == RecordKind::IncidentParties {
                return None;
            }
            if let Some(d) = reader {
                let user = User {
                    id: d.user_id.clone(),
                    name: String::new(),
                    role: Role::DepartmentHandler,
                    grid: String::new(),
                    department: Some(d.department.clone()),
                    phone: String::new(),
                };
                if !crate::access::listed(&user, &summary) {
                    return None;
                }
            }
            let flags = summary.flags(today, &cal);
            let entry = crate::index::Entry {
                summary,
                record: l.record,
                derived: l.derived,
            };
            Some((entry, flags))
        })
        .collect()
}

/// Each household's visit cycle (`visit_cycles`) follows every write of a
/// household, resident or visit row, in the write's transaction: a cycle
/// that shortens, visits made and deleted, a resident moved to another
/// household, rows filed in another grid, a resident deleted, a rebuild's
/// replace; a refill makes lost rows again. After every step the kept
/// rows are the ones the projection rows make, and the dashboard counts
/// what the step says.
fn visit_cycles_follow_every_write_of_a_household_resident_or_visit(b: &Backend) {
    const DAY_MS: i64 = 86_400_000;
    let s = b.storage.as_ref();
    let grids = grids(s);
    let (g1, g2) = (grids[0].code.as_str(), grids[1].code.as_str());
    let at = 400 * DAY_MS;
    let filter = whole_tree(s, at);
    // The households whose kept row is not the one the rows make.
    let stale = || {
        s.read_rows(&[projections::cycles_check_statement()])
            .unwrap()
            .concat()
    };
    // Per grid: households with a cycle, and those visited within it.
    let counted = |step: &str| -> Vec<(String, u64, u64)> {
        assert_eq!(stale(), Vec::<Vec<projections::Val>>::new(), "{step}");
        let mut got: Vec<_> = projections::dashboard_rows(s, &filter)
            .unwrap()
            .cycles
            .into_iter()
            .map(|c| (c.grid, c.with_cycle, c.visited))
            .collect();
        got.sort();
        got
    };
    let row = |id: Uuid, kind, grid: &str, parent: Option<Uuid>| ProjectionRow {
        kind,
        parent_id: parent,
        ..bare_row(id, grid)
    };
    let put = |row: &ProjectionRow| {
        s.put_projections(&[StoredProjection {
            row: row.clone(),
            updated_at: 1,
        }])
        .unwrap();
    };
    let in_g1 = |n, visited| vec![(g1.to_string(), n, visited)];
    let ids = [(); 8].map(|_| Uuid::now_v7());
    // Their documents (opaque: the rows below say what they are).
    for (n, id) in ids.iter().enumerate() {
        s.commit_push(&new_doc("d1", g1, *id, 0, n as u8)).unwrap();
    }
    let [h, h2, r, r2, r3, v1, v2, v3] = ids;
    use RecordKind::{Household, Resident, Visit};

    put(&row(h, Household, g1, None));
    assert_eq!(counted("a household alone"), vec![]);
    let mut resident = row(r, Resident, g1, Some(h));
    resident.cycle_days = Some(30);
    put(&resident);
    assert_eq!(counted("a resident with a cycle"), in_g1(1, 0));
    let mut visit = row(v1, Visit, g1, Some(r));
    visit.visit_at = Some(at - 5 * DAY_MS);
    put(&visit);
    assert_eq!(counted("visited 5 days ago"), in_g1(1, 1));
    let mut shorter = row(r2, Resident, g1, Some(h));
    shorter.cycle_days = Some(3);
    put(&shorter);
    assert_eq!(counted("a cycle of 3 days"), in_g1(1, 0));
    let mut direct = row(v2, Visit, g1, Some(h));
    direct.visit_at = Some(at - DAY_MS);
    put(&direct);
    assert_eq!(counted("the household visited yesterday"), in_g1(1, 1));
    direct.deleted = true;
    put(&direct);
    assert_eq!(counted("that visit deleted"), in_g1(1, 0));
    put(&row(h2, Household, g1, None));
    shorter.parent_id = Some(h2);
    put(&shorter);
    assert_eq!(counted("the 3-day resident moved"), in_g1(2, 1));
    // Filed in another grid: neither a cycle nor a visit of the household.
    let mut elsewhere = row(r3, Resident, g2, Some(h2));
    elsewhere.cycle_days = Some(1);
    put(&elsewhere);
    let mut there = row(v3, Visit, g2, Some(h2));
    there.visit_at = Some(at);
    put(&there);
    assert_eq!(counted("rows of another grid"), in_g1(2, 1));
    resident.deleted = true;
    put(&resident);
    assert_eq!(counted("the 30-day resident deleted"), in_g1(1, 0));

    // A rebuild's replace: the 30-day resident back, the 3-day one gone.
    resident.deleted = false;
    let rows: Vec<StoredProjection> = [
        row(h, Household, g1, None),
        row(h2, Household, g1, None),
        resident.clone(),
        elsewhere,
        visit,
        direct,
        there,
    ]
    .into_iter()
    .map(|row| StoredProjection { row, updated_at: 1 })
    .collect();
    s.replace_projections(IdRange::ALL, &rows).unwrap();
    assert_eq!(counted("replaced"), in_g1(1, 1));

    // Rows lost are found by the check and made again by a refill.
    (b.raw)("DELETE FROM visit_cycles").unwrap();
    assert_eq!(
        stale(),
        vec![vec![projections::Val::Bytes(h.as_bytes().to_vec())]]
    );
    s.refill_visit_cycles().unwrap();
    assert_eq!(counted("refilled"), in_g1(1, 1));
}

/// The dashboard reads an incident's and a patrol's own row alone, through
/// its copies of the record's grid, status, category and deleted flag:
/// each write keeps them, the check finds a copy that drifted, and a
/// rebuild mends it.
fn incident_and_patrol_rows_carry_their_records_columns_through_every_write(b: &Backend) {
    let s = b.storage.as_ref();
    let grids = grids(s);
    let (g1, g2) = (grids[0].code.as_str(), grids[1].code.as_str());
    let filter = whole_tree(s, 0);
    let drifted = || {
        s.read_rows(&[projections::copies_check_statement()])
            .unwrap()
            .concat()
    };
    // (grid, status, category, incidents, resolved) per group, and
    // (worker, grid, patrols) per group, as the dashboard reads them.
    type Figures = (
        Vec<(String, String, String, u64, u64)>,
        Vec<(String, String, u64)>,
    );
    let read = |step: &str| -> Figures {
        assert_eq!(drifted(), Vec::<Vec<projections::Val>>::new(), "{step}");
        let rows = projections::dashboard_rows(s, &filter).unwrap();
        let mut incidents: Vec<_> = rows
            .incidents
            .into_iter()
            .map(|g| {
                let resolved = g.count(&projections::Figure::Resolved);
                (g.grid, g.status, g.category, g.incidents, resolved)
            })
            .collect();
        incidents.sort();
        let mut patrols: Vec<_> = rows
            .patrols
            .into_iter()
            .map(|p| (p.worker, p.grid, p.patrols))
            .collect();
        patrols.sort();
        (incidents, patrols)
    };
    let put = |row: &ProjectionRow| {
        s.put_projections(&[StoredProjection {
            row: row.clone(),
            updated_at: 1,
        }])
        .unwrap();
    };
    let (incident_id, patrol_id) = (Uuid::now_v7(), Uuid::now_v7());
    for (n, id) in [incident_id, patrol_id].iter().enumerate() {
        s.commit_push(&new_doc("d1", g1, *id, 0, n as u8)).unwrap();
    }
    let mut incident = ProjectionRow {
        kind: RecordKind::Incident,
        status: "reported".into(),
        category: Some("环境卫生".into()),
        incident: Some(projections::IncidentRow {
            number: "SJ-1".into(),
            level: "grid".into(),
            assignee: None,
            deadline: None,
            escalations: 0,
            resolved_on_spot: false,
            feedback: None,
            reported_at: Some(1),
            accepted_at: None,
            resolved_at: None,
            closed_at: None,
        }),
        ..bare_row(incident_id, g1)
    };
    let mut patrol = ProjectionRow {
        kind: RecordKind::Patrol,
        status: String::new(),
        patrol: Some(projections::PatrolRow {
            worker: "u1".into(),
            started_at: 1,
            ended_at: Some(2),
            cells: None,
        }),
        ..bare_row(patrol_id, g1)
    };
    let group = |grid: &str, status: &str, category: &str, resolved| {
        vec![(grid.into(), status.into(), category.into(), 1, resolved)]
    };
    let walked = |grid: &str| vec![("u1".to_string(), grid.to_string(), 1)];

    put(&incident);
    put(&patrol);
    assert_eq!(
        read("stored"),
        (group(g1, "reported", "环境卫生", 0), walked(g1))
    );
    incident.status = "resolved".into();
    incident.category = None;
    put(&incident);
    assert_eq!(read("resolved"), (group(g1, "resolved", "", 1), walked(g1)));
    incident.grid = g2.into();
    patrol.grid = g2.into();
    put(&incident);
    put(&patrol);
    assert_eq!(read("moved"), (group(g2, "resolved", "", 1), walked(g2)));
    incident.deleted = true;
    patrol.deleted = true;
    put(&incident);
    put(&patrol);
    assert_eq!(read("deleted"), (vec![], vec![]));

    // A copy changed behind the server's back is found, and a rebuild's
    // replace writes it again.
    incident.deleted = false;
    put(&incident);
    (b.raw)("UPDATE incident_projections SET status = 'closed'").unwrap();
    (b.raw)("UPDATE patrol_projections SET grid = 'elsewhere'").unwrap();
    let mut found = drifted();
    found.sort_by_key(|r| format!("{r:?}"));
    let mut both: Vec<_> = [incident_id, patrol_id]
        .map(|id| vec![projections::Val::Bytes(id.as_bytes().to_vec())])
        .into();
    both.sort_by_key(|r| format!("{r:?}"));
    assert_eq!(found, both);
    let rows: Vec<StoredProjection> = [incident, patrol]
        .into_iter()
        .map(|row| StoredProjection { row, updated_at: 1 })
        .collect();
    s.replace_projections(IdRange::ALL, &rows).unwrap();
    assert_eq!(read("replaced"), (group(g2, "resolved", "", 1), vec![]));
}

fn the_dashboard_in_sql_is_the_dashboard_of_the_documents(b: &Backend) {
    use crate::console::dashboard::{self, FIGURES};
    let s = b.storage.as_ref();
    let config = gridwork_demo::DemoConfig::with_total_records(5, 1_200);
    let demo = gridwork_demo::generate(&config);
    crate::admin::load_demo(s, &demo, "demo-password-1").unwrap();
    let cal = WorkCalendar::bundled();
    let today = config.today();
    let at = config.now_ms;
    let root = s.all_grids().unwrap()[0].clone();
    let community = s
        .all_grids()
        .unwrap()
        .into_iter()
        .find(|g| g.level == crate::grids::GridLevel::Community)
        .unwrap();
    let department = demo
        .incidents
        .iter()
        .find_map(|i| {
            let d = gridwork_core::workflow::derive(i, &cal);
            let a = d.assignee?;
            (a.kind == gridwork_core::workflow::AssigneeKind::Department).then_some(a.name)
        })
        .unwrap();
    let handler = projections::Dispatchee {
        user_id: "nobody".into(),
        department,
    };
    for (scope, reader) in [
        (path_of(s, &root.code), None),
        (path_of(s, &community.code), None),
        (path_of(s, &root.code), Some(handler)),
    ] {
        let filter = ListFilter {
            scope_path: scope.clone(),
            kinds: RecordKind::ALL
                .into_iter()
                .filter(|k| crate::access::listable(*k))
                .collect(),
            live: true,
            statuses: None,
            dispatched_to: reader.clone(),
            from_lost_device: false,
            window: DeadlineWindow::on(today, &cal),
            figure: None,
            at_ms: at,
        };
        let grids = s.subtree(&scope).unwrap();
        let rows = projections::dashboard_rows(s, &filter).unwrap();
        let (sql, sql_grids) = dashboard::compute(&rows, &grids, s).unwrap();
        let entries = decoded_entries(s, &scope, today, reader.as_ref());
        let cycles = decoded::cycles(&entries, at);
        let (want, want_grids) = decoded::compute(&entries, &grids, &cycles);
        assert_eq!(sql, want, "{scope} {reader:?}");
        assert_eq!(sql_grids, want_grids, "{scope} {reader:?}");
        if reader.is_none() {
            assert!(want.incidents > 20 && want.resolved.count > 0 && want.overdue > 0);
            assert!(want.satisfaction.of > 0 && want.visited_in_cycle.count > 0);
            assert!(want.visited_in_cycle.count < want.visited_in_cycle.of);
            assert!(want.patrols.iter().any(|p| p.coverage > Some(0.0)));
            assert!(want.median_accept_ms.is_some() && want.median_close_ms.is_some());
        } else {
            assert!(want.incidents > 0 && want.patrols.is_empty());
            assert_eq!(want.visited_in_cycle.of, 0);
        }

        // Every figure's drill-down lists exactly the records it counts.
        let mut figures: Vec<(String, RecordKind)> = FIGURES
            .iter()
            .map(|(f, list)| {
                let kind = if *list == "households" {
                    RecordKind::Household
                } else {
                    RecordKind::Incident
                };
                (f.to_string(), kind)
            })
            .collect();
        figures.push(("dissatisfied".into(), RecordKind::Incident));
        for f in ["with_cycle", "not_visited_in_cycle"] {
            figures.push((f.into(), RecordKind::Household));
        }
        for k in want.by_status.keys() {
            figures.push((format!("status:{k}"), RecordKind::Incident));
        }
        for k in want.by_category.keys() {
            figures.push((format!("category:{k}"), RecordKind::Incident));
        }
        for k in want.by_grid.keys() {
            figures.push((format!("grid:{k}"), RecordKind::Incident));
        }
        for p in &want.patrols {
            figures.push((format!("worker:{}", p.worker), RecordKind::Patrol));
        }
        for (figure, kind) in figures {
            let list = ListFilter {
                kinds: vec![kind],
                figure: Some(projections::Figure::parse(&figure).unwrap()),
                ..filter.clone()
            };
            let got: BTreeSet<Uuid> = s
                .list_projections(&list, 0, None)
                .unwrap()
                .rows
                .iter()
                .map(|r| r.projection.row.id)
                .collect();
            let picked: BTreeSet<Uuid> = entries
                .iter()
                .filter(|(e, f)| e.summary.kind == kind && decoded::picks(&figure, e, *f, &cycles))
                .map(|(e, _)| e.summary.id)
                .collect();
            assert_eq!(got, picked, "drill-down of {figure} in {scope} {reader:?}");
        }
    }

    // Rows rebuilt from the documents are the rows kept at push time,
    // patrol cells and visit facts included.
    assert_eq!(projections::check(s, &cal).unwrap(), Vec::<Uuid>::new());
    let stored = s.all_projections().unwrap();
    assert!(
        stored
            .iter()
            .any(|r| r.row.patrol.as_ref().is_some_and(|p| p.cells.is_some()))
    );
    assert!(stored.iter().any(|r| r.row.cycle_days.is_some()));
    assert!(stored.iter().any(|r| r.row.visit_at.is_some()));
}
