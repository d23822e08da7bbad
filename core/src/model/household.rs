//! Households (户): one dwelling or business unit in a grid.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::limits;
use super::{
    GeoPoint, Meta, PhotoRef, Projection, Record, RecordKind, ReviewEntry, ValidateCtx, enum_name,
    review_state,
};
use crate::validate::{self, ValidationErrors};

/// A structured address: estate › building › unit › room in towns, or
/// natural village › group in the countryside. Empty parts are empty strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Address {
    /// 小区 estate.
    #[serde(default)]
    #[schemars(length(max = limits::ADDRESS_PART))]
    pub estate: String,
    /// 楼栋 building.
    #[serde(default)]
    #[schemars(length(max = limits::ADDRESS_PART))]
    pub building: String,
    /// 单元 unit.
    #[serde(default)]
    #[schemars(length(max = limits::ADDRESS_PART))]
    pub unit: String,
    /// 室 room.
    #[serde(default)]
    #[schemars(length(max = limits::ADDRESS_PART))]
    pub room: String,
    /// 自然村 natural village.
    #[serde(default)]
    #[schemars(length(max = limits::ADDRESS_PART))]
    pub village: String,
    /// 组 village group.
    #[serde(default)]
    #[schemars(length(max = limits::ADDRESS_PART))]
    pub group: String,
    /// Anything else (a street number, a landmark).
    #[serde(default)]
    #[schemars(length(max = limits::ADDRESS))]
    pub detail: String,
}

impl Address {
    /// The address as one line the way people write it, e.g.
    /// 阳光花园3栋2单元501室 or 石岭村五组.
    pub fn one_line(&self) -> String {
        let mut s = String::new();
        let mut part = |value: &str, suffix: &str| {
            if !value.is_empty() {
                s.push_str(value);
                if !value.ends_with(suffix) {
                    s.push_str(suffix);
                }
            }
        };
        part(&self.estate, "");
        part(&self.building, "栋");
        part(&self.unit, "单元");
        part(&self.room, "室");
        part(&self.village, "");
        part(&self.group, "组");
        part(&self.detail, "");
        s
    }

    fn is_empty(&self) -> bool {
        self.one_line().is_empty()
    }
}

/// What a household's dwelling is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdUse {
    /// 自住
    OwnerOccupied,
    /// 出租
    Rented,
    /// 空置
    Vacant,
    /// 经营
    Business,
}

/// Flags a worker keeps on a household. [S]: visible to restricted roles.
/// A fixed map created with the record, so concurrent edits set scalars.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct HouseholdFlags {
    /// 低保 minimum-living-allowance household.
    #[serde(default)]
    pub low_income: bool,
    /// 独居 someone lives alone (typically elderly).
    #[serde(default)]
    pub living_alone: bool,
    /// 残疾 a member with a disability.
    #[serde(default)]
    pub disability: bool,
    /// 特扶 a family under special support.
    #[serde(default)]
    pub special_support: bool,
    /// 重点 a household of key concern.
    #[serde(default)]
    pub key_concern: bool,
}

/// A household (户).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Household {
    #[serde(flatten)]
    pub meta: Meta,
    pub address: Address,
    #[serde(default)]
    pub point: Option<GeoPoint>,
    #[serde(rename = "use")]
    pub usage: HouseholdUse,
    /// [PI] Owner's full name.
    #[serde(default)]
    #[schemars(length(max = limits::NAME))]
    pub owner_name: String,
    /// [PI] Owner's mobile number.
    #[serde(default)]
    #[schemars(length(max = limits::PHONE))]
    pub owner_phone: Option<String>,
    /// [S] Owner's resident ID number.
    #[serde(default)]
    #[schemars(length(max = limits::PHONE))]
    pub owner_id_number: Option<String>,
    #[serde(default)]
    pub door_plate_photo: Option<PhotoRef>,
    /// [S]
    #[serde(default)]
    pub flags: HouseholdFlags,
    /// Unix milliseconds of the last visit recorded.
    #[serde(default)]
    pub last_visit_at: Option<i64>,
    /// Supervisors' reviews, append-only.
    #[serde(default)]
    #[schemars(length(max = limits::REVIEWS))]
    pub review: Vec<ReviewEntry>,
}

impl Record for Household {
    const KIND: RecordKind = RecordKind::Household;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn normalize_and_validate(&mut self, ctx: &ValidateCtx) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        errors.require("grid", &self.meta.grid);
        if self.address.is_empty() {
            errors.push(validate::ValidationError {
                field: "address".into(),
                code: validate::Code::Required,
                detail: None,
            });
        }
        if !self.owner_name.trim().is_empty()
            && let Err(e) = validate::check_name("owner_name", &self.owner_name)
        {
            errors.push(e);
        }
        if let Some(phone) = self.owner_phone.as_mut().filter(|p| !p.trim().is_empty()) {
            match validate::parse_mobile(phone) {
                Ok(p) => *phone = p,
                Err(mut e) => {
                    e.field = "owner_phone".into();
                    errors.push(e);
                }
            }
        }
        if let Some(id) = self
            .owner_id_number
            .as_mut()
            .filter(|s| !s.trim().is_empty())
        {
            match validate::parse_id_number(id, ctx.today) {
                Ok(parsed) => *id = parsed.normalized,
                Err(mut e) => {
                    e.field = "owner_id_number".into();
                    errors.push(e);
                }
            }
        }
        errors.into_result()
    }

    fn projection(&self) -> Projection {
        let address = self.address.one_line();
        let mut p = Projection::new(RecordKind::Household, &self.meta, address.clone());
        p.subtitle = if self.owner_name.is_empty() {
            String::new()
        } else {
            crate::privacy::mask_name(&self.owner_name)
        };
        p.status = Some(enum_name(&review_state(&self.review)));
        p.category = Some(enum_name(&self.usage));
        p.search_text = format!("{address} {}", self.owner_name);
        p
    }
}
