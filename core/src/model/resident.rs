//! Residents (人口): people registered in a household.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::limits;
use super::{
    Gender, Meta, Projection, Record, RecordKind, ReviewEntry, ValidateCtx, enum_name, review_state,
};
use crate::privacy::{mask_id_number, mask_name};
use crate::validate::{self, ValidationErrors};

/// A resident's relation to the head of their household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// 户主
    Head,
    /// 配偶
    Spouse,
    /// 子女
    Child,
    /// 父母
    Parent,
    /// 孙辈
    Grandchild,
    /// 兄弟姐妹
    Sibling,
    /// 租户
    Tenant,
    /// 其他
    Other,
}

/// The kind of identity document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// 居民身份证 (GB 11643, checked).
    ResidentId,
    /// 港澳台居民居住证 (same number format, checked).
    ResidencePermit,
    /// 护照
    Passport,
    /// 外国人永久居留身份证
    ForeignPermanentResident,
    /// 其他
    Other,
}

/// Education level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Education {
    None,
    Primary,
    JuniorHigh,
    SeniorHigh,
    Vocational,
    College,
    Bachelor,
    Postgraduate,
}

/// Population type (人口类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PopulationType {
    /// 户籍人口
    Registered,
    /// 流动人口
    Floating,
    /// 境外人员
    Foreign,
    /// 留守人员
    LeftBehind,
}

/// A care or management tag (关爱/管理对象). All are [S].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum CareTagKind {
    /// 独居老人
    ElderlyLivingAlone,
    /// 留守儿童
    LeftBehindChild,
    /// 残疾人
    Disability,
    /// 低保对象
    LowIncome,
    /// 社区矫正对象
    CommunityCorrection,
    /// 刑满释放人员
    ReleasedPrisoner,
    /// 严重精神障碍患者
    SevereMentalDisorder,
    /// 重点青少年
    KeyYouth,
}

/// The longest visit cycle a tag may ask for, in days.
pub const VISIT_CYCLE_MAX_DAYS: u32 = 366;

impl CareTagKind {
    /// Every kind, in the order forms list them.
    pub const ALL: [CareTagKind; 8] = [
        CareTagKind::ElderlyLivingAlone,
        CareTagKind::LeftBehindChild,
        CareTagKind::Disability,
        CareTagKind::LowIncome,
        CareTagKind::CommunityCorrection,
        CareTagKind::ReleasedPrisoner,
        CareTagKind::SevereMentalDisorder,
        CareTagKind::KeyYouth,
    ];

    /// Days between visits a new tag of this kind asks for unless the
    /// worker sets another cycle: weekly for people most at risk alone or
    /// under supervision, fortnightly for severe mental disorders, monthly
    /// for the rest.
    pub fn default_cycle_days(self) -> u32 {
        match self {
            CareTagKind::ElderlyLivingAlone | CareTagKind::CommunityCorrection => 7,
            CareTagKind::SevereMentalDisorder => 14,
            CareTagKind::LeftBehindChild
            | CareTagKind::Disability
            | CareTagKind::LowIncome
            | CareTagKind::ReleasedPrisoner
            | CareTagKind::KeyYouth => 30,
        }
    }

    /// Restricted tags are visible to restricted roles only.
    pub fn is_restricted(self) -> bool {
        matches!(
            self,
            CareTagKind::CommunityCorrection
                | CareTagKind::ReleasedPrisoner
                | CareTagKind::SevereMentalDisorder
                | CareTagKind::KeyYouth
        )
    }
}

/// A care/management tag with its visit cycle. [S]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct CareTag {
    pub tag: CareTagKind,
    /// Days between visits required for this tag.
    pub visit_cycle_days: u32,
    /// Unix milliseconds when the tag was added.
    pub since: i64,
}

/// An emergency contact. [PI]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct EmergencyContact {
    #[serde(default)]
    #[schemars(length(max = limits::NAME))]
    pub name: String,
    #[serde(default)]
    #[schemars(length(max = limits::PHONE))]
    pub phone: String,
    #[serde(default)]
    #[schemars(length(max = limits::LABEL))]
    pub relation: String,
}

/// A resident (人口).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Resident {
    #[serde(flatten)]
    pub meta: Meta,
    /// The household the resident lives in.
    #[serde(default)]
    pub household_id: Option<Uuid>,
    pub relation: Relation,
    /// [PI] One full-name field (姓名); `·` and rare characters allowed.
    #[schemars(length(max = limits::NAME))]
    pub name: String,
    pub gender: Gender,
    /// [PI] YYYY-MM-DD; filled from a resident ID number.
    #[serde(default)]
    #[schemars(length(max = limits::DATE))]
    pub birth_date: Option<String>,
    pub id_type: IdType,
    /// [S]
    #[serde(default)]
    #[schemars(length(max = limits::PHONE))]
    pub id_number: Option<String>,
    /// [PI]
    #[serde(default)]
    #[schemars(length(max = limits::PHONE))]
    pub phone: Option<String>,
    /// 民族, e.g. 汉族.
    #[serde(default)]
    #[schemars(length(max = limits::LABEL))]
    pub ethnicity: String,
    #[serde(default)]
    pub education: Option<Education>,
    /// [PI] 户籍地.
    #[serde(default)]
    #[schemars(length(max = limits::ADDRESS))]
    pub registered_residence: String,
    pub population_type: PopulationType,
    /// [PI]
    #[serde(default)]
    pub emergency_contact: EmergencyContact,
    /// [S] Care and management tags; duplicates of a tag are merged on read.
    #[serde(default)]
    #[schemars(length(max = limits::CARE_TAGS))]
    pub care_tags: Vec<CareTag>,
    /// Next visit due (YYYY-MM-DD), from the shortest cycle of the tags.
    #[serde(default)]
    #[schemars(length(max = limits::DATE))]
    pub next_visit_due: Option<String>,
    #[serde(default)]
    #[schemars(length(max = limits::REVIEWS))]
    pub review: Vec<ReviewEntry>,
}

impl Record for Resident {
    const KIND: RecordKind = RecordKind::Resident;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn normalize_and_validate(&mut self, ctx: &ValidateCtx) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        errors.require("grid", &self.meta.grid);
        if let Err(e) = validate::check_name("name", &self.name) {
            errors.push(e);
        }
        if let Some(id) = self.id_number.as_mut().filter(|s| !s.trim().is_empty()) {
            if matches!(self.id_type, IdType::ResidentId | IdType::ResidencePermit) {
                match validate::parse_id_number(id, ctx.today) {
                    Ok(parsed) => {
                        *id = parsed.normalized;
                        self.birth_date = Some(parsed.birth_date.to_string());
                        self.gender = if parsed.male {
                            Gender::Male
                        } else {
                            Gender::Female
                        };
                    }
                    Err(mut e) => {
                        e.field = "id_number".into();
                        errors.push(e);
                    }
                }
            } else {
                errors.max_len("id_number", id, 32);
            }
        }
        if let Some(date) = self.birth_date.as_deref().filter(|d| !d.is_empty()) {
            match date.parse::<jiff::civil::Date>() {
                Ok(d) if d > ctx.today => errors.push(validate::ValidationError {
                    field: "birth_date".into(),
                    code: validate::Code::OutOfRange,
                    detail: Some(date.to_string()),
                }),
                Ok(_) => {}
                Err(_) => errors.push(validate::ValidationError {
                    field: "birth_date".into(),
                    code: validate::Code::DateInvalid,
                    detail: Some(date.to_string()),
                }),
            }
        }
        if let Some(phone) = self.phone.as_mut().filter(|p| !p.trim().is_empty()) {
            match validate::parse_mobile(phone) {
                Ok(p) => *phone = p,
                Err(mut e) => {
                    e.field = "phone".into();
                    errors.push(e);
                }
            }
        }
        if !self.emergency_contact.phone.trim().is_empty() {
            match validate::parse_mobile(&self.emergency_contact.phone) {
                Ok(p) => self.emergency_contact.phone = p,
                Err(mut e) => {
                    e.field = "emergency_contact.phone".into();
                    errors.push(e);
                }
            }
        }
        for tag in &self.care_tags {
            if !(1..=VISIT_CYCLE_MAX_DAYS).contains(&tag.visit_cycle_days) {
                errors.push(validate::ValidationError {
                    field: "care_tags".into(),
                    code: validate::Code::OutOfRange,
                    // The allowed range, as the message says ("allowed: …").
                    detail: Some(format!("1..={VISIT_CYCLE_MAX_DAYS}")),
                });
            }
        }
        errors.into_result()
    }

    fn projection(&self) -> Projection {
        let mut p = Projection::new(RecordKind::Resident, &self.meta, mask_name(&self.name));
        p.subtitle = self
            .id_number
            .as_deref()
            .map(|id| mask_id_number(id, false))
            .unwrap_or_default();
        p.status = Some(enum_name(&review_state(&self.review)));
        p.category = Some(enum_name(&self.population_type));
        p.parent_id = self.household_id;
        p.due = self.visit_due();
        p.search_text = format!("{} {}", self.name, self.registered_residence);
        p
    }
}

impl Resident {
    /// When the resident is due for a visit: the stored next due date, or,
    /// for a tagged resident never visited yet, the day the first tag was
    /// added (Asia/Shanghai): care is due from the start. `None` when no
    /// tag asks for visits.
    pub fn visit_due(&self) -> Option<String> {
        if self.next_visit_due.is_some() {
            return self.next_visit_due.clone();
        }
        let since = self.care_tags.iter().map(|t| t.since).min()?;
        jiff::Timestamp::from_millisecond(since)
            .ok()
            .map(|t| crate::calendar::shanghai_date(t).to_string())
    }

    /// Care tags with duplicates of the same kind merged (two devices may
    /// add the same tag offline; the shortest cycle wins).
    pub fn distinct_care_tags(&self) -> Vec<CareTag> {
        let mut out: Vec<CareTag> = Vec::new();
        for tag in &self.care_tags {
            match out.iter_mut().find(|t| t.tag == tag.tag) {
                Some(t) => t.visit_cycle_days = t.visit_cycle_days.min(tag.visit_cycle_days),
                None => out.push(tag.clone()),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::{Param, params};
    use crate::validate::Code;

    fn ctx() -> ValidateCtx {
        ValidateCtx {
            today: jiff::civil::date(2026, 11, 22),
        }
    }

    fn resident(id_number: &str) -> Resident {
        Resident {
            meta: Meta::new("440106001001001", "gw-1", 0),
            household_id: None,
            relation: Relation::Head,
            name: "热依拉·买买提".into(),
            gender: Gender::Unknown,
            birth_date: None,
            id_type: IdType::ResidentId,
            id_number: Some(id_number.into()),
            phone: Some("138 1234 5678".into()),
            ethnicity: "维吾尔族".into(),
            education: None,
            registered_residence: "新疆乌鲁木齐市".into(),
            population_type: PopulationType::Floating,
            emergency_contact: EmergencyContact::default(),
            care_tags: Vec::new(),
            next_visit_due: None,
            review: Vec::new(),
        }
    }

    #[test]
    fn each_care_tag_kind_has_a_default_cycle_within_the_allowed_range() {
        use CareTagKind::*;
        assert_eq!(ElderlyLivingAlone.default_cycle_days(), 7);
        assert_eq!(CommunityCorrection.default_cycle_days(), 7);
        assert_eq!(SevereMentalDisorder.default_cycle_days(), 14);
        assert_eq!(LeftBehindChild.default_cycle_days(), 30);
        assert_eq!(KeyYouth.default_cycle_days(), 30);
        let distinct: std::collections::HashSet<_> = CareTagKind::ALL.iter().collect();
        assert_eq!(distinct.len(), 8, "ALL lists every kind once");
        for kind in CareTagKind::ALL {
            assert!((1..=VISIT_CYCLE_MAX_DAYS).contains(&kind.default_cycle_days()));
        }
    }

    #[test]
    fn a_care_tag_cycle_outside_one_to_366_days_says_the_allowed_range() {
        for days in [0, 367] {
            let mut r = resident("");
            r.care_tags = vec![CareTag {
                tag: CareTagKind::Disability,
                visit_cycle_days: days,
                since: 0,
            }];
            let errors = r.normalize_and_validate(&ctx()).unwrap_err();
            let e = errors.0.iter().find(|e| e.field == "care_tags").unwrap();
            assert_eq!(e.code, Code::OutOfRange);
            assert_eq!(e.params(), params([("range", Param::from("1..=366"))]));
        }
        let mut r = resident("");
        r.care_tags = vec![CareTag {
            tag: CareTagKind::Disability,
            visit_cycle_days: 366,
            since: 0,
        }];
        let care_errors = match r.normalize_and_validate(&ctx()) {
            Ok(()) => 0,
            Err(e) => e.0.iter().filter(|e| e.field == "care_tags").count(),
        };
        assert_eq!(care_errors, 0, "366 days is allowed");
    }

    #[test]
    fn a_good_id_number_fills_birth_date_and_gender_and_is_normalized() {
        let mut r = resident("11010519491231002x");
        r.normalize_and_validate(&ctx()).unwrap();
        assert_eq!(r.id_number.as_deref(), Some("11010519491231002X"));
        assert_eq!(r.birth_date.as_deref(), Some("1949-12-31"));
        assert_eq!(r.gender, Gender::Female);
        assert_eq!(r.phone.as_deref(), Some("13812345678"));
        let p = r.projection();
        // A list row masks [PI] too, so the district goes with the name.
        assert_eq!(p.subtitle, "11************002X");
        assert_eq!(p.title, "热******");
    }

    #[test]
    fn a_bad_id_number_says_what_is_wrong() {
        let mut r = resident("110105194912310021");
        let errors = r.normalize_and_validate(&ctx()).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        let e = &errors.0[0];
        assert_eq!(
            (e.field.as_str(), e.code),
            ("id_number", Code::IdCheckCharacter)
        );
        assert_eq!(
            e.params(),
            params([("expected", "X".into()), ("found", "1".into())])
        );

        let mut r = resident("110105199902300021");
        let errors = r.normalize_and_validate(&ctx()).unwrap_err();
        assert_eq!(errors.0[0].code, Code::IdBirthDateImpossible);
        assert_eq!(r.birth_date, None, "nothing is filled from a bad number");
    }
}
