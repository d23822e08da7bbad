//! Households and their residents: estates of walk-ups and towers or
//! urban-village houses, families of locals, migrants, left-behind
//! grandparents and children, co-tenants, foreigners and compatriots from
//! Hong Kong, Macao and Taiwan, with the care tags a grid worker keeps.

use std::collections::{HashMap, HashSet};

use jiff::civil::Date;

use super::clock::{self, DAY_MS, MINUTE_MS};
use super::people::{self, COMPATRIOT, LOCAL, MIGRANT, Region};
use super::place::GridArea;
use super::random::Gen;
use super::{GridCtx, review_log};
use gridwork_core::model::{
    Address, CareTag, CareTagKind, EmergencyContact, Gender, GeoPoint, Household, HouseholdFlags,
    HouseholdUse, IdType, Meta, PhotoRole, PopulationType, Relation, Resident,
};

/// A grid's households and residents, residents grouped by household.
pub(super) struct Homes {
    pub households: Vec<Household>,
    pub residents: Vec<Resident>,
}

const URBAN_USE: &[(HouseholdUse, u32)] = &[
    (HouseholdUse::OwnerOccupied, 62),
    (HouseholdUse::Rented, 25),
    (HouseholdUse::Vacant, 6),
    (HouseholdUse::Business, 7),
];
/// Urban villages rent out more.
const VILLAGE_USE: &[(HouseholdUse, u32)] = &[
    (HouseholdUse::OwnerOccupied, 55),
    (HouseholdUse::Rented, 35),
    (HouseholdUse::Vacant, 4),
    (HouseholdUse::Business, 6),
];

/// Who lives in a household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Registered locals: a couple, children, parents or grandchildren.
    Local,
    /// Grandparents with grandchildren whose parents work elsewhere.
    LeftBehind,
    /// A migrant family renting.
    Floating,
    /// Unrelated young migrants sharing a flat.
    CoTenants,
    /// Foreign residents on passports.
    Foreign,
    /// Hong Kong, Macao or Taiwan residents on residence permits.
    Compatriot,
    /// A shop's operator and staff.
    Business,
}

/// Where a member's ID number was issued.
#[derive(Clone, Copy)]
enum Birthplace {
    Pool(&'static [(Region, u32)]),
    Fixed(&'static Region),
}

/// What a household's members share.
struct Origin {
    birthplace: Birthplace,
    residence: String,
    ethnicity: &'static str,
    population: PopulationType,
    /// Resident ID cards, or residence permits for compatriots.
    id_type: IdType,
}

/// A resident before they become a record.
struct Member {
    relation: Relation,
    name: String,
    male: bool,
    birth: Date,
    id_type: IdType,
    id_number: String,
    phone: Option<String>,
    ethnicity: String,
    residence: String,
    population: PopulationType,
    tags: Vec<CareTagKind>,
}

/// Generates a grid's households and their residents.
pub(super) fn generate(g: &mut Gen, ctx: &GridCtx) -> Homes {
    let n = ctx.cfg.households_per_grid as usize;
    let village = !ctx.area.villages.is_empty();
    let p = (ctx.cfg.residents_per_household - 1.0) / 4.0;
    let local_residence = format!("广东省广州市天河区{}", ctx.street_name);
    let mut addresses = Addresses::new(ctx.area, n);
    let mut homes = Homes {
        households: Vec::with_capacity(n),
        residents: Vec::with_capacity(n * 3),
    };
    for _ in 0..n {
        let usage = g.weighted(if village { VILLAGE_USE } else { URBAN_USE });
        let (address, point) = addresses.next(g, ctx.area, usage == HouseholdUse::Business);
        let size = 1 + (0..4).filter(|_| g.chance(p)).count();
        let family = match usage {
            HouseholdUse::OwnerOccupied if village && size >= 2 && g.chance(0.15) => {
                Family::LeftBehind
            }
            HouseholdUse::OwnerOccupied | HouseholdUse::Vacant => Family::Local,
            HouseholdUse::Rented => g.weighted(&[
                (Family::Floating, 60),
                (Family::CoTenants, 34),
                (Family::Foreign, 4),
                (Family::Compatriot, 2),
            ]),
            HouseholdUse::Business => Family::Business,
        };
        let mut members = members(g, ctx.today, family, size, &local_residence);
        let flags = care(g, ctx.today, family, &mut members);

        let created_at = working_time(g, ctx, 60, 900);
        let meta = Meta {
            id: g.uuid_v7(created_at),
            grid: ctx.area.code.clone(),
            created_by: ctx.worker.id.clone(),
            created_at,
            deleted: false,
        };
        let head = &members[0];
        let head_is_owner = matches!(family, Family::Local | Family::LeftBehind);
        let (owner_name, owner_phone, owner_id) = if head_is_owner {
            let phone = head.phone.clone().unwrap_or_else(|| people::mobile(g));
            (head.name.clone(), phone, head.id_number.clone())
        } else {
            landlord(g, ctx.today)
        };
        let household = Household {
            meta,
            address,
            point: Some(point),
            usage,
            owner_name,
            owner_phone: g.chance(0.96).then_some(owner_phone),
            owner_id_number: g.chance(0.92).then_some(owner_id),
            door_plate_photo: g
                .chance(0.4)
                .then(|| g.photo(PhotoRole::DoorPlate, created_at - 2 * MINUTE_MS)),
            flags,
            last_visit_at: None,
            review: review_log(g, ctx, created_at),
        };

        let contacts: Vec<(String, Option<String>, Relation)> = members
            .iter()
            .map(|m| (m.name.clone(), m.phone.clone(), m.relation))
            .collect();
        for (i, m) in members.into_iter().enumerate() {
            let at = created_at + (i as i64 + 1) * g.range(MINUTE_MS..5 * MINUTE_MS);
            let emergency_contact = emergency_contact(g, i, &m, &contacts);
            let tags = m
                .tags
                .iter()
                .map(|&tag| CareTag {
                    tag,
                    visit_cycle_days: tag.default_cycle_days(),
                    since: tag_since(g, ctx, m.birth),
                })
                .collect();
            let age = clock::age_on(m.birth, ctx.today);
            homes.residents.push(Resident {
                meta: Meta {
                    id: g.uuid_v7(at),
                    grid: ctx.area.code.clone(),
                    created_by: ctx.worker.id.clone(),
                    created_at: at,
                    deleted: false,
                },
                household_id: Some(household.meta.id),
                relation: m.relation,
                name: m.name,
                gender: if m.male { Gender::Male } else { Gender::Female },
                birth_date: Some(m.birth.to_string()),
                id_type: m.id_type,
                id_number: Some(m.id_number),
                phone: m.phone,
                ethnicity: m.ethnicity,
                education: people::education(g, age, m.population == PopulationType::Floating),
                registered_residence: m.residence,
                population_type: m.population,
                emergency_contact,
                care_tags: tags,
                // Set from the visits (see `visits`).
                next_visit_due: None,
                review: review_log(g, ctx, at),
            });
        }
        homes.households.push(household);
    }
    homes
}

/// A time of day during working hours, `min_days..max_days` before now.
fn working_time(g: &mut Gen, ctx: &GridCtx, min_days: i64, max_days: i64) -> i64 {
    let day = clock::days_before(ctx.today, g.range(min_days..=max_days));
    clock::at(day, g.range(8..=17), g.range(0..60))
}

/// The date someone aged `age` today was born on.
fn born(g: &mut Gen, today: Date, age: i32) -> Date {
    let back = jiff::Span::new()
        .years(i64::from(age))
        .days(g.range(1..=364i64));
    today.checked_sub(back).unwrap_or(today)
}

fn phone_for(g: &mut Gen, age: i32) -> Option<String> {
    let p = match age {
        ..14 => 0.0,
        14..=15 => 0.3,
        16..=74 => 0.96,
        _ => 0.7,
    };
    g.chance(p).then(|| people::mobile(g))
}

fn member(
    g: &mut Gen,
    today: Date,
    origin: &Origin,
    relation: Relation,
    age: i32,
    male: bool,
    name: String,
) -> Member {
    let birth = born(g, today, age.max(0));
    let region = match origin.birthplace {
        Birthplace::Pool(pool) => people::region_for(g, pool, birth.year()),
        Birthplace::Fixed(region) => region,
    };
    Member {
        relation,
        name,
        male,
        birth,
        id_type: origin.id_type,
        id_number: people::id_number(g, region.code, birth, male),
        phone: phone_for(g, age),
        ethnicity: origin.ethnicity.to_string(),
        residence: origin.residence.clone(),
        population: origin.population,
        tags: Vec::new(),
    }
}

/// A name in the family's custom: Uyghur names are own·father.
fn name_for(
    g: &mut Gen,
    ethnicity: &str,
    surname: &str,
    male: bool,
    father: Option<&str>,
) -> String {
    if ethnicity == "维吾尔族" {
        people::uyghur_name(g, male, father.map(people::own_name))
    } else {
        people::chinese_name(g, surname, male)
    }
}

/// The members of a household of `size`, the head first.
fn members(g: &mut Gen, today: Date, family: Family, size: usize, local: &str) -> Vec<Member> {
    match family {
        Family::Local | Family::LeftBehind | Family::Floating => kin(g, today, family, size, local),
        Family::CoTenants => (0..size)
            .map(|i| {
                let region = people::region_for(g, MIGRANT, 2000);
                let ethnicity = people::ethnicity(g, region);
                let origin = Origin {
                    birthplace: Birthplace::Fixed(region),
                    residence: region.residence.to_string(),
                    ethnicity,
                    population: PopulationType::Floating,
                    id_type: IdType::ResidentId,
                };
                let male = g.chance(0.55);
                let surname = people::surname(g, ethnicity);
                let name = name_for(g, ethnicity, surname, male, None);
                let relation = if i == 0 {
                    Relation::Head
                } else {
                    Relation::Tenant
                };
                let age = g.range(19..=35);
                member(g, today, &origin, relation, age, male, name)
            })
            .collect(),
        Family::Foreign => (0..size.min(3))
            .map(|i| {
                let (name, male, nationality, passport) = people::foreigner(g);
                let age = g.range(22..=60);
                let birth = born(g, today, age);
                Member {
                    relation: if i == 0 {
                        Relation::Head
                    } else {
                        Relation::Tenant
                    },
                    name,
                    male,
                    birth,
                    id_type: IdType::Passport,
                    id_number: passport,
                    phone: Some(people::mobile(g)),
                    ethnicity: String::new(),
                    residence: nationality.to_string(),
                    population: PopulationType::Foreign,
                    tags: Vec::new(),
                }
            })
            .collect(),
        Family::Compatriot => {
            let region = g.weighted_ref(COMPATRIOT);
            let origin = Origin {
                birthplace: Birthplace::Fixed(region),
                residence: region.residence.to_string(),
                ethnicity: "汉族",
                population: PopulationType::Foreign,
                id_type: IdType::ResidencePermit,
            };
            let head_male = g.chance(0.6);
            let head_age = g.range(25..=65);
            let surname = people::surname(g, "汉族");
            let name = people::chinese_name(g, surname, head_male);
            let mut out = vec![member(
                g,
                today,
                &origin,
                Relation::Head,
                head_age,
                head_male,
                name,
            )];
            if size >= 2 {
                let surname = people::surname(g, "汉族");
                let name = people::chinese_name(g, surname, !head_male);
                let age = (head_age + g.range(-5..=5)).max(20);
                out.push(member(
                    g,
                    today,
                    &origin,
                    Relation::Spouse,
                    age,
                    !head_male,
                    name,
                ));
            }
            out
        }
        Family::Business => {
            let migrant = g.chance(0.6);
            let region = people::region_for(g, if migrant { MIGRANT } else { LOCAL }, 1980);
            let ethnicity = people::ethnicity(g, region);
            let origin = Origin {
                birthplace: Birthplace::Fixed(region),
                residence: if migrant {
                    region.residence.to_string()
                } else {
                    local.to_string()
                },
                ethnicity,
                population: if migrant {
                    PopulationType::Floating
                } else {
                    PopulationType::Registered
                },
                id_type: IdType::ResidentId,
            };
            (0..size.min(3))
                .map(|i| {
                    let male = g.chance(0.55);
                    let surname = people::surname(g, ethnicity);
                    let name = name_for(g, ethnicity, surname, male, None);
                    let (relation, age) = if i == 0 {
                        (Relation::Head, g.range(25..=60))
                    } else {
                        (Relation::Other, g.range(18..=45))
                    };
                    member(g, today, &origin, relation, age, male, name)
                })
                .collect()
        }
    }
}

/// A family of relatives: the head, a spouse, then children, parents or
/// grandchildren as the head's age suggests.
fn kin(g: &mut Gen, today: Date, family: Family, size: usize, local: &str) -> Vec<Member> {
    let origin = match family {
        Family::Floating => {
            let region = people::region_for(g, MIGRANT, 2000);
            Origin {
                birthplace: Birthplace::Fixed(region),
                residence: region.residence.to_string(),
                ethnicity: people::ethnicity(g, region),
                population: PopulationType::Floating,
                id_type: IdType::ResidentId,
            }
        }
        _ => Origin {
            birthplace: Birthplace::Pool(LOCAL),
            residence: local.to_string(),
            ethnicity: if g.chance(0.01) { "壮族" } else { "汉族" },
            population: if family == Family::LeftBehind {
                PopulationType::LeftBehind
            } else {
                PopulationType::Registered
            },
            id_type: IdType::ResidentId,
        },
    };
    let ethnicity = origin.ethnicity;
    let head_age: i32 = match family {
        Family::LeftBehind => g.range(58..=78),
        Family::Floating => g.range(22..=50),
        _ if size == 1 && g.chance(0.35) => g.range(71..=92),
        _ if size == 1 => g.range(25..=70),
        _ => {
            let (lo, hi) =
                g.weighted(&[((28, 40), 3), ((41, 55), 4), ((56, 70), 3), ((71, 85), 1)]);
            g.range(lo..=hi)
        }
    };
    let head_male = g.chance(0.7);
    let surname = people::surname(g, ethnicity);
    let head_name = name_for(g, ethnicity, surname, head_male, None);
    let father = if head_male {
        Some(head_name.clone())
    } else {
        None
    };
    let mut out = vec![member(
        g,
        today,
        &origin,
        Relation::Head,
        head_age,
        head_male,
        head_name,
    )];
    let spouse_chance = if family == Family::LeftBehind && size == 2 {
        0.0
    } else {
        0.85
    };
    let mut rest = size - 1;
    if rest > 0 && g.chance(spouse_chance) {
        let age = (head_age + g.range(-6..=4)).max(20);
        let spouse_surname = people::surname(g, ethnicity);
        let name = name_for(g, ethnicity, spouse_surname, !head_male, None);
        let spouse = member(g, today, &origin, Relation::Spouse, age, !head_male, name);
        out.push(spouse);
        rest -= 1;
    }
    let mut parents = 0;
    for slot in 0..rest {
        let male = g.chance(0.5);
        let (relation, age, male) = match family {
            Family::LeftBehind => (Relation::Grandchild, g.range(2..=15), male),
            _ if head_age >= 58 && slot == 0 => {
                (Relation::Child, (head_age - g.range(24..=34)).max(18), male)
            }
            _ if head_age >= 58 => (
                Relation::Grandchild,
                (head_age - g.range(48..=62)).max(0),
                male,
            ),
            Family::Floating if slot >= 2 && head_age + 30 <= 80 => {
                parents += 1;
                (Relation::Parent, head_age + g.range(22..=30), parents == 1)
            }
            Family::Floating => (
                Relation::Child,
                (head_age - g.range(20..=30)).clamp(0, 17),
                male,
            ),
            _ if slot >= 2 && head_age + 32 <= 95 && parents < 2 => {
                parents += 1;
                (Relation::Parent, head_age + g.range(24..=32), parents == 1)
            }
            _ => (Relation::Child, (head_age - g.range(22..=36)).max(0), male),
        };
        let own_surname = match relation {
            Relation::Parent if !male => people::surname(g, ethnicity),
            _ => surname,
        };
        let name = name_for(g, ethnicity, own_surname, male, father.as_deref());
        let mut m = member(g, today, &origin, relation, age, male, name);
        if family == Family::LeftBehind {
            m.tags.push(CareTagKind::LeftBehindChild);
        }
        out.push(m);
    }
    out
}

/// Adds care tags to members and returns the household's flags.
fn care(g: &mut Gen, today: Date, family: Family, members: &mut [Member]) -> HouseholdFlags {
    let alone = members.len() == 1;
    let registered = matches!(family, Family::Local | Family::LeftBehind);
    let mut flags = HouseholdFlags {
        low_income: registered && g.chance(0.03),
        ..HouseholdFlags::default()
    };
    for (i, m) in members.iter_mut().enumerate() {
        let age = clock::age_on(m.birth, today);
        if alone && age > 70 {
            m.tags.push(CareTagKind::ElderlyLivingAlone);
        }
        if alone && age >= 60 {
            flags.living_alone = true;
        }
        if i == 0 && flags.low_income {
            m.tags.push(CareTagKind::LowIncome);
        }
        if age >= 5 && g.chance(0.015) {
            m.tags.push(CareTagKind::Disability);
            flags.disability = true;
        }
        let restricted = match age {
            14..=22 if g.chance(0.004) => Some(CareTagKind::KeyYouth),
            20..=60 if g.chance(0.0015) => Some(CareTagKind::CommunityCorrection),
            25..=65 if g.chance(0.002) => Some(CareTagKind::ReleasedPrisoner),
            18.. if g.chance(0.0025) => Some(CareTagKind::SevereMentalDisorder),
            _ => None,
        };
        if let Some(tag) = restricted {
            m.tags.push(tag);
            flags.key_concern = true;
        }
    }
    flags.special_support =
        registered && members[0].birth.year() < today.year() - 50 && g.chance(0.01);
    flags
}

/// When a tag was added: some time in the last three years, after birth.
fn tag_since(g: &mut Gen, ctx: &GridCtx, birth: Date) -> i64 {
    let lived = (ctx.today - birth).get_days().max(2) as i64;
    let days = g.range(1..=lived.min(1_000));
    ctx.cfg.now_ms - days * DAY_MS - g.range(0..DAY_MS)
}

/// The owner of a rented flat or a shop: a local landlord.
fn landlord(g: &mut Gen, today: Date) -> (String, String, String) {
    let male = g.chance(0.6);
    let surname = people::surname(g, "汉族");
    let name = people::chinese_name(g, surname, male);
    let age = g.range(38..=75);
    let birth = born(g, today, age);
    let region = people::region_for(g, LOCAL, birth.year());
    let id = people::id_number(g, region.code, birth, male);
    (name, people::mobile(g), id)
}

/// Another adult of the household, or a relative outside it.
fn emergency_contact(
    g: &mut Gen,
    index: usize,
    m: &Member,
    household: &[(String, Option<String>, Relation)],
) -> EmergencyContact {
    if g.chance(0.05) {
        return EmergencyContact::default();
    }
    let other = household
        .iter()
        .enumerate()
        .find(|(j, (_, phone, _))| *j != index && phone.is_some());
    if let Some((_, (name, Some(phone), relation))) = other {
        let label = match (m.relation, relation) {
            (Relation::Head, Relation::Spouse) | (Relation::Spouse, Relation::Head) => "配偶",
            (Relation::Child, Relation::Head | Relation::Spouse) => "父母",
            (Relation::Grandchild, Relation::Head | Relation::Spouse) => "祖父母",
            (Relation::Head | Relation::Spouse, Relation::Child) => "子女",
            (Relation::Parent, _) => "子女",
            (Relation::Tenant | Relation::Other, _) | (_, Relation::Tenant | Relation::Other) => {
                "同住人"
            }
            _ => "家属",
        };
        return EmergencyContact {
            name: name.clone(),
            phone: phone.clone(),
            relation: label.to_string(),
        };
    }
    let (relation, male) = g.pick(&[
        ("子女", true),
        ("子女", false),
        ("亲属", true),
        ("朋友", false),
    ]);
    let name = if m.population == PopulationType::Foreign && m.id_type == IdType::Passport {
        people::foreigner(g).0
    } else {
        let surname = people::surname(g, "汉族");
        people::chinese_name(g, surname, male)
    };
    EmergencyContact {
        name,
        phone: people::mobile(g),
        relation: relation.to_string(),
    }
}

/// Hands out each address once and places it in the grid: flats are
/// drawn at random across an estate's buildings (about half of them
/// registered, as in a real register), shops take ground floors, village
/// houses are numbered within their group.
#[derive(Default)]
struct Addresses {
    /// Households expected per estate.
    per_estate: u32,
    /// Buildings in use and flats taken, per estate.
    estates: HashMap<usize, (u32, HashSet<u32>)>,
    /// Next shop, per estate.
    shops: HashMap<usize, u32>,
    /// Next house number, per (village, group).
    houses: HashMap<(usize, usize), u32>,
    /// Where each (estate, building) stands, in the grid's unit square.
    buildings: HashMap<(usize, u32), [f64; 2]>,
}

impl Addresses {
    fn new(area: &GridArea, households: usize) -> Addresses {
        Addresses {
            per_estate: (households / area.estates.len().max(1)) as u32 + 1,
            ..Addresses::default()
        }
    }

    fn next(&mut self, g: &mut Gen, area: &GridArea, shop: bool) -> (Address, GeoPoint) {
        let uv = if area.estates.is_empty() {
            self.house(g, area, shop)
        } else {
            self.flat(g, area, shop)
        };
        let (address, [u, v]) = uv;
        let [lon, lat] = area.quad.at(u, v);
        (address, GeoPoint::wgs84(lon, lat))
    }

    fn flat(&mut self, g: &mut Gen, area: &GridArea, shop: bool) -> (Address, [f64; 2]) {
        let e = g.range(0..area.estates.len());
        let estate = &area.estates[e];
        let per_floor = estate.rooms_per_floor;
        let per_unit = estate.floors * per_floor;
        let per_building = estate.units * per_unit;
        let target = self.per_estate;
        let (buildings, taken) = self.estates.entry(e).or_insert_with(|| {
            // About 40% of the flats registered, in two buildings or more.
            let buildings = target.div_ceil((per_building * 2 / 5).max(1));
            (buildings.max(1 + u32::from(target >= 20)), HashSet::new())
        });
        // Keep the estate at most 80% registered so draws stay quick.
        while taken.len() as u32 * 5 >= *buildings * per_building * 4 {
            *buildings += 1;
        }
        let mut address = Address {
            estate: estate.name.clone(),
            ..Address::default()
        };
        let building = if shop {
            let building = g.range(1..=*buildings);
            let k = self.shops.entry(e).or_insert(0);
            *k += 1;
            address.detail = format!("首层{k}号商铺");
            building
        } else {
            let slot = loop {
                let slot = g.range(0..*buildings * per_building);
                if taken.insert(slot) {
                    break slot;
                }
            };
            let building = slot / per_building + 1;
            let in_building = slot % per_building;
            let unit = in_building / per_unit + 1;
            let floor = in_building % per_unit / per_floor + 1;
            let room = in_building % per_floor + 1;
            address.unit = unit.to_string();
            address.room = format!("{floor}{room:02}");
            building
        };
        address.building = building.to_string();
        let [cu, cv] = estate.centre;
        let site = *self.buildings.entry((e, building)).or_insert_with(|| {
            [
                (cu + g.range(-0.17..0.17)).clamp(0.05, 0.95),
                (cv + g.range(-0.17..0.17)).clamp(0.05, 0.95),
            ]
        });
        let uv = [
            (site[0] + g.range(-0.004..0.004)).clamp(0.04, 0.96),
            (site[1] + g.range(-0.004..0.004)).clamp(0.04, 0.96),
        ];
        (address, uv)
    }

    fn house(&mut self, g: &mut Gen, area: &GridArea, shop: bool) -> (Address, [f64; 2]) {
        let v = g.range(0..area.villages.len());
        let village = &area.villages[v];
        let k = g.range(0..village.groups.len());
        let number = self.houses.entry((v, k)).or_insert(0);
        *number += 1 + u32::from(g.chance(0.2));
        let detail = if shop {
            format!("{number}号首层商铺")
        } else {
            format!("{number}号")
        };
        let address = Address {
            village: village.name.clone(),
            group: format!("{}组", super::place::zh_number(village.groups[k])),
            detail,
            ..Address::default()
        };
        let [cu, cv] = village.centre;
        let uv = [
            (cu + g.range(-0.2..0.2)).clamp(0.04, 0.96),
            (cv + g.range(-0.2..0.2)).clamp(0.04, 0.96),
        ];
        (address, uv)
    }
}
