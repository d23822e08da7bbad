//! The record model: one typed struct per record kind DOMAIN.md lists.
//!
//! Household, resident, incident (and its parties), patrol, visit and task
//! are *records*: created on a device, stored as one Automerge document
//! each ([`crate::doc`]) and merged. Grids and users are reference data owned by the server and sent
//! down, never merged. Every record starts with the same [`Meta`] fields.
//! Fields marked **[PI]** are personal information, **[S]** sensitive
//! personal information (masked by default, reveals logged, encrypted at
//! rest on the device).

mod common;
pub mod grid;
mod household;
mod incident;
mod incident_parties;
pub mod limits;
mod patrol;
mod resident;
mod task;
mod user;
mod visit;

pub use common::*;
pub use household::*;
pub use incident::*;
pub use incident_parties::*;
pub use patrol::*;
pub use resident::*;
pub use task::*;
pub use user::*;
pub use visit::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::validate::ValidationErrors;

/// The kinds of record kept as Automerge documents.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
    ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Household,
    Resident,
    Incident,
    Patrol,
    Visit,
    Task,
    /// An incident's parties, linked to it (see [`IncidentParties`]).
    IncidentParties,
}

impl RecordKind {
    /// Every record kind, in a fixed order.
    pub const ALL: [RecordKind; 7] = [
        RecordKind::Household,
        RecordKind::Resident,
        RecordKind::Incident,
        RecordKind::Patrol,
        RecordKind::Visit,
        RecordKind::Task,
        RecordKind::IncidentParties,
    ];

    /// The stable snake_case name used in documents, tables and the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Household => "household",
            RecordKind::Resident => "resident",
            RecordKind::Incident => "incident",
            RecordKind::Patrol => "patrol",
            RecordKind::Visit => "visit",
            RecordKind::Task => "task",
            RecordKind::IncidentParties => "incident_parties",
        }
    }

    /// Parses [`RecordKind::as_str`]'s output.
    pub fn parse(s: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Facts a record's validation needs from outside the record itself.
#[derive(Debug, Clone, Copy)]
pub struct ValidateCtx {
    /// Today in Asia/Shanghai: birth dates after it are refused.
    pub today: jiff::civil::Date,
}

/// What every record kind provides: its kind, its common fields, its
/// validation and the row it contributes to the local store's projections.
pub trait Record: Serialize + DeserializeOwned + JsonSchema + Clone + std::fmt::Debug {
    /// The kind stored in the document's `kind` key.
    const KIND: RecordKind;
    /// The fields every record has.
    fn meta(&self) -> &Meta;
    /// Mutable access to the fields every record has.
    fn meta_mut(&mut self) -> &mut Meta;
    /// Checks required fields, formats and enumerations. Normalizes what
    /// has one canonical form (an ID number's lowercase `x`, a phone's
    /// spaces) and fills what follows from other fields (a resident's birth
    /// date and gender from the ID number).
    fn normalize_and_validate(&mut self, ctx: &ValidateCtx) -> Result<(), ValidationErrors>;
    /// Every check a state of the record must pass before it is saved on a
    /// device or accepted by the server: the kind's own checks
    /// ([`Record::normalize_and_validate`], which may normalize) and the
    /// size limits declared in the model ([`limits::check`]).
    fn validate_state(&mut self, ctx: &ValidateCtx) -> Result<(), ValidationErrors> {
        let mut errors = match self.normalize_and_validate(ctx) {
            Ok(()) => ValidationErrors::default(),
            Err(errors) => errors,
        };
        if let Err(over) = limits::check(self) {
            errors.0.extend(over.0);
        }
        errors.into_result()
    }
    /// The plain row the store lists, filters and searches.
    fn projection(&self) -> Projection;
}

/// Any record, for code that handles documents of every kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnyRecord {
    Household(Household),
    Resident(Resident),
    Incident(Incident),
    Patrol(Patrol),
    Visit(Visit),
    Task(Task),
    IncidentParties(IncidentParties),
}

macro_rules! any_record_dispatch {
    ($self:expr, $r:ident => $body:expr) => {
        match $self {
            AnyRecord::Household($r) => $body,
            AnyRecord::Resident($r) => $body,
            AnyRecord::Incident($r) => $body,
            AnyRecord::Patrol($r) => $body,
            AnyRecord::Visit($r) => $body,
            AnyRecord::Task($r) => $body,
            AnyRecord::IncidentParties($r) => $body,
        }
    };
}

impl AnyRecord {
    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        match self {
            AnyRecord::Household(_) => RecordKind::Household,
            AnyRecord::Resident(_) => RecordKind::Resident,
            AnyRecord::Incident(_) => RecordKind::Incident,
            AnyRecord::Patrol(_) => RecordKind::Patrol,
            AnyRecord::Visit(_) => RecordKind::Visit,
            AnyRecord::Task(_) => RecordKind::Task,
            AnyRecord::IncidentParties(_) => RecordKind::IncidentParties,
        }
    }

    /// The fields every record has.
    pub fn meta(&self) -> &Meta {
        any_record_dispatch!(self, r => r.meta())
    }

    /// The plain row the store lists, filters and searches.
    pub fn projection(&self) -> Projection {
        any_record_dispatch!(self, r => r.projection())
    }

    /// Where the record is, when its kind has one place and it is set:
    /// a household's or an incident's point, a visit's. Patrols (a track)
    /// and the rest have none.
    pub fn point(&self) -> Option<&GeoPoint> {
        match self {
            AnyRecord::Household(h) => h.point.as_ref(),
            AnyRecord::Incident(i) => i.point.as_ref(),
            AnyRecord::Visit(v) => v.point.as_ref(),
            _ => None,
        }
    }

    /// Validates the record as its kind does.
    pub fn normalize_and_validate(&mut self, ctx: &ValidateCtx) -> Result<(), ValidationErrors> {
        any_record_dispatch!(self, r => r.normalize_and_validate(ctx))
    }

    /// Every check a saved state must pass: [`Record::validate_state`].
    pub fn validate_state(&mut self, ctx: &ValidateCtx) -> Result<(), ValidationErrors> {
        any_record_dispatch!(self, r => r.validate_state(ctx))
    }
}

/// The plain, denormalized row of a record that the local store keeps for
/// listing, filtering and full-text search. Derived; never edited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Projection {
    pub id: uuid::Uuid,
    pub kind: RecordKind,
    pub grid: String,
    /// A one-line title for lists (an address, a name, an incident title).
    pub title: String,
    /// A second line for lists (masked: no [PI]/[S] values in clear).
    pub subtitle: String,
    /// Workflow or review status, snake_case.
    pub status: Option<String>,
    /// Incident category or visit kind, household use, resident population type.
    pub category: Option<String>,
    pub urgency: Option<String>,
    /// The household a resident belongs to, or a visit's target.
    pub parent_id: Option<uuid::Uuid>,
    /// A date (YYYY-MM-DD) something is due: an incident's deadline, a
    /// resident's next visit.
    pub due: Option<String>,
    /// Unix milliseconds when the record was created.
    pub created_at: i64,
    pub created_by: String,
    pub deleted: bool,
    /// Text indexed for full-text search (no [S] values). Never
    /// serialized: it holds [PI] in clear, and a list row is a masked view
    /// (see [`crate::privacy`]).
    #[serde(skip_serializing, default)]
    pub search_text: String,
}

/// The record structs' shared behaviour for `Projection::new`.
impl Projection {
    /// A projection with the common fields filled from `meta`.
    pub fn new(kind: RecordKind, meta: &Meta, title: String) -> Projection {
        Projection {
            id: meta.id,
            kind,
            grid: meta.grid.clone(),
            title,
            subtitle: String::new(),
            status: None,
            category: None,
            urgency: None,
            parent_id: None,
            due: None,
            created_at: meta.created_at,
            created_by: meta.created_by.clone(),
            deleted: meta.deleted,
            search_text: String::new(),
        }
    }
}

/// Serializes a unit-only enum value to its snake_case name.
pub fn enum_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
