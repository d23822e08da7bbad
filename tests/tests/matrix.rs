//! Who may do what, where: every role of the demo community against every
//! kind of action, in their own grid, a sibling grid of the same community
//! and a grid of another community, against a real `gridwork-server`.
//!
//! The policy is written once, in the tables below (`CREATE`, `EDIT`,
//! `MOVE`, `READ`, `TASK_CREATE`, `TASK_EDIT`, `TRANSITIONS`), so a person
//! can read it. For every cell
//! the test makes the change on the role's own device (bypassing the
//! device's checks, as a tampered tablet would), syncs, and asserts:
//! - `Stored`: nothing refused, no notice, and an observer (the street
//!   supervisor's second tablet, which sees grids A, B and C) holds the
//!   very change;
//! - `Refused(code)`: refused with that code and the server holds none of
//!   it;
//! - `Noted(code)`: stored, and the device told why (a transition kept but
//!   not applied, a forbidden edit undone by the server's compensating
//!   change, which the device holds after the same sync);
//! - `NoDevice`: the role has no tablet at all (admins: `/v1/login`
//!   answers 403 `role_not_allowed`).
//!
//! After every sync, every record the answer brought must lie in the
//! user's grids (and be of a kind the role may see): nothing leaks.

use std::collections::HashMap;

use anyhow::Result;
use automerge::ChangeHash;
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::fieldwork::tasks::tick_task;
use gridwork_core::model::{
    GeoPoint, Household, Incident, IncidentParties, Meta, Party, RecordKind, Resident,
    ReviewDecision, ReviewEntry, Role, Task, TaskItem, TaskKind, User,
};
use gridwork_core::store::ListQuery;
use gridwork_core::sync::client::Progress;
use gridwork_core::workflow::{self, Action, Actor, Assignee, AssigneeKind, Level};
use gridwork_tests::{Device, NOW, Server, community, today};
use uuid::Uuid;

/// The roles of the demo community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    /// The grid worker of grid A.
    Worker,
    /// The supervisor of A's community (A and B, not C).
    Community,
    /// The street supervisor (A, B, C).
    Street,
    /// A department handler (城管), assigned the street.
    Handler,
    /// The admin, assigned the district.
    Admin,
}

const EVERYONE: [Who; 5] = [
    Who::Worker,
    Who::Community,
    Who::Street,
    Who::Handler,
    Who::Admin,
];

/// What must come of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Stored, visible to others, nothing said.
    Stored,
    /// Refused outright with this code; nothing stored.
    Refused(&'static str),
    /// Stored, and a notice with this code (for `transition_refused`, the
    /// workflow rule's code, e.g. `role_not_allowed`).
    Noted(&'static str),
    /// Never reaches the actor's tablet (a department handler and an
    /// incident not dispatched to them); pushed anyway, as a tampered
    /// tablet that got hold of it would, refused as `outside_scope`.
    Hidden,
    /// The actor has no tablet: `/v1/login` refuses admins (403
    /// `role_not_allowed`), who sync no records to a device; what they may
    /// decide, they decide in the console.
    NoDevice,
}
use Want::{Hidden, NoDevice, Noted, Refused, Stored};

const OUT: Want = Refused("outside_scope");
const ROLE: Want = Refused("role_not_allowed");

// ---------------------------------------------------------------- policy
// Columns: grid A (the worker's own), grid B (a sibling grid in the same
// community), grid C (a grid of another community).

/// Creating a household, a resident or an incident in each grid.
const CREATE: [(Who, [Want; 3]); 5] = [
    (Who::Worker, [Stored, OUT, OUT]),
    (Who::Community, [Stored, Stored, OUT]),
    (Who::Street, [Stored, Stored, Stored]),
    // Handlers work on dispatched incidents; they register nothing.
    (Who::Handler, [ROLE, ROLE, ROLE]),
    (Who::Admin, [NoDevice, NoDevice, NoDevice]),
];

/// Editing a field of someone else's household in each grid.
const EDIT: [(Who, [Want; 3]); 5] = [
    (Who::Worker, [Stored, OUT, OUT]),
    (Who::Community, [Stored, Stored, OUT]),
    (Who::Street, [Stored, Stored, Stored]),
    (Who::Handler, [ROLE, ROLE, ROLE]),
    (Who::Admin, [NoDevice, NoDevice, NoDevice]),
];

/// Moving a household of grid A into grid A (no move), B and C.
const MOVE: [(Who, [Want; 3]); 5] = [
    (Who::Worker, [Stored, OUT, OUT]),
    (Who::Community, [Stored, Stored, OUT]),
    (Who::Street, [Stored, Stored, Stored]),
    (Who::Handler, [ROLE, ROLE, ROLE]),
    (Who::Admin, [NoDevice, NoDevice, NoDevice]),
];

/// Which grids' households and incidents each role receives.
const READ: [(Who, [bool; 3], [bool; 3]); 5] = [
    //                households             incidents
    (Who::Worker, [true, false, false], [true, false, false]),
    (Who::Community, [true, true, false], [true, true, false]),
    (Who::Street, [true, true, true], [true, true, true]),
    // The register's personal data is not the departments' business, and
    // incidents are theirs only once dispatched to them (checked apart).
    (Who::Handler, [false, false, false], [false, false, false]),
    // Admins have no tablet: they receive nothing on a device.
    (Who::Admin, [false, false, false], [false, false, false]),
];

/// Creating a task from above (a checklist) in each grid: supervisors and
/// admins issue them within their subtree; grid staff and handlers never.
const TASK_CREATE: [(Who, [Want; 3]); 5] = [
    (Who::Worker, [ROLE, OUT, OUT]),
    (Who::Community, [Stored, Stored, OUT]),
    (Who::Street, [Stored, Stored, Stored]),
    (Who::Handler, [ROLE, ROLE, ROLE]),
    (Who::Admin, [NoDevice, NoDevice, NoDevice]),
];

/// On a task of grid A the community supervisor issued: ticking a line,
/// and retitling the task. A worker only ticks; the retitle is undone.
const TASK_EDIT: [(Who, Want, Want); 5] = [
    //               tick     retitle
    (Who::Worker, Stored, Noted("field_not_allowed")),
    (Who::Community, Stored, Stored),
    (Who::Street, Stored, Stored),
    // Handlers never receive tasks; a tampered tablet's edit is refused.
    (Who::Handler, ROLE, ROLE),
    (Who::Admin, NoDevice, NoDevice),
];

/// The incident's state before the action, made by the right people.
#[derive(Debug, Clone, Copy)]
enum Setup {
    /// Reported by grid A's worker.
    Reported,
    /// Reported, accepted by the community supervisor.
    Accepted,
    /// Accepted, dispatched to 城管.
    Dispatched,
    /// Reported and resolved on the spot by grid A's worker.
    Resolved,
    /// Resolved, verified by the community supervisor.
    Verified,
    /// Reported and resolved on the spot by the acting user themself.
    ResolvedByActor,
    /// Like `ResolvedByActor`, then verified by the street supervisor (or,
    /// when the actor is the street supervisor, the community supervisor).
    VerifiedForActor,
}

/// Workflow transitions on an incident of grid A (C: refused for whoever
/// does not hold C, see [`transitions_outside_the_grid_are_refused`]).
/// `Noted` means stored, kept in the timeline, not applied.
/// An action, the state it needs, and what comes of it for each role.
type TransitionRow = (&'static str, Setup, [(Who, Want); 5]);

const TRANSITIONS: [TransitionRow; 9] = [
    (
        "accept",
        Setup::Reported,
        [
            (Who::Worker, Noted("role_not_allowed")),
            (Who::Community, Stored),
            (Who::Street, Stored),
            (Who::Handler, Hidden),
            (Who::Admin, NoDevice),
        ],
    ),
    (
        "return",
        Setup::Reported,
        [
            (Who::Worker, Noted("role_not_allowed")),
            (Who::Community, Stored),
            (Who::Street, Stored),
            (Who::Handler, Hidden),
            (Who::Admin, NoDevice),
        ],
    ),
    (
        "dispatch",
        Setup::Accepted,
        [
            (Who::Worker, Noted("role_not_allowed")),
            (Who::Community, Stored),
            (Who::Street, Stored),
            (Who::Handler, Hidden),
            (Who::Admin, NoDevice),
        ],
    ),
    (
        "start",
        Setup::Dispatched,
        [
            (Who::Worker, Noted("not_assignee")),
            (Who::Community, Stored),
            (Who::Street, Stored),
            (Who::Handler, Stored),
            (Who::Admin, NoDevice),
        ],
    ),
    (
        "escalate",
        Setup::Reported,
        [
            (Who::Worker, Stored),
            (Who::Community, Stored),
            (Who::Street, Stored),
            (Who::Handler, Hidden),
            (Who::Admin, NoDevice),
        ],
    ),
    (
        "verify",
        Setup::Resolved,
        [
            (Who::Worker, Noted("role_not_allowed")),
            (Who::Community, Stored),
            (Who::Street, Stored),
            (Who::Handler, Hidden),
            (Who::Admin, NoDevice),
        ],
    ),
    (
        "close",
        Setup::Verified,
        [
            (Who::Worker, Noted("role_not_allowed")),
            (Who::Community, Stored),
            (Who::Street, Stored),
            (Who::Handler, Hidden),
            (Who::Admin, NoDevice),
        ],
    ),
    (
        "verify own",
        Setup::ResolvedByActor,
        [
            (Who::Worker, Noted("role_not_allowed")),
            (Who::Community, Noted("own_work")),
            (Who::Street, Noted("own_work")),
            // A handler cannot report (create) an incident at all.
            (Who::Handler, Refused("role_not_allowed")),
            (Who::Admin, NoDevice),
        ],
    ),
    (
        "close own",
        Setup::VerifiedForActor,
        [
            (Who::Worker, Noted("role_not_allowed")),
            (Who::Community, Noted("own_work")),
            (Who::Street, Noted("own_work")),
            (Who::Handler, Refused("role_not_allowed")),
            (Who::Admin, NoDevice),
        ],
    ),
];

// ---------------------------------------------------------------- harness

/// The users and grids of the matrix, taken from the demo community.
struct Cast {
    users: HashMap<Who, &'static User>,
    /// Grid A, its sibling B, and C in another community.
    grids: [String; 3],
    /// The workers of B and C, who own records there.
    worker_b: &'static User,
    worker_c: &'static User,
}

impl Cast {
    fn new() -> Cast {
        let users = &community().users;
        let find = |f: &dyn Fn(&User) -> bool| users.iter().find(|u| f(u)).expect("in the demo");
        let worker = find(&|u| u.role == Role::GridWorker);
        let sup = community()
            .supervisor_of(&worker.grid)
            .expect("the worker's supervisor");
        let worker_b = find(&|u| {
            u.role == Role::GridWorker && u.id != worker.id && u.grid.starts_with(&sup.grid)
        });
        let worker_c = find(&|u| u.role == Role::GridWorker && !u.grid.starts_with(&sup.grid));
        let mut map = HashMap::new();
        map.insert(Who::Worker, worker);
        map.insert(Who::Community, sup);
        map.insert(Who::Street, find(&|u| u.role == Role::StreetSupervisor));
        map.insert(Who::Handler, find(&|u| u.role == Role::DepartmentHandler));
        map.insert(Who::Admin, find(&|u| u.role == Role::Admin));
        Cast {
            users: map,
            grids: [
                worker.grid.clone(),
                worker_b.grid.clone(),
                worker_c.grid.clone(),
            ],
            worker_b,
            worker_c,
        }
    }

    fn user(&self, who: Who) -> &'static User {
        self.users[&who]
    }
}

/// A tablet per role that has one, plus the street supervisor's second
/// tablet as an observer of what the server holds.
struct World {
    cast: Cast,
    server: Server,
    devices: HashMap<Who, Device>,
    others: HashMap<String, Device>,
    observer: Device,
    cal: WorkCalendar,
}

impl World {
    async fn start() -> Result<World> {
        let cast = Cast::new();
        let server = Server::start()?;
        let mut devices = HashMap::new();
        for who in EVERYONE {
            if who == Who::Admin {
                assert_login_refused(&server, &cast.user(who).id).await?;
                continue;
            }
            devices.insert(who, Device::enrol(&server, &cast.user(who).id).await?);
        }
        let mut others = HashMap::new();
        for user in [cast.worker_b, cast.worker_c] {
            others.insert(user.id.clone(), Device::enrol(&server, &user.id).await?);
        }
        let observer = Device::enrol(&server, &cast.user(Who::Street).id).await?;
        Ok(World {
            cast,
            server,
            devices,
            others,
            observer,
            cal: WorkCalendar::bundled(),
        })
    }

    fn device(&mut self, who: Who) -> &mut Device {
        self.devices.get_mut(&who).expect("a device per role")
    }

    /// The device of whoever owns grid `g` (0 = A, 1 = B, 2 = C).
    fn owner(&mut self, g: usize) -> &mut Device {
        match g {
            0 => self.devices.get_mut(&Who::Worker).expect("worker"),
            1 => self
                .others
                .get_mut(&self.cast.worker_b.id)
                .expect("worker b"),
            _ => self
                .others
                .get_mut(&self.cast.worker_c.id)
                .expect("worker c"),
        }
    }

    /// Syncs `who`'s device and checks the answer brought nothing from
    /// outside their grids.
    async fn sync(&mut self, who: Who) -> Result<Progress> {
        let user = self.cast.user(who);
        let device = self.device(who);
        let progress = device.sync().await?;
        assert_in_scope(device, user, &progress)?;
        Ok(progress)
    }

    /// The observer's copy of a record after syncing, if the server has it.
    async fn observed(&mut self, id: Uuid) -> Result<Option<RecordDoc>> {
        self.observer.sync().await?;
        Ok(self.observer.store.load(id)?)
    }

    /// Syncs `who` after their change and checks the outcome against `want`.
    async fn expect(
        &mut self,
        who: Who,
        what: &str,
        id: Uuid,
        made: &[ChangeHash],
        want: Want,
    ) -> Result<Progress> {
        assert!(!made.is_empty(), "{what}: {who:?} made no change");
        let progress = self.sync(who).await?;
        let rejected: Vec<&str> = progress
            .rejected
            .iter()
            .filter(|r| r.doc == id)
            .map(|r| r.code.as_str())
            .collect();
        let noted: Vec<String> = progress
            .notices
            .iter()
            .filter(|n| n.doc == id)
            .map(|n| format!("{} {:?}", n.code, n.params))
            .collect();
        let held = match self.observed(id).await? {
            Some(mut doc) => made
                .iter()
                .all(|h| doc.automerge().get_change_by_hash(h).is_some()),
            None => false,
        };
        let context = format!("{what} by {who:?}: rejected {rejected:?}, notices {noted:?}");
        match want {
            Stored => {
                assert!(rejected.is_empty() && noted.is_empty(), "{context}");
                assert!(held, "{context}: the server must hold the change");
            }
            Refused(_) | Hidden => {
                let code = match want {
                    Refused(code) => code,
                    _ => "outside_scope",
                };
                assert_eq!(rejected, [code], "{context}");
                assert!(!held, "{context}: the server must hold none of it");
            }
            NoDevice => unreachable!("{context}: no device to act on"),
            Noted(code) => {
                assert!(rejected.is_empty(), "{context}");
                assert!(
                    noted.iter().any(|n| n.contains(code)),
                    "{context}: a notice naming {code}"
                );
                assert!(held, "{context}: stored, so nothing is wedged");
            }
        }
        assert_eq!(
            self.device(who).store.pending_count()?,
            0,
            "{context}: the outbox is settled"
        );
        Ok(progress)
    }
}

/// `/v1/login` refuses `user` with the right password: 403
/// `role_not_allowed`, a message in Chinese first.
async fn assert_login_refused(server: &Server, user: &str) -> Result<()> {
    let response = reqwest_client()
        .post(format!("{}/v1/login", server.url()))
        .json(&serde_json::json!({
            "user": user,
            "password": gridwork_tests::PASSWORD,
            "device_name": "管理员的平板",
        }))
        .send()
        .await?;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("role_not_allowed")),
        "{body}"
    );
    // The app shows the code in the user's language (console_only_account
    // in ui/src/i18n); the message is for developers, in one language.
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.is_ascii(), "one language: {message}");
    Ok(())
}

fn in_scope(user: &User, grid: &str) -> bool {
    grid.starts_with(&user.grid)
}

fn kind_visible(user: &User, kind: RecordKind) -> bool {
    user.role != Role::DepartmentHandler || kind == RecordKind::Incident
}

/// Every record a sync brought must be in the user's grids and of a kind
/// their role sees.
fn assert_in_scope(device: &Device, user: &User, progress: &Progress) -> Result<()> {
    for id in &progress.changed {
        let Some(doc) = device.store.load(*id)? else {
            continue;
        };
        let record = doc.read_any()?;
        assert!(
            in_scope(user, &record.meta().grid) && kind_visible(user, record.kind()),
            "{} received {} {id} of grid {}",
            user.id,
            record.kind(),
            record.meta().grid
        );
    }
    Ok(())
}

fn author(user: &User) -> Author {
    Author::new(user.id.clone(), NOW)
}

/// A point of the demo inside `grid` (a record's point must lie in its
/// grid).
fn point_in(grid: &str) -> Option<GeoPoint> {
    community()
        .households
        .iter()
        .find(|h| h.meta.grid == grid)
        .and_then(|h| h.point.clone())
}

fn new_household(grid: &str, by: &str) -> Household {
    let mut h = community().households[0].clone();
    h.meta = Meta::new(grid, by, NOW);
    h.point = point_in(grid);
    h.review.clear();
    h
}

fn new_resident(grid: &str, by: &str, household: Uuid) -> Resident {
    let mut r = community().residents[0].clone();
    r.meta = Meta::new(grid, by, NOW);
    r.household_id = Some(household);
    r.review.clear();
    r
}

fn new_task(grid: &str, by: &str) -> Task {
    Task {
        meta: Meta::new(grid, by, NOW),
        campaign: Uuid::now_v7(),
        title: "冬季消防安全检查".into(),
        description: String::new(),
        kind: TaskKind::Checklist,
        due: "2026-05-22".into(),
        issued_by: by.into(),
        issued_at: NOW,
        filter: None,
        items: vec![TaskItem::open("检查楼道电动车", None)],
    }
}

fn new_incident(grid: &str, by: &str) -> Incident {
    let mut i = community().incidents[0].clone();
    i.meta = Meta::new(grid, by, NOW);
    i.point = point_in(grid);
    i.number = format!("SJ-{}", i.meta.id.simple());
    i.log.clear();
    i
}

/// Every change of a record on a device.
fn all_changes(device: &Device, id: Uuid) -> Result<Vec<ChangeHash>> {
    let mut doc = device.store.load(id)?.expect("the record is on the device");
    Ok(doc.changes_since(&[]).iter().map(|c| c.hash()).collect())
}

/// Edits a record through the document API (no checks, as a tampered
/// tablet would) and returns the new changes' hashes.
fn tamper(
    device: &mut Device,
    id: Uuid,
    edit: impl FnOnce(&mut RecordDoc) -> Result<()>,
) -> Result<Vec<ChangeHash>> {
    let mut doc = device.store.load(id)?.expect("the record is on the device");
    let before = doc.heads();
    edit(&mut doc)?;
    let made: Vec<ChangeHash> = doc
        .changes_since(&before)
        .iter()
        .map(|c| c.hash())
        .collect();
    device.store.save_doc(&mut doc)?;
    Ok(made)
}

/// Appends a transition by `user` without the device's check: `to` is what
/// the rules would give, or the current status when they refuse.
fn append(
    i: &mut Incident,
    cal: &WorkCalendar,
    user: &User,
    action: Action,
    opinion: &str,
    photos: Vec<String>,
) {
    let state = workflow::derive(i, cal);
    let to = workflow::check(
        &state,
        &i.meta.created_by,
        Actor {
            user: &user.id,
            role: user.role,
        },
        &action,
        opinion,
        &photos,
    )
    .unwrap_or(state.status);
    i.log.push(workflow::Transition {
        action,
        actor: user.id.clone(),
        role: user.role,
        from: state.status,
        to,
        opinion: opinion.into(),
        photos,
        at: NOW,
        received_at: None,
    });
}

fn party() -> Party {
    Party {
        name: "欧阳·娜娜".into(),
        phone: "13812345678".into(),
        id_number: "11010119900307803X".into(),
        role: "申请人".into(),
    }
}

fn photo() -> Vec<String> {
    vec!["ab".repeat(32)]
}

fn to_chengguan() -> Action {
    Action::Dispatch {
        to: Assignee {
            kind: AssigneeKind::Department,
            // As the console names departments: the handler's `department`.
            id: "城管".into(),
            name: "城管".into(),
        },
        deadline_days: 5,
    }
}

fn action_named(name: &str) -> (Action, &'static str, Vec<String>) {
    match name {
        "accept" => (Action::Accept, "", vec![]),
        "return" => (Action::Return, "地址不详，请补充", vec![]),
        "dispatch" => (to_chengguan(), "", vec![]),
        "start" => (Action::Start, "", vec![]),
        "escalate" => (Action::Escalate { to: Level::Street }, "", vec![]),
        "verify" | "verify own" => (Action::Verify, "", vec![]),
        "close" | "close own" => (Action::Close, "", vec![]),
        other => panic!("no action {other}"),
    }
}

impl World {
    /// A legitimate step by `who`: synced first, checked by the rules,
    /// stored with nothing said.
    async fn step(
        &mut self,
        who: Who,
        id: Uuid,
        action: Action,
        opinion: &str,
        photos: Vec<String>,
    ) -> Result<()> {
        self.sync(who).await?;
        let user = self.cast.user(who);
        let cal = self.cal.clone();
        let device = self.device(who);
        let mut doc = device
            .store
            .load(id)?
            .expect("the incident reached the actor");
        doc.update::<Incident>(&author(user), |i| {
            workflow::transition(
                i,
                &cal,
                Actor {
                    user: &user.id,
                    role: user.role,
                },
                action,
                opinion,
                photos,
                NOW,
            )
            .expect("a legitimate step");
        })?;
        device.store.save_doc(&mut doc)?;
        let p = self.sync(who).await?;
        assert!(p.rejected.is_empty() && p.notices.is_empty(), "{p:?}");
        Ok(())
    }

    /// An incident of grid A in the state `setup`, for an action by `who`.
    /// `None` when `who` cannot make the incident the setup needs.
    async fn incident_for(&mut self, setup: Setup, who: Who) -> Result<Option<Uuid>> {
        let reporter = match setup {
            Setup::ResolvedByActor | Setup::VerifiedForActor => who,
            _ => Who::Worker,
        };
        let user = self.cast.user(reporter);
        let incident = new_incident(&self.cast.grids[0], &user.id);
        let id = incident.meta.id;
        self.device(reporter)
            .store
            .insert(incident, &author(user), today())?;
        let p = self.sync(reporter).await?;
        if !p.rejected.is_empty() {
            return Ok(None);
        }
        self.step(reporter, id, Action::Report, "", vec![]).await?;
        match setup {
            Setup::Reported => {}
            Setup::Accepted | Setup::Dispatched => {
                self.step(Who::Community, id, Action::Accept, "", vec![])
                    .await?;
                if matches!(setup, Setup::Dispatched) {
                    self.step(Who::Community, id, to_chengguan(), "", vec![])
                        .await?;
                }
            }
            Setup::Resolved
            | Setup::Verified
            | Setup::ResolvedByActor
            | Setup::VerifiedForActor => {
                self.step(reporter, id, Action::ResolveOnSpot, "", photo())
                    .await?;
                let verifier = if reporter == Who::Street {
                    Who::Community
                } else {
                    Who::Street
                };
                if matches!(setup, Setup::Verified) {
                    self.step(Who::Community, id, Action::Verify, "", vec![])
                        .await?;
                } else if matches!(setup, Setup::VerifiedForActor) {
                    self.step(verifier, id, Action::Verify, "", vec![]).await?;
                }
            }
        }
        Ok(Some(id))
    }

    /// A household of grid `g` made by someone other than `actor`: the
    /// grid's worker, or in grid A, when the actor is that worker, the
    /// community supervisor.
    async fn someone_elses_household(&mut self, g: usize, actor: Who) -> Result<Uuid> {
        let grid = self.cast.grids[g].clone();
        let by = match g {
            0 if actor == Who::Worker => self.cast.user(Who::Community),
            0 => self.cast.user(Who::Worker),
            1 => self.cast.worker_b,
            _ => self.cast.worker_c,
        };
        let device = match g {
            0 if actor == Who::Worker => self.device(Who::Community),
            _ => self.owner(g),
        };
        let h = new_household(&grid, &by.id);
        let id = h.meta.id;
        device.store.insert(h, &author(by), today())?;
        let p = device.sync().await?;
        assert!(p.rejected.is_empty(), "{p:?}");
        Ok(id)
    }
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_editing_and_moving_records_follow_the_grid_and_role_matrix() -> Result<()> {
    let mut w = World::start().await?;

    for (who, row) in CREATE {
        let user = w.cast.user(who);
        for (g, want) in row.into_iter().enumerate() {
            if want == NoDevice {
                continue;
            }
            let grid = w.cast.grids[g].clone();
            let h = new_household(&grid, &user.id);
            let hid = h.meta.id;
            let r = new_resident(&grid, &user.id, hid);
            let i = new_incident(&grid, &user.id);
            let (rid, iid) = (r.meta.id, i.meta.id);
            let a = author(user);
            let device = w.device(who);
            device.store.insert(h, &a, today())?;
            device.store.insert(r, &a, today())?;
            device.store.insert(i, &a, today())?;
            let made: Vec<(Uuid, Vec<ChangeHash>)> = [hid, rid, iid]
                .into_iter()
                .map(|id| Ok((id, all_changes(device, id)?)))
                .collect::<Result<_>>()?;
            // One sync for the three; each is judged on its own.
            let progress = w.sync(who).await?;
            for (id, changes) in made {
                let what = format!(
                    "create {} in grid {}",
                    w.observed_kind(id),
                    "ABC".as_bytes()[g] as char
                );
                judge(&mut w, who, &what, id, &changes, want, &progress).await?;
            }
        }
    }

    for (who, row) in EDIT {
        let user = w.cast.user(who);
        for (g, want) in row.into_iter().enumerate() {
            if want == NoDevice {
                continue;
            }
            let id = w.someone_elses_household(g, who).await?;
            // The actor's tablet holds the record as a tampered one would.
            let changes = w.observer_changes_after_sync(id).await?;
            let device = w.device(who);
            device.store.apply_remote(id, changes)?;
            let made = tamper(device, id, |doc| {
                doc.update::<Household>(&author(user), |h| h.owner_name = "张改名".into())?;
                Ok(())
            })?;
            let what = format!(
                "edit someone else's household in grid {}",
                "ABC".as_bytes()[g] as char
            );
            w.expect(who, &what, id, &made, want).await?;
        }
    }

    for (who, row) in MOVE {
        let user = w.cast.user(who);
        for (g, want) in row.into_iter().enumerate() {
            if want == NoDevice {
                continue;
            }
            let id = w.someone_elses_household(0, who).await?;
            let changes = w.observer_changes_after_sync(id).await?;
            let to = w.cast.grids[g].clone();
            let device = w.device(who);
            device.store.apply_remote(id, changes)?;
            let made = tamper(device, id, |doc| {
                doc.update::<Household>(&author(user), |h| {
                    h.meta.grid = to.clone();
                    h.point = point_in(&to);
                    h.address.detail = "搬迁".into();
                })?;
                Ok(())
            })?;
            let what = format!(
                "move a household of grid A to grid {}",
                "ABC".as_bytes()[g] as char
            );
            w.expect(who, &what, id, &made, want).await?;
            let held = w
                .observed(id)
                .await?
                .expect("the household stays")
                .read::<Household>()?;
            let expected_grid = if want == Stored {
                &w.cast.grids[g]
            } else {
                &w.cast.grids[0]
            };
            assert_eq!(&held.meta.grid, expected_grid, "{what} by {who:?}");
        }
    }
    Ok(())
}

/// One record of a sync's answer against `want`.
async fn judge(
    w: &mut World,
    who: Who,
    what: &str,
    id: Uuid,
    made: &[ChangeHash],
    want: Want,
    progress: &Progress,
) -> Result<()> {
    let rejected: Vec<&str> = progress
        .rejected
        .iter()
        .filter(|r| r.doc == id)
        .map(|r| r.code.as_str())
        .collect();
    let held = match w.observed(id).await? {
        Some(mut doc) => made
            .iter()
            .all(|h| doc.automerge().get_change_by_hash(h).is_some()),
        None => false,
    };
    match want {
        Stored => {
            assert!(rejected.is_empty(), "{what} by {who:?}: {rejected:?}");
            assert!(held, "{what} by {who:?}: the server must hold it");
        }
        Refused(code) => {
            assert_eq!(rejected, [code], "{what} by {who:?}");
            assert!(!held, "{what} by {who:?}: the server must hold none of it");
        }
        Noted(_) | Hidden | NoDevice => unreachable!("creations are stored or refused"),
    }
    Ok(())
}

impl World {
    /// Every change of a record as the observer holds it.
    fn observer_changes(&mut self, id: Uuid) -> Result<Vec<automerge::Change>> {
        let mut doc = self
            .observer
            .store
            .load(id)?
            .expect("the observer holds it");
        Ok(doc.changes_since(&[]))
    }

    fn observed_kind(&self, id: Uuid) -> String {
        match self.observer.store.load(id) {
            Ok(Some(doc)) => doc.kind().to_string(),
            _ => "record".into(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_transitions_follow_the_role_matrix() -> Result<()> {
    let mut w = World::start().await?;
    for (name, setup, row) in TRANSITIONS {
        for (who, want) in row {
            if want == NoDevice {
                continue;
            }
            let Some(id) = w.incident_for(setup, who).await? else {
                assert!(
                    matches!(want, Refused(_)),
                    "{name} by {who:?}: the setup was refused"
                );
                continue;
            };
            w.sync(who).await?;
            let on_device = w.device(who).store.load(id)?.is_some();
            assert_eq!(
                on_device,
                want != Hidden,
                "{name} by {who:?}: the incident reaches the actor's tablet"
            );
            if !on_device {
                let changes = w.observer_changes_after_sync(id).await?;
                w.device(who).store.apply_remote(id, changes)?;
            }
            let held: Incident = w.observed(id).await?.expect("stored").read()?;
            let before_len = held.log.len();
            let before = workflow::derive(&held, &w.cal);
            let user = w.cast.user(who);
            let cal = w.cal.clone();
            let (action, opinion, photos) = action_named(name);
            let made = tamper(w.device(who), id, |doc| {
                doc.update::<Incident>(&author(user), |i| {
                    append(i, &cal, user, action, opinion, photos)
                })?;
                Ok(())
            })?;
            w.expect(who, name, id, &made, want).await?;
            if want == Hidden {
                continue;
            }
            let seen: Incident = w.observed(id).await?.expect("stored").read()?;
            let after = workflow::derive(&seen, &w.cal);
            let last = seen.log.last().expect("the entry is in the log");
            assert!(
                last.received_at.is_some(),
                "{name} by {who:?}: the server stamps receipt time"
            );
            assert_eq!(
                seen.log.len(),
                before_len + 1,
                "{name} by {who:?} is in the log"
            );
            match want {
                Stored => assert_eq!(
                    after.skipped.len(),
                    before.skipped.len(),
                    "{name} by {who:?} applies"
                ),
                _ => assert_eq!(
                    (after.status, after.skipped.len()),
                    (before.status, before.skipped.len() + 1),
                    "{name} by {who:?} is kept in the timeline, not applied"
                ),
            }
            // The actor's device derives the same.
            let own: Incident = w.device(who).store.get(id)?.expect("on the device");
            assert_eq!(workflow::derive(&own, &w.cal), after, "{name} by {who:?}");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transitions_outside_the_grid_are_refused() -> Result<()> {
    let mut w = World::start().await?;
    // An incident of grid C, reported by its worker.
    let worker_c = w.cast.worker_c;
    let incident = new_incident(&w.cast.grids[2], &worker_c.id);
    let id = incident.meta.id;
    let cal = w.cal.clone();
    {
        let device = w.owner(2);
        device.store.insert(incident, &author(worker_c), today())?;
        let mut doc = device.store.load(id)?.expect("inserted");
        doc.update::<Incident>(&author(worker_c), |i| {
            workflow::transition(
                i,
                &cal,
                Actor {
                    user: &worker_c.id,
                    role: Role::GridWorker,
                },
                Action::Report,
                "",
                vec![],
                NOW,
            )
            .expect("report");
        })?;
        device.store.save_doc(&mut doc)?;
        assert!(device.sync().await?.rejected.is_empty());
    }
    for who in [Who::Worker, Who::Community] {
        let changes = w.observer_changes_after_sync(id).await?;
        let user = w.cast.user(who);
        let device = w.device(who);
        device.store.apply_remote(id, changes)?;
        let made = tamper(device, id, |doc| {
            doc.update::<Incident>(&author(user), |i| {
                append(i, &cal, user, Action::Accept, "", vec![])
            })?;
            Ok(())
        })?;
        w.expect(who, "accept in grid C", id, &made, OUT).await?;
    }
    Ok(())
}

impl World {
    async fn observer_changes_after_sync(&mut self, id: Uuid) -> Result<Vec<automerge::Change>> {
        self.observer.sync().await?;
        self.observer_changes(id)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_are_issued_from_above_and_only_ticked_below() -> Result<()> {
    let mut w = World::start().await?;
    for (who, row) in TASK_CREATE {
        let user = w.cast.user(who);
        for (g, want) in row.into_iter().enumerate() {
            if want == NoDevice {
                continue;
            }
            let task = new_task(&w.cast.grids[g], &user.id);
            let id = task.meta.id;
            let device = w.device(who);
            device.store.insert(task, &author(user), today())?;
            let made = all_changes(device, id)?;
            let what = format!("issue a task in grid {}", "ABC".as_bytes()[g] as char);
            w.expect(who, &what, id, &made, want).await?;
        }
    }

    for (who, tick, retitle) in TASK_EDIT {
        let user = w.cast.user(who);
        for (what, want) in [("tick a task's line", tick), ("retitle a task", retitle)] {
            if want == NoDevice {
                continue;
            }
            let task = new_task(&w.cast.grids[0], &w.cast.user(Who::Community).id);
            let id = task.meta.id;
            let community = w.cast.user(Who::Community);
            let device = w.device(Who::Community);
            device.store.insert(task, &author(community), today())?;
            assert!(device.sync().await?.rejected.is_empty());
            // The actor's tablet holds the task (a handler's only as a
            // tampered one would).
            let changes = w.observer_changes_after_sync(id).await?;
            let device = w.device(who);
            device.store.apply_remote(id, changes)?;
            let made = tamper(device, id, |doc| {
                doc.update::<Task>(&author(user), |t| {
                    if what.starts_with("tick") {
                        tick_task(t, 0, true, "已检查", &user.id, NOW).expect("line 0");
                    } else {
                        t.title = "不用查了".into();
                    }
                })?;
                Ok(())
            })?;
            w.expect(who, what, id, &made, want).await?;
            let held = w
                .observed(id)
                .await?
                .expect("the task stays")
                .read::<Task>()?;
            if want == Stored && what.starts_with("tick") {
                assert_eq!(held.items[0].done_by.as_deref(), Some(user.id.as_str()));
            } else if want != Stored {
                assert_eq!(held.title, "冬季消防安全检查", "{what} by {who:?}");
            }
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_receives_only_its_grids_and_kinds() -> Result<()> {
    let mut w = World::start().await?;
    let mut households = Vec::new();
    let mut incidents = Vec::new();
    for g in 0..3 {
        households.push(w.someone_elses_household(g, Who::Street).await?);
        let by = match g {
            0 => w.cast.user(Who::Worker),
            1 => w.cast.worker_b,
            _ => w.cast.worker_c,
        };
        let i = new_incident(&w.cast.grids[g], &by.id);
        incidents.push(i.meta.id);
        let device = w.owner(g);
        device.store.insert(i, &author(by), today())?;
        assert!(device.sync().await?.rejected.is_empty());
    }
    // Grid A's incident dispatched to 城管: the handler's, and whoever
    // sees grid A's.
    let dispatched = w
        .incident_for(Setup::Dispatched, Who::Worker)
        .await?
        .expect("dispatched");
    // Its parties, in their own record made by its reporter: whoever sees
    // grid A's records receives them, a department handler never (they
    // hold ID numbers, which a handler may not see).
    let parties = {
        let worker = w.cast.user(Who::Worker);
        let device = w.device(Who::Worker);
        let incident: Incident = device.store.get(dispatched)?.expect("reported");
        let parties = IncidentParties::of(&incident, vec![party()], &worker.id, NOW);
        let id = parties.meta.id;
        device.store.insert(parties, &author(worker), today())?;
        let p = device.sync().await?;
        assert!(p.rejected.is_empty(), "{p:?}");
        id
    };
    for (who, sees_households, sees_incidents) in READ {
        let user = w.cast.user(who);
        if who == Who::Admin {
            assert!(!(sees_households.contains(&true) || sees_incidents.contains(&true)));
            assert_login_refused(&w.server, &user.id).await?;
            continue;
        }
        // A fresh tablet: its first sync receives the whole scope.
        let mut fresh = Device::enrol(&w.server, &user.id).await?;
        let progress = fresh.sync().await?;
        assert_in_scope(&fresh, user, &progress)?;
        let has_dispatched = fresh.store.get::<Incident>(dispatched)?;
        assert_eq!(
            has_dispatched.is_some(),
            sees_incidents[0] || who == Who::Handler,
            "{who:?} incident of grid A dispatched to 城管"
        );
        assert_eq!(
            fresh.store.load(parties)?.is_some(),
            sees_incidents[0] && who != Who::Handler,
            "{who:?} the parties of grid A's dispatched incident"
        );
        if let Some(i) = has_dispatched {
            // Whole: every change up to the dispatch came along.
            let status = workflow::derive(&i, &w.cal).status;
            assert_eq!(status.as_str(), "dispatched", "{who:?}");
        }
        for g in 0..3 {
            let has_h = fresh.store.load(households[g])?.is_some();
            let has_i = fresh.store.load(incidents[g])?.is_some();
            assert_eq!(has_h, sees_households[g], "{who:?} household of grid {g}");
            assert_eq!(has_i, sees_incidents[g], "{who:?} incident of grid {g}");
        }
        let all = fresh.store.list(&ListQuery {
            include_deleted: true,
            limit: Some(100_000),
            ..Default::default()
        })?;
        for p in all {
            assert!(
                in_scope(user, &p.grid) && kind_visible(user, p.kind),
                "{who:?} holds {} {} of grid {}",
                p.kind,
                p.id,
                p.grid
            );
        }
    }
    Ok(())
}

/// Forbidden edits of one's own records: stored, undone by the server's
/// compensating change, which the device holds after the same sync; the
/// device is told why, and its next edit of the record syncs cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_edits_of_own_records_are_compensated_and_nothing_is_wedged() -> Result<()> {
    let mut w = World::start().await?;
    let worker = w.cast.user(Who::Worker);
    let h = new_household(&w.cast.grids[0], &worker.id);
    let id = h.meta.id;
    w.device(Who::Worker)
        .store
        .insert(h.clone(), &author(worker), today())?;
    assert!(w.sync(Who::Worker).await?.rejected.is_empty());

    // Who created it and when cannot change.
    let made = tamper(w.device(Who::Worker), id, |doc| {
        doc.update::<Household>(&author(worker), |h| h.meta.created_at = NOW - 86_400_000)?;
        Ok(())
    })?;
    let p = w
        .expect(
            Who::Worker,
            "change created_at",
            id,
            &made,
            Noted("immutable_field"),
        )
        .await?;
    let notice = p.notices.iter().find(|n| n.doc == id).expect("a notice");
    // A code and no sentence: the app translates it.
    assert!(notice.compensated && notice.params.is_empty(), "{notice:?}");
    // Kept on the tablet until the worker has seen it.
    let kept = w.device(Who::Worker).store.unseen_notices()?;
    let stored = kept.iter().find(|n| n.doc_id == id).expect("a kept notice");
    assert_eq!(&stored.notice, notice);
    w.device(Who::Worker)
        .store
        .mark_notices_seen(&[stored.seq])?;
    assert!(
        w.device(Who::Worker)
            .store
            .unseen_notices()?
            .iter()
            .all(|n| n.seq != stored.seq)
    );
    let mine: Household = w.device(Who::Worker).store.get(id)?.expect("kept");
    assert_eq!(
        mine.meta.created_at, h.meta.created_at,
        "restored on the device by the same sync"
    );
    let theirs: Household = w.observed(id).await?.expect("stored").read()?;
    assert_eq!(
        theirs.meta.created_at, h.meta.created_at,
        "restored on the server"
    );

    // A worker cannot accept their own registration.
    let made = tamper(w.device(Who::Worker), id, |doc| {
        doc.update::<Household>(&author(worker), |h| {
            h.review.push(ReviewEntry {
                decision: ReviewDecision::Accept,
                by: worker.id.clone(),
                at: NOW,
                comment: String::new(),
            })
        })?;
        Ok(())
    })?;
    w.expect(
        Who::Worker,
        "accept own household",
        id,
        &made,
        Noted("review_refused"),
    )
    .await?;
    let mine: Household = w.device(Who::Worker).store.get(id)?.expect("kept");
    assert!(
        mine.review.is_empty(),
        "the acceptance is undone: {:?}",
        mine.review
    );

    // Not wedged: an ordinary edit afterwards goes through and arrives.
    w.device(Who::Worker)
        .store
        .update::<Household>(id, &author(worker), today(), |h| {
            h.address.detail = "东门旁".into()
        })?;
    let p = w.sync(Who::Worker).await?;
    assert!(p.rejected.is_empty() && p.notices.is_empty(), "{p:?}");
    let theirs: Household = w.observed(id).await?.expect("stored").read()?;
    assert_eq!(theirs.address.detail, "东门旁");
    assert!(theirs.review.is_empty());
    assert_eq!(w.device(Who::Worker).store.pending_count()?, 0);

    // A department handler may act on an incident but not rewrite it.
    let incident = w
        .incident_for(Setup::Dispatched, Who::Handler)
        .await?
        .expect("made");
    w.sync(Who::Handler).await?;
    let handler = w.cast.user(Who::Handler);
    let title = w
        .observed(incident)
        .await?
        .expect("stored")
        .read::<Incident>()?
        .title;
    let made = tamper(w.device(Who::Handler), incident, |doc| {
        doc.update::<Incident>(&author(handler), |i| i.title = "与我无关".into())?;
        Ok(())
    })?;
    w.expect(
        Who::Handler,
        "retitle an incident",
        incident,
        &made,
        Noted("field_not_allowed"),
    )
    .await?;
    let mine: Incident = w.device(Who::Handler).store.get(incident)?.expect("kept");
    assert_eq!(mine.title, title);
    Ok(())
}

/// No device token reaches an admin action over HTTP (there is no admin
/// surface at all: those are `gridwork-server` commands; admins get no
/// device token), and the server's own account cannot sign in.
#[tokio::test]
async fn no_token_reaches_admin_actions() -> Result<()> {
    let cast = Cast::new();
    let server = Server::start()?;
    let http = reqwest_client();
    for who in EVERYONE {
        if who == Who::Admin {
            // No tablet, so no token to try (the console's sessions are
            // cookies, checked by `tests/tests/console.rs`).
            assert_login_refused(&server, &cast.user(who).id).await?;
            continue;
        }
        let device = Device::enrol(&server, &cast.user(who).id).await?;
        for path in [
            "/v1/admin/users",
            "/v1/admin/devices/revoke",
            "/v1/admin/grids/import",
            "/v1/admin/users/reset-password",
        ] {
            let status = http
                .post(format!("{}{path}", server.url()))
                .bearer_auth(&device.login.token)
                .body("{}")
                .send()
                .await?
                .status()
                .as_u16();
            assert!([403, 404].contains(&status), "{who:?} {path}: {status}");
        }
    }
    let status = http
        .post(format!("{}/v1/login", server.url()))
        .json(&serde_json::json!({"user": "gridwork-server", "password": "!", "device_name": "x"}))
        .send()
        .await?
        .status();
    assert!(status.is_client_error(), "{status}");
    Ok(())
}

fn reqwest_client() -> reqwest::Client {
    reqwest::Client::new()
}
