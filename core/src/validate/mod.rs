//! Field validation with stable, translatable error codes.
//!
//! This module owns the rules a form field must pass before a record is
//! saved: required and length checks, resident ID numbers (GB 11643), mobile
//! numbers and personal names (their masked forms are [`crate::privacy`]'s).
//! Every failure is a [`ValidationError`] carrying the field
//! key, a stable [`Code`] the UI can translate and an optional detail (the
//! offending value or part of it); [`ValidationError::message`] renders a
//! sentence in Simplified Chinese or English. Field keys stay as they are in
//! messages: mapping them to labels is the UI's job.
//!
//! ```
//! use gridwork_core::validate::{parse_id_number, Code, Lang};
//! use jiff::civil::date;
//!
//! let id = parse_id_number(" 11010519491231002x ", date(2025, 6, 1)).unwrap();
//! assert_eq!(id.normalized, "11010519491231002X");
//! assert_eq!(id.birth_date, date(1949, 12, 31));
//! assert!(!id.male);
//!
//! let err = parse_id_number("110105194912310025", date(2025, 6, 1)).unwrap_err();
//! assert_eq!(err.code, Code::IdCheckCharacter);
//! assert_eq!(err.message(Lang::ZhCn), "身份证号码校验位错误：应为 X，实际为 5");
//! ```

mod id_number;
mod mobile;
mod name;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use id_number::{IdNumber, id_check_character, parse_id_number};
pub use mobile::parse_mobile;
pub use name::{NAME_MAX_CHARS, check_name};

/// The language a message is rendered in. Simplified Chinese is the default.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    ts_rs::TS,
)]
pub enum Lang {
    /// Simplified Chinese, as used in mainland China.
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
}

/// A stable code for what is wrong with a field, for the UI to translate.
///
/// The serialized form (see [`Code::as_str`]) never changes once shipped.
/// Each variant documents what [`ValidationError::detail`] holds for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// The field is empty or only whitespace. Detail: none.
    Required,
    /// The value has too many characters. Detail: the maximum, e.g. `"50"`.
    TooLong,
    /// A list has too many entries. Detail: the maximum, e.g. `"30"`.
    TooMany,
    /// A change or a record's document is larger than allowed (field
    /// `change` or `document`). Detail: the maximum in bytes.
    TooLarge,
    /// The value is not one of the allowed choices. Detail: the value given.
    InvalidEnum,
    /// The value does not have the expected shape. Detail: the value given.
    InvalidFormat,
    /// An ID number does not have 18 characters. Detail: the number found.
    IdLength,
    /// An ID number has a character that is not allowed where it stands.
    /// Detail: `"position:character"`, position counted from 1, e.g. `"5:A"`.
    IdCharacters,
    /// An ID number does not start with a province-level region code.
    /// Detail: its first two digits.
    IdRegion,
    /// The birth date in an ID number does not exist on the calendar.
    /// Detail: the date as written, `YYYY-MM-DD`, e.g. `"1999-02-30"`.
    IdBirthDateImpossible,
    /// The birth date in an ID number is after today. Detail: the date.
    IdBirthDateFuture,
    /// The birth date in an ID number is before 1900. Detail: the date.
    IdBirthDateTooEarly,
    /// The check character of an ID number does not match the first 17
    /// digits. Detail: `"expected:found"`, e.g. `"X:5"`.
    IdCheckCharacter,
    /// Not a mainland mobile number. Detail: the input with spaces and
    /// dashes removed.
    MobileInvalid,
    /// A name contains a character names cannot have. Detail: that character.
    NameInvalid,
    /// The value is not a valid calendar date. Detail: the value given.
    DateInvalid,
    /// The value is outside the allowed range. Detail: the range, e.g.
    /// `"1..=120"`.
    OutOfRange,
}

impl Code {
    /// The stable snake_case string of this code, as serialized.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::Required => "required",
            Code::TooLong => "too_long",
            Code::TooMany => "too_many",
            Code::TooLarge => "too_large",
            Code::InvalidEnum => "invalid_enum",
            Code::InvalidFormat => "invalid_format",
            Code::IdLength => "id_length",
            Code::IdCharacters => "id_characters",
            Code::IdRegion => "id_region",
            Code::IdBirthDateImpossible => "id_birth_date_impossible",
            Code::IdBirthDateFuture => "id_birth_date_future",
            Code::IdBirthDateTooEarly => "id_birth_date_too_early",
            Code::IdCheckCharacter => "id_check_character",
            Code::MobileInvalid => "mobile_invalid",
            Code::NameInvalid => "name_invalid",
            Code::DateInvalid => "date_invalid",
            Code::OutOfRange => "out_of_range",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing wrong with one field.
///
/// `Display` gives the English message; use [`ValidationError::message`] for
/// the user's language.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, thiserror::Error,
)]
#[error("{}", self.message(Lang::En))]
pub struct ValidationError {
    /// The field key, e.g. `"id_number"`; the UI maps it to a label.
    pub field: String,
    /// What is wrong.
    pub code: Code,
    /// The offending value or part of it; its shape depends on `code`.
    pub detail: Option<String>,
}

impl ValidationError {
    /// An error on `field` with no detail.
    pub fn new(field: impl Into<String>, code: Code) -> Self {
        ValidationError {
            field: field.into(),
            code,
            detail: None,
        }
    }

    /// An error on `field` with a detail.
    pub fn with_detail(field: impl Into<String>, code: Code, detail: impl Into<String>) -> Self {
        ValidationError {
            field: field.into(),
            code,
            detail: Some(detail.into()),
        }
    }

    /// The same error reported on another field, e.g. `"owner_id_number"`
    /// for an error from [`parse_id_number`].
    #[must_use]
    pub fn for_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }

    /// A sentence saying what is wrong, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let field = self.field.as_str();
        let detail = self.detail.as_deref();
        // Details with two parts are "a:b"; a missing part renders as "?"
        // rather than failing, since errors may be deserialized from elsewhere.
        let pair = || detail.and_then(|d| d.split_once(':')).unwrap_or(("?", "?"));
        let d = detail.unwrap_or("?");
        match (lang, self.code) {
            (Lang::ZhCn, Code::Required) => format!("{field} 为必填项"),
            (Lang::En, Code::Required) => format!("{field} is required"),
            (Lang::ZhCn, Code::TooLong) => match detail {
                Some(max) => format!("{field} 过长：最多 {max} 个字符"),
                None => format!("{field} 过长"),
            },
            (Lang::En, Code::TooLong) => match detail {
                Some(max) => format!("{field} is too long: at most {max} characters"),
                None => format!("{field} is too long"),
            },
            (Lang::ZhCn, Code::TooMany) => match detail {
                Some(max) => format!("{field} 条目过多：最多 {max} 项"),
                None => format!("{field} 条目过多"),
            },
            (Lang::En, Code::TooMany) => match detail {
                Some(max) => format!("{field} has too many entries: at most {max}"),
                None => format!("{field} has too many entries"),
            },
            (Lang::ZhCn, Code::TooLarge) => {
                let what = if field == "change" {
                    "这次修改"
                } else {
                    "记录"
                };
                format!("{what}过大：最多 {d} 字节")
            }
            (Lang::En, Code::TooLarge) => format!("the {field} is too large: at most {d} bytes"),
            (Lang::ZhCn, Code::InvalidEnum) => match detail {
                Some(v) => format!("{field} 的取值“{v}”不在可选范围内"),
                None => format!("{field} 的取值不在可选范围内"),
            },
            (Lang::En, Code::InvalidEnum) => match detail {
                Some(v) => format!("{field} has a value that is not one of the choices: “{v}”"),
                None => format!("{field} has a value that is not one of the choices"),
            },
            (Lang::ZhCn, Code::InvalidFormat) => match detail {
                Some(v) => format!("{field} 格式不正确：“{v}”"),
                None => format!("{field} 格式不正确"),
            },
            (Lang::En, Code::InvalidFormat) => match detail {
                Some(v) => format!("{field} has an invalid format: “{v}”"),
                None => format!("{field} has an invalid format"),
            },
            (Lang::ZhCn, Code::IdLength) => {
                format!("身份证号码应为 18 位，实际为 {d} 位")
            }
            (Lang::En, Code::IdLength) => {
                format!("ID number must have 18 characters, found {d}")
            }
            (Lang::ZhCn, Code::IdCharacters) => {
                let (pos, ch) = pair();
                format!("身份证号码第 {pos} 位的“{ch}”无效：前 17 位应为数字，最后一位应为数字或 X")
            }
            (Lang::En, Code::IdCharacters) => {
                let (pos, ch) = pair();
                format!(
                    "ID number has an invalid character “{ch}” at position {pos}: \
                     the first 17 must be digits and the last a digit or X"
                )
            }
            (Lang::ZhCn, Code::IdRegion) => {
                format!("身份证号码开头的 {d} 不是有效的省级行政区划代码")
            }
            (Lang::En, Code::IdRegion) => {
                format!("ID number starts with {d}, which is not a province-level region code")
            }
            (Lang::ZhCn, Code::IdBirthDateImpossible) => {
                format!("身份证号码中的出生日期 {d} 不存在")
            }
            (Lang::En, Code::IdBirthDateImpossible) => {
                format!("the birth date {d} in the ID number does not exist")
            }
            (Lang::ZhCn, Code::IdBirthDateFuture) => {
                format!("身份证号码中的出生日期 {d} 晚于今天")
            }
            (Lang::En, Code::IdBirthDateFuture) => {
                format!("the birth date {d} in the ID number is in the future")
            }
            (Lang::ZhCn, Code::IdBirthDateTooEarly) => {
                format!("身份证号码中的出生日期 {d} 早于 1900 年")
            }
            (Lang::En, Code::IdBirthDateTooEarly) => {
                format!("the birth date {d} in the ID number is before 1900")
            }
            (Lang::ZhCn, Code::IdCheckCharacter) => {
                let (expected, found) = pair();
                format!("身份证号码校验位错误：应为 {expected}，实际为 {found}")
            }
            (Lang::En, Code::IdCheckCharacter) => {
                let (expected, found) = pair();
                format!("ID number check character is wrong: expected {expected}, found {found}")
            }
            (Lang::ZhCn, Code::MobileInvalid) => {
                format!("手机号码“{d}”无效：应为以 13–19 开头的 11 位数字")
            }
            (Lang::En, Code::MobileInvalid) => {
                format!("mobile number “{d}” is not valid: expected 11 digits starting 13 to 19")
            }
            (Lang::ZhCn, Code::NameInvalid) => {
                format!("{field} 中含有不允许的字符“{d}”：姓名只能包含汉字、字母、空格和间隔号“·”")
            }
            (Lang::En, Code::NameInvalid) => format!(
                "{field} contains “{d}”, which a name cannot have: use Chinese characters, \
                 letters, spaces and the middle dot “·”"
            ),
            (Lang::ZhCn, Code::DateInvalid) => match detail {
                Some(v) => format!("{field} 不是有效日期：“{v}”"),
                None => format!("{field} 不是有效日期"),
            },
            (Lang::En, Code::DateInvalid) => match detail {
                Some(v) => format!("{field} is not a valid date: “{v}”"),
                None => format!("{field} is not a valid date"),
            },
            (Lang::ZhCn, Code::OutOfRange) => match detail {
                Some(range) => format!("{field} 超出允许范围（{range}）"),
                None => format!("{field} 超出允许范围"),
            },
            (Lang::En, Code::OutOfRange) => match detail {
                Some(range) => format!("{field} is out of range (allowed: {range})"),
                None => format!("{field} is out of range"),
            },
        }
    }
}

/// All that is wrong with a form, in the order found.
///
/// Collect with [`push`](Self::push), [`require`](Self::require),
/// [`max_len`](Self::max_len) and [`check`](Self::check), then finish with
/// [`into_result`](Self::into_result). `Display` joins the English messages.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    thiserror::Error,
)]
#[error("{}", join_messages(&self.0))]
pub struct ValidationErrors(pub Vec<ValidationError>);

fn join_messages(errors: &[ValidationError]) -> String {
    errors
        .iter()
        .map(|e| e.message(Lang::En))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ValidationErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error.
    pub fn push(&mut self, error: ValidationError) {
        self.0.push(error);
    }

    /// Whether nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many errors were recorded.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `Ok(())` if nothing is wrong, otherwise all the errors.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    /// Records [`Code::Required`] if `value` is empty or only whitespace.
    /// Returns whether the value is present, so further checks can be skipped.
    pub fn require(&mut self, field: &str, value: &str) -> bool {
        let present = !value.trim().is_empty();
        if !present {
            self.push(ValidationError::new(field, Code::Required));
        }
        present
    }

    /// Records [`Code::TooLong`] if `value` has more than `max` characters
    /// (Unicode scalar values, so a Chinese character counts as one).
    /// Returns whether the value fits.
    pub fn max_len(&mut self, field: &str, value: &str, max: usize) -> bool {
        let fits = value.chars().count() <= max;
        if !fits {
            self.push(ValidationError::with_detail(
                field,
                Code::TooLong,
                max.to_string(),
            ));
        }
        fits
    }

    /// Records the error of a failed check and returns the value of a
    /// successful one, e.g. `errors.check(parse_mobile(&form.phone).map_err(|e|
    /// e.for_field("phone")))`.
    pub fn check<T>(&mut self, result: Result<T, ValidationError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.push(error);
                None
            }
        }
    }
}

impl From<ValidationError> for ValidationErrors {
    fn from(error: ValidationError) -> Self {
        ValidationErrors(vec![error])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_CODES: [Code; 17] = [
        Code::Required,
        Code::TooLong,
        Code::InvalidEnum,
        Code::InvalidFormat,
        Code::IdLength,
        Code::IdCharacters,
        Code::IdRegion,
        Code::IdBirthDateImpossible,
        Code::IdBirthDateFuture,
        Code::IdBirthDateTooEarly,
        Code::IdCheckCharacter,
        Code::MobileInvalid,
        Code::NameInvalid,
        Code::DateInvalid,
        Code::OutOfRange,
        Code::TooMany,
        Code::TooLarge,
    ];

    #[test]
    fn code_as_str_matches_serde() {
        for code in ALL_CODES {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: Code = serde_json::from_str(&json).unwrap();
            assert_eq!(back, code);
        }
    }

    #[test]
    fn every_code_has_a_message_in_both_languages_with_and_without_detail() {
        for code in ALL_CODES {
            for lang in [Lang::ZhCn, Lang::En] {
                // Required has nothing to show but the field.
                let shows_detail = code != Code::Required;
                let bare = ValidationError::new("f", code).message(lang);
                assert!(!bare.trim().is_empty(), "{code} {lang:?}");
                let with = ValidationError::with_detail("f", code, "Q:Z").message(lang);
                assert!(!with.trim().is_empty(), "{code} {lang:?}");
                assert_eq!(
                    with.contains('Q') || with.contains('Z'),
                    shows_detail,
                    "{code} {lang:?}: {with}"
                );
            }
        }
    }

    #[test]
    fn zh_messages_are_chinese_and_en_messages_are_not() {
        let han = |s: &str| s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
        for code in ALL_CODES {
            let e = ValidationError::with_detail("f", code, "1:2");
            assert!(han(&e.message(Lang::ZhCn)), "{code}");
            assert!(!han(&e.message(Lang::En)), "{code}");
        }
    }

    #[test]
    fn display_is_the_english_message() {
        let e = ValidationError::with_detail("id_number", Code::IdCheckCharacter, "X:5");
        assert_eq!(
            e.to_string(),
            "ID number check character is wrong: expected X, found 5"
        );
        assert_eq!(
            e.message(Lang::ZhCn),
            "身份证号码校验位错误：应为 X，实际为 5"
        );
    }

    #[test]
    fn lang_defaults_to_zh_cn_and_serializes_as_a_locale_tag() {
        assert_eq!(Lang::default(), Lang::ZhCn);
        assert_eq!(serde_json::to_string(&Lang::ZhCn).unwrap(), "\"zh-CN\"");
        assert_eq!(serde_json::to_string(&Lang::En).unwrap(), "\"en\"");
    }

    #[test]
    fn errors_collect_required_and_max_len() {
        let mut errors = ValidationErrors::new();
        assert!(errors.require("title", "漏水"));
        assert!(!errors.require("address", "  \u{3000}\t"));
        assert!(errors.max_len("title", "楼道堆放杂物", 6));
        assert!(!errors.max_len("title", "楼道堆放杂物多", 6));
        assert_eq!(errors.len(), 2);
        assert_eq!(errors.0[0], ValidationError::new("address", Code::Required));
        assert_eq!(
            errors.0[1],
            ValidationError::with_detail("title", Code::TooLong, "6")
        );
        assert_eq!(
            errors.to_string(),
            "address is required; title is too long: at most 6 characters"
        );
        assert_eq!(errors.clone().into_result(), Err(errors));
    }

    #[test]
    fn empty_errors_are_ok() {
        assert!(ValidationErrors::new().is_empty());
        assert_eq!(ValidationErrors::new().into_result(), Ok(()));
    }

    #[test]
    fn check_keeps_values_and_records_errors() {
        let mut errors = ValidationErrors::new();
        assert_eq!(
            errors.check(parse_mobile("13812345678")),
            Some("13812345678".to_string())
        );
        assert_eq!(
            errors.check(parse_mobile("123").map_err(|e| e.for_field("owner_phone"))),
            None
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors.0[0].field, "owner_phone");
        assert_eq!(errors.0[0].code, Code::MobileInvalid);
    }

    #[test]
    fn errors_round_trip_through_json() {
        let errors = ValidationErrors(vec![ValidationError::with_detail(
            "id_number",
            Code::IdBirthDateImpossible,
            "1999-02-30",
        )]);
        let json = serde_json::to_string(&errors).unwrap();
        assert_eq!(
            json,
            r#"[{"field":"id_number","code":"id_birth_date_impossible","detail":"1999-02-30"}]"#
        );
        assert_eq!(
            serde_json::from_str::<ValidationErrors>(&json).unwrap(),
            errors
        );
    }
}
