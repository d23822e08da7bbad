//! The server the server targets run against, built once per process.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, bail};
use automerge::ActorId;
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::model::{AnyRecord, Incident, IncidentParties, Meta, Party, Role, User};
use gridwork_core::sync::wire::{DocChanges, SyncRequest};
use gridwork_core::workflow::{self, Action, Actor};
use gridwork_demo::{Demo, DemoConfig, generate};
use gridwork_server::admin::{DEMO_DEVICE_PREFIX, import_grids, load_demo};
use gridwork_server::auth::{SERVER_DEVICE, SERVER_USER, Session};
use gridwork_server::console::actions::ConsoleUser;
use gridwork_server::storage::{Account, NewDevice, ServedScope, SqliteStorage, Storage};
use gridwork_server::sync::{self, SyncContext};
use uuid::Uuid;

/// A device enrolled on the fixture's server.
#[derive(Debug)]
pub struct Device {
    pub session: Session,
    /// The actor id the server assigned it.
    pub actor: ActorId,
}

/// A server with a small demo street, its devices and documents.
#[derive(Debug)]
pub struct Fixture {
    pub storage: SqliteStorage,
    pub ctx: SyncContext,
    /// The server's clock for every sync and import of the run.
    pub now: jiff::Timestamp,
    /// Tablets: `[0]` a grid worker, `[1]` the community supervisor of
    /// that grid, `[2]` a department handler (城管).
    pub devices: Vec<Device>,
    /// The community supervisor's console sign-in (hotline imports).
    pub console: ConsoleUser,
    /// Documents a raw change or a repair message goes to: `[0]` a
    /// household, `[1]` an incident and `[2]` that incident's parties
    /// record, all three made by the worker's tablet, `[3]` an incident
    /// the supervisor reported in the worker's grid, then the demo's
    /// household, resident, incident and incident parties of the worker's
    /// grid, then a household of another grid.
    pub docs: Vec<Uuid>,
    /// Where the data directory is; removed when a later run finds its
    /// process gone (libFuzzer exits without running destructors).
    pub dir: std::path::PathBuf,
}

/// The household the worker's tablet makes in the fixture: a fixed id.
pub const OWN_HOUSEHOLD: Uuid = Uuid::from_u128(0x0192_f00d_0000_7000_8000_0000_0000_0001);
/// The incident the worker's tablet reports in the fixture.
pub const OWN_INCIDENT: Uuid = Uuid::from_u128(0x0192_f00d_0000_7000_8000_0000_0000_0002);

/// An incident the community supervisor's tablet reports in the worker's
/// grid, with no parties record: only its reporter may make one.
pub const SUPERVISOR_INCIDENT: Uuid = Uuid::from_u128(0x0192_f00d_0000_7000_8000_0000_0000_0003);

/// The parties record of [`OWN_INCIDENT`] (its id derives from the
/// incident's).
pub fn own_parties() -> Uuid {
    IncidentParties::id_for(OWN_INCIDENT)
}

/// The demo street the fixture loads (small: 2 communities of 2 grids).
pub fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        generate(&DemoConfig {
            communities: 2,
            grids_per_community: 2,
            households_per_grid: 3,
            residents_per_household: 1.5,
            incidents_per_grid: 2,
            patrols_per_grid: 1,
            visits_per_grid: 1,
            ..DemoConfig::default()
        })
    })
}

/// The fixture of this process.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture::build().expect("build the fuzz fixture"))
}

/// A fixed actor id per device, so seeds made by one process are valid
/// changes in the next.
fn actor(n: u8) -> ActorId {
    ActorId::from([0x9f, 0x22, 0xd0, 0x0d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, n].as_slice())
}

/// The fixed actor of the `n`th demo user's pseudo-device.
fn demo_actor(n: u32) -> ActorId {
    let mut bytes = [0x9f, 0x22, 0xde, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    bytes[12..].copy_from_slice(&n.to_be_bytes());
    ActorId::from(bytes.as_slice())
}

impl Fixture {
    fn build() -> anyhow::Result<Fixture> {
        let dir = data_dir()?;
        let storage = SqliteStorage::open(&dir)?;
        let demo = demo();
        let now = jiff::Timestamp::from_millisecond(DemoConfig::default().now_ms + 3_600_000)?;
        // The server's own actor is fixed too, enrolled before the demo is
        // loaded: the demo's documents and the server's own changes (its
        // receipt stamps) are then the same bytes every run, and seeds can
        // build on them.
        import_grids(&storage, &demo.grid_tree_geojson)?;
        let admin = user(demo, |u| u.role == Role::Admin);
        let server = User {
            id: SERVER_USER.into(),
            name: "服务器 (server)".into(),
            phone: String::new(),
            role: Role::Admin,
            grid: admin.grid.clone(),
            department: None,
        };
        storage.add_user(&Account {
            user: server.clone(),
            password_hash: "!".into(),
            disabled: true,
        })?;
        enrol(&storage, &server, SERVER_DEVICE, actor(0xee), now)?;
        // The demo writes each user's records with the actor of a
        // pseudo-device of theirs, made when missing with a random actor:
        // its users and those devices are made here first, the devices
        // with fixed actors, revoked as the load revokes its own. Nobody
        // signs in to the fixture: no password.
        for (n, u) in demo.users.iter().enumerate() {
            storage.add_user(&Account {
                user: u.clone(),
                password_hash: "!".into(),
                disabled: false,
            })?;
            let id = format!("{DEMO_DEVICE_PREFIX}{}", u.id);
            enrol(&storage, u, &id, demo_actor(n as u32), now)?;
            storage.revoke_device(&id, now.as_millisecond())?;
        }
        load_demo(&storage, demo, "fuzz-password")?;
        let ctx = SyncContext {
            calendar: WorkCalendar::bundled(),
            budget_default: 64 * 1024,
            budget_max: 256 * 1024,
            places: Default::default(),
        };

        let worker = user(demo, |u| u.role == Role::GridWorker);
        let community = storage
            .all_grids()?
            .into_iter()
            .find(|g| g.code == worker.grid)
            .and_then(|g| g.parent)
            .context("the worker's grid has a parent")?;
        let supervisor = user(demo, |u| {
            u.role == Role::CommunitySupervisor && u.grid == community
        });
        let handler = user(demo, |u| {
            u.role == Role::DepartmentHandler && u.department.as_deref() == Some("城管")
        });
        let mut devices = Vec::new();
        for (n, u) in [&worker, &supervisor, &handler].into_iter().enumerate() {
            devices.push(enrol(
                &storage,
                u,
                &format!("fuzz-tablet-{n}"),
                actor(n as u8),
                now,
            )?);
        }
        let console_device = enrol(
            &storage,
            &supervisor,
            &format!("{}fuzz", gridwork_server::console::DEVICE_PREFIX),
            actor(9),
            now,
        )?;
        let scope_path = storage
            .grid_path(&supervisor.grid)?
            .context("the supervisor's grid")?;
        let console = ConsoleUser {
            session: console_device.session,
            actor: console_device.actor,
            scope_path,
        };

        // The worker's tablet registers a household and reports an
        // incident of its own: fixed ids, actor and time, so the same
        // changes every run and seeds can build on them.
        let mut own = demo
            .households
            .iter()
            .find(|h| h.meta.grid == worker.grid)
            .context("a household in the worker's grid")?
            .clone();
        own.meta = Meta::new(&worker.grid, &worker.id, now.as_millisecond());
        own.meta.id = OWN_HOUSEHOLD;
        own.review.clear();
        let reported = |by: &User, id: Uuid| -> anyhow::Result<Incident> {
            let mut report = demo
                .incidents
                .iter()
                .find(|i| i.meta.grid == worker.grid)
                .context("an incident in the worker's grid")?
                .clone();
            report.meta = Meta::new(&worker.grid, &by.id, now.as_millisecond());
            report.meta.id = id;
            report.log.clear();
            act(&mut report, by, Action::Report, &ctx.calendar, now)?;
            Ok(report)
        };
        let report = reported(&worker, OWN_INCIDENT)?;
        // Its parties, in their own record, made with it as the app does.
        let parties = IncidentParties::of(
            &report,
            vec![
                Party {
                    name: "王小明".into(),
                    phone: "13800138000".into(),
                    id_number: "440103194103165911".into(),
                    role: "申请人".into(),
                },
                Party {
                    name: "李华".into(),
                    phone: String::new(),
                    id_number: String::new(),
                    role: "被申请人".into(),
                },
            ],
            &worker.id,
            now.as_millisecond(),
        );
        let push = |device: &Device, records: Vec<AnyRecord>| -> anyhow::Result<()> {
            let author = Author::new(&device.session.user.id, now.as_millisecond());
            let mut push = Vec::new();
            for record in records {
                let mut doc = RecordDoc::create_any(&record, device.actor.clone(), &author)?;
                push.push(DocChanges {
                    doc: record.meta().id,
                    changes: doc
                        .changes_since(&[])
                        .iter()
                        .map(|c| c.raw_bytes().to_vec())
                        .collect(),
                });
            }
            let request = SyncRequest {
                cursor: 0,
                push,
                budget: Some(1),
                ..SyncRequest::default()
            };
            let answer = sync::run(&storage, &ctx, &device.session, request, now)?;
            if !answer.rejected.is_empty() {
                bail!("the fixture's records were refused: {:?}", answer.rejected);
            }
            Ok(())
        };
        push(
            &devices[0],
            vec![
                AnyRecord::Household(own),
                AnyRecord::Incident(report),
                AnyRecord::IncidentParties(parties),
            ],
        )?;
        push(
            &devices[1],
            vec![AnyRecord::Incident(reported(
                &supervisor,
                SUPERVISOR_INCIDENT,
            )?)],
        )?;

        let in_grid = |grid: &str, kind: &str| -> anyhow::Result<Uuid> {
            let id = match kind {
                "household" => demo
                    .households
                    .iter()
                    .find(|h| h.meta.grid == grid)
                    .map(|h| h.meta.id),
                "resident" => demo
                    .residents
                    .iter()
                    .find(|r| r.meta.grid == grid)
                    .map(|r| r.meta.id),
                "incident parties" => demo
                    .incident_parties
                    .iter()
                    .find(|p| p.meta.grid == grid)
                    .map(|p| p.meta.id),
                _ => demo
                    .incidents
                    .iter()
                    .find(|i| i.meta.grid == grid)
                    .map(|i| i.meta.id),
            };
            id.with_context(|| format!("a demo {kind} in grid {grid}"))
        };
        let other_grid = demo
            .households
            .iter()
            .map(|h| h.meta.grid.clone())
            .find(|g| *g != worker.grid)
            .context("a second grid")?;
        let docs = vec![
            OWN_HOUSEHOLD,
            OWN_INCIDENT,
            own_parties(),
            SUPERVISOR_INCIDENT,
            in_grid(&worker.grid, "household")?,
            in_grid(&worker.grid, "resident")?,
            in_grid(&worker.grid, "incident")?,
            in_grid(&worker.grid, "incident parties")?,
            in_grid(&other_grid, "household")?,
        ];
        Ok(Fixture {
            storage,
            ctx,
            now,
            devices,
            console,
            docs,
            dir,
        })
    }
}

/// `user` takes a step of `incident`'s workflow at `now`, as their app
/// would.
pub fn act(
    incident: &mut Incident,
    user: &User,
    action: Action,
    calendar: &WorkCalendar,
    now: jiff::Timestamp,
) -> anyhow::Result<()> {
    let actor = Actor {
        user: &user.id,
        role: user.role,
    };
    workflow::transition(
        incident,
        calendar,
        actor,
        action,
        "",
        Vec::new(),
        now.as_millisecond(),
    )?;
    Ok(())
}

fn user(demo: &Demo, pick: impl Fn(&User) -> bool) -> User {
    demo.users
        .iter()
        .find(|u| pick(u))
        .cloned()
        .expect("the demo has a user of every role")
}

/// Enrols a device as `POST /v1/login` does, with a fixed actor.
fn enrol(
    storage: &SqliteStorage,
    user: &User,
    id: &str,
    actor: ActorId,
    now: jiff::Timestamp,
) -> anyhow::Result<Device> {
    let path = storage.grid_path(&user.grid)?.context("the user's grid")?;
    // Unique per device (nobody signs in with it): the id's hash, then its
    // first bytes.
    let mut token_hash = [0u8; 32];
    let hash = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut h);
        h.finish()
    };
    token_hash[..8].copy_from_slice(&hash.to_be_bytes());
    let n = id.len().min(24);
    token_hash[8..8 + n].copy_from_slice(&id.as_bytes()[..n]);
    storage.enrol_device(&NewDevice {
        id: id.to_string(),
        user_id: user.id.clone(),
        name: id.to_string(),
        token_hash,
        actor: actor.to_hex_string(),
        created_at: now.as_millisecond(),
        scope: ServedScope {
            epoch: 0,
            root: user.grid.clone(),
            grids_version: storage.grids_version()?,
            grids: storage.subtree_codes(&path)?,
        },
    })?;
    Ok(Device {
        session: Session {
            device_id: id.to_string(),
            user: user.clone(),
            actor: Some(actor.clone()),
        },
        actor,
    })
}

/// A fresh data directory named after this process, in memory when the
/// machine has `/dev/shm` (SQLite's syncs cost nothing there). Directories
/// of earlier runs whose process is gone are removed first.
fn data_dir() -> std::io::Result<std::path::PathBuf> {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    const PREFIX: &str = "gridwork-fuzz-";
    for entry in std::fs::read_dir(&base)?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = base.join(format!("{PREFIX}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
