//! Patrols (巡查): a worker's walk through their grid.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::limits;
use super::{GeoPoint, Meta, PhotoRef, Projection, Record, RecordKind, ValidateCtx};
use crate::geo::TrackPoint;
use crate::validate::{self, ValidationErrors};

/// A check-in at a point on the way (a building, a shop, a hazard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct CheckIn {
    /// Unix milliseconds.
    pub at: i64,
    pub point: GeoPoint,
    #[serde(default)]
    pub photo: Option<PhotoRef>,
    /// The QR code scanned, if the check-in point has one.
    #[serde(default)]
    #[schemars(length(max = limits::NOTE))]
    pub qr: Option<String>,
    #[serde(default)]
    #[schemars(length(max = limits::NOTE))]
    pub note: String,
}

/// A patrol (巡查). Distance, time inside the grid and the share of the grid
/// covered are derived from the track by [`crate::geo::patrol_metrics`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Patrol {
    #[serde(flatten)]
    pub meta: Meta,
    /// User id of the worker on patrol.
    #[schemars(length(max = limits::USER_ID))]
    pub worker: String,
    /// Unix milliseconds.
    pub started_at: i64,
    /// Unix milliseconds; none while the patrol is running.
    #[serde(default)]
    pub ended_at: Option<i64>,
    /// [S] GPS track, recorded only while on duty.
    #[serde(default)]
    #[schemars(length(max = limits::TRACK_POINTS))]
    pub track: Vec<TrackPoint>,
    #[serde(default)]
    #[schemars(length(max = limits::CHECK_INS))]
    pub check_ins: Vec<CheckIn>,
    #[serde(default)]
    #[schemars(length(max = limits::TEXT))]
    pub notes: String,
    /// Incidents reported from this patrol.
    #[serde(default)]
    #[schemars(length(max = limits::PATROL_INCIDENTS))]
    pub incident_ids: Vec<Uuid>,
}

impl Record for Patrol {
    const KIND: RecordKind = RecordKind::Patrol;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn normalize_and_validate(&mut self, _ctx: &ValidateCtx) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        errors.require("grid", &self.meta.grid);
        errors.require("worker", &self.worker);
        if let Some(end) = self.ended_at
            && end < self.started_at
        {
            errors.push(validate::ValidationError {
                field: "ended_at".into(),
                code: validate::Code::OutOfRange,
                detail: None,
            });
        }
        errors.into_result()
    }

    fn projection(&self) -> Projection {
        let mut p = Projection::new(RecordKind::Patrol, &self.meta, self.worker.clone());
        p.status = Some(
            if self.ended_at.is_some() {
                "ended"
            } else {
                "running"
            }
            .to_string(),
        );
        p.search_text = self.notes.clone();
        p
    }
}
