//! Visits (走访): a worker's visit to a household, a resident or an
//! incident's parties.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::limits;
use super::{
    GeoPoint, Meta, PhotoRef, Projection, Record, RecordKind, ReviewEntry, ValidateCtx, enum_name,
    review_state,
};
use crate::validate::{self, ValidationErrors};

/// What kind of record a visit is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum VisitTargetKind {
    Household,
    Resident,
    Incident,
}

/// The record a visit is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct VisitTarget {
    pub kind: VisitTargetKind,
    pub id: Uuid,
}

/// Why the visit was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    /// 入户走访
    Home,
    /// 重点人员走访
    KeyPerson,
    /// 关爱走访
    Care,
    /// 事件回访
    IncidentFollowUp,
}

/// How the visit was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum VisitForm {
    InPerson,
    Phone,
    Video,
}

/// A visit (走访).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Visit {
    #[serde(flatten)]
    pub meta: Meta,
    pub target: VisitTarget,
    /// Stored as `visit_kind`: the document's root `kind` names the record kind.
    #[serde(rename = "visit_kind")]
    pub kind: VisitKind,
    pub form: VisitForm,
    /// User id of the worker who visited.
    #[schemars(length(max = limits::USER_ID))]
    pub visitor: String,
    /// Unix milliseconds.
    pub visited_at: i64,
    #[serde(default)]
    pub point: Option<GeoPoint>,
    #[serde(default)]
    #[schemars(length(max = limits::PHOTOS))]
    pub photos: Vec<PhotoRef>,
    /// [PI] What was found and said.
    #[serde(default)]
    #[schemars(length(max = limits::TEXT))]
    pub content: String,
    /// Measures taken (帮扶措施).
    #[serde(default)]
    #[schemars(length(max = limits::TEXT))]
    pub measures: String,
    /// Next visit due, YYYY-MM-DD.
    #[serde(default)]
    #[schemars(length(max = limits::DATE))]
    pub next_due: Option<String>,
    #[serde(default)]
    #[schemars(length(max = limits::REVIEWS))]
    pub review: Vec<ReviewEntry>,
}

impl Record for Visit {
    const KIND: RecordKind = RecordKind::Visit;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn normalize_and_validate(&mut self, _ctx: &ValidateCtx) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        errors.require("grid", &self.meta.grid);
        errors.require("visitor", &self.visitor);
        errors.require("content", &self.content);
        errors.max_len("content", &self.content, 5000);
        if let Some(d) = self.next_due.as_deref().filter(|d| !d.is_empty())
            && d.parse::<jiff::civil::Date>().is_err()
        {
            errors.push(validate::ValidationError {
                field: "next_due".into(),
                code: validate::Code::DateInvalid,
                detail: Some(d.to_string()),
            });
        }
        errors.into_result()
    }

    fn projection(&self) -> Projection {
        let mut p = Projection::new(RecordKind::Visit, &self.meta, enum_name(&self.kind));
        p.status = Some(enum_name(&review_state(&self.review)));
        p.category = Some(enum_name(&self.kind));
        p.parent_id = Some(self.target.id);
        p.due = self.next_due.clone();
        p.search_text = format!("{} {}", self.content, self.measures);
        p
    }
}
