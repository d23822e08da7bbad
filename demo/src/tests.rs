use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::people::check_character;
use super::*;
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::model::{
    CareTagKind, Gender, HouseholdUse, IdType, Meta, PopulationType, RecordKind, Relation, Task,
    TaskItem, TaskKind, ValidateCtx, enum_name, limits,
};
use gridwork_core::workflow::{self, Level, Status};

fn default_demo() -> Demo {
    generate(&DemoConfig::default())
}

/// The default street with three households a grid: every kind of record,
/// quickly.
fn small_demo() -> Demo {
    generate(&DemoConfig {
        households_per_grid: 3,
        ..DemoConfig::default()
    })
}

#[test]
fn check_character_matches_gb_11643_examples() {
    assert_eq!(check_character("11010519491231002"), 'X');
    assert_eq!(check_character("44052418800101001"), '4');
    assert_eq!(check_character("11010120000101001"), '0');
}

#[test]
fn same_seed_gives_the_same_demo_and_another_seed_another() {
    let a = serde_json::to_string(&default_demo()).unwrap();
    let b = serde_json::to_string(&default_demo()).unwrap();
    assert!(a == b, "two runs with the same seed differ");
    let other = generate(&DemoConfig {
        seed: 2,
        ..DemoConfig::default()
    });
    let c = serde_json::to_string(&other).unwrap();
    assert!(a != c, "seeds 1 and 2 gave the same demo");
}

#[test]
fn sizes_match_the_config() {
    let cfg = DemoConfig::default();
    let demo = default_demo();
    let grids = (cfg.communities * cfg.grids_per_community) as usize;
    assert_eq!(
        demo.households.len(),
        grids * cfg.households_per_grid as usize
    );
    assert_eq!(
        demo.incidents.len(),
        grids * cfg.incidents_per_grid as usize
    );
    assert_eq!(demo.patrols.len(), grids * cfg.patrols_per_grid as usize);
    assert_eq!(demo.visits.len(), grids * cfg.visits_per_grid as usize);
    // An admin, a street supervisor, two handlers, a supervisor per
    // community and a worker per grid.
    assert_eq!(demo.users.len(), 4 + cfg.communities as usize + grids);
    let mean = demo.residents.len() as f64 / demo.households.len() as f64;
    assert!(
        (mean - cfg.residents_per_household).abs() < 0.15,
        "mean {mean}"
    );
    assert_eq!(demo.len(), demo.records().count());
    assert!(!demo.is_empty());

    let households: HashMap<_, _> = demo.households.iter().map(|h| (h.meta.id, h)).collect();
    let mut members: HashMap<_, Vec<_>> = HashMap::new();
    for r in &demo.residents {
        let h = households[&r.household_id.unwrap()];
        assert_eq!(h.meta.grid, r.meta.grid);
        members.entry(h.meta.id).or_default().push(r);
    }
    assert_eq!(
        members.len(),
        demo.households.len(),
        "a household without residents"
    );
    for list in members.values() {
        assert!((1..=5).contains(&list.len()));
        let heads = list.iter().filter(|r| r.relation == Relation::Head).count();
        assert_eq!(heads, 1, "{:?}", list[0].household_id);
    }
    assert_eq!(demo.clone().into_records().count(), demo.len());
}

#[test]
fn total_records_scale_to_the_target() {
    for n in [100usize, 1_000, 10_000, 50_000] {
        let cfg = DemoConfig::with_total_records(5, n);
        let demo = generate(&cfg);
        let off = (demo.len() as f64 - n as f64).abs() / n as f64;
        // A hundred records are two dozen households with their residents:
        // one household and its parties records more or less is 5%.
        let tolerance = if n < 1_000 { 0.1 } else { 0.06 };
        assert!(off < tolerance, "{n}: got {}", demo.len());
    }
    let cfg = DemoConfig::with_total_records(1, 50_000);
    assert_eq!((cfg.communities, cfg.grids_per_community), (14, 6));
    assert_eq!(generate(&DemoConfig::with_total_records(1, 0)).len(), 0);
}

/// Release builds generate 50,000 records well under 2 s (see the
/// module's report); debug builds are only checked for the size.
#[test]
fn fifty_thousand_records_generate_quickly() {
    let started = std::time::Instant::now();
    let demo = generate(&DemoConfig::with_total_records(1, 50_000));
    let elapsed = started.elapsed();
    assert!((47_500..52_500).contains(&demo.len()), "{}", demo.len());
    if !cfg!(debug_assertions) {
        assert!(elapsed.as_secs_f64() < 2.0, "{elapsed:?}");
    }
}

#[test]
fn every_record_passes_validation() {
    let cfg = DemoConfig::default();
    let ctx = ValidateCtx { today: cfg.today() };
    for mut record in default_demo().into_records() {
        let id = record.meta().id;
        let kind = record.kind();
        if let Err(e) = record.validate_state(&ctx) {
            panic!("{kind} {id}: {e:?}");
        }
    }
}

fn is_mobile(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
}

fn is_name(s: &str) -> bool {
    let han = |c: char| matches!(c as u32, 0x3007 | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x323AF);
    !s.trim().is_empty()
        && s.chars().any(|c| han(c) || c.is_alphabetic())
        && s.chars().all(|c| {
            han(c) || (c.is_alphabetic() && !han(c)) || matches!(c, '·' | ' ' | '-' | '\'')
        })
        && !s.chars().any(|c| c.is_ascii_digit())
}

/// Checks an ID number by DOMAIN.md's rules, with this module's own check
/// character; returns its birth date and whether it is a man's.
fn check_id(id: &str, today: jiff::civil::Date) -> (jiff::civil::Date, bool) {
    const PROVINCES: &[u32] = &[
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51,
        52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
    ];
    assert_eq!(id.len(), 18, "{id}");
    assert!(id[..17].bytes().all(|b| b.is_ascii_digit()), "{id}");
    assert_eq!(id.chars().last(), Some(check_character(&id[..17])), "{id}");
    assert!(PROVINCES.contains(&id[..2].parse().unwrap()), "{id}");
    let birth = jiff::civil::Date::new(
        id[6..10].parse().unwrap(),
        id[10..12].parse().unwrap(),
        id[12..14].parse().unwrap(),
    )
    .unwrap_or_else(|e| panic!("{id}: {e}"));
    assert!(birth <= today && birth.year() >= 1900, "{id}");
    let male = id.as_bytes()[16] % 2 == 1;
    (birth, male)
}

#[test]
fn people_follow_the_domain_rules() {
    let demo = default_demo();
    let today = DemoConfig::default().today();
    for u in &demo.users {
        assert!(is_name(&u.name) && is_mobile(&u.phone), "{u:?}");
    }
    for h in &demo.households {
        assert!(is_name(&h.owner_name), "{}", h.owner_name);
        if let Some(p) = &h.owner_phone {
            assert!(is_mobile(p), "{p}");
        }
        if let Some(id) = &h.owner_id_number {
            check_id(id, today);
        }
    }
    let mut rare = 0;
    let mut dotted = 0;
    for r in &demo.residents {
        assert!(is_name(&r.name), "{}", r.name);
        rare += usize::from(
            r.name
                .chars()
                .any(|c| c as u32 <= 0x4DBF || c as u32 >= 0x20000),
        );
        dotted += usize::from(r.name.contains('·'));
        let id = r.id_number.as_deref().unwrap();
        match r.id_type {
            IdType::ResidentId | IdType::ResidencePermit => {
                let (birth, male) = check_id(id, today);
                assert_eq!(r.birth_date.as_deref(), Some(birth.to_string().as_str()));
                assert_eq!(r.gender, if male { Gender::Male } else { Gender::Female });
            }
            _ => assert!(id.len() <= 32 && r.population_type == PopulationType::Foreign),
        }
        if let Some(p) = &r.phone {
            assert!(is_mobile(p), "{p}");
        }
        let contact = &r.emergency_contact;
        if !contact.phone.is_empty() {
            assert!(
                is_mobile(&contact.phone) && is_name(&contact.name),
                "{contact:?}"
            );
        }
        assert!(!r.ethnicity.is_empty() || r.population_type == PopulationType::Foreign);
    }
    assert!(rare > 0, "no rare characters in names");
    assert!(dotted > 0, "no names with ·");
    let incidents: HashMap<_, _> = demo.incidents.iter().map(|i| (i.meta.id, i)).collect();
    assert!(!demo.incident_parties.is_empty(), "no incident has parties");
    for i in &demo.incident_parties {
        let incident = incidents[&i.incident];
        assert_eq!(i.meta.id, IncidentParties::id_for(incident.meta.id));
        assert_eq!(
            (&i.meta.grid, &i.meta.created_by),
            (&incident.meta.grid, &incident.meta.created_by)
        );
        for p in &i.parties {
            assert!(is_name(&p.name), "{}", p.name);
            assert!(p.phone.is_empty() || is_mobile(&p.phone), "{}", p.phone);
            if !p.id_number.is_empty() {
                check_id(&p.id_number, today);
            }
        }
    }
}

#[test]
fn the_register_has_its_mix() {
    let demo = default_demo();
    let today = DemoConfig::default().today();
    let uses: HashSet<_> = demo
        .households
        .iter()
        .map(|h| enum_name(&h.usage))
        .collect();
    assert_eq!(uses.len(), 4, "{uses:?}");
    assert!(uses.contains(&enum_name(&HouseholdUse::Business)));
    assert!(demo.households.iter().any(|h| h.flags.low_income));
    assert!(demo.households.iter().any(|h| h.flags.living_alone));
    assert!(
        demo.households
            .iter()
            .any(|h| !h.address.village.is_empty())
    );
    let types: HashSet<_> = demo
        .residents
        .iter()
        .map(|r| enum_name(&r.population_type))
        .collect();
    assert_eq!(types.len(), 4, "{types:?}");
    assert!(demo.residents.iter().any(|r| r.id_type == IdType::Passport));
    let han = demo
        .residents
        .iter()
        .filter(|r| r.ethnicity == "汉族")
        .count();
    assert!(han * 10 > demo.residents.len() * 9);

    let sizes: HashMap<_, usize> = demo.residents.iter().fold(HashMap::new(), |mut m, r| {
        *m.entry(r.household_id).or_default() += 1;
        m
    });
    let mut tags = HashSet::new();
    for r in &demo.residents {
        let birth: jiff::civil::Date = r.birth_date.as_deref().unwrap().parse().unwrap();
        let alone_elder = sizes[&r.household_id] == 1 && clock::age_on(birth, today) > 70;
        let tagged = r
            .care_tags
            .iter()
            .any(|t| t.tag == CareTagKind::ElderlyLivingAlone);
        assert_eq!(alone_elder, tagged, "{}", r.name);
        if r.care_tags
            .iter()
            .any(|t| t.tag == CareTagKind::LeftBehindChild)
        {
            assert_eq!(r.population_type, PopulationType::LeftBehind);
            assert!(clock::age_on(birth, today) < 18);
        }
        assert_eq!(
            r.care_tags.is_empty(),
            r.next_visit_due.is_none(),
            "{}",
            r.name
        );
        tags.extend(r.care_tags.iter().map(|t| t.tag));
    }
    for tag in [
        CareTagKind::ElderlyLivingAlone,
        CareTagKind::LeftBehindChild,
        CareTagKind::Disability,
        CareTagKind::LowIncome,
    ] {
        assert!(tags.contains(&tag), "{tag:?}");
    }
    let kinds: HashSet<_> = demo.visits.iter().map(|v| enum_name(&v.kind)).collect();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    assert!(demo.households.iter().any(|h| h.last_visit_at.is_some()));
}

#[test]
fn incidents_cover_every_status_and_their_logs_fold_cleanly() {
    let cfg = DemoConfig::default();
    let demo = default_demo();
    let cal = WorkCalendar::bundled();
    let mut statuses = HashSet::new();
    let (mut street, mut district, mut on_spot, mut reopened) = (false, false, false, false);
    for i in &demo.incidents {
        let d = workflow::derive(i, &cal);
        assert!(d.skipped.is_empty(), "{}: {:?}", i.number, d.skipped);
        statuses.insert(d.status);
        street |= d.level == Level::Street;
        district |= d.level == Level::District;
        on_spot |= d.resolved_on_spot;
        reopened |= i
            .log
            .windows(2)
            .any(|w| w[0].to == Status::Verified && w[1].to == Status::Accepted);
        assert!(i.happened_at <= i.meta.created_at);
        let mut last = i.meta.created_at;
        for entry in &i.log {
            assert!(entry.at > last && entry.at <= cfg.now_ms, "{}", i.number);
            last = entry.at;
            if !entry.photos.is_empty() {
                assert!(
                    entry
                        .photos
                        .iter()
                        .all(|sha| i.photos.iter().any(|p| &p.sha256 == sha))
                );
            }
        }
        assert!(i.happened_at > cfg.now_ms - 92 * clock::DAY_MS);
    }
    let all = [
        Status::Draft,
        Status::Reported,
        Status::Accepted,
        Status::Returned,
        Status::Dispatched,
        Status::InProgress,
        Status::Resolved,
        Status::Verified,
        Status::FeedbackGiven,
        Status::Closed,
        Status::Suspended,
    ];
    for s in all {
        assert!(statuses.contains(&s), "no incident is {s:?}");
    }
    assert!(street && district && on_spot && reopened);
    assert!(demo.incidents.iter().any(|i| i.mediation.is_some()));
    assert!(demo.incidents.iter().any(|i| i.hotline_order.is_some()));
    assert!(demo.incidents.iter().any(|i| i.title.contains("漏水")));
    let majors: HashSet<_> = demo.incidents.iter().map(|i| i.category.major).collect();
    assert_eq!(majors.len(), gridwork_core::model::CategoryMajor::ALL.len());

    // Patrol links go both ways.
    let patrols: HashMap<_, _> = demo.patrols.iter().map(|p| (p.meta.id, p)).collect();
    let linked = demo
        .incidents
        .iter()
        .filter_map(|i| i.patrol_id.map(|p| (i, p)));
    let mut any = false;
    for (i, p) in linked {
        any = true;
        let patrol = patrols[&p];
        assert!(patrol.incident_ids.contains(&i.meta.id));
        assert!(patrol.started_at <= i.happened_at && Some(i.happened_at) <= patrol.ended_at);
    }
    assert!(any, "no incident found on patrol");
}

/// Exterior rings by code, from the GeoJSON.
fn rings(geojson: &str) -> (Vec<Value>, HashMap<String, Vec<[f64; 2]>>) {
    let tree: Value = serde_json::from_str(geojson).unwrap();
    assert_eq!(tree["type"], "FeatureCollection");
    let features = tree["features"].as_array().unwrap().clone();
    let mut rings = HashMap::new();
    for f in &features {
        if let Some(coords) = f["geometry"]["coordinates"][0].as_array() {
            let ring = coords
                .iter()
                .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
                .collect();
            rings.insert(f["properties"]["code"].as_str().unwrap().to_string(), ring);
        }
    }
    (features, rings)
}

fn inside(ring: &[[f64; 2]], [x, y]: [f64; 2]) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let ([x1, y1], [x2, y2]) = (w[0], w[1]);
        if (y1 > y) != (y2 > y) && x < x1 + (y - y1) / (y2 - y1) * (x2 - x1) {
            inside = !inside;
        }
    }
    inside
}

fn area(ring: &[[f64; 2]]) -> f64 {
    ring.windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum::<f64>()
        / 2.0
}

#[test]
fn the_grid_tree_is_a_tiling_of_named_levels() {
    let demo = default_demo();
    let (features, rings) = rings(&demo.grid_tree_geojson);
    let mut seen: HashMap<String, String> = HashMap::new();
    for f in &features {
        let p = &f["properties"];
        let code = p["code"].as_str().unwrap().to_string();
        let level = p["level"].as_str().unwrap().to_string();
        assert!(["comprehensive", "dedicated"].contains(&p["kind"].as_str().unwrap()));
        assert!(!p["name"].as_str().unwrap().is_empty());
        match p["parent"].as_str() {
            None => assert_eq!(code, "4401"),
            Some(parent) => {
                assert!(
                    seen.contains_key(parent),
                    "{code}'s parent {parent} comes later"
                );
                assert!(code.starts_with(parent));
            }
        }
        let polygon = matches!(level.as_str(), "community" | "grid" | "micro_grid");
        assert_eq!(polygon, rings.contains_key(&code), "{code}");
        if polygon {
            assert!(area(&rings[&code]) > 0.0, "{code} is not counter-clockwise");
        }
        assert!(seen.insert(code, level).is_none(), "duplicate code");
    }
    let levels: HashSet<_> = seen.values().map(String::as_str).collect();
    assert_eq!(levels.len(), 6, "{levels:?}");
    assert_eq!(seen["440106"], "district");
    assert_eq!(seen["440106001001001"], "grid");
    assert!(
        features
            .iter()
            .any(|f| f["properties"]["kind"] == "dedicated")
    );

    // Grids tile their community: inside it, and their areas add up.
    for f in &features {
        let p = &f["properties"];
        let code = p["code"].as_str().unwrap();
        let Some(parent) = p["parent"].as_str() else {
            continue;
        };
        if !matches!(p["level"].as_str(), Some("grid" | "micro_grid")) {
            continue;
        }
        let outer = &rings[parent];
        let (min, max) = outer
            .iter()
            .fold(([f64::MAX; 2], [f64::MIN; 2]), |(lo, hi), p| {
                (
                    [lo[0].min(p[0]), lo[1].min(p[1])],
                    [hi[0].max(p[0]), hi[1].max(p[1])],
                )
            });
        for corner in &rings[code] {
            assert!(
                (0..2).all(|k| corner[k] >= min[k] - 1e-9 && corner[k] <= max[k] + 1e-9),
                "{code}"
            );
        }
        let (w, h) = ((max[0] - min[0]) * 102_000.0, (max[1] - min[1]) * 110_574.0);
        if p["level"] == "grid" {
            assert!(w > 300.0 && h > 300.0, "{code}'s community is {w} × {h} m");
        }
    }
    for c in features
        .iter()
        .filter(|f| f["properties"]["level"] == "community")
    {
        let code = c["properties"]["code"].as_str().unwrap();
        let grids: f64 = features
            .iter()
            .filter(|f| f["properties"]["parent"] == code)
            .map(|f| area(&rings[f["properties"]["code"].as_str().unwrap()]))
            .sum();
        let whole = area(&rings[code]);
        assert!(
            (grids - whole).abs() < whole * 1e-6,
            "{code}: {grids} vs {whole}"
        );
    }
}

#[test]
fn points_lie_inside_their_grid() {
    let demo = default_demo();
    let (_, rings) = rings(&demo.grid_tree_geojson);
    let check = |grid: &str, lon: f64, lat: f64, what: &str| {
        assert!(
            inside(&rings[grid], [lon, lat]),
            "{what} at {lon},{lat} is outside {grid}"
        );
    };
    for h in &demo.households {
        let p = h.point.as_ref().unwrap();
        check(&h.meta.grid, p.lon, p.lat, "household");
    }
    for i in &demo.incidents {
        let p = i.point.as_ref().unwrap();
        check(&i.meta.grid, p.lon, p.lat, &i.number);
    }
    for v in &demo.visits {
        if let Some(p) = &v.point {
            check(&v.meta.grid, p.lon, p.lat, "visit");
        }
    }
    for p in &demo.patrols {
        assert!(
            (100..=720).contains(&p.track.len()),
            "{} points",
            p.track.len()
        );
        let mut last = p.started_at - 1;
        for t in &p.track {
            check(&p.meta.grid, t.lon, t.lat, "track point");
            assert!(t.t_ms > last && Some(t.t_ms) <= p.ended_at);
            last = t.t_ms;
        }
        assert!(!p.check_ins.is_empty());
        for c in &p.check_ins {
            check(&p.meta.grid, c.point.lon, c.point.lat, "check-in");
            assert!(p.started_at <= c.at && Some(c.at) <= p.ended_at);
        }
    }
}

#[test]
fn ids_numbers_and_addresses_are_unique() {
    let demo = default_demo();
    let mut ids = HashSet::new();
    for r in demo.records() {
        assert!(ids.insert(r.meta().id), "duplicate id {}", r.meta().id);
        // A parties record's id is derived from its incident's.
        let derived = matches!(r, AnyRecord::IncidentParties(_));
        assert_eq!(r.meta().id.get_version_num(), if derived { 8 } else { 7 });
    }
    let numbers: HashSet<_> = demo.incidents.iter().map(|i| &i.number).collect();
    assert_eq!(numbers.len(), demo.incidents.len());
    let addresses: HashSet<_> = demo
        .households
        .iter()
        .map(|h| h.address.one_line())
        .collect();
    assert_eq!(addresses.len(), demo.households.len());
    let users: HashSet<_> = demo.users.iter().map(|u| &u.id).collect();
    assert_eq!(users.len(), demo.users.len());
    assert!(users.contains(&"gw-440106001001001".to_string()));
}

#[test]
fn odd_sizes_do_not_panic() {
    for cfg in [
        DemoConfig {
            communities: 0,
            ..DemoConfig::default()
        },
        DemoConfig {
            communities: 1,
            grids_per_community: 1,
            households_per_grid: 0,
            visits_per_grid: 5,
            ..DemoConfig::default()
        },
        DemoConfig {
            communities: 5,
            grids_per_community: 7,
            households_per_grid: 3,
            residents_per_household: f64::NAN,
            incidents_per_grid: 1,
            patrols_per_grid: 0,
            visits_per_grid: 1,
            ..DemoConfig::default()
        },
    ] {
        let demo = generate(&cfg);
        let ctx = ValidateCtx { today: cfg.today() };
        for mut r in demo.into_records() {
            assert!(r.normalize_and_validate(&ctx).is_ok());
        }
    }
}

#[test]
fn a_district_deals_its_communities_to_several_streets() {
    let cfg = DemoConfig {
        streets: 3,
        communities: 7,
        grids_per_community: 2,
        households_per_grid: 4,
        incidents_per_grid: 6,
        patrols_per_grid: 1,
        visits_per_grid: 2,
        ..DemoConfig::default()
    };
    let demo = generate(&cfg);
    let (features, _) = rings(&demo.grid_tree_geojson);
    let level = |l: &str| {
        features
            .iter()
            .filter(|f| f["properties"]["level"] == l)
            .map(|f| {
                let p = &f["properties"];
                (
                    p["code"].as_str().unwrap().to_string(),
                    p["parent"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let streets: Vec<String> = level("street").into_iter().map(|(c, _)| c).collect();
    assert_eq!(streets, ["440106001", "440106002", "440106003"]);
    let communities = level("community");
    assert_eq!(communities.len(), 7);
    for s in &streets {
        let n = communities.iter().filter(|(_, p)| p == s).count();
        assert!((2..=3).contains(&n), "{s} has {n} communities");
    }
    for (code, parent) in &communities {
        assert!(
            code.starts_with(parent.as_str()) && code.len() == 12,
            "{code}"
        );
    }
    // Each street has its supervisor and handlers; everyone's grid is in
    // the tree, and the tree still locates every household.
    let tree = gridwork_core::geo::GridTree::from_geojson(&demo.grid_tree_geojson).unwrap();
    for s in &streets {
        let staff: Vec<&str> = demo
            .users
            .iter()
            .filter(|u| &u.grid == s)
            .map(|u| u.id.as_str())
            .collect();
        assert_eq!(staff.len(), 3, "{s}: {staff:?}");
    }
    for user in &demo.users {
        assert!(tree.get(&user.grid).is_some(), "{}", user.id);
    }
    for h in &demo.households {
        let p = h.point.as_ref().unwrap();
        assert_eq!(tree.locate(p.lon, p.lat).unwrap().grid, h.meta.grid);
    }
    let ctx = ValidateCtx { today: cfg.today() };
    for mut r in demo.clone().into_records() {
        assert!(r.normalize_and_validate(&ctx).is_ok());
    }
    // A sized demo of a district has several streets; a small one, one.
    assert_eq!(DemoConfig::with_total_records(1, 50_000).streets, 1);
    assert!(DemoConfig::with_total_records(1, 1_000_000).streets >= 5);
}

#[test]
fn the_grid_tree_imports_and_locates_every_household_in_its_grid() {
    let demo = default_demo();
    let tree = gridwork_core::geo::GridTree::from_geojson(&demo.grid_tree_geojson).unwrap();
    for h in &demo.households {
        let p = h.point.as_ref().unwrap();
        let found = tree
            .locate(p.lon, p.lat)
            .expect("a household point is in a grid");
        assert_eq!(found.grid, h.meta.grid);
    }
    for user in &demo.users {
        assert!(
            tree.get(&user.grid).is_some(),
            "{} has a real grid",
            user.id
        );
    }
}

#[test]
fn every_demo_record_is_within_its_limits() {
    for record in small_demo().records() {
        let result = match &record {
            AnyRecord::Household(r) => limits::check(r),
            AnyRecord::Resident(r) => limits::check(r),
            AnyRecord::Incident(r) => limits::check(r),
            AnyRecord::Patrol(r) => limits::check(r),
            AnyRecord::Visit(r) => limits::check(r),
            AnyRecord::Task(r) => limits::check(r),
            AnyRecord::IncidentParties(r) => limits::check(r),
        };
        assert!(result.is_ok(), "{:?}: {result:?}", record.kind());
    }
}

/// Regression: a visit's own `kind` field once overwrote the document's
/// root `kind`, and every visit document became unreadable.
#[test]
fn every_demo_record_of_every_kind_round_trips_through_its_document() {
    let actor = |n: u8| automerge::ActorId::from(vec![n; 16]);
    let author = Author::new("gw-1", 1_763_000_100_000);
    let mut kinds = std::collections::BTreeSet::new();
    // The demo has no tasks: supervisors issue them from the console.
    let task = Task {
        meta: Meta::new("440106001001001", "cs-1", 1),
        campaign: uuid::Uuid::now_v7(),
        title: "独居老人走访".into(),
        description: String::new(),
        kind: TaskKind::Screening,
        due: "2026-12-04".into(),
        issued_by: "cs-1".into(),
        issued_at: 1,
        filter: Some("household:living_alone".into()),
        items: vec![TaskItem::open("阳光花园3栋501室", None)],
    };
    for record in small_demo().records().chain([AnyRecord::Task(task)]) {
        let mut doc = RecordDoc::create_any(&record, actor(1), &author).unwrap();
        let loaded = RecordDoc::load(&doc.save(), actor(2)).unwrap();
        assert_eq!(loaded.kind(), record.kind());
        assert_eq!(loaded.read_any().unwrap(), record);
        kinds.insert(record.kind());
    }
    assert_eq!(kinds.len(), RecordKind::ALL.len());
}
