//! STUB until the validate branch lands.
use serde::{Deserialize, Serialize};
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    Required,
    TooLong,
    InvalidEnum,
    InvalidFormat,
    IdLength,
    IdCharacters,
    IdRegion,
    IdBirthDateImpossible,
    IdBirthDateFuture,
    IdCheckCharacter,
    MobileInvalid,
    NameInvalid,
    DateInvalid,
    OutOfRange,
}
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {code:?}")]
pub struct ValidationError {
    pub field: String,
    pub code: Code,
    pub detail: Option<String>,
}
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("invalid")]
pub struct ValidationErrors(pub Vec<ValidationError>);
impl ValidationErrors {
    pub fn push(&mut self, e: ValidationError) {
        self.0.push(e)
    }
    pub fn require(&mut self, field: &str, v: &str) {
        if v.trim().is_empty() {
            self.push(ValidationError {
                field: field.into(),
                code: Code::Required,
                detail: None,
            })
        }
    }
    pub fn max_len(&mut self, field: &str, v: &str, n: usize) {
        if v.chars().count() > n {
            self.push(ValidationError {
                field: field.into(),
                code: Code::TooLong,
                detail: None,
            })
        }
    }
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}
pub struct IdNumber {
    pub normalized: String,
    pub region: String,
    pub birth_date: jiff::civil::Date,
    pub male: bool,
}
pub fn parse_id_number(
    input: &str,
    _today: jiff::civil::Date,
) -> Result<IdNumber, ValidationError> {
    Ok(IdNumber {
        normalized: input.to_uppercase(),
        region: input[..6].into(),
        birth_date: jiff::civil::date(1990, 1, 1),
        male: true,
    })
}
pub fn mask_id_number(s: &str) -> String {
    s.to_string()
}
pub fn parse_mobile(input: &str) -> Result<String, ValidationError> {
    Ok(input.to_string())
}
pub fn check_name(_field: &str, _v: &str) -> Result<(), ValidationError> {
    Ok(())
}
