//! The demo street's geography: the grid tree from the city down to
//! micro-grids, each grid a slightly irregular quadrilateral of about
//! 400 m tiled without gaps or overlaps inside its community, in Tianhe
//! district, Guangzhou; and what each grid holds (estates or natural
//! villages, roads).

use serde_json::{Value, json};

use super::DemoConfig;
use super::random::Gen;

pub(super) const CITY: (&str, &str) = ("4401", "广州市");
pub(super) const DISTRICT: (&str, &str) = ("440106", "天河区");
/// Tianhe's streets (街道), 石牌 (`440106001`) first: a district demo
/// of several streets takes them in this order, then numbers them.
const STREET_NAMES: &[&str] = &[
    "石牌街道",
    "五山街道",
    "员村街道",
    "车陂街道",
    "沙河街道",
    "棠下街道",
    "天园街道",
    "猎德街道",
    "冼村街道",
    "林和街道",
    "沙东街道",
    "兴华街道",
    "天河南街道",
    "龙洞街道",
    "凤凰街道",
    "珠吉街道",
    "新塘街道",
    "长兴街道",
    "元岗街道",
    "黄村街道",
    "前进街道",
];

/// Street `index`'s code and name: `440106001` 石牌街道 first.
pub(super) fn street(index: usize) -> (String, String) {
    let code = format!("{}{:03}", DISTRICT.0, index + 1);
    let base = STREET_NAMES[index % STREET_NAMES.len()];
    let name = match index / STREET_NAMES.len() {
        0 => base.to_string(),
        round => format!(
            "{}{}街道",
            base.trim_end_matches("街道"),
            zh_number(round as u32 + 1)
        ),
    };
    (code, name)
}

/// Where the street's centre lies (石牌, 天河区), WGS-84.
const CENTRE: [f64; 2] = [113.335, 23.135];
/// Metres per degree of latitude, and of longitude at the equator.
const M_PER_DEG_LAT: f64 = 110_574.0;
const M_PER_DEG_LON_EQUATOR: f64 = 111_320.0;
/// A grid cell before its boundaries are jittered, in metres.
const CELL_W: f64 = 420.0;
const CELL_H: f64 = 380.0;

/// A convex quadrilateral in WGS-84 `[lon, lat]`: south-west, south-east,
/// north-east, north-west corners. `at(u, v)` maps the unit square onto it
/// bilinearly, so any `u, v` in 0..1 lands inside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Quad {
    pub corners: [[f64; 2]; 4],
}

impl Quad {
    /// The point at `u` (west → east) and `v` (south → north).
    pub(super) fn at(&self, u: f64, v: f64) -> [f64; 2] {
        let [sw, se, ne, nw] = self.corners;
        let w = [(1.0 - u) * (1.0 - v), u * (1.0 - v), u * v, (1.0 - u) * v];
        let lon = w[0] * sw[0] + w[1] * se[0] + w[2] * ne[0] + w[3] * nw[0];
        let lat = w[0] * sw[1] + w[1] * se[1] + w[2] * ne[1] + w[3] * nw[1];
        [round7(lon), round7(lat)]
    }

    /// The part of the quad between `u0..u1` and `v0..v1`.
    pub(super) fn sub(&self, u0: f64, u1: f64, v0: f64, v1: f64) -> Quad {
        Quad {
            corners: [
                self.at(u0, v0),
                self.at(u1, v0),
                self.at(u1, v1),
                self.at(u0, v1),
            ],
        }
    }

    /// The closed exterior ring, counter-clockwise as RFC 7946 asks.
    pub(super) fn ring(&self) -> Vec<[f64; 2]> {
        let mut ring = self.corners.to_vec();
        ring.push(self.corners[0]);
        ring
    }

    /// Rough width and height in metres.
    pub(super) fn size_m(&self) -> (f64, f64) {
        let [sw, se, ne, nw] = self.corners;
        let m_lon = M_PER_DEG_LON_EQUATOR * sw[1].to_radians().cos();
        let dist =
            |a: [f64; 2], b: [f64; 2]| ((a[0] - b[0]) * m_lon).hypot((a[1] - b[1]) * M_PER_DEG_LAT);
        (
            (dist(sw, se) + dist(nw, ne)) / 2.0,
            (dist(sw, nw) + dist(se, ne)) / 2.0,
        )
    }
}

fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

/// A community (社区) or village (村).
#[derive(Debug)]
pub(super) struct Community {
    /// Index of its street in [`Street::streets`].
    pub street: usize,
    pub code: String,
    pub name: String,
    pub quad: Quad,
}

/// A residential estate (小区) in a grid.
#[derive(Debug)]
pub(super) struct Estate {
    pub name: String,
    /// Centre in the grid's unit square.
    pub centre: [f64; 2],
    pub floors: u32,
    pub units: u32,
    pub rooms_per_floor: u32,
}

/// A natural village (自然村) in a grid, with its groups (组), numbered
/// uniquely within the community.
#[derive(Debug)]
pub(super) struct Village {
    pub name: String,
    pub groups: Vec<u32>,
    pub centre: [f64; 2],
}

/// A micro-grid (微网格) inside a grid.
#[derive(Debug)]
pub(super) struct MicroGrid {
    pub code: String,
    pub name: String,
    pub quad: Quad,
}

/// A grid (网格) and what it holds.
#[derive(Debug)]
pub(super) struct GridArea {
    pub code: String,
    pub name: String,
    /// Index of its community in [`Street::communities`].
    pub community: usize,
    pub quad: Quad,
    pub dedicated: bool,
    pub micro_grids: Vec<MicroGrid>,
    /// Urban grids have estates, village grids natural villages.
    pub estates: Vec<Estate>,
    pub villages: Vec<Village>,
    pub roads: [&'static str; 2],
    /// Hex tag of the grid worker's device, for incident numbers.
    pub device_tag: String,
}

/// The generated street, or district of streets.
#[derive(Debug)]
pub(super) struct Street {
    /// Each street's code and name, 石牌街道 first.
    pub streets: Vec<(String, String)>,
    pub communities: Vec<Community>,
    pub grids: Vec<GridArea>,
    pub centre: [f64; 2],
}

/// Real community names around 石牌; more are made by numbering them.
const URBAN_COMMUNITIES: &[&str] = &[
    "华师",
    "龙口西",
    "暨南",
    "南农",
    "东方",
    "逸景",
    "穗园",
    "岗顶",
    "龙口中",
    "石牌东",
    "华港",
    "天河北",
    "金融",
    "兴华",
    "天园",
    "骏景",
    "华景",
    "汇景",
    "员村",
    "林和",
];
/// Urban villages (城中村) of Tianhe.
const VILLAGE_COMMUNITIES: &[&str] = &[
    "石牌",
    "棠下",
    "车陂",
    "猎德",
    "冼村",
    "岑村",
    "珠村",
    "凌塘",
    "新塘",
    "渔沙坦",
];
const NATURAL_VILLAGES: &[&str] = &[
    "东约", "西约", "南约", "北约", "上社", "下社", "新围", "老围", "大塘", "岗头", "坑尾", "田心",
    "塘边", "龙田", "水口", "沙埔",
];
const DEDICATED: &[&str] = &[
    "华南师范大学校园",
    "石牌桥地铁站",
    "岗顶商圈",
    "龙口西农贸市场",
    "天河科技园",
    "暨南大学校园",
];
const ESTATE_PREFIXES: &[&str] = &[
    "阳光", "翠苑", "金穗", "华景", "骏景", "天河", "棠下", "嘉逸", "汇景", "东方", "南国", "丽景",
    "珠江", "君怡", "雅怡", "富力", "保利", "逸景", "岭南", "华港", "美林", "海滨", "帝景", "锦城",
    "荔苑", "穗华", "明珠", "康乐", "桃源", "紫荆",
];
const ESTATE_SUFFIXES: &[&str] = &[
    "花园", "小区", "新村", "大厦", "苑", "华庭", "雅居", "公寓", "山庄", "广场",
];
pub(super) const ROADS: &[&str] = &[
    "天河路",
    "天河北路",
    "天河东路",
    "石牌东路",
    "石牌西路",
    "五山路",
    "龙口西路",
    "龙口中路",
    "龙口东路",
    "体育东路",
    "体育西路",
    "中山大道西",
    "黄埔大道西",
    "天寿路",
    "燕岭路",
    "林和西路",
    "天府路",
    "华景路",
    "车陂路",
    "东圃大马路",
    "员村二横路",
    "兴华路",
    "棠下二横路",
    "穗园路",
];

/// 一 … 九十九, for group names and numbered communities.
pub(super) fn zh_number(n: u32) -> String {
    const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        1..=9 => DIGITS[n as usize].to_string(),
        10..=19 => format!("十{}", DIGITS[(n % 10) as usize]),
        20..=99 => format!(
            "{}十{}",
            DIGITS[(n / 10) as usize],
            DIGITS[(n % 10) as usize]
        ),
        _ => n.to_string(),
    }
}

/// Hands out estate names, each once: a shuffled product of prefixes and
/// suffixes, then the same names again as later phases (二期, 三期 …).
struct EstateNames {
    pool: Vec<String>,
    next: usize,
}

impl EstateNames {
    fn new(g: &mut Gen) -> EstateNames {
        let mut pool: Vec<String> = ESTATE_PREFIXES
            .iter()
            .flat_map(|p| ESTATE_SUFFIXES.iter().map(move |s| (p, s)))
            .filter(|(p, s)| !p.ends_with(s.chars().next().unwrap_or(' ')))
            .map(|(p, s)| format!("{p}{s}"))
            .collect();
        g.shuffle(&mut pool);
        // The names people expect to see first.
        for (i, name) in ["阳光花园", "翠苑小区"].into_iter().enumerate() {
            if let Some(j) = pool.iter().position(|n| n == name) {
                pool.swap(i, j);
            }
        }
        EstateNames { pool, next: 0 }
    }

    fn take(&mut self) -> String {
        let i = self.next;
        self.next += 1;
        let base = &self.pool[i % self.pool.len()];
        match i / self.pool.len() {
            0 => base.clone(),
            phase => format!("{base}{}期", zh_number(phase as u32 + 1)),
        }
    }
}

/// Community `c` of `n` dealt to `streets` streets in order, their sizes
/// differing by one at most: its street, and its number (from 1) there.
fn dealt(c: u32, n: u32, streets: u32) -> (u32, u32) {
    let street = (u64::from(c) * u64::from(streets) / u64::from(n)) as u32;
    let first = (u64::from(street) * u64::from(n)).div_ceil(u64::from(streets)) as u32;
    (street, c - first + 1)
}

/// Evenly spaced cuts of `0..len` into `n` parts, the inner ones jittered
/// by up to `jitter` of a part.
fn cuts(g: &mut Gen, start: f64, len: f64, n: u32, jitter: f64) -> Vec<f64> {
    let step = len / f64::from(n);
    (0..=n)
        .map(|i| {
            let x = start + step * f64::from(i);
            if i == 0 || i == n {
                x
            } else {
                x + g.range(-jitter..jitter) * step
            }
        })
        .collect()
}

/// Lays out the street (or the district: its communities are dealt to
/// `cfg.streets` streets in lattice order, each numbering its own
/// communities from 001): communities on a near-square lattice, each split
/// into rows of grids. Horizontal grid edges are straight and shared by
/// the whole row; vertical edges lean a little; corners are computed once
/// and shared, so neighbours meet exactly.
pub(super) fn layout(cfg: &DemoConfig, g: &mut Gen) -> Street {
    let n_comm = cfg.communities;
    let per = cfg.grids_per_community;
    let cols = (f64::from(per).sqrt().ceil() as u32).max(1);
    let rows = per.div_ceil(cols).max(1);
    let comm_w = f64::from(cols) * CELL_W;
    let comm_h = f64::from(rows) * CELL_H;
    let ccols = (f64::from(n_comm).sqrt().ceil() as u32).max(1);
    let crows = n_comm.div_ceil(ccols).max(1);
    let total_w = f64::from(ccols) * comm_w;
    let total_h = f64::from(crows) * comm_h;
    let m_lon = M_PER_DEG_LON_EQUATOR * CENTRE[1].to_radians().cos();
    let to_lonlat = |x: f64, y: f64| {
        [
            round7(CENTRE[0] + (x - total_w / 2.0) / m_lon),
            round7(CENTRE[1] + (y - total_h / 2.0) / M_PER_DEG_LAT),
        ]
    };
    let xs = cuts(g, 0.0, total_w, ccols, 0.06);
    let ys = cuts(g, 0.0, total_h, crows, 0.06);

    let mut names = EstateNames::new(g);
    let mut dedicated_used = 0usize;
    let (mut urban_seen, mut villages_seen) = (0u32, 0u32);
    let n_streets = cfg.streets.clamp(1, n_comm.max(1));
    let streets: Vec<(String, String)> = (0..n_streets as usize).map(street).collect();
    let mut communities = Vec::new();
    let mut grids = Vec::new();
    for c in 0..n_comm {
        let (street_index, number) = dealt(c, n_comm, n_streets);
        let street_index = street_index as usize;
        let (cx, cy) = ((c % ccols) as usize, (c / ccols) as usize);
        let (x0, x1, y0, y1) = (xs[cx], xs[cx + 1], ys[cy], ys[cy + 1]);
        let village = c % 4 == 2;
        let (list, suffix) = if village {
            (VILLAGE_COMMUNITIES, "村")
        } else {
            (URBAN_COMMUNITIES, "社区")
        };
        let seen = if village {
            &mut villages_seen
        } else {
            &mut urban_seen
        };
        let ordinal = *seen;
        *seen += 1;
        let base = list[ordinal as usize % list.len()];
        let stem = match ordinal as usize / list.len() {
            0 => base.to_string(),
            k => format!("{base}{}", zh_number(k as u32 + 1)),
        };
        let code = format!("{}{:03}", streets[street_index].0, number);
        communities.push(Community {
            street: street_index,
            code: code.clone(),
            name: format!("{stem}{suffix}"),
            quad: Quad {
                corners: [
                    to_lonlat(x0, y0),
                    to_lonlat(x1, y0),
                    to_lonlat(x1, y1),
                    to_lonlat(x0, y1),
                ],
            },
        });

        let row_ys = cuts(g, y0, y1 - y0, rows, 0.1);
        let mut next_group = 1u32;
        let mut k = 0u32;
        for r in 0..rows {
            let in_row = per / rows + u32::from(r < per % rows);
            let bottom = cuts(g, x0, x1 - x0, in_row, 0.1);
            let top = cuts(g, x0, x1 - x0, in_row, 0.1);
            for i in 0..in_row as usize {
                let quad = Quad {
                    corners: [
                        to_lonlat(bottom[i], row_ys[r as usize]),
                        to_lonlat(bottom[i + 1], row_ys[r as usize]),
                        to_lonlat(top[i + 1], row_ys[r as usize + 1]),
                        to_lonlat(top[i], row_ys[r as usize + 1]),
                    ],
                };
                k += 1;
                let index = grids.len();
                let grid_code = format!("{code}{k:03}");
                let dedicated = c % 4 == 1 && per >= 3 && k == per;
                let name = if dedicated {
                    let base = DEDICATED[dedicated_used % DEDICATED.len()];
                    let round = dedicated_used / DEDICATED.len();
                    dedicated_used += 1;
                    if round == 0 {
                        format!("{base}专属网格")
                    } else {
                        format!("{base}{}专属网格", zh_number(round as u32 + 1))
                    }
                } else {
                    format!("{stem}第{k}网格")
                };
                let micro_grids = if index == 0 || g.chance(0.3) {
                    [
                        ("西北片", [0.06, 0.46, 0.55, 0.94]),
                        ("东南片", [0.54, 0.94, 0.06, 0.45]),
                    ]
                    .iter()
                    .enumerate()
                    .map(|(m, (part, [u0, u1, v0, v1]))| MicroGrid {
                        code: format!("{grid_code}{:03}", m + 1),
                        name: format!("{name}{part}微网格"),
                        quad: quad.sub(*u0, *u1, *v0, *v1),
                    })
                    .collect()
                } else {
                    Vec::new()
                };
                let mut centres = [[0.28, 0.28], [0.72, 0.28], [0.28, 0.72], [0.72, 0.72]];
                g.shuffle(&mut centres);
                let jitter = |g: &mut Gen, [u, v]: [f64; 2]| {
                    [u + g.range(-0.07..0.07), v + g.range(-0.07..0.07)]
                };
                let (estates, villages) = if village {
                    let n = g.range(1..=2usize);
                    let villages = (0..n)
                        .map(|j| {
                            let groups = g.range(2..=3u32);
                            let first = next_group;
                            next_group += groups;
                            Village {
                                name: format!(
                                    "{stem}{}",
                                    NATURAL_VILLAGES
                                        [(2 * (k as usize - 1) + j) % NATURAL_VILLAGES.len()]
                                ),
                                groups: (first..first + groups).collect(),
                                centre: jitter(g, centres[j]),
                            }
                        })
                        .collect();
                    (Vec::new(), villages)
                } else {
                    let most = (cfg.households_per_grid / 50).clamp(1, 4) as usize;
                    let n = g.range(1..=most);
                    let estates = (0..n)
                        .map(|j| {
                            let tower = g.chance(0.4);
                            Estate {
                                name: names.take(),
                                centre: jitter(g, centres[j]),
                                floors: if tower {
                                    g.range(18..=33)
                                } else {
                                    g.range(6..=9)
                                },
                                units: if tower {
                                    g.range(1..=2)
                                } else {
                                    g.range(1..=3)
                                },
                                rooms_per_floor: if tower { g.range(3..=4) } else { 2 },
                            }
                        })
                        .collect();
                    (estates, Vec::new())
                };
                let first_road = g.range(0..ROADS.len());
                let second_road = (first_road + g.range(1..ROADS.len())) % ROADS.len();
                // Multiplying by an odd number is a bijection mod 2^16: tags
                // stay unique for the first 65,536 grids.
                let device_tag = if index < 0x1_0000 {
                    format!("{:04X}", (index as u32 + 1).wrapping_mul(40_503) & 0xFFFF)
                } else {
                    format!("{:06X}", index + 1)
                };
                grids.push(GridArea {
                    code: grid_code,
                    name,
                    community: c as usize,
                    quad,
                    dedicated,
                    micro_grids,
                    estates,
                    villages,
                    roads: [ROADS[first_road], ROADS[second_road]],
                    device_tag,
                });
            }
        }
    }
    Street {
        streets,
        communities,
        grids,
        centre: to_lonlat(total_w / 2.0, total_h / 2.0),
    }
}

/// The grid tree as a GeoJSON FeatureCollection, parents before children:
/// properties `code`, `name`, `level`, `parent`, `kind`; Polygons for
/// communities, grids and micro-grids; a `centroid` for the nodes above.
pub(super) fn geojson(street: &Street) -> String {
    let node = |code: &str, name: &str, level: &str, parent: Option<&str>, kind: &str| json!({"code": code, "name": name, "level": level, "parent": parent, "kind": kind});
    let feature = |properties: Value, geometry: Value| json!({"type": "Feature", "properties": properties, "geometry": geometry});
    let polygon = |quad: &Quad| json!({"type": "Polygon", "coordinates": [quad.ring()]});
    let with_centroid = |mut p: Value, c: [f64; 2]| {
        p["centroid"] = json!(c);
        p
    };
    let mut features = vec![
        feature(
            with_centroid(
                node(CITY.0, CITY.1, "city", None, "comprehensive"),
                [113.2644, 23.1291],
            ),
            Value::Null,
        ),
        feature(
            with_centroid(
                node(
                    DISTRICT.0,
                    DISTRICT.1,
                    "district",
                    Some(CITY.0),
                    "comprehensive",
                ),
                [113.3612, 23.1247],
            ),
            Value::Null,
        ),
    ];
    for (index, (code, name)) in street.streets.iter().enumerate() {
        // One street: the layout's centre, as before; several: the mean
        // of their communities' corners.
        let corners: Vec<[f64; 2]> = street
            .communities
            .iter()
            .filter(|c| c.street == index)
            .flat_map(|c| c.quad.corners)
            .collect();
        let centre = if street.streets.len() == 1 || corners.is_empty() {
            street.centre
        } else {
            let n = corners.len() as f64;
            [
                round7(corners.iter().map(|p| p[0]).sum::<f64>() / n),
                round7(corners.iter().map(|p| p[1]).sum::<f64>() / n),
            ]
        };
        features.push(feature(
            with_centroid(
                node(code, name, "street", Some(DISTRICT.0), "comprehensive"),
                centre,
            ),
            Value::Null,
        ));
    }
    for c in &street.communities {
        features.push(feature(
            node(
                &c.code,
                &c.name,
                "community",
                Some(&street.streets[c.street].0),
                "comprehensive",
            ),
            polygon(&c.quad),
        ));
    }
    for grid in &street.grids {
        let kind = if grid.dedicated {
            "dedicated"
        } else {
            "comprehensive"
        };
        let parent = &street.communities[grid.community].code;
        features.push(feature(
            node(&grid.code, &grid.name, "grid", Some(parent), kind),
            polygon(&grid.quad),
        ));
    }
    for grid in &street.grids {
        for m in &grid.micro_grids {
            features.push(feature(
                node(
                    &m.code,
                    &m.name,
                    "micro_grid",
                    Some(&grid.code),
                    "comprehensive",
                ),
                polygon(&m.quad),
            ));
        }
    }
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

#[cfg(test)]
mod tests {
    use super::dealt;

    #[test]
    fn communities_are_dealt_evenly_and_numbered_within_their_street() {
        let dealt7: Vec<_> = (0..7).map(|c| dealt(c, 7, 3)).collect();
        assert_eq!(
            dealt7,
            [(0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (2, 1), (2, 2)]
        );
        assert!((0..5).all(|c| dealt(c, 5, 1) == (0, c + 1)));
        let sizes = (0..273).fold([0u32; 6], |mut n, c| {
            n[dealt(c, 273, 6).0 as usize] += 1;
            n
        });
        assert_eq!(sizes, [46, 45, 46, 45, 46, 45]);
    }
}
