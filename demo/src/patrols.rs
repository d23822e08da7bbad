//! Patrols: a grid worker's walk along the grid's lanes at walking pace,
//! a GPS fix every 10 s (less often in huge demos), pauses at check-in
//! points, all inside the grid.

use super::GridCtx;
use super::clock::{self, MINUTE_MS};
use super::place::GridArea;
use super::random::Gen;
use gridwork_core::geo::TrackPoint;
use gridwork_core::model::{CheckIn, GeoPoint, Meta, Patrol, PhotoRole};

/// Lanes run along these lines of the grid's unit square, both ways.
const LANES: [f64; 5] = [0.1, 0.3, 0.5, 0.7, 0.9];
/// GPS noise, metres either way.
const NOISE_M: f64 = 4.0;

const CHECK_IN_NOTES: &[&str] = &[
    "消防通道畅通",
    "门岗登记正常",
    "垃圾分类投放点整洁",
    "楼道照明正常",
    "出租屋门前张贴了居住登记提示",
    "沿街商铺消防器材齐全",
    "发现楼道堆物，已提醒住户清理",
    "井盖完好，无积水",
    "电动车集中充电点运行正常",
];

/// Generates a grid's patrols, oldest first, each with at most
/// `max_points` track points.
pub(super) fn generate(
    g: &mut Gen,
    ctx: &GridCtx,
    households: &[gridwork_core::model::Household],
    max_points: usize,
) -> Vec<Patrol> {
    let mut starts: Vec<(i64, i64)> = (0..ctx.cfg.patrols_per_grid)
        .map(|_| {
            let day = clock::days_before(ctx.today, g.range(1..=90));
            let start = clock::at(day, g.range(8..=15), g.range(0..60));
            (start, g.range(40..=110) * MINUTE_MS)
        })
        .collect();
    starts.sort_unstable();
    let places: Vec<&str> = ctx
        .area
        .estates
        .iter()
        .map(|e| e.name.as_str())
        .chain(ctx.area.villages.iter().map(|v| v.name.as_str()))
        .collect();
    starts
        .into_iter()
        .map(|(start, duration)| {
            let dt = (duration / max_points.max(2) as i64).max(10_000);
            let (track, check_ins) = walk(g, ctx, ctx.area, start, duration, dt);
            let ended_at = start + duration;
            let mut notes = format!("例行巡查，途经{}", ctx.area.roads[0]);
            if let Some(place) = places.first().filter(|_| !households.is_empty()) {
                notes.push('、');
                notes.push_str(place);
            }
            notes.push_str(&format!("，打卡{}处。", check_ins.len()));
            if g.chance(0.3) {
                notes.push_str("发现问题已拍照记录。");
            } else {
                notes.push_str("未发现明显异常。");
            }
            Patrol {
                meta: Meta {
                    id: g.uuid_v7(start),
                    grid: ctx.area.code.clone(),
                    created_by: ctx.worker.id.clone(),
                    created_at: start,
                    deleted: false,
                },
                worker: ctx.worker.id.clone(),
                started_at: start,
                ended_at: Some(ended_at),
                track,
                check_ins,
                notes,
                incident_ids: Vec::new(),
            }
        })
        .collect()
}

/// A waypoint of the walk: where, in the unit square, and when.
#[derive(Clone, Copy)]
struct Waypoint {
    u: f64,
    v: f64,
    t: i64,
}

/// Walks from lane crossing to lane crossing for `duration`, never
/// turning back unless at a dead end, pausing at a few check-ins; then
/// samples a fix every `dt` with a little GPS noise.
fn walk(
    g: &mut Gen,
    ctx: &GridCtx,
    area: &GridArea,
    start: i64,
    duration: i64,
    dt: i64,
) -> (Vec<TrackPoint>, Vec<CheckIn>) {
    let (w_m, h_m) = area.quad.size_m();
    let speed = g.range(1.0..1.4); // m/s
    let end = start + duration;
    let (mut i, mut j) = (g.range(0..LANES.len()), g.range(0..LANES.len()));
    let mut last_move = (0i32, 0i32);
    let mut t = start;
    let mut waypoints = vec![Waypoint {
        u: LANES[i],
        v: LANES[j],
        t,
    }];
    let wanted_check_ins = g.range(2..=5);
    let mut check_ins = Vec::new();
    let last = LANES.len() as i32 - 1;
    while t < end {
        let options: Vec<(i32, i32)> = [(1, 0), (-1, 0), (0, 1), (0, -1)]
            .into_iter()
            .filter(|(di, dj)| {
                (0..=last).contains(&(i as i32 + di)) && (0..=last).contains(&(j as i32 + dj))
            })
            .filter(|m| *m != (-last_move.0, -last_move.1))
            .collect();
        let (di, dj) = g.pick(&options);
        last_move = (di, dj);
        let len_m = if di != 0 {
            (LANES[1] - LANES[0]) * w_m
        } else {
            (LANES[1] - LANES[0]) * h_m
        };
        i = (i as i32 + di) as usize;
        j = (j as i32 + dj) as usize;
        t += (len_m / speed * 1000.0) as i64;
        waypoints.push(Waypoint {
            u: LANES[i],
            v: LANES[j],
            t,
        });
        if check_ins.len() < wanted_check_ins && t < end && g.chance(0.3) {
            let [lon, lat] = area.quad.at(LANES[i], LANES[j]);
            let mut point = GeoPoint::wgs84(lon, lat);
            point.accuracy_m = Some(f64::from(g.range(3..=10u32)));
            check_ins.push(CheckIn {
                at: t,
                point,
                photo: g.chance(0.5).then(|| g.photo(PhotoRole::Evidence, t)),
                qr: g
                    .chance(0.4)
                    .then(|| format!("GW-{}-{:02}", ctx.area.code, i * LANES.len() + j)),
                note: g.pick(CHECK_IN_NOTES).to_string(),
            });
            t += g.range(MINUTE_MS..3 * MINUTE_MS);
            waypoints.push(Waypoint {
                u: LANES[i],
                v: LANES[j],
                t,
            });
        }
    }

    let mut track = Vec::with_capacity((duration / dt) as usize + 1);
    let mut k = 0;
    let mut at = start;
    while at <= end {
        while k + 2 < waypoints.len() && waypoints[k + 1].t < at {
            k += 1;
        }
        let (a, b) = (waypoints[k], waypoints[(k + 1).min(waypoints.len() - 1)]);
        let f = if b.t > a.t {
            ((at - a.t) as f64 / (b.t - a.t) as f64).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let u = a.u + (b.u - a.u) * f + g.range(-NOISE_M..NOISE_M) / w_m;
        let v = a.v + (b.v - a.v) * f + g.range(-NOISE_M..NOISE_M) / h_m;
        let [lon, lat] = area.quad.at(u.clamp(0.02, 0.98), v.clamp(0.02, 0.98));
        track.push(TrackPoint { lon, lat, t_ms: at });
        at += dt;
    }
    (track, check_ins)
}
