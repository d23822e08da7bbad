//! The store against real SQLite files in temporary directories.

use std::collections::BTreeMap;
use std::path::Path;

use automerge::ActorId;
use uuid::Uuid;

use super::*;
use crate::model::{
    Address, Category, CategoryMajor, Gender, Household, HouseholdUse, IdType, Incident,
    IncidentSource, Meta, PopulationType, Relation, Resident, Role, Urgency,
};
use crate::workflow::{Action, Actor, Assignee, AssigneeKind};

const GRID: &str = "440305001001";
const OTHER_GRID: &str = "440305001002";
const FAR_GRID: &str = "440305002001";

fn actor(n: u8) -> ActorId {
    ActorId::from(&[n; 16][..])
}

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 11, 22)
}

fn author(at: i64) -> Author {
    Author::new("wangfang", 1_795_000_000_000 + at)
}

fn open(dir: &Path, n: u8) -> Store {
    Store::open(dir.join(format!("store-{n}.db")), actor(n)).unwrap()
}

fn household(grid: &str, estate: &str, building: &str, room: &str, created_at: i64) -> Household {
    Household {
        meta: Meta::new(grid, "wangfang", created_at),
        address: Address {
            estate: estate.into(),
            building: building.into(),
            room: room.into(),
            ..Address::default()
        },
        point: None,
        usage: HouseholdUse::OwnerOccupied,
        owner_name: "张三丰".into(),
        owner_phone: None,
        owner_id_number: None,
        door_plate_photo: None,
        flags: Default::default(),
        last_visit_at: None,
        review: Vec::new(),
    }
}

pub(super) fn incident(grid: &str, title: &str, description: &str, created_at: i64) -> Incident {
    Incident {
        meta: Meta::new(grid, "wangfang", created_at),
        number: format!("SJ20261122-3F9A-{created_at:04}"),
        title: title.into(),
        description: description.into(),
        category: Category {
            major: CategoryMajor::SafetyHazard,
            minor: "管道".into(),
        },
        source: IncidentSource::Patrol,
        urgency: Urgency::Medium,
        point: None,
        address: "阳光花园3栋".into(),
        happened_at: created_at,
        photos: Vec::new(),
        hotline_order: None,
        patrol_id: None,
        mediation: None,
        log: Vec::new(),
    }
}

fn resident(household_id: Uuid, name: &str, created_at: i64) -> Resident {
    Resident {
        meta: Meta::new(GRID, "wangfang", created_at),
        household_id: Some(household_id),
        relation: Relation::Head,
        name: name.into(),
        gender: Gender::Unknown,
        birth_date: None,
        id_type: IdType::Passport,
        id_number: None,
        phone: None,
        ethnicity: String::new(),
        education: None,
        registered_residence: "湖南长沙".into(),
        population_type: PopulationType::Floating,
        emergency_contact: Default::default(),
        care_tags: Vec::new(),
        next_visit_due: Some("2026-12-01".into()),
        review: Vec::new(),
    }
}

fn ids(rows: &[Projection]) -> Vec<Uuid> {
    rows.iter().map(|p| p.id).collect()
}

fn search_ids(store: &Store, text: &str) -> Vec<Uuid> {
    ids(&store.search(text, &ListQuery::default()).unwrap())
}

fn count(store: &Store, table: &str) -> i64 {
    store
        .conn
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn insert_get_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let h = household(GRID, "阳光花园", "3", "501", 1);
    let id = h.meta.id;
    {
        let mut store = open(dir.path(), 1);
        let saved = store.insert(h.clone(), &author(1), today()).unwrap();
        assert_eq!(saved, h);
        assert!(matches!(
            store.insert(h.clone(), &author(2), today()),
            Err(StoreError::AlreadyExists(_))
        ));
    }
    let store = open(dir.path(), 1);
    assert_eq!(store.get::<Household>(id).unwrap(), Some(h.clone()));
    assert_eq!(store.get::<Household>(Uuid::now_v7()).unwrap(), None);
    assert!(matches!(
        store.get::<Incident>(id),
        Err(StoreError::Doc(DocError::WrongKind { .. }))
    ));
    let rows = store.list(&ListQuery::default()).unwrap();
    assert_eq!(rows, vec![h.projection()]);
    assert_eq!(store.pending_count().unwrap(), 1);
    assert_eq!(store.check_integrity().unwrap(), Vec::<String>::new());
}

#[test]
fn update_writes_the_edit_and_refreshes_projection_and_search() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 1);
    let h = store
        .insert(
            household(GRID, "阳光花园", "3", "501", 1),
            &author(1),
            today(),
        )
        .unwrap();
    let updated = store
        .update::<Household>(h.meta.id, &author(2), today(), |h| {
            h.address.estate = "幸福小区".into();
            h.usage = HouseholdUse::Rented;
        })
        .unwrap();
    assert_eq!(updated.address.estate, "幸福小区");
    assert_eq!(
        store.get::<Household>(h.meta.id).unwrap(),
        Some(updated.clone())
    );
    assert_eq!(search_ids(&store, "幸福小区"), vec![h.meta.id]);
    assert_eq!(search_ids(&store, "幸福"), vec![h.meta.id]);
    assert!(search_ids(&store, "阳光花园").is_empty());
    assert!(search_ids(&store, "阳光").is_empty());
    let rented = ListQuery {
        category: Some("rented".into()),
        ..ListQuery::default()
    };
    assert_eq!(ids(&store.list(&rented).unwrap()), vec![h.meta.id]);
    assert_eq!(store.pending_count().unwrap(), 2);

    // An edit that changes nothing writes nothing.
    store
        .update::<Household>(h.meta.id, &author(3), today(), |_| {})
        .unwrap();
    assert_eq!(store.pending_count().unwrap(), 2);
    assert!(matches!(
        store.update::<Household>(Uuid::now_v7(), &author(3), today(), |_| {}),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn an_invalid_record_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 1);
    let mut bad = incident(GRID, "", "no title", 1);
    bad.address.clear();
    let err = store.insert(bad, &author(1), today()).unwrap_err();
    assert_eq!(err.code(), "invalid");
    let StoreError::Invalid(errors) = &err else {
        panic!("{err}")
    };
    assert!(errors.0.iter().any(|e| e.field == "title"));
    for table in ["documents", "changes", "projections", "outbox"] {
        assert_eq!(count(&store, table), 0, "{table}");
    }

    let ok = store
        .insert(incident(GRID, "漏水", "楼道漏水", 1), &author(1), today())
        .unwrap();
    let err = store
        .update::<Incident>(ok.meta.id, &author(2), today(), |i| i.title.clear())
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    assert_eq!(store.get::<Incident>(ok.meta.id).unwrap(), Some(ok));
    assert_eq!(store.pending_count().unwrap(), 1);
    assert_eq!(count(&store, "changes"), 0);
}

#[test]
fn list_filters_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 1);
    let h1 = store
        .insert(
            household(GRID, "阳光花园", "1", "101", 10),
            &author(1),
            today(),
        )
        .unwrap();
    let h2 = store
        .insert(
            household(OTHER_GRID, "阳光花园", "2", "201", 20),
            &author(2),
            today(),
        )
        .unwrap();
    let h3 = store
        .insert(
            household(FAR_GRID, "石岭村", "", "", 30),
            &author(3),
            today(),
        )
        .unwrap();
    let r1 = store
        .insert(resident(h1.meta.id, "李四", 40), &author(4), today())
        .unwrap();
    let i1 = store
        .insert(incident(GRID, "楼道漏水", "", 50), &author(5), today())
        .unwrap();

    let all = store.list(&ListQuery::default()).unwrap();
    assert_eq!(
        ids(&all),
        vec![i1.meta.id, r1.meta.id, h3.meta.id, h2.meta.id, h1.meta.id],
        "newest first"
    );
    let list = |q: ListQuery| ids(&store.list(&q).unwrap());
    assert_eq!(
        list(ListQuery {
            kind: Some(RecordKind::Household),
            ..ListQuery::default()
        }),
        vec![h3.meta.id, h2.meta.id, h1.meta.id]
    );
    assert_eq!(
        list(ListQuery {
            kind: Some(RecordKind::Household),
            grids: GridFilter::In(vec![GRID.into(), FAR_GRID.into()]),
            ..ListQuery::default()
        }),
        vec![h3.meta.id, h1.meta.id]
    );
    assert_eq!(
        list(ListQuery {
            kind: Some(RecordKind::Household),
            grids: GridFilter::Prefix("440305001".into()),
            ..ListQuery::default()
        }),
        vec![h2.meta.id, h1.meta.id]
    );
    assert_eq!(
        list(ListQuery {
            parent_id: Some(h1.meta.id),
            ..ListQuery::default()
        }),
        vec![r1.meta.id]
    );
    assert_eq!(
        list(ListQuery {
            kind: Some(RecordKind::Incident),
            status: vec!["draft".into(), "reported".into()],
            category: Some("safety_hazard".into()),
            ..ListQuery::default()
        }),
        vec![i1.meta.id]
    );
    assert!(
        list(ListQuery {
            status: vec!["closed".into()],
            ..ListQuery::default()
        })
        .is_empty()
    );
    assert_eq!(
        list(ListQuery {
            due_before: Some(jiff::civil::date(2026, 12, 2)),
            ..ListQuery::default()
        }),
        vec![r1.meta.id]
    );
    assert!(
        list(ListQuery {
            due_before: Some(jiff::civil::date(2026, 12, 1)),
            ..ListQuery::default()
        })
        .is_empty()
    );
    assert_eq!(
        list(ListQuery {
            limit: Some(2),
            offset: 1,
            ..ListQuery::default()
        }),
        vec![r1.meta.id, h3.meta.id]
    );
}

#[test]
fn search_finds_chinese_terms_of_any_length() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 1);
    let leak = store
        .insert(
            incident(GRID, "楼道漏水", "3栋2单元楼道水管破裂，漏水严重", 1),
            &author(1),
            today(),
        )
        .unwrap()
        .meta
        .id;
    let mut noisy = incident(GRID, "噪音扰民", "KTV 夜间噪音, Room 12", 2);
    noisy.address = "文化广场".into();
    let noise = store.insert(noisy, &author(2), today()).unwrap().meta.id;
    let home = store
        .insert(
            household(GRID, "幸福小区", "8", "302", 3),
            &author(3),
            today(),
        )
        .unwrap()
        .meta
        .id;

    // Both plans: starting from the hits, and walking the list order.
    for few_hits in [FEW_HITS, 0] {
        store.few_hits = few_hits;
        // Three characters or more: the trigram table.
        assert_eq!(search_ids(&store, "水管破裂"), vec![leak]);
        assert_eq!(search_ids(&store, "幸福小区8栋"), vec![home]);
        // Two characters: the bigram table.
        assert_eq!(search_ids(&store, "漏水"), vec![leak]);
        assert_eq!(search_ids(&store, "噪音"), vec![noise]);
        assert_eq!(search_ids(&store, "破裂"), vec![leak]);
        // One character: a prefix query, also when it ends a run.
        assert_eq!(search_ids(&store, "漏"), vec![leak]);
        assert_eq!(search_ids(&store, "重"), vec![leak]);
        assert_eq!(search_ids(&store, "福"), vec![home]);
        // Mixed with digits and Latin, any case, full-width forms folded.
        assert_eq!(search_ids(&store, "3栋"), vec![leak]);
        assert_eq!(search_ids(&store, "2单元"), vec![leak]);
        assert_eq!(search_ids(&store, "ktv"), vec![noise]);
        assert_eq!(search_ids(&store, "ＫＴＶ"), vec![noise]);
        assert_eq!(search_ids(&store, "room"), vec![noise]);
        assert_eq!(search_ids(&store, "room 12"), vec![noise]);
        // Several terms: all must match.
        assert_eq!(search_ids(&store, "漏水 3栋"), vec![leak]);
        assert_eq!(search_ids(&store, "漏水　严重"), vec![leak]);
        assert!(search_ids(&store, "漏水 噪音").is_empty());
        assert!(search_ids(&store, "火灾").is_empty());
        // Combined with filters.
        let households = ListQuery {
            kind: Some(RecordKind::Household),
            ..ListQuery::default()
        };
        assert_eq!(ids(&store.search("福", &households).unwrap()), vec![home]);
        assert!(store.search("漏水", &households).unwrap().is_empty());
        // Newest first, paged.
        assert_eq!(search_ids(&store, "栋"), vec![home, leak]);
        let second = ListQuery {
            limit: Some(1),
            offset: 1,
            ..ListQuery::default()
        };
        assert_eq!(ids(&store.search("栋", &second).unwrap()), vec![leak]);
    }
    // Empty or punctuation-only text lists everything.
    assert_eq!(search_ids(&store, "  ").len(), 3);
    assert_eq!(search_ids(&store, "、！").len(), 3);
}

#[test]
fn search_input_cannot_break_the_query() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 1);
    let id = store
        .insert(
            incident(
                GRID,
                "say \"hi\" OR NOT",
                "a*b (c) NEAR(x y) col:val -z ^q",
                1,
            ),
            &author(1),
            today(),
        )
        .unwrap()
        .meta
        .id;
    for text in [
        "\"",
        "\"\"",
        "\"hi\"",
        "OR",
        "NOT",
        "AND",
        "a*b",
        "*",
        "(c)",
        "NEAR(x",
        "col:val",
        "-z",
        "^q",
        "'",
        "\\",
        "%",
        "_",
        "ex\"ample",
        "text:",
        "}{",
    ] {
        let found = store.search(text, &ListQuery::default());
        assert!(found.is_ok(), "{text:?}: {found:?}");
    }
    assert_eq!(search_ids(&store, "\"hi\""), vec![id]);
    assert_eq!(search_ids(&store, "OR NOT"), vec![id]);
    assert_eq!(search_ids(&store, "col:val"), vec![id]);
    assert_eq!(search_ids(&store, "(c)"), vec![id]);
}

#[test]
fn deleted_records_are_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 1);
    let h = store
        .insert(
            household(GRID, "阳光花园", "3", "501", 1),
            &author(1),
            today(),
        )
        .unwrap();
    let mut doc = store.load(h.meta.id).unwrap().unwrap();
    doc.delete(&author(2)).unwrap();
    store.save_doc(&mut doc).unwrap();
    assert!(store.list(&ListQuery::default()).unwrap().is_empty());
    assert!(search_ids(&store, "阳光").is_empty());
    let with_deleted = ListQuery {
        include_deleted: true,
        ..ListQuery::default()
    };
    let rows = store.list(&with_deleted).unwrap();
    assert_eq!(ids(&rows), vec![h.meta.id]);
    assert!(rows[0].deleted);
    assert_eq!(
        ids(&store.search("阳光", &with_deleted).unwrap()),
        vec![h.meta.id]
    );
    assert_eq!(store.pending_count().unwrap(), 2);
    assert!(
        store
            .get::<Household>(h.meta.id)
            .unwrap()
            .unwrap()
            .meta
            .deleted
    );
}

#[test]
fn outbox_lists_local_changes_until_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 1);
    let h = store
        .insert(
            household(GRID, "阳光花园", "3", "501", 1),
            &author(1),
            today(),
        )
        .unwrap();
    store
        .update::<Household>(h.meta.id, &author(2), today(), |h| {
            h.address.room = "502".into()
        })
        .unwrap();
    let entries = store.outbox(10).unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries[0].seq < entries[1].seq);
    assert!(entries.iter().all(|e| e.doc_id == h.meta.id));
    for entry in &entries {
        assert_eq!(entry.change().unwrap().hash(), entry.hash);
    }
    assert_eq!(store.outbox(1).unwrap(), entries[..1]);

    assert_eq!(store.ack(&[entries[0].hash]).unwrap(), 1);
    assert_eq!(
        store.ack(&[entries[0].hash]).unwrap(),
        0,
        "acks are idempotent"
    );
    assert_eq!(store.outbox(10).unwrap(), entries[1..]);
    assert_eq!(store.pending_count().unwrap(), 1);
    store.ack(&[entries[1].hash]).unwrap();
    assert_eq!(store.pending_count().unwrap(), 0);
    // The acknowledged changes stay in the document.
    assert_eq!(
        store
            .get::<Household>(h.meta.id)
            .unwrap()
            .unwrap()
            .address
            .room,
        "502"
    );
}

/// Sends everything in `from`'s outbox to `to`, as a server would, and
/// acknowledges it.
fn sync(from: &mut Store, to: &mut Store) -> RemoteOutcome {
    let entries = from.outbox(10_000).unwrap();
    let mut batch: BTreeMap<Uuid, Vec<Change>> = BTreeMap::new();
    for entry in &entries {
        batch
            .entry(entry.doc_id)
            .or_default()
            .push(entry.change().unwrap());
    }
    let outcome = to.apply_remote_batch(batch.into_iter().collect()).unwrap();
    let hashes: Vec<ChangeHash> = entries.iter().map(|e| e.hash).collect();
    from.ack(&hashes).unwrap();
    outcome
}

fn everything(store: &Store) -> Vec<(Projection, serde_json::Value)> {
    let rows = store
        .list(&ListQuery {
            include_deleted: true,
            ..ListQuery::default()
        })
        .unwrap();
    rows.into_iter()
        .map(|p| {
            let doc = store.load(p.id).unwrap().unwrap();
            (p, doc.to_json())
        })
        .collect()
}

#[test]
fn remote_changes_converge_two_stores() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(dir.path(), 1);
    let mut b = open(dir.path(), 2);
    let h = a
        .insert(
            household(GRID, "阳光花园", "3", "501", 1),
            &author(1),
            today(),
        )
        .unwrap();
    let i = a
        .insert(incident(GRID, "楼道漏水", "", 2), &author(2), today())
        .unwrap();
    let r = b
        .insert(resident(h.meta.id, "李四", 3), &author(3), today())
        .unwrap();

    let outcome = sync(&mut a, &mut b);
    assert_eq!(outcome.applied, 2);
    assert_eq!(outcome.waiting, 0);
    assert_eq!(outcome.changed.len(), 2);
    assert_eq!(
        b.pending_count().unwrap(),
        1,
        "remote changes are not resent"
    );
    sync(&mut b, &mut a);
    assert_eq!(everything(&a), everything(&b));

    // Concurrent edits: different fields both survive; the same field
    // keeps both values as a conflict.
    a.update::<Household>(h.meta.id, &author(10), today(), |h| {
        h.address.room = "601".into();
        h.owner_name = "赵六".into();
    })
    .unwrap();
    b.update::<Household>(h.meta.id, &author(11), today(), |h| {
        h.usage = HouseholdUse::Rented;
        h.owner_name = "钱七".into();
    })
    .unwrap();
    sync(&mut a, &mut b);
    sync(&mut b, &mut a);
    assert_eq!(everything(&a), everything(&b));
    let merged = a.get::<Household>(h.meta.id).unwrap().unwrap();
    assert_eq!(merged.address.room, "601");
    assert_eq!(merged.usage, HouseholdUse::Rented);
    let conflicts = a.load(h.meta.id).unwrap().unwrap().conflicts();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].path, "owner_name");
    assert_eq!(a.heads(h.meta.id).unwrap(), b.heads(h.meta.id).unwrap());

    // Receiving the same changes again changes nothing.
    let again: Vec<Change> = a.load(i.meta.id).unwrap().unwrap().changes_since(&[]);
    let outcome = b.apply_remote(i.meta.id, again).unwrap();
    assert_eq!(outcome, RemoteOutcome::default());
    assert_eq!(b.get::<Resident>(r.meta.id).unwrap(), Some(r));
    assert!(a.check_integrity().unwrap().is_empty());
    assert!(b.check_integrity().unwrap().is_empty());
}

#[test]
fn changes_arriving_before_their_dependencies_wait() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(dir.path(), 1);
    let mut b = open(dir.path(), 2);
    let h = a
        .insert(
            household(GRID, "阳光花园", "3", "501", 1),
            &author(1),
            today(),
        )
        .unwrap();
    for room in ["502", "503"] {
        a.update::<Household>(h.meta.id, &author(2), today(), |h| {
            h.address.room = room.into()
        })
        .unwrap();
    }
    let mut changes: Vec<Change> = a
        .outbox(10)
        .unwrap()
        .iter()
        .map(|e| e.change().unwrap())
        .collect();
    let first = changes.remove(0);
    // The edits come first: nothing can be shown yet, nothing is lost.
    let outcome = b.apply_remote(h.meta.id, changes).unwrap();
    assert_eq!((outcome.applied, outcome.waiting), (0, 2));
    assert_eq!(b.get::<Household>(h.meta.id).unwrap(), None);
    let outcome = b.apply_remote(h.meta.id, vec![first]).unwrap();
    assert_eq!((outcome.applied, outcome.waiting), (3, 0));
    assert_eq!(
        b.get::<Household>(h.meta.id).unwrap().unwrap().address.room,
        "503"
    );
    assert_eq!(count(&b, "remote_pending"), 0);
    assert!(b.check_integrity().unwrap().is_empty());
}

#[test]
fn changes_of_another_record_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(dir.path(), 1);
    let mut b = open(dir.path(), 2);
    let h = a
        .insert(
            household(GRID, "阳光花园", "3", "501", 1),
            &author(1),
            today(),
        )
        .unwrap();
    let changes = a.load(h.meta.id).unwrap().unwrap().changes_since(&[]);
    let wrong = Uuid::now_v7();
    let err = b.apply_remote(wrong, changes).unwrap_err();
    assert_eq!(err.code(), "wrong_document");
    assert_eq!(count(&b, "documents"), 0);
}

#[test]
fn save_doc_merges_a_stale_document() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(dir.path(), 1);
    let mut b = open(dir.path(), 2);
    let h = a
        .insert(
            household(GRID, "阳光花园", "3", "501", 1),
            &author(1),
            today(),
        )
        .unwrap();
    sync(&mut a, &mut b);
    // The UI holds a document loaded before a remote change arrived.
    let mut stale = a.load(h.meta.id).unwrap().unwrap();
    b.update::<Household>(h.meta.id, &author(2), today(), |h| {
        h.usage = HouseholdUse::Vacant
    })
    .unwrap();
    sync(&mut b, &mut a);
    stale
        .update::<Household>(&author(3), |h| h.address.room = "909".into())
        .unwrap();
    a.save_doc(&mut stale).unwrap();
    let saved = a.get::<Household>(h.meta.id).unwrap().unwrap();
    assert_eq!(saved.usage, HouseholdUse::Vacant);
    assert_eq!(saved.address.room, "909");
    assert_eq!(
        stale.read::<Household>().unwrap(),
        saved,
        "the caller's doc caught up"
    );
    assert_eq!(
        a.pending_count().unwrap(),
        1,
        "only the new change is queued"
    );
    // Saving again stores nothing more.
    a.save_doc(&mut stale).unwrap();
    assert_eq!(a.pending_count().unwrap(), 1);
    assert!(a.check_integrity().unwrap().is_empty());
}

#[test]
fn incident_status_and_deadline_come_from_the_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 1);
    let i = store
        .insert(incident(GRID, "楼道漏水", "", 1), &author(1), today())
        .unwrap();
    let status = |store: &Store| store.list(&ListQuery::default()).unwrap()[0].clone();
    assert_eq!(status(&store).status.as_deref(), Some("draft"));

    let cal = WorkCalendar::bundled();
    let steps = [
        ("wangfang", Role::GridWorker, Action::Report),
        ("lisi", Role::CommunitySupervisor, Action::Accept),
        (
            "lisi",
            Role::CommunitySupervisor,
            Action::Dispatch {
                to: Assignee {
                    kind: AssigneeKind::Department,
                    id: "cgj".into(),
                    name: "城管执法队".into(),
                },
                deadline_days: 3,
            },
        ),
    ];
    for (n, (user, role, action)) in steps.into_iter().enumerate() {
        let mut doc = store.load(i.meta.id).unwrap().unwrap();
        let now = 1_795_000_000_000 + n as i64 * 1000;
        doc.update::<Incident>(&Author::new(user, now), |inc| {
            workflow::transition(inc, &cal, Actor { user, role }, action, "", vec![], now).unwrap();
        })
        .unwrap();
        store.save_doc(&mut doc).unwrap();
    }
    let saved = store.get::<Incident>(i.meta.id).unwrap().unwrap();
    let derived = workflow::derive(&saved, &cal);
    let row = status(&store);
    assert_eq!(row.status.as_deref(), Some("dispatched"));
    assert_eq!(row.due, derived.deadline.map(|d| d.to_string()));
    assert!(row.due.is_some());
    let doc = store.load(i.meta.id).unwrap().unwrap();
    assert_eq!(store.projection(&doc).unwrap(), row);
    assert_eq!(store.pending_count().unwrap(), 4);
}

#[test]
fn compaction_keeps_content_and_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("compact.db");
    let mut store = Store::open(&path, actor(1)).unwrap();
    let h = store
        .insert(
            household(GRID, "阳光花园", "3", "0", 1),
            &author(1),
            today(),
        )
        .unwrap();
    for n in 1..=100 {
        store
            .update::<Household>(h.meta.id, &author(n), today(), |h| {
                h.address.room = n.to_string();
                h.last_visit_at = Some(n);
            })
            .unwrap();
        let stored = count(&store, "changes");
        assert!(stored < COMPACT_EVERY, "{stored} changes after {n} edits");
    }
    assert_eq!(count(&store, "changes"), 100 % COMPACT_EVERY);
    assert_eq!(store.pending_count().unwrap(), 101);
    let mut doc = store.load(h.meta.id).unwrap().unwrap();
    for entry in store.outbox(1000).unwrap() {
        assert!(doc.automerge().get_change_by_hash(&entry.hash).is_some());
    }
    drop(store);
    let store = Store::open(&path, actor(1)).unwrap();
    let saved = store.get::<Household>(h.meta.id).unwrap().unwrap();
    assert_eq!(saved.address.room, "100");
    assert_eq!(saved.last_visit_at, Some(100));
    assert_eq!(
        store
            .load(h.meta.id)
            .unwrap()
            .unwrap()
            .changes_since(&[])
            .len(),
        101
    );
    assert!(store.check_integrity().unwrap().is_empty());
}

#[test]
fn a_database_from_a_newer_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    {
        let mut store = Store::open(&path, actor(1)).unwrap();
        store
            .insert(
                household(GRID, "阳光花园", "3", "501", 1),
                &author(1),
                today(),
            )
            .unwrap();
    }
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path, actor(1)).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found, supported } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{err:?}"
    );
    assert_eq!(err.code(), "store_too_new");
    assert!(err.to_string().contains("update the app"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_new_database_is_at_the_latest_schema_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 1);
    let version: u32 = store
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = store
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = store
        .conn
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2, "FULL");
    drop(store);
    // Opening again migrates nothing and keeps working.
    let mut store = open(dir.path(), 1);
    store
        .insert(
            household(GRID, "阳光花园", "3", "501", 1),
            &author(1),
            today(),
        )
        .unwrap();
}

#[test]
fn reopen_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(dir.path(), 1);
    let mut b = open(dir.path(), 2);
    let h = b
        .insert(
            household(GRID, "阳光花园", "3", "501", 1),
            &author(1),
            today(),
        )
        .unwrap();
    sync(&mut b, &mut a);
    a.insert(resident(h.meta.id, "李四", 2), &author(2), today())
        .unwrap();
    let i = a
        .insert(incident(GRID, "楼道漏水", "", 3), &author(3), today())
        .unwrap();
    a.update::<Household>(h.meta.id, &author(4), today(), |h| {
        h.address.room = "502".into()
    })
    .unwrap();
    let mut doc = a.load(i.meta.id).unwrap().unwrap();
    doc.delete(&author(5)).unwrap();
    a.save_doc(&mut doc).unwrap();
    let first = a.outbox(1).unwrap();
    a.ack(&[first[0].hash]).unwrap();
    // A change whose dependency has not arrived yet.
    b.update::<Household>(h.meta.id, &author(6), today(), |h| {
        h.owner_name = "赵六".into()
    })
    .unwrap();
    b.update::<Household>(h.meta.id, &author(7), today(), |h| {
        h.owner_name = "钱七".into()
    })
    .unwrap();
    let later = b.outbox(10).unwrap().pop().unwrap();
    a.apply_remote(later.doc_id, vec![later.change().unwrap()])
        .unwrap();

    let state = |s: &Store| {
        (
            everything(s),
            s.outbox(100).unwrap(),
            s.search(
                "漏水",
                &ListQuery {
                    include_deleted: true,
                    ..ListQuery::default()
                },
            )
            .unwrap(),
            s.search("阳光", &ListQuery::default()).unwrap(),
            count(s, "remote_pending"),
        )
    };
    let before = state(&a);
    assert_eq!(before.1.len(), 3);
    assert_eq!(before.4, 1);
    drop(a);
    let a = open(dir.path(), 1);
    assert_eq!(state(&a), before);
    assert!(a.check_integrity().unwrap().is_empty());
}

#[test]
fn an_empty_grid_set_lists_nothing() {
    let mut store = Store::open_in_memory(actor(1)).unwrap();
    store
        .insert(
            household(GRID, "阳光花园", "3", "501", 1),
            &author(1),
            today(),
        )
        .unwrap();
    let none = ListQuery {
        grids: GridFilter::In(Vec::new()),
        ..ListQuery::default()
    };
    assert!(store.list(&none).unwrap().is_empty());
    assert!(store.search("阳光", &none).unwrap().is_empty());
    assert_eq!(store.list(&ListQuery::default()).unwrap().len(), 1);
}

#[test]
fn projections_can_be_rebuilt_from_the_documents() {
    let mut store = Store::open_in_memory(actor(1)).unwrap();
    let h = store
        .insert(
            household(GRID, "阳光花园", "3", "501", 1),
            &author(1),
            today(),
        )
        .unwrap();
    store
        .insert(incident(GRID, "楼道漏水", "", 2), &author(2), today())
        .unwrap();
    assert_eq!(store.rebuild_projections().unwrap(), 0);
    // As if an older app had written something else.
    store
        .conn
        .execute(
            "UPDATE projections SET title = 'old', search_text = 'old', status = NULL \
             WHERE id = ?1",
            [h.meta.id.to_string()],
        )
        .unwrap();
    assert!(!store.check_integrity().unwrap().is_empty());
    assert_eq!(store.rebuild_projections().unwrap(), 1);
    assert!(store.check_integrity().unwrap().is_empty());
    assert_eq!(search_ids(&store, "501室"), vec![h.meta.id]);
    assert!(search_ids(&store, "old").is_empty());
}

#[test]
fn an_update_that_changes_list_rows_derives_them_again_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let h = {
        let mut store = open(dir.path(), 1);
        let h = store
            .insert(
                household(GRID, "阳光花园", "3", "501", 1),
                &author(1),
                today(),
            )
            .unwrap();
        // As if an older app had written the row and never set the version.
        store
            .conn
            .execute_batch(
                "UPDATE projections SET title = 'old'; UPDATE projection_version SET version = 0",
            )
            .unwrap();
        h
    };
    let store = open(dir.path(), 1);
    assert!(
        store.check_integrity().unwrap().is_empty(),
        "rows derived again"
    );
    assert_eq!(search_ids(&store, "501室"), vec![h.meta.id]);
    let version: i64 = store
        .conn
        .query_row("SELECT version FROM projection_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, PROJECTIONS_VERSION, "once, not on every open");
}

#[test]
fn a_reveal_waits_until_its_records_changes_are_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 1);
    let h = store
        .insert(
            household(GRID, "阳光花园", "3", "501", 1),
            &author(1),
            today(),
        )
        .unwrap();
    let reveal = RevealEntry::new(
        "wangfang",
        crate::model::RecordKind::Household,
        h.meta.id,
        "owner_name",
        Protection::Pi,
        2,
    );
    store.record_reveal(&reveal).unwrap();
    // The server does not know the household yet: the reveal waits.
    assert!(store.unsent_reveals(10).unwrap().is_empty());
    assert_eq!(store.unsent_reveal_count().unwrap(), 1);
    let hashes: Vec<_> = store
        .outbox(10)
        .unwrap()
        .into_iter()
        .map(|e| e.hash)
        .collect();
    store.ack(&hashes).unwrap();
    assert_eq!(store.unsent_reveals(10).unwrap(), vec![reveal]);
}
