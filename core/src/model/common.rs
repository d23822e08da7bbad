//! Fields and value types shared by several record kinds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::limits;

/// The fields every record has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Meta {
    /// Device-generated UUIDv7.
    pub id: Uuid,
    /// Code of the grid the record belongs to.
    #[schemars(length(max = limits::CODE))]
    pub grid: String,
    /// User id of the creator.
    #[schemars(length(max = limits::USER_ID))]
    pub created_by: String,
    /// Unix milliseconds (device clock) when the record was created.
    pub created_at: i64,
    /// Tombstone: a deleted record stays as a document, hidden everywhere.
    /// Once any device sets it, it stays set (see [`crate::doc`]).
    #[serde(default)]
    pub deleted: bool,
}

impl Meta {
    /// A new record's common fields with a fresh UUIDv7.
    pub fn new(grid: impl Into<String>, created_by: impl Into<String>, created_at: i64) -> Meta {
        Meta {
            id: Uuid::now_v7(),
            grid: grid.into(),
            created_by: created_by.into(),
            created_at,
            deleted: false,
        }
    }
}

/// A point in WGS-84 with the reference system recorded. Chinese base maps
/// use GCJ-02 or BD-09: convert only for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct GeoPoint {
    pub lon: f64,
    pub lat: f64,
    /// Always "EPSG:4326" (WGS-84) for stored points.
    #[serde(default = "wgs84")]
    #[schemars(length(max = limits::CRS))]
    pub crs: String,
    /// Horizontal accuracy in metres, when the device reported one.
    #[serde(default)]
    pub accuracy_m: Option<f64>,
}

fn wgs84() -> String {
    "EPSG:4326".to_string()
}

impl GeoPoint {
    /// A WGS-84 point.
    pub fn wgs84(lon: f64, lat: f64) -> GeoPoint {
        GeoPoint {
            lon,
            lat,
            crs: wgs84(),
            accuracy_m: None,
        }
    }
}

/// What a photo shows in its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PhotoRole {
    /// An incident as found.
    Before,
    /// An incident after it was handled.
    After,
    /// A household's door plate.
    DoorPlate,
    /// A patrol check-in or a visit.
    Evidence,
}

/// A photo referenced from a record by the SHA-256 of its compressed bytes.
/// The bytes travel separately as a content-addressed blob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct PhotoRef {
    /// Lowercase hex SHA-256 of the upload-ready JPEG.
    #[schemars(length(max = limits::SHA256))]
    pub sha256: String,
    /// Lowercase hex SHA-256 of the thumbnail, when one was made.
    #[serde(default)]
    #[schemars(length(max = limits::SHA256))]
    pub thumb_sha256: Option<String>,
    pub role: PhotoRole,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    /// Unix milliseconds when the photo was taken (device clock).
    #[serde(default)]
    pub taken_at: Option<i64>,
}

/// A person's gender as recorded (from the ID number where there is one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
    Unknown,
}

/// A supervisor's review of a registered household or resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// The worker (re)submitted the record for review.
    Submit,
    /// A supervisor accepted it.
    Accept,
    /// A supervisor returned it with a comment: the worker must fix it.
    Return,
}

/// One entry of a record's append-only review log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct ReviewEntry {
    pub decision: ReviewDecision,
    #[schemars(length(max = limits::USER_ID))]
    pub by: String,
    /// Unix milliseconds (the reviewer's clock).
    pub at: i64,
    #[serde(default)]
    #[schemars(length(max = limits::NOTE))]
    pub comment: String,
}

/// Where a household or resident stands in review, derived from its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Not yet seen by a supervisor (new or changed).
    Pending,
    Accepted,
    /// Returned with a comment, waiting for the worker.
    Returned,
}

impl ReviewState {
    /// Every review state.
    pub const ALL: [ReviewState; 3] = [
        ReviewState::Pending,
        ReviewState::Accepted,
        ReviewState::Returned,
    ];

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Pending => "pending",
            ReviewState::Accepted => "accepted",
            ReviewState::Returned => "returned",
        }
    }

    /// The state of [`ReviewState::as_str`] name `name`.
    pub fn parse(name: &str) -> Option<ReviewState> {
        ReviewState::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The Chinese label ledgers and exports show.
    pub fn label_zh(self) -> &'static str {
        match self {
            ReviewState::Pending => "待审核",
            ReviewState::Accepted => "已通过",
            ReviewState::Returned => "已退回",
        }
    }
}

/// Derives the review state: the last entry in log order decides. The log
/// is an Automerge list, so every device sees the same order.
pub fn review_state(log: &[ReviewEntry]) -> ReviewState {
    match log.last().map(|e| e.decision) {
        None | Some(ReviewDecision::Submit) => ReviewState::Pending,
        Some(ReviewDecision::Accept) => ReviewState::Accepted,
        Some(ReviewDecision::Return) => ReviewState::Returned,
    }
}

/// The comment of the latest return, if the record is returned.
pub fn return_comment(log: &[ReviewEntry]) -> Option<&str> {
    match log.last() {
        Some(e) if e.decision == ReviewDecision::Return => Some(&e.comment),
        _ => None,
    }
}
