//! What the module's tests share: a time, a grid with a boundary, a
//! worker, a store in a real SQLite file.

use std::path::Path;

use automerge::ActorId;

use super::Worker;
use crate::model::grid::Grid;
use crate::model::{CareTag, CareTagKind, Household, Resident, Role};
use crate::store::Store;

/// 2026-05-17, Asia/Shanghai.
pub const NOW: i64 = 1_779_000_000_000;

/// The grid the tests work in, about 100 m × 110 m in Guangzhou.
pub const GRID: &str = "440106001001001";

pub fn square_grid() -> Grid {
    serde_json::from_value(serde_json::json!({
        "code": GRID, "name": "第1网格", "level": "grid",
        "boundary": {"type": "Polygon", "coordinates": [[
            [113.327, 23.127], [113.328, 23.127], [113.328, 23.128],
            [113.327, 23.128], [113.327, 23.127]
        ]]},
        "crs": "EPSG:4326"
    }))
    .unwrap()
}

/// The grids every test worker holds.
pub fn grids() -> &'static [Grid] {
    static GRIDS: std::sync::OnceLock<Vec<Grid>> = std::sync::OnceLock::new();
    GRIDS.get_or_init(|| vec![square_grid()])
}

/// A grid worker of [`GRID`] on device `ab12`.
pub fn worker(user: &str) -> Worker<'_> {
    Worker {
        user,
        role: Role::GridWorker,
        grid: GRID,
        device: "ab12",
        grids: grids(),
    }
}

/// A store in the SQLite file at `path`.
pub fn open_store(path: &Path) -> Store {
    Store::open(path, ActorId::from(vec![7; 16])).unwrap()
}

/// A resident of a blank household with care tags of these cycles.
pub fn tagged(cycles: &[(CareTagKind, u32)]) -> Resident {
    let h = super::forms::blank_household(GRID, "gw-1", NOW);
    let mut r = super::forms::blank_resident(&h, "gw-1", NOW);
    r.name = "李四".into();
    r.care_tags = cycles
        .iter()
        .map(|&(tag, visit_cycle_days)| CareTag {
            tag,
            visit_cycle_days,
            since: NOW,
        })
        .collect();
    r
}

/// A household of [`GRID`] with the address a form requires.
pub fn household() -> Household {
    let mut h = super::forms::blank_household(GRID, "gw-1", NOW);
    h.address.room = "801".into();
    h
}
