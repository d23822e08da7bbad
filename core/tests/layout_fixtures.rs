//! Documents and device stores written by every document layout loaded by
//! today's code, so that an upgrade never strands a device's records.
//!
//! Each folder `tests/fixtures/layout-v<N>[-<what>]/` holds what one build
//! of Gridwork wrote: one saved Automerge document per record kind with
//! every field filled (`<kind>.automerge`), a device store
//! (`device.sqlite`) holding the same records with an outbox and a sync
//! cursor, and `expected.json`: the records as that build read them back,
//! the outbox's change hashes in order and the cursor.
//! [`every_committed_fixture_loads_with_todays_code`] reads every folder
//! with today's code. [`write_todays_layout_fixture`] writes today's
//! folder; it is run by hand when the layout or the store's schema
//! changes (`tests/fixtures/README.md` says how), never in CI.
//!
//! A field a later layout moved elsewhere is listed in [`MOVED`] with where
//! it went; the test then checks it is still in the document, where the
//! migration that moves it reads it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use automerge::ActorId;
use gridwork_core::doc::{Author, LAYOUT_VERSION, RecordDoc};
use gridwork_core::geo::TrackPoint;
use gridwork_core::model::{
    Address, AnyRecord, CareTag, CareTagKind, Category, CategoryMajor, CheckIn, Education,
    EmergencyContact, Gender, GeoPoint, Household, HouseholdFlags, HouseholdUse, IdType, Incident,
    IncidentParties, IncidentSource, Mediation, MediationMethod, Meta, Party, Patrol, PhotoRef,
    PhotoRole, PopulationType, RecordKind, Relation, Resident, ReviewDecision, ReviewEntry, Role,
    Task, TaskItem, TaskKind, Urgency, Visit, VisitForm, VisitKind, VisitTarget, VisitTargetKind,
};
use gridwork_core::store::{SCHEMA_VERSION, Store};
use gridwork_core::workflow::{self, Action, Actor, Assignee, AssigneeKind};
use serde_json::{Value, json};
use uuid::Uuid;

/// Fields older layouts held that today's records keep elsewhere:
/// (kind, field, where it went). The document still holds such a field
/// until the migration named here moves it.
const MOVED: &[(&str, &str, &str)] = &[(
    "incident",
    "parties",
    "the incident's own incident_parties record; sync-server/src/migrate.rs \
     (split_incident_parties) moves it on the server, reading it as \
     IncidentWithParties",
)];

const GRID: &str = "440106001001001";
const WORKER: &str = "gw-440106001001001";
const SUPERVISOR: &str = "cs-440106001001";
/// 2026-05-15 09:00 Asia/Shanghai.
const T0: i64 = 1_778_806_800_000;
const MINUTE: i64 = 60_000;
/// The sync cursor the fixture's store holds.
const CURSOR: u64 = 4_242;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 5, 15)
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0000 | n)
}

fn meta(n: u128, created_by: &str, at: i64) -> Meta {
    Meta {
        id: id(n),
        grid: GRID.into(),
        created_by: created_by.into(),
        created_at: at,
        deleted: false,
    }
}

fn point(lon: f64, lat: f64) -> GeoPoint {
    GeoPoint {
        accuracy_m: Some(8.5),
        ..GeoPoint::wgs84(lon, lat)
    }
}

fn photo(n: u8, role: PhotoRole) -> PhotoRef {
    PhotoRef {
        sha256: format!("{n:02x}").repeat(32),
        thumb_sha256: Some(format!("{:02x}", n + 1).repeat(32)),
        role,
        bytes: 182_344,
        width: 1600,
        height: 1200,
        taken_at: Some(T0 + i64::from(n) * MINUTE),
    }
}

fn review(at: i64) -> Vec<ReviewEntry> {
    vec![
        ReviewEntry {
            decision: ReviewDecision::Submit,
            by: WORKER.into(),
            at,
            comment: "已入户核实".into(),
        },
        ReviewEntry {
            decision: ReviewDecision::Accept,
            by: SUPERVISOR.into(),
            at: at + 30 * MINUTE,
            comment: "信息核实无误".into(),
        },
    ]
}

/// One record of every kind, every field filled, as today's model has
/// them. The incident's log is made by the workflow, so it passes its
/// rules.
fn todays_records() -> Vec<AnyRecord> {
    let household = Household {
        meta: meta(1, WORKER, T0),
        address: Address {
            estate: "阳光花园".into(),
            building: "3".into(),
            unit: "2".into(),
            room: "501".into(),
            village: "石牌村".into(),
            group: "三组".into(),
            detail: "东门进入左手边".into(),
        },
        point: Some(point(113.3301, 23.1302)),
        usage: HouseholdUse::Rented,
        owner_name: "王芳".into(),
        owner_phone: Some("13812345678".into()),
        owner_id_number: Some("11010519491231002X".into()),
        door_plate_photo: Some(photo(1, PhotoRole::DoorPlate)),
        flags: HouseholdFlags {
            low_income: true,
            living_alone: true,
            disability: true,
            special_support: true,
            key_concern: true,
        },
        last_visit_at: Some(T0 + 60 * MINUTE),
        review: review(T0 + MINUTE),
    };
    let resident = Resident {
        meta: meta(2, WORKER, T0 + 2 * MINUTE),
        household_id: Some(household.meta.id),
        relation: Relation::Head,
        name: "王芳".into(),
        gender: Gender::Female,
        birth_date: Some("1949-12-31".into()),
        id_type: IdType::ResidentId,
        id_number: Some("11010519491231002X".into()),
        phone: Some("13812345678".into()),
        ethnicity: "汉族".into(),
        education: Some(Education::SeniorHigh),
        registered_residence: "广东省广州市天河区石牌街道".into(),
        population_type: PopulationType::Registered,
        emergency_contact: EmergencyContact {
            name: "李明".into(),
            phone: "13987654321".into(),
            relation: "儿子".into(),
        },
        care_tags: vec![CareTag {
            tag: CareTagKind::ElderlyLivingAlone,
            visit_cycle_days: 30,
            since: T0 + 2 * MINUTE,
        }],
        next_visit_due: Some("2026-06-14".into()),
        review: review(T0 + 3 * MINUTE),
    };
    let patrol_id = id(5);
    let mut incident = Incident {
        meta: meta(3, WORKER, T0 + 10 * MINUTE),
        number: "SJ20260515-3F9A-0001".into(),
        title: "楼道堆放杂物".into(),
        description: "3栋2单元楼道堆放纸箱，堵塞消防通道".into(),
        category: Category {
            major: CategoryMajor::Fire,
            minor: "消防通道堵塞".into(),
        },
        source: IncidentSource::Patrol,
        urgency: Urgency::High,
        point: Some(point(113.3302, 23.1303)),
        address: "阳光花园3栋2单元".into(),
        happened_at: T0 + 5 * MINUTE,
        photos: vec![photo(3, PhotoRole::Before), photo(5, PhotoRole::After)],
        hotline_order: Some("12345-20260515-0042".into()),
        patrol_id: Some(patrol_id),
        mediation: Some(Mediation {
            mediator: "张调解".into(),
            method: MediationMethod::OnSite,
            outcome: "双方同意当日清理".into(),
            success: true,
            mediated_at: Some(T0 + 20 * MINUTE),
        }),
        log: Vec::new(),
    };
    let cal = gridwork_core::calendar::WorkCalendar::bundled();
    let steps: [(&str, Role, Action, &str); 3] = [
        (WORKER, Role::GridWorker, Action::Report, "请尽快处理"),
        (
            SUPERVISOR,
            Role::CommunitySupervisor,
            Action::Accept,
            "已受理",
        ),
        (
            SUPERVISOR,
            Role::CommunitySupervisor,
            Action::Dispatch {
                to: Assignee {
                    kind: AssigneeKind::Department,
                    id: "chengguan".into(),
                    name: "城管执法队".into(),
                },
                deadline_days: 3,
            },
            "请三日内清理",
        ),
    ];
    for (k, (user, role, action, opinion)) in steps.into_iter().enumerate() {
        let at = T0 + (11 + k as i64) * MINUTE;
        let photos = vec![incident.photos[0].sha256.clone()];
        workflow::transition(
            &mut incident,
            &cal,
            Actor { user, role },
            action,
            opinion,
            photos,
            at,
        )
        .expect("the fixture's log follows the workflow");
        incident.log[k].received_at = Some(at + 5_000);
    }
    let parties = IncidentParties::of(
        &incident,
        vec![Party {
            name: "赵强".into(),
            phone: "13700001111".into(),
            id_number: "11010519491231002X".into(),
            role: "物业负责人".into(),
        }],
        WORKER,
        T0 + 10 * MINUTE,
    );
    let patrol = Patrol {
        meta: meta(5, WORKER, T0 - 30 * MINUTE),
        worker: WORKER.into(),
        started_at: T0 - 30 * MINUTE,
        ended_at: Some(T0 + 90 * MINUTE),
        track: vec![
            TrackPoint {
                lon: 113.3300,
                lat: 23.1300,
                t_ms: T0 - 30 * MINUTE,
            },
            TrackPoint {
                lon: 113.3302,
                lat: 23.1303,
                t_ms: T0,
            },
        ],
        check_ins: vec![CheckIn {
            at: T0 - 20 * MINUTE,
            point: point(113.3301, 23.1301),
            photo: Some(photo(7, PhotoRole::Evidence)),
            qr: Some("GW-440106001001001-07".into()),
            note: "东门岗亭".into(),
        }],
        notes: "巡查阳光花园全部楼栋".into(),
        incident_ids: vec![incident.meta.id],
    };
    let visit = Visit {
        meta: meta(6, WORKER, T0 + 60 * MINUTE),
        target: VisitTarget {
            kind: VisitTargetKind::Resident,
            id: resident.meta.id,
        },
        kind: VisitKind::Care,
        form: VisitForm::InPerson,
        visitor: WORKER.into(),
        visited_at: T0 + 60 * MINUTE,
        point: Some(point(113.3301, 23.1302)),
        photos: vec![photo(9, PhotoRole::Evidence)],
        content: "老人身体状况良好，询问生活需求".into(),
        measures: "联系社区医生上门体检".into(),
        next_due: Some("2026-06-14".into()),
        review: review(T0 + 61 * MINUTE),
    };
    let task = Task {
        meta: meta(7, SUPERVISOR, T0 - 24 * 60 * MINUTE),
        campaign: id(8),
        title: "独居老人走访".into(),
        description: "五月底前走访全部独居老人".into(),
        kind: TaskKind::Screening,
        due: "2026-05-29".into(),
        issued_by: SUPERVISOR.into(),
        issued_at: T0 - 24 * 60 * MINUTE,
        filter: Some("household:living_alone".into()),
        items: vec![TaskItem {
            text: "阳光花园3栋2单元501室".into(),
            target: Some(VisitTarget {
                kind: VisitTargetKind::Household,
                id: household.meta.id,
            }),
            done: true,
            done_by: Some(WORKER.into()),
            done_at: Some(T0 + 60 * MINUTE),
            note: "已走访".into(),
        }],
    };
    vec![
        AnyRecord::Household(household),
        AnyRecord::Resident(resident),
        AnyRecord::Incident(incident),
        AnyRecord::IncidentParties(parties),
        AnyRecord::Patrol(patrol),
        AnyRecord::Visit(visit),
        AnyRecord::Task(task),
    ]
}

fn actor() -> ActorId {
    ActorId::from(&[0x11; 16][..])
}

/// The outbox's change hashes, in order.
fn outbox_hashes(store: &Store) -> Vec<String> {
    store
        .outbox(1_000)
        .unwrap()
        .iter()
        .map(|e| e.hash.to_string())
        .collect()
}

fn kind_name(record: &Value) -> &str {
    record["kind"].as_str().expect("a record names its kind")
}

/// Writes today's layout into `tests/fixtures/layout-v<LAYOUT_VERSION>/`,
/// which must not exist yet. Run by hand (see `tests/fixtures/README.md`):
/// `cargo test -p gridwork-core --test layout_fixtures -- --ignored
/// write_todays_layout_fixture`.
#[test]
#[ignore = "writes the fixture of today's layout; run by hand"]
fn write_todays_layout_fixture() {
    let dir = fixtures().join(format!("layout-v{LAYOUT_VERSION}"));
    // A committed folder is what devices in the field hold: never
    // overwritten from newer code.
    assert!(
        !dir.exists(),
        "{} exists: rename it to layout-v<N>-<what it has> if it is committed \
         (tests/fixtures/README.md), delete it if it is not",
        dir.display()
    );
    std::fs::create_dir_all(&dir).unwrap();
    let records = todays_records();
    let mut store = Store::open(dir.join("device.sqlite"), actor()).unwrap();
    let author = Author::new(WORKER, T0 + 90 * MINUTE);
    store.insert_all(records.clone(), &author, today()).unwrap();
    // The task's creation reached the server; an edit of the household
    // waits with the other creations.
    let task_id = records[6].meta().id;
    let sent: Vec<_> = store
        .outbox(100)
        .unwrap()
        .into_iter()
        .filter(|e| e.doc_id == task_id)
        .map(|e| e.hash)
        .collect();
    store.ack(&sent).unwrap();
    store
        .update::<Household>(
            records[0].meta().id,
            &Author::new(WORKER, T0 + 95 * MINUTE),
            today(),
            |h| h.owner_phone = Some("13912345678".into()),
        )
        .unwrap();
    store.set_sync_cursor(CURSOR).unwrap();

    let mut expected = Vec::new();
    for record in &records {
        let mut doc = store.load(record.meta().id).unwrap().unwrap();
        let value = serde_json::to_value(doc.read_any().unwrap()).unwrap();
        let file = format!("{}.automerge", record.kind().as_str());
        std::fs::write(dir.join(&file), doc.save()).unwrap();
        expected.push(json!({ "file": file, "record": value }));
    }
    let outbox = outbox_hashes(&store);
    drop(store);
    // Smaller pages and no free ones: the same rows in a few dozen KB.
    let conn = rusqlite::Connection::open(dir.join("device.sqlite")).unwrap();
    conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA page_size = 1024; VACUUM;")
        .unwrap();
    drop(conn);
    let manifest = json!({
        "layout": LAYOUT_VERSION,
        "store_schema": SCHEMA_VERSION,
        "records": expected,
        "outbox": outbox,
        "cursor": CURSOR,
    });
    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_string_pretty(&manifest).unwrap() + "\n",
    )
    .unwrap();
    for stray in ["device.sqlite-wal", "device.sqlite-shm"] {
        assert!(!dir.join(stray).exists(), "{stray} left behind");
    }
}

/// Checks `decoded` (today's reading of a record) against `expected` (what
/// the writing build read back) and the raw document `doc_json`: every
/// field the writer had is either equal in today's record or listed in
/// [`MOVED`] and still in the document. Fields today's model added are not
/// in `expected` and are left to their defaults.
fn compare(label: &str, expected: &Value, decoded: &Value, doc_json: &Value) -> Vec<String> {
    let kind = kind_name(expected);
    let mut problems = Vec::new();
    let expected = expected.as_object().expect("a record is a map");
    for (field, want) in expected {
        if MOVED.iter().any(|(k, f, _)| *k == kind && f == field) {
            if doc_json.get(field) != Some(want) {
                problems.push(format!(
                    "{label}: moved field {field} is not in the document as written"
                ));
            }
            continue;
        }
        match decoded.get(field) {
            Some(got) if got == want => {}
            got => problems.push(format!(
                "{label}: {kind}.{field} is {got:?}, the writer had {want}"
            )),
        }
    }
    problems
}

struct Fixture {
    dir: PathBuf,
    manifest: Value,
}

fn committed() -> Vec<Fixture> {
    let mut found: Vec<Fixture> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("layout-v"))
        })
        .map(|dir| {
            let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
            Fixture {
                manifest: serde_json::from_str(&text).unwrap(),
                dir,
            }
        })
        .collect();
    found.sort_by(|a, b| a.dir.cmp(&b.dir));
    found
}

#[test]
fn every_committed_fixture_loads_with_todays_code() {
    let fixtures = committed();
    let names: Vec<_> = fixtures
        .iter()
        .map(|f| f.dir.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains(&format!("layout-v{LAYOUT_VERSION}")),
        "no fixture of today's layout in {names:?}: run write_todays_layout_fixture"
    );
    let mut problems = Vec::new();
    for fixture in &fixtures {
        let name = fixture.dir.file_name().unwrap().to_string_lossy();
        let records = fixture.manifest["records"].as_array().unwrap();

        // Every saved document decodes to its record.
        for entry in records {
            let file = entry["file"].as_str().unwrap();
            let label = format!("{name}/{file}");
            let bytes = std::fs::read(fixture.dir.join(file)).unwrap();
            let doc = match RecordDoc::load(&bytes, actor()) {
                Ok(doc) => doc,
                Err(e) => {
                    problems.push(format!("{label}: does not load: {e}"));
                    continue;
                }
            };
            match doc.read_any() {
                Ok(record) => {
                    let decoded = serde_json::to_value(record).unwrap();
                    problems.extend(compare(&label, &entry["record"], &decoded, &doc.to_json()));
                }
                Err(e) => problems.push(format!("{label}: does not decode: {e}")),
            }
        }

        // The device store opens (migrated to today's schema) with its
        // records, outbox and cursor intact.
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("device.sqlite");
        std::fs::copy(fixture.dir.join("device.sqlite"), &path).unwrap();
        let store = match Store::open(&path, actor()) {
            Ok(store) => store,
            Err(e) => {
                problems.push(format!("{name}/device.sqlite: does not open: {e}"));
                continue;
            }
        };
        for entry in records {
            let want = &entry["record"];
            let label = format!("{name}/device.sqlite {}", kind_name(want));
            let id: Uuid = serde_json::from_value(want["id"].clone()).unwrap();
            match store.load(id) {
                Ok(Some(doc)) => {
                    let decoded = serde_json::to_value(doc.read_any().unwrap()).unwrap();
                    problems.extend(compare(&label, want, &decoded, &doc.to_json()));
                }
                other => problems.push(format!("{label}: not loaded: {other:?}")),
            }
        }
        let outbox = outbox_hashes(&store);
        let want: Vec<String> = serde_json::from_value(fixture.manifest["outbox"].clone()).unwrap();
        if outbox != want {
            problems.push(format!(
                "{name}/device.sqlite: outbox {outbox:?}, expected {want:?}"
            ));
        }
        let cursor = store.sync_cursor().unwrap();
        if Some(cursor) != fixture.manifest["cursor"].as_u64() {
            problems.push(format!("{name}/device.sqlite: cursor {cursor}"));
        }
        let listed = store.list(&Default::default()).unwrap().len();
        let listable = records
            .iter()
            .filter(|e| {
                RecordKind::parse(kind_name(&e["record"]))
                    .is_some_and(|k| k != RecordKind::IncidentParties)
            })
            .count();
        if listed < listable {
            problems.push(format!(
                "{name}/device.sqlite: {listed} rows listed, {listable} records stored"
            ));
        }
        for problem in store.check_integrity().unwrap() {
            problems.push(format!("{name}/device.sqlite: {problem}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The fixture of today's layout holds one document of every record kind
/// with every field filled, so a field added without a fixture is noticed.
#[test]
fn todays_fixture_has_every_kind_with_every_field_filled() {
    let dir = fixtures().join(format!("layout-v{LAYOUT_VERSION}"));
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let mut kinds = BTreeSet::new();
    let mut empty = Vec::new();
    for entry in manifest["records"].as_array().unwrap() {
        kinds.insert(kind_name(&entry["record"]).to_string());
        find_empty(&entry["record"], kind_name(&entry["record"]), &mut empty);
    }
    let all: BTreeSet<String> = RecordKind::ALL
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    assert_eq!(kinds, all, "a record kind has no fixture");
    assert_eq!(
        manifest["store_schema"].as_u64(),
        Some(u64::from(SCHEMA_VERSION)),
        "the store's schema changed: write today's fixture again"
    );
    // Today's records with every field filled, against the committed ones:
    // a field added to the model since the fixture was written shows here.
    for record in todays_records() {
        let value = serde_json::to_value(&record).unwrap();
        find_empty(&value, kind_name(&value), &mut empty);
        let committed = manifest["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["record"]["id"] == value["id"])
            .expect("every record is in the fixture");
        for field in value.as_object().unwrap().keys() {
            assert!(
                committed["record"].get(field).is_some(),
                "{}.{field} is not in the committed fixture: write today's fixture again",
                kind_name(&value)
            );
        }
    }
    let allowed_false = ["deleted", "success", "done"];
    empty.retain(|path| !allowed_false.iter().any(|f| path.ends_with(f)));
    assert!(empty.is_empty(), "fields left empty: {empty:?}");
}

/// Paths of null, empty or false values under `value`.
fn find_empty(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Null | Value::Bool(false) => out.push(path.to_string()),
        Value::String(s) if s.is_empty() => out.push(path.to_string()),
        Value::Array(a) if a.is_empty() => out.push(path.to_string()),
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                find_empty(v, &format!("{path}.{i}"), out);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                find_empty(v, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// Photos a store of schema 13 (before uploads knew whether they had
/// started) kept waiting, one never sent and one cut halfway, as that
/// build wrote them into the committed fixture's store: after the
/// migration they are all still there with their bytes and offsets, the
/// outbox is the same, and each counts as started, so its upload asks the
/// server first (the old store cannot tell "never sent" from "cut before
/// the first answer"). A photo taken after the migration is not started.
#[test]
fn photos_kept_by_a_schema_13_store_survive_the_migration_and_ask_first() {
    let fixture = fixtures().join("layout-v1-store-schema-13");
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("device.sqlite");
    std::fs::copy(fixture.join("device.sqlite"), &path).unwrap();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(fixture.join("expected.json")).unwrap()).unwrap();

    // The household's door plate (01…) and its thumbnail (02…), and the
    // incident's first photo (03…): hashes the fixture's records hold.
    let rows: [(String, &str, Vec<u8>, i64); 3] = [
        ("01".repeat(32), "photo", vec![1; 5_000], 0),
        ("02".repeat(32), "thumb", vec![2; 700], 0),
        ("03".repeat(32), "photo", vec![3; 9_000], 4_096),
    ];
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 13, "the fixture is a schema 13 store");
        for (i, (sha, kind, bytes, offset)) in rows.iter().enumerate() {
            // As schema 13's Store::add_photo and set_upload_offset wrote.
            conn.execute(
                "INSERT INTO photos (sha256, kind, bytes, size, created_at, referenced) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 1)",
                rusqlite::params![sha, kind, bytes, bytes.len() as i64, T0 + i as i64],
            )
            .unwrap();
            conn.execute(
                "UPDATE photos SET upload_offset = ?2 WHERE sha256 = ?1",
                rusqlite::params![sha, offset],
            )
            .unwrap();
        }
    }

    let mut store = Store::open(&path, actor()).unwrap();
    let pending = store.pending_photos().unwrap();
    assert_eq!(pending.len(), rows.len(), "{pending:?}");
    for (sha, _, bytes, offset) in &rows {
        let p = pending.iter().find(|p| &p.sha256 == sha).unwrap();
        assert_eq!((p.size, p.offset), (bytes.len() as u64, *offset as u64));
        assert!(p.started, "an old photo asks the server first: {p:?}");
        assert_eq!(store.photo_bytes(sha).unwrap().as_ref(), Some(bytes));
    }
    let outbox = outbox_hashes(&store);
    let expected: Vec<String> = serde_json::from_value(manifest["outbox"].clone()).unwrap();
    assert_eq!(outbox, expected, "the outbox is untouched");
    assert_eq!(store.sync_cursor().unwrap(), CURSOR);
    assert!(store.check_integrity().unwrap().is_empty());

    // A photo taken now is not started: its upload sends at once.
    let new = store
        .add_photo(
            &gridwork_core::media::synthetic_photo(64, 48, 3),
            PhotoRole::Evidence,
            None,
        )
        .unwrap();
    store
        .update::<Household>(
            id(1),
            &Author::new(WORKER, T0 + 100 * MINUTE),
            today(),
            |h| h.door_plate_photo = Some(new.clone()),
        )
        .unwrap();
    let fresh = store.pending_photos().unwrap();
    let fresh = fresh.iter().find(|p| p.sha256 == new.sha256).unwrap();
    assert!(!fresh.started && fresh.offset == 0, "{fresh:?}");
}
