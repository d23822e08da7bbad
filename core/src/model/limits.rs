//! Size limits of records: every string field's longest value and every
//! list's most entries, and the largest change and document.
//!
//! **One declaration.** Each limit is written once, as a schemars attribute
//! on its field (`#[schemars(length(max = limits::TEXT))]`; `inner(...)`
//! for the strings of a list). The JSON Schemas under `schemas/` are
//! generated from those attributes (`maxLength`, `maxItems`), and
//! [`check`] validates a record by checking its JSON against the same
//! generated schema with the `jsonschema` crate, so the published schema
//! and the check cannot disagree. Lengths count characters (Unicode code
//! points), as JSON Schema does. (Chosen over `garde`, whose attributes
//! schemars also reads: garde needs an attribute or an explicit `dive` on
//! every field, and forgetting a `dive` silently skips a nested struct;
//! checking against the schema covers every field the schema describes.)
//!
//! **Everywhere the same.** [`check`] runs in [`super::Record::validate_state`],
//! which the device's store runs before it saves and the server runs on
//! every pushed state (deleted or not), so an honest app never makes a
//! change the server refuses for its size. Messages name the field (a
//! dotted path such as `address.estate` or `items.3.note`) and the limit,
//! in Simplified Chinese first ([`crate::validate::Code::TooLong`],
//! [`crate::validate::Code::TooMany`]).
//!
//! **Changes and documents.** [`MAX_CHANGE_BYTES`] bounds one Automerge
//! change and [`MAX_DOCUMENT_BYTES`] a record's compacted document. They
//! come from the bench's patrol figures, the record that grows most: a
//! 2-hour patrol with a fix every 5 s is about 18 KB compacted, so a
//! 24-hour patrol at that rate ([`TRACK_POINTS`] fixes, the most a track
//! holds) is about 220 KB. The largest single change an honest app makes
//! is a record's first (a task with its lines, a patrol saved after a
//! long time offline): well under [`MAX_CHANGE_BYTES`]. A document is
//! allowed about ten times the longest patrol.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use schemars::generate::SchemaSettings;

use super::{Record, RecordKind};
use crate::validate::{Code, ValidationError, ValidationErrors};

/// User ids (`created_by`, a log entry's actor, a visitor).
pub const USER_ID: usize = 64;
/// Grid codes, department codes, numbers given by the system.
pub const CODE: usize = 64;
/// A hex SHA-256.
pub const SHA256: usize = 64;
/// Personal names: the same limit [`crate::validate::check_name`] applies.
pub const NAME: usize = crate::validate::NAME_MAX_CHARS;
/// Phone numbers and ID numbers as typed (validated for their form besides).
pub const PHONE: usize = 32;
/// Short labels: a party's role, an ethnicity, a relation, a sub-category.
pub const LABEL: usize = 50;
/// One part of an address (estate, building, unit, room, village, group).
pub const ADDRESS_PART: usize = 100;
/// A whole address line or a place (registered residence, incident address).
pub const ADDRESS: usize = 200;
/// A title.
pub const TITLE: usize = 100;
/// A comment, an opinion, a note.
pub const NOTE: usize = 500;
/// Free text: a description, a visit's content, a mediation's outcome.
pub const TEXT: usize = 2000;
/// A date, `YYYY-MM-DD`.
pub const DATE: usize = 10;
/// A coordinate reference system name.
pub const CRS: usize = 16;

/// Photos on one record (an incident's before and after photos, a visit's).
pub const PHOTOS: usize = 30;
/// Entries of a review log.
pub const REVIEWS: usize = 200;
/// Entries of an incident's workflow log.
pub const LOG_ENTRIES: usize = 500;
/// Parties of one incident.
pub const PARTIES: usize = 50;
/// Fixes of one patrol's track: 24 hours at one fix every 5 s.
pub const TRACK_POINTS: usize = 17_280;
/// Check-ins of one patrol.
pub const CHECK_INS: usize = 500;
/// Incidents reported from one patrol.
pub const PATROL_INCIDENTS: usize = 500;
/// Care tags of one resident (every kind once, and room to spare).
pub const CARE_TAGS: usize = 16;

/// The largest single change the server accepts, in bytes
/// (`change_too_large`).
pub const MAX_CHANGE_BYTES: usize = 256 * 1024;
/// The largest record document, compacted (`save()`), in bytes
/// (`document_too_large`).
pub const MAX_DOCUMENT_BYTES: usize = 2 * 1024 * 1024;

/// Refuses a change of more than [`MAX_CHANGE_BYTES`].
pub fn check_change_bytes(bytes: usize) -> Result<(), ValidationError> {
    over("change", bytes, MAX_CHANGE_BYTES)
}

/// Refuses a document (compacted) of more than [`MAX_DOCUMENT_BYTES`].
pub fn check_document_bytes(bytes: usize) -> Result<(), ValidationError> {
    over("document", bytes, MAX_DOCUMENT_BYTES)
}

fn over(field: &str, bytes: usize, limit: usize) -> Result<(), ValidationError> {
    if bytes <= limit {
        return Ok(());
    }
    Err(ValidationError::with_detail(
        field,
        Code::TooLarge,
        limit.to_string(),
    ))
}

type Validators = Mutex<HashMap<RecordKind, Arc<jsonschema::Validator>>>;

static VALIDATORS: LazyLock<Validators> = LazyLock::new(Default::default);

/// The kind's schema, compiled once.
fn validator<T: Record>() -> Arc<jsonschema::Validator> {
    let mut cache = VALIDATORS.lock().unwrap_or_else(|p| p.into_inner());
    cache
        .entry(T::KIND)
        .or_insert_with(|| {
            let schema = SchemaSettings::draft2020_12()
                .into_generator()
                .into_root_schema_for::<T>();
            let json = serde_json::to_value(&schema).unwrap_or_default();
            // The schema is generated from our own types: a failure is a
            // bug that every test of every kind shows at once.
            #[allow(clippy::expect_used)]
            let compiled =
                jsonschema::draft202012::new(&json).expect("a generated record schema compiles");
            Arc::new(compiled)
        })
        .clone()
}

/// Checks `record` against its kind's generated schema: every string
/// within its length, every list within its count. One error per field
/// over its limit.
pub fn check<T: Record>(record: &T) -> Result<(), ValidationErrors> {
    let json = match serde_json::to_value(record) {
        Ok(json) => json,
        Err(e) => {
            let mut errors = ValidationErrors::default();
            errors.push(ValidationError::with_detail(
                "record",
                Code::InvalidFormat,
                e.to_string(),
            ));
            return errors.into_result();
        }
    };
    let validator = validator::<T>();
    let mut errors = ValidationErrors::default();
    for error in validator.iter_errors(&json) {
        let field = dotted(error.instance_path().as_str());
        errors.push(match error.kind() {
            jsonschema::error::ValidationErrorKind::MaxLength { limit } => {
                ValidationError::with_detail(field, Code::TooLong, limit.to_string())
            }
            jsonschema::error::ValidationErrorKind::MaxItems { limit } => {
                ValidationError::with_detail(field, Code::TooMany, limit.to_string())
            }
            other => ValidationError::with_detail(
                field,
                Code::InvalidFormat,
                other.keyword().to_string(),
            ),
        });
    }
    errors.into_result()
}

/// `/address/estate` → `address.estate`.
fn dotted(pointer: &str) -> String {
    let path = pointer
        .trim_start_matches('/')
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".");
    if path.is_empty() {
        "record".into()
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Household, Task};

    /// A household with every string short: one field at a time is
    /// pushed past its limit.
    fn household() -> Household {
        Household {
            meta: crate::model::Meta::new("440106001001001", "gw-1", 1),
            address: crate::model::Address {
                estate: "阳光花园".into(),
                building: "3".into(),
                room: "501".into(),
                ..crate::model::Address::default()
            },
            point: None,
            usage: crate::model::HouseholdUse::OwnerOccupied,
            owner_name: "王芳".into(),
            owner_phone: None,
            owner_id_number: None,
            door_plate_photo: None,
            flags: Default::default(),
            last_visit_at: None,
            review: Vec::new(),
        }
    }

    #[test]
    fn a_long_string_or_list_is_refused_naming_the_field_and_the_limit() {
        let mut h = household();
        h.address.estate = "长".repeat(ADDRESS_PART);
        assert!(check(&h).is_ok(), "exactly the limit, in characters");
        h.address.estate.push('长');
        let errors = check(&h).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        let e = &errors.0[0];
        assert_eq!(
            (e.field.as_str(), e.code),
            ("address.estate", Code::TooLong)
        );
        assert_eq!(
            e.params(),
            crate::problem::params([("max", ADDRESS_PART.into())])
        );

        let mut t = Task {
            meta: crate::model::Meta::new("440106001001001", "cs-1", 1),
            campaign: uuid::Uuid::now_v7(),
            title: "排查".into(),
            description: String::new(),
            kind: crate::model::TaskKind::Checklist,
            due: "2026-12-04".into(),
            issued_by: "cs-1".into(),
            issued_at: 1,
            filter: None,
            items: vec![crate::model::TaskItem::open("走访", None)],
        };
        t.items[0].note = "字".repeat(crate::model::TASK_NOTE_MAX + 1);
        let errors = check(&t).unwrap_err();
        assert_eq!(errors.0[0].field, "items.0.note");
        t.items =
            vec![crate::model::TaskItem::open("走访", None); crate::model::TASK_ITEMS_MAX + 1];
        let errors = check(&t).unwrap_err();
        assert_eq!(
            (errors.0[0].field.as_str(), errors.0[0].code),
            ("items", Code::TooMany)
        );
        assert_eq!(
            errors.0[0].params(),
            crate::problem::params([("max", crate::model::TASK_ITEMS_MAX.into())])
        );
    }

    /// Every string of every record kind has a limit in the schema.
    #[test]
    fn every_string_in_every_record_schema_has_a_max_length() {
        fn walk(at: &str, schema: &serde_json::Value, missing: &mut Vec<String>) {
            match schema {
                serde_json::Value::Object(map) => {
                    let is_string = match map.get("type") {
                        Some(serde_json::Value::String(t)) => t == "string",
                        Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                        _ => false,
                    };
                    let closed = map.contains_key("enum")
                        || map.contains_key("const")
                        || map.get("format").is_some_and(|f| f == "uuid");
                    if is_string && !closed && !map.contains_key("maxLength") {
                        missing.push(at.to_string());
                    }
                    let is_array = map.get("type").is_some_and(|t| t == "array");
                    if is_array && !map.contains_key("maxItems") {
                        missing.push(format!("{at}[]"));
                    }
                    for (k, v) in map {
                        walk(&format!("{at}/{k}"), v, missing);
                    }
                }
                serde_json::Value::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        walk(&format!("{at}/{i}"), v, missing);
                    }
                }
                _ => {}
            }
        }
        for (name, text) in crate::schema::all() {
            let record = RecordKind::ALL
                .iter()
                .any(|k| name == format!("{}.schema.json", k.as_str()));
            if !record {
                continue;
            }
            let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
            let mut missing = Vec::new();
            walk("", &schema, &mut missing);
            assert!(missing.is_empty(), "{name}: no limit at {missing:?}");
        }
    }
}
