//! Incidents (事件): something found, reported and handled in a closed loop.
//!
//! The status, level, assignee and deadline are not fields: they are derived
//! from the append-only transition log by [`crate::workflow`]. The people
//! involved are not fields either: they are the linked
//! [`super::IncidentParties`] record, which not every role that receives
//! the incident may receive.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::limits;
use super::{GeoPoint, Meta, PhotoRef, Projection, Record, RecordKind, ValidateCtx, enum_name};
use crate::validate::{self, ValidationErrors};
use crate::workflow::Transition;

/// The first level of an incident's category; it routes the incident to a
/// department.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum CategoryMajor {
    /// 矛盾纠纷
    Dispute,
    /// 安全隐患
    SafetyHazard,
    /// 消防
    Fire,
    /// 安全生产
    WorkSafety,
    /// 城市管理
    CityManagement,
    /// 环保
    Environment,
    /// 治安
    PublicOrder,
    /// 民生服务
    LivelihoodServices,
    /// 信访
    Petition,
    /// 市场监管
    MarketSupervision,
    /// 其他
    Other,
}

impl CategoryMajor {
    /// Every major category, in display order.
    pub const ALL: [CategoryMajor; 11] = [
        CategoryMajor::Dispute,
        CategoryMajor::SafetyHazard,
        CategoryMajor::Fire,
        CategoryMajor::WorkSafety,
        CategoryMajor::CityManagement,
        CategoryMajor::Environment,
        CategoryMajor::PublicOrder,
        CategoryMajor::LivelihoodServices,
        CategoryMajor::Petition,
        CategoryMajor::MarketSupervision,
        CategoryMajor::Other,
    ];

    /// The Chinese name users know.
    pub fn label_zh(self) -> &'static str {
        match self {
            CategoryMajor::Dispute => "矛盾纠纷",
            CategoryMajor::SafetyHazard => "安全隐患",
            CategoryMajor::Fire => "消防",
            CategoryMajor::WorkSafety => "安全生产",
            CategoryMajor::CityManagement => "城市管理",
            CategoryMajor::Environment => "环保",
            CategoryMajor::PublicOrder => "治安",
            CategoryMajor::LivelihoodServices => "民生服务",
            CategoryMajor::Petition => "信访",
            CategoryMajor::MarketSupervision => "市场监管",
            CategoryMajor::Other => "其他",
        }
    }
}

/// A two-level category: a major category and a free second level
/// (e.g. 环保 › 噪音扰民).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Category {
    pub major: CategoryMajor,
    #[serde(default)]
    #[schemars(length(max = limits::LABEL))]
    pub minor: String,
}

/// Where an incident came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum IncidentSource {
    /// Found on patrol (巡查发现).
    Patrol,
    /// Reported by a resident (群众反映).
    Resident,
    /// A 12345 hotline work order.
    Hotline12345,
    /// Assigned from above (上级交办).
    Assigned,
}

/// How urgent an incident is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
    ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    High,
    Medium,
    Low,
}

/// A person involved in an incident. [PI]; the ID number is [S]. Kept in
/// the incident's [`super::IncidentParties`] record, not in the incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Party {
    #[schemars(length(max = limits::NAME))]
    pub name: String,
    #[serde(default)]
    #[schemars(length(max = limits::PHONE))]
    pub phone: String,
    /// [S]
    #[serde(default)]
    #[schemars(length(max = limits::PHONE))]
    pub id_number: String,
    /// e.g. 申请人, 被申请人, 当事人.
    #[serde(default)]
    #[schemars(length(max = limits::LABEL))]
    pub role: String,
}

/// How a dispute was mediated (调解方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MediationMethod {
    /// 现场调解
    OnSite,
    /// 人民调解委员会
    PeoplesMediationCommittee,
    /// 联合调解
    Joint,
    /// 司法确认
    JudicialConfirmation,
}

/// The mediation record a dispute (矛盾纠纷) incident carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Mediation {
    /// The mediator's name: staff acting in their role, shown like an
    /// assignee (see [`crate::privacy`]).
    #[schemars(length(max = limits::NAME))]
    pub mediator: String,
    pub method: MediationMethod,
    /// What was agreed.
    #[serde(default)]
    #[schemars(length(max = limits::TEXT))]
    pub outcome: String,
    pub success: bool,
    /// Unix milliseconds.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub mediated_at: Option<i64>,
}

/// An incident (事件).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Incident {
    #[serde(flatten)]
    pub meta: Meta,
    /// Human-readable number, unique per device and day, e.g.
    /// `SJ20261122-3F9A-0001`.
    #[schemars(length(max = limits::CODE))]
    pub number: String,
    #[schemars(length(max = limits::TITLE))]
    pub title: String,
    #[serde(default)]
    #[schemars(length(max = limits::TEXT))]
    pub description: String,
    pub category: Category,
    pub source: IncidentSource,
    pub urgency: Urgency,
    #[serde(default)]
    pub point: Option<GeoPoint>,
    #[serde(default)]
    #[schemars(length(max = limits::ADDRESS))]
    pub address: String,
    /// Unix milliseconds when it happened.
    pub happened_at: i64,
    /// Before and after photos.
    #[serde(default)]
    #[schemars(length(max = limits::PHOTOS))]
    pub photos: Vec<PhotoRef>,
    /// The 12345 hotline work order number, if it came from one.
    #[serde(default)]
    #[schemars(length(max = limits::CODE))]
    pub hotline_order: Option<String>,
    /// The patrol it was found on.
    #[serde(default)]
    pub patrol_id: Option<Uuid>,
    /// For disputes: the mediation record.
    #[serde(default)]
    pub mediation: Option<Mediation>,
    /// The append-only transition log (see [`crate::workflow`]).
    #[serde(default)]
    #[schemars(length(max = limits::LOG_ENTRIES))]
    pub log: Vec<Transition>,
}

impl Record for Incident {
    const KIND: RecordKind = RecordKind::Incident;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn normalize_and_validate(&mut self, _ctx: &ValidateCtx) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        errors.require("grid", &self.meta.grid);
        errors.require("number", &self.number);
        errors.require("title", &self.title);
        errors.max_len("title", &self.title, 100);
        errors.max_len("description", &self.description, 5000);
        if self.point.is_none() && self.address.trim().is_empty() {
            errors.push(validate::ValidationError {
                field: "point".into(),
                code: validate::Code::Required,
                detail: None,
            });
        }
        if let Some(m) = &self.mediation {
            errors.require("mediation.mediator", &m.mediator);
        }
        errors.into_result()
    }

    fn projection(&self) -> Projection {
        // The title is free text: a phone or ID number typed into it stays
        // masked in lists. (The parties live in their own record; a name
        // typed into the title is the writer's choice.)
        let title = crate::privacy::scrub_for(
            RecordKind::Incident,
            &serde_json::Value::Null,
            &self.title,
            crate::privacy::Reveal::MASKED,
        );
        let mut p = Projection::new(RecordKind::Incident, &self.meta, title);
        p.subtitle = format!("{} · {}", self.number, self.category.major.label_zh());
        // Status and due date need the working-day calendar; the store fills
        // them in with `workflow::derive`.
        p.category = Some(enum_name(&self.category.major));
        p.urgency = Some(enum_name(&self.urgency));
        p.search_text = format!(
            "{} {} {} {} {} {}",
            self.number,
            self.title,
            self.description,
            self.address,
            self.category.major.label_zh(),
            self.category.minor
        );
        p
    }
}
