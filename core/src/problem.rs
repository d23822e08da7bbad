//! What a person is told when something fails: a stable code and its
//! parameters, never a sentence.
//!
//! Design: every error that reaches a person (a form field, a workflow
//! refusal, a failed command of the app, a refusal of the console's API)
//! leaves Rust as a snake_case `code` and named [`Params`] (the maximum
//! length, the offending value, the action refused …). The UIs hold one
//! message per code in each language (`ui/src/i18n/zh-CN.ts` first, then
//! `en.ts`) and interpolate the params there, so a message is written and
//! translated once. Rust keeps an English `Display` on its errors for logs
//! and developers only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One parameter of an error: a number or a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(untagged)]
pub enum Param {
    Number(f64),
    Text(String),
}

/// The parameters of an error, by name (`max`, `value`, `action` …).
pub type Params = BTreeMap<String, Param>;

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Text(s.to_string())
    }
}

impl From<String> for Param {
    fn from(s: String) -> Self {
        Param::Text(s)
    }
}

impl From<f64> for Param {
    fn from(n: f64) -> Self {
        Param::Number(n)
    }
}

impl From<usize> for Param {
    fn from(n: usize) -> Self {
        // Counts and sizes in errors stay far below 2^53.
        Param::Number(n as f64)
    }
}

impl From<u64> for Param {
    fn from(n: u64) -> Self {
        Param::Number(n as f64)
    }
}

/// Params from name and value pairs: `params([("max", 50.into())])`.
pub fn params<const N: usize>(pairs: [(&str, Param); N]) -> Params {
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

/// The params of an error that serializes as `{"code": …, name: value …}`
/// (serde's internally tagged enums): every other string or number field.
pub fn params_of_tagged(error: &impl Serialize) -> Params {
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(error) else {
        return Params::new();
    };
    fields
        .into_iter()
        .filter(|(name, _)| name != "code")
        .filter_map(|(name, value)| match value {
            serde_json::Value::String(s) => Some((name, Param::Text(s))),
            serde_json::Value::Number(n) => n.as_f64().map(|n| (name, Param::Number(n))),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_serialize_as_plain_strings_and_numbers() {
        let p = params([("max", 50usize.into()), ("value", "Q".into())]);
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"max":50.0,"value":"Q"}"#
        );
    }

    #[test]
    fn a_tagged_error_gives_its_fields_but_not_its_code() {
        #[derive(Serialize)]
        #[serde(tag = "code", rename_all = "snake_case")]
        enum E {
            WrongStatus { action: String, status: String },
        }
        let e = E::WrongStatus {
            action: "verify".into(),
            status: "reported".into(),
        };
        assert_eq!(
            params_of_tagged(&e),
            params([("action", "verify".into()), ("status", "reported".into())])
        );
    }
}
