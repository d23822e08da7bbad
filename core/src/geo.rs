//! STUB until the geo branch lands.
use serde::{Deserialize, Serialize};
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TrackPoint {
    pub lon: f64,
    pub lat: f64,
    pub t_ms: i64,
}
