//! The access table, cell by cell, and each channel's functions against it,
//! on a real SQLite store loaded with a demo street.

use std::collections::HashMap;

use gridwork_core::calendar::WorkCalendar;
use gridwork_core::model::{IncidentParties, Party, RecordKind, Role, User};
use gridwork_core::privacy;
use gridwork_core::workflow;
use gridwork_demo::{Demo, DemoConfig, generate};

use super::*;
use crate::storage::{Projections, SqliteStorage};

const ROLES: [Role; 6] = [
    Role::GridWorker,
    Role::GridLeader,
    Role::CommunitySupervisor,
    Role::StreetSupervisor,
    Role::DepartmentHandler,
    Role::Admin,
];

/// The table as a person states it, cell by cell: role, channel, and what
/// plain, [PI] and [S] fields come to there.
const EXPECTED: [(Role, Channel, [Gets; 3]); 42] = {
    use Channel::*;
    use Role::*;
    [
        // Grid staff sync whole documents and have no console.
        (GridWorker, DeviceSync, [Clear, Clear, Clear]),
        (GridWorker, Repair, [Clear, Clear, Clear]),
        (GridWorker, Blobs, [Clear, Nothing, Nothing]),
        (GridWorker, ConsoleList, [Nothing, Nothing, Nothing]),
        (GridWorker, ConsolePage, [Nothing, Nothing, Nothing]),
        (GridWorker, Export, [Nothing, Nothing, Nothing]),
        (GridWorker, History, [Nothing, Nothing, Nothing]),
        (GridLeader, DeviceSync, [Clear, Clear, Clear]),
        (GridLeader, Repair, [Clear, Clear, Clear]),
        (GridLeader, Blobs, [Clear, Nothing, Nothing]),
        (GridLeader, ConsoleList, [Nothing, Nothing, Nothing]),
        (GridLeader, ConsolePage, [Nothing, Nothing, Nothing]),
        (GridLeader, Export, [Nothing, Nothing, Nothing]),
        (GridLeader, History, [Nothing, Nothing, Nothing]),
        // Supervisors: whole documents on a tablet; masked in the console
        // unless they reveal on a page or in an export.
        (CommunitySupervisor, DeviceSync, [Clear, Clear, Clear]),
        (CommunitySupervisor, Repair, [Clear, Clear, Clear]),
        (CommunitySupervisor, Blobs, [Clear, Nothing, Nothing]),
        (CommunitySupervisor, ConsoleList, [Clear, Masked, Masked]),
        (
            CommunitySupervisor,
            ConsolePage,
            [Clear, OnReveal, OnReveal],
        ),
        (CommunitySupervisor, Export, [Clear, OnReveal, OnReveal]),
        (CommunitySupervisor, History, [Clear, Masked, Masked]),
        (StreetSupervisor, DeviceSync, [Clear, Clear, Clear]),
        (StreetSupervisor, Repair, [Clear, Clear, Clear]),
        (StreetSupervisor, Blobs, [Clear, Nothing, Nothing]),
        (StreetSupervisor, ConsoleList, [Clear, Masked, Masked]),
        (StreetSupervisor, ConsolePage, [Clear, OnReveal, OnReveal]),
        (StreetSupervisor, Export, [Clear, OnReveal, OnReveal]),
        (StreetSupervisor, History, [Clear, Masked, Masked]),
        // Handlers never get [S], anywhere, not even masked.
        (DepartmentHandler, DeviceSync, [Clear, Clear, Nothing]),
        (DepartmentHandler, Repair, [Clear, Clear, Nothing]),
        (DepartmentHandler, Blobs, [Clear, Nothing, Nothing]),
        (DepartmentHandler, ConsoleList, [Clear, Masked, Nothing]),
        (DepartmentHandler, ConsolePage, [Clear, OnReveal, Nothing]),
        (DepartmentHandler, Export, [Clear, OnReveal, Nothing]),
        (DepartmentHandler, History, [Clear, Masked, Nothing]),
        // Admins: nothing on a device; masked in the console, no reveal.
        (Admin, DeviceSync, [Nothing, Nothing, Nothing]),
        (Admin, Repair, [Nothing, Nothing, Nothing]),
        (Admin, Blobs, [Nothing, Nothing, Nothing]),
        (Admin, ConsoleList, [Clear, Masked, Masked]),
        (Admin, ConsolePage, [Clear, Masked, Masked]),
        (Admin, Export, [Clear, Masked, Masked]),
        (Admin, History, [Clear, Masked, Masked]),
    ]
};

fn expected(role: Role, channel: Channel, class: Class) -> Gets {
    let (_, _, cell) = EXPECTED
        .iter()
        .find(|(r, c, _)| *r == role && *c == channel)
        .expect("every role and channel is stated");
    cell[Class::ALL.iter().position(|c| *c == class).unwrap_or(0)]
}

fn cell_name(role: Role, channel: Channel, class: Class) -> String {
    format!("{role:?} × {channel:?} × {class:?}")
}

#[test]
fn every_cell_of_the_table_is_as_stated() {
    let mut wrong = Vec::new();
    for role in ROLES {
        for channel in Channel::ALL {
            for class in Class::ALL {
                let want = expected(role, channel, class);
                let got = gets(role, class, channel);
                if got != want {
                    wrong.push(format!(
                        "{}: {got:?}, stated {want:?}",
                        cell_name(role, channel, class)
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "cells differ:\n{}", wrong.join("\n"));
}

#[test]
fn sign_in_follows_the_table() {
    for role in ROLES {
        let device = expected(role, Channel::DeviceSync, Class::Plain) != Nothing;
        assert_eq!(may_enrol_device(role), device, "{role:?} on a device");
        let console = expected(role, Channel::ConsoleList, Class::Plain) != Nothing;
        assert_eq!(may_use_console(role), console, "{role:?} in the console");
    }
    assert!(!may_enrol_device(Role::Admin), "admins sync nothing");
}

#[test]
fn what_a_console_user_may_reveal_is_the_page_and_export_column() {
    for role in ROLES {
        let reveal = reveal_allowed(role);
        for channel in [Channel::ConsolePage, Channel::Export] {
            assert_eq!(
                reveal.pi,
                expected(role, channel, Class::Pi) == OnReveal,
                "{}",
                cell_name(role, channel, Class::Pi)
            );
            assert_eq!(
                reveal.s,
                expected(role, channel, Class::S) == OnReveal,
                "{}",
                cell_name(role, channel, Class::S)
            );
        }
    }
}

fn party() -> Party {
    Party {
        name: "张三丰".into(),
        phone: "13812345678".into(),
        id_number: "11010119900307803X".into(),
        role: "申请人".into(),
    }
}

fn user(role: Role) -> User {
    User {
        id: format!("{role:?}"),
        name: "测试".into(),
        phone: String::new(),
        role,
        grid: "440106001".into(),
        department: (role == Role::DepartmentHandler).then(|| "城管".to_string()),
    }
}

#[test]
fn console_channels_give_a_party_only_the_classes_the_table_allows() {
    for role in ROLES {
        for channel in [
            Channel::ConsoleList,
            Channel::ConsolePage,
            Channel::Export,
            Channel::History,
        ] {
            let shown = parties_shown(&user(role), channel, vec![party()]);
            let p = &shown[0];
            let pi = expected(role, channel, Class::Pi) != Nothing;
            let s = expected(role, channel, Class::S) != Nothing;
            let name = cell_name(role, channel, Class::S);
            assert_eq!(!p.id_number.is_empty(), s, "{name}: the ID number");
            let name = cell_name(role, channel, Class::Pi);
            assert_eq!(!p.name.is_empty(), pi, "{name}: the name");
            assert_eq!(!p.phone.is_empty(), pi, "{name}: the phone");
            assert_eq!(p.role, "申请人", "{name}: plain");
        }
    }
}

#[test]
fn the_history_drops_party_paths_where_s_is_withheld() {
    let paths = ["parties.0.id_number", "parties", "parties.0.name", "title"];
    for role in ROLES {
        let shown: Vec<&str> = paths
            .into_iter()
            .filter(|p| history_field_shown(&user(role), RecordKind::Incident, p))
            .collect();
        let name = cell_name(role, Channel::History, Class::S);
        if expected(role, Channel::History, Class::S) == Nothing {
            assert_eq!(shown, ["title"], "{name}");
        } else {
            assert_eq!(shown.len(), 4, "{name}");
        }
        // Another kind's fields of that name are its own.
        assert!(
            paths
                .iter()
                .all(|p| history_field_shown(&user(role), RecordKind::IncidentParties, p)),
            "{name}"
        );
    }
}

// ------------------------------------------------------- on a real store

/// A demo street in a real SQLite store, and who plays each role.
struct Scene {
    _dir: tempfile::TempDir,
    storage: SqliteStorage,
    demo: Demo,
    cal: WorkCalendar,
    /// A grid worker, their grid leader stand-in, the community and street
    /// supervisors over the worker's grid, the 城管 handler, the admin.
    users: HashMap<Role, User>,
    /// An incident of the worker's grid dispatched to 城管, with parties.
    dispatched: Uuid,
    /// An incident of the worker's grid with parties, not dispatched.
    undispatched: Uuid,
}

fn scene() -> Scene {
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(dir.path()).unwrap();
    let demo = generate(&DemoConfig {
        households_per_grid: 2,
        patrols_per_grid: 1,
        visits_per_grid: 1,
        ..DemoConfig::default()
    });
    crate::admin::load_demo(&storage, &demo, "gridwork-demo").unwrap();
    let cal = WorkCalendar::bundled();
    let with_parties: Vec<&IncidentParties> = demo.incident_parties.iter().collect();
    let to_chengguan = |i: &IncidentParties| {
        let incident = demo.incidents.iter().find(|x| x.meta.id == i.incident);
        incident.is_some_and(|x| {
            workflow::derive(x, &cal)
                .assignee
                .is_some_and(|a| a.id == "城管")
        })
    };
    let dispatched = *with_parties
        .iter()
        .find(|p| to_chengguan(p))
        .expect("a demo incident with parties dispatched to 城管");
    let undispatched = *with_parties
        .iter()
        .find(|p| p.meta.grid == dispatched.meta.grid && !to_chengguan(p))
        .expect("another incident with parties in that grid");
    let grid = dispatched.meta.grid.clone();
    let find = |f: &dyn Fn(&User) -> bool| demo.users.iter().find(|u| f(u)).unwrap().clone();
    let worker = find(&|u| u.role == Role::GridWorker && u.grid == grid);
    let mut users = HashMap::new();
    users.insert(Role::GridWorker, worker.clone());
    users.insert(
        Role::GridLeader,
        User {
            role: Role::GridLeader,
            ..worker
        },
    );
    users.insert(
        Role::CommunitySupervisor,
        find(&|u| u.role == Role::CommunitySupervisor && grid.starts_with(&u.grid)),
    );
    users.insert(
        Role::StreetSupervisor,
        find(&|u| u.role == Role::StreetSupervisor),
    );
    users.insert(
        Role::DepartmentHandler,
        find(&|u| u.department.as_deref() == Some("城管")),
    );
    users.insert(Role::Admin, find(&|u| u.role == Role::Admin));
    Scene {
        dispatched: dispatched.incident,
        undispatched: undispatched.incident,
        _dir: dir,
        storage,
        demo,
        cal,
        users,
    }
}

impl Scene {
    fn session(&self, role: Role) -> Session {
        Session {
            device_id: format!("tablet-{role:?}"),
            user: self.users[&role].clone(),
            actor: None,
        }
    }

    fn console(&self, role: Role) -> ConsoleUser {
        let session = self.session(role);
        let scope_path = scope_path(&self.storage, &session.user).unwrap().unwrap();
        ConsoleUser {
            session: Session {
                device_id: format!("console-{role:?}"),
                ..session
            },
            actor: automerge::ActorId::random(),
            scope_path,
        }
    }

    /// One record of each kind in the worker's grid, with the class the
    /// table files it under, and whether a handler needs it.
    fn samples(&self) -> Vec<(&'static str, Uuid, Class, bool)> {
        let grid = &self.users[&Role::GridWorker].grid;
        let first = |kind: RecordKind| {
            self.demo
                .records()
                .find(|r| r.kind() == kind && &r.meta().grid == grid)
                .map(|r| r.meta().id)
                .expect("the demo has one in the grid")
        };
        vec![
            ("household", first(RecordKind::Household), Class::S, false),
            ("resident", first(RecordKind::Resident), Class::S, false),
            ("patrol", first(RecordKind::Patrol), Class::S, false),
            ("visit", first(RecordKind::Visit), Class::Pi, false),
            ("dispatched incident", self.dispatched, Class::Pi, true),
            ("other incident", self.undispatched, Class::Pi, false),
            (
                "parties",
                IncidentParties::id_for(self.dispatched),
                Class::S,
                false,
            ),
        ]
    }
}

#[test]
fn device_channels_send_a_document_only_if_every_class_it_holds_is_clear() {
    let s = scene();
    for role in ROLES {
        let session = s.session(role);
        for channel in [Channel::DeviceSync, Channel::Repair, Channel::Blobs] {
            // A photo goes where its record goes on sync.
            let record_channel = match channel {
                Channel::Blobs => Channel::DeviceSync,
                c => c,
            };
            let open = expected(role, channel, Class::Plain) == Clear;
            for (what, id, class, handler_needs) in s.samples() {
                let need = role != Role::DepartmentHandler || handler_needs;
                let want = open && expected(role, record_channel, class) == Clear && need;
                let got = device_doc(&s.storage, &s.cal, &session, id, channel)
                    .unwrap()
                    .is_some();
                assert_eq!(
                    got,
                    want,
                    "{} ({what})",
                    cell_name(role, record_channel, class)
                );
            }
        }
    }
}

#[test]
fn a_document_with_parties_in_its_history_is_not_sent_where_s_is_withheld() {
    let s = scene();
    s.storage.mark_pi_history(s.dispatched).unwrap();
    for role in ROLES {
        let got = device_doc(
            &s.storage,
            &s.cal,
            &s.session(role),
            s.dispatched,
            Channel::DeviceSync,
        )
        .unwrap()
        .is_some();
        let want = expected(role, Channel::DeviceSync, Class::S) == Clear;
        assert_eq!(
            got,
            want,
            "{}",
            cell_name(role, Channel::DeviceSync, Class::S)
        );
    }
}

/// A push's photo references are judged by where the pushing session may
/// read photos: a device where the record goes to it on the blobs channel,
/// the console where the record's page is the user's. The two differ for
/// a handler's dispatched incident that once held parties.
#[test]
fn photos_are_readable_where_the_record_goes_to_the_session() {
    let s = scene();
    s.storage.mark_pi_history(s.dispatched).unwrap();
    for role in ROLES {
        let device = s.session(role);
        let console = s.console(role);
        for (what, id, _, _) in s.samples() {
            let got = photos_readable(&s.storage, &s.cal, &device, id).unwrap();
            let want = device_doc(&s.storage, &s.cal, &device, id, Channel::Blobs)
                .unwrap()
                .is_some();
            assert_eq!(got, want, "{role:?} device, {what}");
            let got = photos_readable(&s.storage, &s.cal, &console.session, id).unwrap();
            let want =
                may_use_console(role) && console_record(&s.storage, &s.cal, &console, id).is_ok();
            assert_eq!(got, want, "{role:?} console, {what}");
        }
    }
    let handler = Role::DepartmentHandler;
    assert!(!photos_readable(&s.storage, &s.cal, &s.session(handler), s.dispatched).unwrap());
    assert!(
        photos_readable(
            &s.storage,
            &s.cal,
            &s.console(handler).session,
            s.dispatched
        )
        .unwrap()
    );
}

#[test]
fn the_console_shows_what_the_role_needs_with_parties_as_the_table_allows() {
    let s = scene();
    let id_number = |p: &Json| p["id_number"].as_str().unwrap_or_default().to_string();
    for role in [
        Role::CommunitySupervisor,
        Role::StreetSupervisor,
        Role::DepartmentHandler,
        Role::Admin,
    ] {
        let who = s.console(role);
        // The household: not a handler's business.
        let (_, household, _, _) = s.samples()[0];
        let got = console_record(&s.storage, &s.cal, &who, household).is_ok();
        assert_eq!(got, role != Role::DepartmentHandler, "{role:?} household");
        let got = console_record(&s.storage, &s.cal, &who, s.undispatched).is_ok();
        assert_eq!(
            got,
            role != Role::DepartmentHandler,
            "{role:?} other incident"
        );

        let (loaded, _, _) = console_record(&s.storage, &s.cal, &who, s.dispatched).unwrap();
        let json = serde_json::to_value(&loaded.record).unwrap();
        assert!(json.get("parties").is_none(), "the incident holds none");
        for reveal in [Reveal::MASKED, reveal_allowed(role)] {
            let page =
                with_parties(&s.storage, &s.cal, &who, &loaded.record, json.clone()).unwrap();
            let page = privacy::mask_record(RecordKind::Incident, &page, reveal);
            let parties = page["parties"].as_array().unwrap();
            assert!(!parties.is_empty(), "{role:?}: the parties are on the page");
            let stored = &s
                .demo
                .incident_parties
                .iter()
                .find(|p| p.incident == s.dispatched)
                .unwrap()
                .parties;
            for (shown, held) in parties.iter().zip(stored) {
                let s_cell = cell_name(role, Channel::ConsolePage, Class::S);
                match expected(role, Channel::ConsolePage, Class::S) {
                    Nothing => assert_eq!(id_number(shown), "", "{s_cell}"),
                    _ if reveal.s => assert_eq!(id_number(shown), held.id_number, "{s_cell}"),
                    _ => assert_eq!(
                        id_number(shown),
                        privacy::mask_id_number(&held.id_number, reveal.pi),
                        "{s_cell}: masked"
                    ),
                }
                let pi_cell = cell_name(role, Channel::ConsolePage, Class::Pi);
                let name = shown["name"].as_str().unwrap_or_default();
                if reveal.pi {
                    assert_eq!(name, held.name, "{pi_cell}: revealed");
                } else {
                    assert_eq!(name, privacy::mask_name(&held.name), "{pi_cell}: masked");
                }
            }
        }
    }
    // The parties record itself is nobody's list line.
    let who = s.console(Role::StreetSupervisor);
    let listed_kinds: Vec<RecordKind> = s
        .storage
        .projections_in(&who.scope_path, &RecordKind::ALL)
        .unwrap()
        .into_iter()
        .map(|p| Summary::from_row(p.row, p.updated_at))
        .filter(|summary| listed(&who.session.user, summary))
        .map(|summary| summary.kind)
        .collect();
    assert!(!listed_kinds.contains(&RecordKind::IncidentParties));
    assert!(listed_kinds.contains(&RecordKind::Incident));
}

#[test]
fn the_ledger_gets_a_handlers_parties_without_id_numbers() {
    let s = scene();
    for role in [Role::StreetSupervisor, Role::DepartmentHandler] {
        let user = &s.users[&role];
        let scope = scope_path(&s.storage, user).unwrap().unwrap();
        for channel in [Channel::ConsoleList, Channel::Export] {
            let parties =
                ledger_parties(&s.storage, &s.cal, user, &scope, &[s.dispatched], channel).unwrap();
            let of_dispatched = &parties[&s.dispatched];
            let any_id = of_dispatched.iter().any(|p| !p.id_number.is_empty());
            let held_id = s
                .demo
                .incident_parties
                .iter()
                .find(|p| p.incident == s.dispatched)
                .is_some_and(|p| p.parties.iter().any(|p| !p.id_number.is_empty()));
            let s_cell = expected(role, channel, Class::S);
            assert_eq!(
                any_id,
                held_id && s_cell != Nothing,
                "{}",
                cell_name(role, channel, Class::S)
            );
        }
    }
}

#[test]
fn scope_is_the_subtree_and_nothing_beside_it() {
    assert!(within("/44/4401/440106/", "/44/4401/"));
    assert!(within("/44/4401/", "/44/4401/"));
    // A sibling whose code starts the same is not inside.
    assert!(!within("/44/44011/", "/44/4401/"));
    let s = scene();
    let cs = &s.users[&Role::CommunitySupervisor];
    let scope = scope_path(&s.storage, cs).unwrap().unwrap();
    let other = s
        .demo
        .users
        .iter()
        .find(|u| u.role == Role::CommunitySupervisor && u.id != cs.id)
        .unwrap();
    assert!(grid_within(&s.storage, &cs.grid, &scope).unwrap());
    assert!(!grid_within(&s.storage, &other.grid, &scope).unwrap());
    assert!(!grid_within(&s.storage, "no-such-grid", &scope).unwrap());
    assert_eq!(
        narrowed(&s.storage, &scope, None).unwrap(),
        Some(scope.clone())
    );
    assert_eq!(
        narrowed(&s.storage, &scope, Some(&other.grid)).unwrap(),
        None
    );
    let mine = &s.users[&Role::GridWorker].grid;
    assert!(narrowed(&s.storage, &scope, Some(mine)).unwrap().is_some());
    // A record of the other community is not found in the console.
    let theirs = s
        .demo
        .households
        .iter()
        .find(|h| h.meta.grid.starts_with(&other.grid))
        .unwrap();
    let who = s.console(Role::CommunitySupervisor);
    assert!(matches!(
        console_record(&s.storage, &s.cal, &who, theirs.meta.id),
        Err(RecordError::NotFound)
    ));
}

#[test]
fn a_push_may_not_put_parties_where_their_readers_may_not_see_them() {
    use gridwork_core::doc::Author;
    use gridwork_core::model::IncidentWithParties;

    let s = scene();
    let worker = s.session(Role::GridWorker);
    let incident = s
        .demo
        .incidents
        .iter()
        .find(|i| i.meta.id == s.dispatched)
        .unwrap()
        .clone();
    let actor = automerge::ActorId::random();
    let author = Author::new(worker.user.id.clone(), 0);

    // An incident carrying its parties itself, as no app writes any more.
    let mut fresh = incident.clone();
    fresh.meta.id = Uuid::now_v7();
    let old = IncidentWithParties {
        incident: fresh.clone(),
        parties: vec![party()],
    };
    let mut doc = RecordDoc::create(&old, actor.clone(), &author).unwrap();
    let after = AnyRecord::Incident(fresh.clone());
    let refused = refused_push(&s.storage, &worker, None, doc.automerge(), &after).unwrap();
    assert_eq!(refused, Some(PushRefused::PartiesInIncident));
    // Without parties it passes.
    let mut doc = RecordDoc::create(&fresh, actor.clone(), &author).unwrap();
    let refused = refused_push(&s.storage, &worker, None, doc.automerge(), &after).unwrap();
    assert_eq!(refused, None);

    // A parties record: its incident's creator makes it, in its grid;
    // nobody else does.
    let parties = IncidentParties::of(&incident, vec![party()], &incident.meta.created_by, 0);
    let mut doc = RecordDoc::create(&parties, actor.clone(), &author).unwrap();
    let after = AnyRecord::IncidentParties(parties.clone());
    let creator = Session {
        device_id: "tablet".into(),
        user: User {
            id: incident.meta.created_by.clone(),
            ..worker.user.clone()
        },
        actor: None,
    };
    let check = |session: &Session, doc: &mut RecordDoc, after: &AnyRecord| {
        refused_push(&s.storage, session, None, doc.automerge(), after).unwrap()
    };
    assert_eq!(check(&creator, &mut doc, &after), None);
    let supervisor = s.session(Role::CommunitySupervisor);
    assert_eq!(
        check(&supervisor, &mut doc, &after),
        Some(PushRefused::PartiesNotByCreator)
    );
    let server = Session {
        device_id: crate::auth::SERVER_DEVICE.into(),
        user: User {
            id: SERVER_USER.into(),
            ..worker.user.clone()
        },
        actor: None,
    };
    assert_eq!(check(&server, &mut doc, &after), None);
    let mut elsewhere = parties.clone();
    elsewhere.meta.grid = s.users[&Role::CommunitySupervisor].grid.clone();
    let after = AnyRecord::IncidentParties(elsewhere);
    assert_eq!(
        check(&creator, &mut doc, &after),
        Some(PushRefused::PartiesOutsideGrid(incident.meta.grid.clone()))
    );
}
