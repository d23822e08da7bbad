//! JSON Schemas (draft 2020-12) of every record kind, generated from the
//! Rust types. The checked-in copies under `schemas/` are compared with
//! these by a test, so they cannot drift from the code.

use schemars::{JsonSchema, generate::SchemaSettings};

use crate::model::{
    AccessLogEntry, Household, Incident, IncidentParties, Patrol, Resident, Task, User, Visit,
    grid::Grid,
};

/// Every schema as (file name, pretty JSON text ending in a newline).
pub fn all() -> Vec<(&'static str, String)> {
    vec![
        ("grid.schema.json", render::<Grid>()),
        ("household.schema.json", render::<Household>()),
        ("resident.schema.json", render::<Resident>()),
        ("incident.schema.json", render::<Incident>()),
        ("incident-parties.schema.json", render::<IncidentParties>()),
        ("patrol.schema.json", render::<Patrol>()),
        ("visit.schema.json", render::<Visit>()),
        ("task.schema.json", render::<Task>()),
        ("user.schema.json", render::<User>()),
        ("access-log-entry.schema.json", render::<AccessLogEntry>()),
    ]
}

fn render<T: JsonSchema>() -> String {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// Fails when `schemas/` differs from the types. To refresh the files
    /// after changing a type, run the test with `GRIDWORK_BLESS=1`.
    #[test]
    fn checked_in_schemas_match_the_types() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas");
        let bless = std::env::var_os("GRIDWORK_BLESS").is_some();
        let mut stale = Vec::new();
        for (name, text) in super::all() {
            let path = dir.join(name);
            if bless {
                std::fs::write(&path, &text).unwrap();
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(on_disk) if on_disk == text => {}
                _ => stale.push(name),
            }
        }
        assert!(
            stale.is_empty(),
            "schemas/ is out of date for {stale:?}; run `GRIDWORK_BLESS=1 cargo test -p gridwork-core schema` and commit"
        );
    }

    #[test]
    fn schemas_are_draft_2020_12() {
        for (name, text) in super::all() {
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                value["$schema"], "https://json-schema.org/draft/2020-12/schema",
                "{name}"
            );
        }
    }
}
