//! Seeded, realistic demo data: a street (街道) of communities and grids in
//! Tianhe district, Guangzhou, with the people who work it and the
//! households, residents, incidents, patrols and visits they keep.
//!
//! [`generate`] is deterministic: the same [`DemoConfig`] gives the same
//! [`Demo`], UUIDs and photo hashes included, because every draw comes from
//! ChaCha8 streams seeded from `seed` (one for the layout, one per grid)
//! and nothing reads the clock. The data is made to pass DOMAIN.md's rules
//! as the real validator applies them: ID numbers carry a correct check
//! character, a real birth date and the gender in the sequence; mobiles
//! match `^1[3-9]\d{9}$`; names hold only Han characters, `·` or Latin
//! letters. Incident logs are built with [`gridwork_core::workflow::transition`],
//! so every entry passes the workflow rules and every status occurs.
//! [`DemoConfig::with_total_records`] sizes a demo to a record count, from
//! a handful to hundreds of thousands.
//!
//! ```
//! use gridwork_demo::{DemoConfig, generate};
//!
//! let demo = generate(&DemoConfig::with_total_records(7, 2_000));
//! assert!((1_800..2_200).contains(&demo.len()));
//! assert!(demo.grid_tree_geojson.contains("FeatureCollection"));
//! ```

mod clock;
mod households;
mod incidents;
mod patrols;
mod people;
mod place;
mod random;
#[cfg(test)]
mod tests;
mod visits;

use serde::{Deserialize, Serialize};

use gridwork_core::calendar::WorkCalendar;
use gridwork_core::model::{
    AnyRecord, Household, Incident, IncidentParties, Patrol, Resident, ReviewDecision, ReviewEntry,
    Role, User, Visit,
};
use random::Gen;

/// 2026-05-15 17:30 Asia/Shanghai: a fixed "now" so the default demo is
/// the same on every run.
const DEFAULT_NOW_MS: i64 = 1_778_837_400_000;

/// About this share of incidents involve people (disputes, residents'
/// reports, hotline calls) and come with a parties record.
const PARTIES_SHARE: f64 = 0.6;

/// Codes give communities and grids three digits each.
const MAX_PER_LEVEL: u32 = 999;

/// A sized demo ([`DemoConfig::with_total_records`]) puts at most this
/// many communities in one street, and adds streets beyond.
const COMMUNITIES_PER_STREET: u32 = 48;

/// The most GPS track points one demo holds. Beyond it, patrols sample
/// their walk less often than every 10 s, so huge demos stay fast.
const TRACK_POINT_BUDGET: u64 = 400_000;

/// How big a demo to make, and from which seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoConfig {
    pub seed: u64,
    /// Streets (街道) the communities are dealt to, in order (at least 1,
    /// at most one per community).
    pub streets: u32,
    /// Communities (社区/村) in all, at most 999.
    pub communities: u32,
    /// Grids per community, at most 999.
    pub grids_per_community: u32,
    pub households_per_grid: u32,
    /// Mean residents per household; each household has 1 to 5.
    pub residents_per_household: f64,
    pub incidents_per_grid: u32,
    pub patrols_per_grid: u32,
    pub visits_per_grid: u32,
    /// "Now" in Unix milliseconds: records fall in the days before it.
    pub now_ms: i64,
}

impl Default for DemoConfig {
    /// A street of 3 communities × 4 grids, about 150 households and 390
    /// residents per grid, 20 incidents, 10 patrols and 30 visits per grid
    /// (about 7,200 records), "now" being 2026-05-15 17:30.
    fn default() -> DemoConfig {
        DemoConfig {
            seed: 1,
            streets: 1,
            communities: 3,
            grids_per_community: 4,
            households_per_grid: 150,
            residents_per_household: 2.6,
            incidents_per_grid: 20,
            patrols_per_grid: 10,
            visits_per_grid: 30,
            now_ms: DEFAULT_NOW_MS,
        }
    }
}

impl DemoConfig {
    /// A configuration with about `n` records in total (households,
    /// residents, incidents, patrols and visits, in the default's
    /// proportions): grids are added, 4 then 6 per community, streets
    /// of at most 48 communities (a 1,000,000-record district: 6 streets
    /// of about 100,000 residents each), and the per-grid counts scaled to land
    /// near `n`.
    pub fn with_total_records(seed: u64, n: usize) -> DemoConfig {
        let base = DemoConfig {
            seed,
            ..DemoConfig::default()
        };
        if n == 0 {
            return DemoConfig {
                communities: 0,
                ..base
            };
        }
        let per_grid = base.records_per_grid();
        let wanted = ((n as f64 / per_grid).round() as u32).max(1);
        let (communities, per_community) = if wanted <= 12 {
            let c = wanted.div_ceil(4);
            (c, wanted.div_ceil(c))
        } else {
            (wanted.div_ceil(6).min(MAX_PER_LEVEL), 6)
        };
        let scale = n as f64 / (f64::from(communities * per_community) * per_grid);
        let scaled = |x: u32| (f64::from(x) * scale).round() as u32;
        DemoConfig {
            streets: communities.div_ceil(COMMUNITIES_PER_STREET).max(1),
            communities,
            grids_per_community: per_community,
            households_per_grid: scaled(base.households_per_grid).max(1),
            incidents_per_grid: scaled(base.incidents_per_grid),
            patrols_per_grid: scaled(base.patrols_per_grid),
            visits_per_grid: scaled(base.visits_per_grid),
            ..base
        }
    }

    /// The expected records in one grid.
    fn records_per_grid(&self) -> f64 {
        f64::from(self.households_per_grid) * (1.0 + self.residents_per_household)
            + f64::from(self.incidents_per_grid) * (1.0 + PARTIES_SHARE)
            + f64::from(self.patrols_per_grid + self.visits_per_grid)
    }

    /// Today (Asia/Shanghai) at `now_ms`: what validation compares birth
    /// dates with.
    pub fn today(&self) -> jiff::civil::Date {
        clock::shanghai_date(self.now_ms)
    }

    /// The configuration with out-of-range values brought into range.
    fn clamped(&self) -> DemoConfig {
        let mean = if self.residents_per_household.is_finite() {
            self.residents_per_household.clamp(1.0, 5.0)
        } else {
            2.6
        };
        DemoConfig {
            streets: self
                .streets
                .clamp(1, self.communities.clamp(1, MAX_PER_LEVEL)),
            communities: self.communities.min(MAX_PER_LEVEL),
            grids_per_community: self.grids_per_community.min(MAX_PER_LEVEL),
            residents_per_household: mean,
            ..*self
        }
    }
}

/// A generated demo: the grid tree, the users and the records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Demo {
    /// The grid tree (city → micro-grid) as a GeoJSON FeatureCollection.
    pub grid_tree_geojson: String,
    pub users: Vec<User>,
    pub households: Vec<Household>,
    pub residents: Vec<Resident>,
    pub incidents: Vec<Incident>,
    /// The parties of the incidents that involve people, each in its
    /// own record linked to its incident.
    pub incident_parties: Vec<IncidentParties>,
    pub patrols: Vec<Patrol>,
    pub visits: Vec<Visit>,
}

impl Demo {
    /// The number of records (households, residents, incidents and their
    /// parties, patrols and visits; not users or grids).
    pub fn len(&self) -> usize {
        self.households.len()
            + self.residents.len()
            + self.incidents.len()
            + self.incident_parties.len()
            + self.patrols.len()
            + self.visits.len()
    }

    /// Whether the demo holds no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first user with `role`.
    pub fn first_user(&self, role: Role) -> Option<&User> {
        self.users.iter().find(|u| u.role == role)
    }

    /// The community supervisor over `grid` (the demo's codes nest: a
    /// community's code begins each of its grids' codes).
    pub fn supervisor_of(&self, grid: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.role == Role::CommunitySupervisor && grid.starts_with(&u.grid))
    }

    /// Every record, cloned, households first.
    pub fn records(&self) -> impl Iterator<Item = AnyRecord> + '_ {
        let households = self.households.iter().cloned().map(AnyRecord::Household);
        let residents = self.residents.iter().cloned().map(AnyRecord::Resident);
        let incidents = self.incidents.iter().cloned().map(AnyRecord::Incident);
        let parties = self
            .incident_parties
            .iter()
            .cloned()
            .map(AnyRecord::IncidentParties);
        let patrols = self.patrols.iter().cloned().map(AnyRecord::Patrol);
        let visits = self.visits.iter().cloned().map(AnyRecord::Visit);
        households
            .chain(residents)
            .chain(incidents)
            .chain(parties)
            .chain(patrols)
            .chain(visits)
    }

    /// Every record, households first.
    pub fn into_records(self) -> impl Iterator<Item = AnyRecord> {
        let households = self.households.into_iter().map(AnyRecord::Household);
        let residents = self.residents.into_iter().map(AnyRecord::Resident);
        let incidents = self.incidents.into_iter().map(AnyRecord::Incident);
        let parties = self
            .incident_parties
            .into_iter()
            .map(AnyRecord::IncidentParties);
        let patrols = self.patrols.into_iter().map(AnyRecord::Patrol);
        let visits = self.visits.into_iter().map(AnyRecord::Visit);
        households
            .chain(residents)
            .chain(incidents)
            .chain(parties)
            .chain(patrols)
            .chain(visits)
    }
}

/// Makes a staff member: id, role, grid, department.
type MakePerson<'a> = dyn FnMut(String, Role, &str, Option<&str>) -> User + 'a;

/// A street's own staff.
struct StreetStaff {
    supervisor: User,
    chengguan: User,
    huanbao: User,
}

/// The users who act in the demo.
struct Staff {
    admin: User,
    /// One per street, in street order.
    streets: Vec<StreetStaff>,
    /// One per community, in community order.
    supervisors: Vec<User>,
    /// One per grid, in grid order.
    workers: Vec<User>,
}

impl Staff {
    fn new(street: &place::Street, g: &mut Gen) -> Staff {
        let mut person = |id: String, role: Role, grid: &str, department: Option<&str>| {
            let male = g.chance(0.45);
            let surname = people::surname(g, "汉族");
            User {
                id,
                name: people::chinese_name(g, surname, male),
                phone: people::mobile(g),
                role,
                grid: grid.to_string(),
                department: department.map(str::to_string),
            }
        };
        let street_staff = |person: &mut MakePerson<'_>, index: usize, code: &str| {
            // The first street's staff keep the ids a one-street demo
            // has always had.
            let suffix = if index == 0 {
                String::new()
            } else {
                format!("-{code}")
            };
            StreetStaff {
                supervisor: person(format!("ss-{code}"), Role::StreetSupervisor, code, None),
                chengguan: person(
                    format!("dh-chengguan{suffix}"),
                    Role::DepartmentHandler,
                    code,
                    Some("城管"),
                ),
                huanbao: person(
                    format!("dh-huanbao{suffix}"),
                    Role::DepartmentHandler,
                    code,
                    Some("环保"),
                ),
            }
        };
        // Drawn in the order a one-street demo always drew them: the
        // admin, the first street's staff, the supervisors, the workers;
        // the other streets' staff last.
        let admin = person("admin".into(), Role::Admin, place::DISTRICT.0, None);
        let mut streets = vec![street_staff(&mut person, 0, &street.streets[0].0)];
        let supervisors = street
            .communities
            .iter()
            .map(|c| {
                person(
                    format!("cs-{}", c.code),
                    Role::CommunitySupervisor,
                    &c.code,
                    None,
                )
            })
            .collect();
        let workers = street
            .grids
            .iter()
            .map(|grid| {
                person(
                    format!("gw-{}", grid.code),
                    Role::GridWorker,
                    &grid.code,
                    None,
                )
            })
            .collect();
        for (index, (code, _)) in street.streets.iter().enumerate().skip(1) {
            streets.push(street_staff(&mut person, index, code));
        }
        Staff {
            admin,
            streets,
            supervisors,
            workers,
        }
    }

    fn into_users(self) -> Vec<User> {
        let mut streets = self.streets.into_iter();
        let mut users = vec![self.admin];
        let add = |users: &mut Vec<User>, s: StreetStaff| {
            users.extend([s.supervisor, s.chengguan, s.huanbao]);
        };
        if let Some(first) = streets.next() {
            add(&mut users, first);
        }
        users.extend(self.supervisors);
        users.extend(self.workers);
        for s in streets {
            add(&mut users, s);
        }
        users
    }
}

/// What a grid's generators share.
struct GridCtx<'a> {
    cfg: &'a DemoConfig,
    today: jiff::civil::Date,
    area: &'a place::GridArea,
    worker: &'a User,
    supervisor: &'a User,
    /// The grid's street: its staff and its name.
    street: &'a StreetStaff,
    street_name: &'a str,
    cal: &'a WorkCalendar,
}

/// A review log for a record the grid worker submitted at `at`: most are
/// accepted by the community supervisor within days, a few returned (and
/// mostly fixed), the rest still pending. Nothing lands after now.
fn review_log(g: &mut Gen, ctx: &GridCtx, at: i64) -> Vec<ReviewEntry> {
    const RETURNS: &[&str] = &[
        "请补拍门牌照片",
        "联系电话无人接听，请核实",
        "户籍地填写不完整，请补充到县区",
        "家庭成员关系有误，请核对户口簿",
    ];
    let entry = |decision, by: &User, at, comment: &str| ReviewEntry {
        decision,
        by: by.id.clone(),
        at,
        comment: comment.to_string(),
    };
    let mut log = vec![entry(ReviewDecision::Submit, ctx.worker, at, "")];
    let mut t = at;
    let mut later = |g: &mut Gen, days: i64| {
        t += g.range(clock::HOUR_MS..days * clock::DAY_MS);
        (t < ctx.cfg.now_ms).then_some(t)
    };
    let roll: f64 = g.range(0.0..1.0);
    if roll < 0.82 {
        if let Some(t) = later(g, 4) {
            log.push(entry(
                ReviewDecision::Accept,
                ctx.supervisor,
                t,
                "信息核实无误",
            ));
        }
    } else if roll < 0.88 {
        if let Some(t) = later(g, 4) {
            log.push(entry(
                ReviewDecision::Return,
                ctx.supervisor,
                t,
                g.pick(RETURNS),
            ));
        }
        if g.chance(0.6) {
            if let Some(t) = later(g, 3) {
                log.push(entry(ReviewDecision::Submit, ctx.worker, t, "已按要求修改"));
            }
            if let Some(t) = later(g, 2) {
                log.push(entry(
                    ReviewDecision::Accept,
                    ctx.supervisor,
                    t,
                    "信息核实无误",
                ));
            }
        }
    }
    log
}

/// Generates the demo `cfg` describes.
pub fn generate(cfg: &DemoConfig) -> Demo {
    let cfg = cfg.clamped();
    let today = cfg.today();
    let cal = WorkCalendar::bundled();
    let mut layout_gen = Gen::new(cfg.seed, 0);
    let street = place::layout(&cfg, &mut layout_gen);
    let staff = Staff::new(&street, &mut layout_gen);

    let n_grids = street.grids.len();
    let total_patrols = n_grids as u64 * u64::from(cfg.patrols_per_grid);
    let track_points = (TRACK_POINT_BUDGET / total_patrols.max(1)).clamp(30, 720) as usize;
    let cap = |per_grid: u32| n_grids * per_grid as usize;
    let households_cap = cap(cfg.households_per_grid);
    let mut demo = Demo {
        grid_tree_geojson: place::geojson(&street),
        users: Vec::new(),
        households: Vec::with_capacity(households_cap),
        residents: Vec::with_capacity(households_cap * 3),
        incidents: Vec::with_capacity(cap(cfg.incidents_per_grid)),
        incident_parties: Vec::new(),
        patrols: Vec::with_capacity(cap(cfg.patrols_per_grid)),
        visits: Vec::with_capacity(cap(cfg.visits_per_grid)),
    };
    for (index, area) in street.grids.iter().enumerate() {
        let mut g = Gen::new(cfg.seed, index as u64 + 1);
        let ctx = GridCtx {
            cfg: &cfg,
            today,
            area,
            worker: &staff.workers[index],
            supervisor: &staff.supervisors[area.community],
            street: &staff.streets[street.communities[area.community].street],
            street_name: &street.streets[street.communities[area.community].street].1,
            cal: &cal,
        };
        let mut homes = households::generate(&mut g, &ctx);
        let mut patrols = patrols::generate(&mut g, &ctx, &homes.households, track_points);
        let first_incident = index as u64 * u64::from(cfg.incidents_per_grid);
        let (incidents, parties) = incidents::generate(
            &mut g,
            &ctx,
            &homes.households,
            &mut patrols,
            first_incident,
        );
        let visits = visits::generate(&mut g, &ctx, &mut homes, &incidents);
        demo.households.extend(homes.households);
        demo.residents.extend(homes.residents);
        demo.incidents.extend(incidents);
        demo.incident_parties.extend(parties);
        demo.patrols.extend(patrols);
        demo.visits.extend(visits);
    }
    demo.users = staff.into_users();
    demo
}
