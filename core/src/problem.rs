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
///
/// A whole number serializes as an integer (`50`, not `50.0`), in JSON and
/// in the sync protocol's CBOR alike, so a message shows "50" in every UI
/// and an outside client reads an integer where one is meant; other numbers
/// stay floats. Reading accepts either.
#[derive(Debug, Clone, PartialEq, Deserialize, ts_rs::TS)]
#[serde(untagged)]
pub enum Param {
    Number(f64),
    Text(String),
}

/// Whole numbers up to this magnitude serialize as integers: every one of
/// them is exact both as an `f64` and as a JavaScript number.
const EXACT_INTEGER: f64 = 9_007_199_254_740_992.0; // 2^53

impl Serialize for Param {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Param::Number(n) if n.fract() == 0.0 && n.abs() <= EXACT_INTEGER => {
                // Exact: a whole number within ±2^53 fits an i64.
                s.serialize_i64(*n as i64)
            }
            Param::Number(n) => s.serialize_f64(*n),
            Param::Text(t) => s.serialize_str(t),
        }
    }
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
            r#"{"max":50,"value":"Q"}"#
        );
    }

    /// Regression: integer params were written as `50.0`, which a UI
    /// interpolating them showed as "50.0" once a locale formatted it.
    #[test]
    fn whole_number_params_serialize_as_integers_and_read_back() {
        let p = params([
            ("max", 50usize.into()),
            ("negative", (-3.0).into()),
            ("ratio", 0.5.into()),
            ("huge", 1e300.into()),
        ]);
        let json = serde_json::to_string(&p).unwrap();
        // Compared as JSON values: an integer and a float of the same
        // value differ there, while the float's spelling (1e300, 1e+300)
        // is serde_json's business.
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"huge": 1e300, "max": 50, "negative": -3, "ratio": 0.5})
        );
        assert!(json.contains(r#""max":50,"#), "{json}");
        assert_eq!(serde_json::from_str::<Params>(&json).unwrap(), p);
        // CBOR (the sync protocol): an integer, major type 0.
        let mut cbor = Vec::new();
        ciborium::into_writer(&Param::from(50usize), &mut cbor).unwrap();
        assert_eq!(cbor, [0x18, 50]);
        let back: Param = ciborium::from_reader(cbor.as_slice()).unwrap();
        assert_eq!(back, Param::Number(50.0));
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
