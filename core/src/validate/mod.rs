//! Field validation with stable, translatable error codes.
//!
//! This module owns the rules a form field must pass before a record is
//! saved: required and length checks, resident ID numbers (GB 11643), mobile
//! numbers and personal names (their masked forms are [`crate::privacy`]'s).
//! Every failure is a [`ValidationError`] carrying the field
//! key, a stable [`Code`] the UI can translate and an optional detail (the
//! offending value or part of it), which [`ValidationError::params`] names
//! for the UI's message (see [`crate::problem`]: no sentence is rendered
//! here). Mapping field keys to labels is the UI's job too.
//!
//! ```
//! use gridwork_core::problem::{params, Param};
//! use gridwork_core::validate::{parse_id_number, Code};
//! use jiff::civil::date;
//!
//! let id = parse_id_number(" 11010519491231002x ", date(2025, 6, 1)).unwrap();
//! assert_eq!(id.normalized, "11010519491231002X");
//! assert_eq!(id.birth_date, date(1949, 12, 31));
//! assert!(!id.male);
//!
//! let err = parse_id_number("110105194912310025", date(2025, 6, 1)).unwrap_err();
//! assert_eq!(err.code, Code::IdCheckCharacter);
//! assert_eq!(
//!     err.params(),
//!     params([("expected", Param::from("X")), ("found", Param::from("5"))])
//! );
//! ```

mod id_number;
mod mobile;
mod name;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::problem::{Param, Params, params};

pub use id_number::{IdNumber, id_check_character, parse_id_number};
pub use mobile::parse_mobile;
pub use name::{NAME_MAX_CHARS, check_name};

/// A stable code for what is wrong with a field, for the UI to translate.
///
/// The serialized form (see [`Code::as_str`]) never changes once shipped.
/// Each variant documents what [`ValidationError::detail`] holds for it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "FieldCode")]
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
/// `Display` is for logs; the UI translates [`Self::code`] with
/// [`Self::params`].
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, thiserror::Error,
)]
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

    /// The named parameters the UI interpolates into the message of
    /// [`Self::code`] (see [`crate::problem`]): `detail` split into its
    /// parts, e.g. `{expected: "X", found: "5"}` for an
    /// [`Code::IdCheckCharacter`]. A part that is missing is `"?"`, since
    /// errors may be deserialized from elsewhere.
    pub fn params(&self) -> Params {
        let d = || Param::from(self.detail.as_deref().unwrap_or("?"));
        let pair = || {
            let (a, b) = self
                .detail
                .as_deref()
                .and_then(|d| d.split_once(':'))
                .unwrap_or(("?", "?"));
            (Param::from(a), Param::from(b))
        };
        let max = || match self.detail.as_deref().map(str::parse::<f64>) {
            Some(Ok(n)) => Param::Number(n),
            _ => d(),
        };
        match self.code {
            Code::Required => Params::new(),
            Code::TooLong | Code::TooMany | Code::TooLarge => params([("max", max())]),
            Code::InvalidEnum | Code::InvalidFormat | Code::MobileInvalid | Code::DateInvalid => {
                params([("value", d())])
            }
            Code::IdLength => params([("length", max())]),
            Code::IdCharacters => {
                let (position, character) = pair();
                params([("position", position), ("character", character)])
            }
            Code::IdRegion => params([("region", d())]),
            Code::IdBirthDateImpossible | Code::IdBirthDateFuture | Code::IdBirthDateTooEarly => {
                params([("date", d())])
            }
            Code::IdCheckCharacter => {
                let (expected, found) = pair();
                params([("expected", expected), ("found", found)])
            }
            Code::NameInvalid => params([("character", d())]),
            Code::OutOfRange => params([("range", d())]),
        }
    }
}

impl fmt::Display for ValidationError {
    /// `field: code (detail)`, for logs; people read the UI's message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.code)?;
        match &self.detail {
            Some(detail) => write!(f, " ({detail})"),
            None => Ok(()),
        }
    }
}

/// All that is wrong with a form, in the order found.
///
/// Collect with [`push`](Self::push), [`require`](Self::require),
/// [`max_len`](Self::max_len) and [`check`](Self::check), then finish with
/// [`into_result`](Self::into_result). `Display` joins the errors' for logs.
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
        .map(ToString::to_string)
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
    fn every_code_but_required_names_its_detail_in_params() {
        for code in ALL_CODES {
            let with = ValidationError::with_detail("f", code, "Q:Z").params();
            let shows_detail = code != Code::Required;
            let json = serde_json::to_string(&with).unwrap();
            assert_eq!(
                json.contains('Q') || json.contains('Z'),
                shows_detail,
                "{code}: {json}"
            );
            // Without a detail, the params are still all there.
            let bare = ValidationError::new("f", code).params();
            assert_eq!(
                bare.keys().collect::<Vec<_>>(),
                with.keys().collect::<Vec<_>>(),
                "{code}"
            );
        }
    }

    #[test]
    fn a_wrong_check_character_gives_what_was_expected_and_found() {
        let e = ValidationError::with_detail("id_number", Code::IdCheckCharacter, "X:5");
        assert_eq!(
            e.params(),
            params([("expected", "X".into()), ("found", "5".into())])
        );
        assert_eq!(e.to_string(), "id_number: id_check_character (X:5)");
    }

    #[test]
    fn a_maximum_is_a_number() {
        let e = ValidationError::with_detail("title", Code::TooLong, "50");
        assert_eq!(e.params(), params([("max", Param::Number(50.0))]));
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
        assert_eq!(errors.to_string(), "address: required; title: too_long (6)");
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
