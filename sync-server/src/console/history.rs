//! A record's history from its Automerge changes: who changed which field
//! when. Who and when are the server's ([`Provenance`]): the user the
//! server bound the change's actor to and the time it received the change,
//! with the device's own time beside it; the change's message and time
//! are the device's word and are not shown as the truth. The fields are
//! found by replaying the changes one by one and comparing the record
//! before and after each.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use gridwork_core::doc::RecordDoc;
use gridwork_core::validate::{mask_id_number, mask_mobile};
use serde::Serialize;
use serde_json::Value as Json;

use crate::console::provenance::Provenance;

/// One change of a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// Hex change hash.
    pub hash: String,
    /// The user the server bound the change's actor to.
    pub user: Option<String>,
    /// Unix ms, server clock: when the change reached the server (the
    /// device's time for a change the log does not hold).
    pub at: i64,
    /// Unix ms on the device's clock, as the change says.
    pub device_at: i64,
    /// Hex actor id (the device).
    pub actor: String,
    /// The change that made the record: its fields are not listed.
    pub created: bool,
    pub fields: Vec<FieldChange>,
}

/// One field a change set, with [S] and [PI] values masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Dotted path, list indexes as numbers: `address.room`, `review.1.comment`.
    pub path: String,
    pub before: Option<Json>,
    pub after: Option<Json>,
}

/// The history of a saved document, oldest first.
pub fn history(snapshot: &[u8], provenance: &Provenance) -> Result<Vec<HistoryEntry>, String> {
    let mut full = AutoCommit::load(snapshot).map_err(|e| e.to_string())?;
    let changes = full.get_changes(&[]);
    let mut replay = AutoCommit::new();
    let mut before: BTreeMap<String, Json> = BTreeMap::new();
    let mut out = Vec::with_capacity(changes.len());
    for (i, change) in changes.into_iter().enumerate() {
        let actor = change.actor_id().to_hex_string();
        let device_at = change.timestamp().saturating_mul(1000);
        let entry = HistoryEntry {
            hash: change.hash().to_string(),
            user: provenance.user(&actor).map(str::to_string),
            at: provenance.received_at(&change.hash()).unwrap_or(device_at),
            device_at,
            actor,
            created: i == 0,
            fields: Vec::new(),
        };
        replay.apply_changes([change]).map_err(|e| e.to_string())?;
        let mut doc =
            RecordDoc::from_automerge(std::mem::take(&mut replay)).map_err(|e| e.to_string())?;
        let mut after = BTreeMap::new();
        flatten("", &doc.to_json(), &mut after);
        replay = std::mem::take(doc.automerge());
        let fields = if entry.created {
            Vec::new()
        } else {
            diff(&before, &after)
        };
        out.push(HistoryEntry { fields, ..entry });
        before = after;
    }
    Ok(out)
}

fn diff(before: &BTreeMap<String, Json>, after: &BTreeMap<String, Json>) -> Vec<FieldChange> {
    let mut fields = Vec::new();
    for (path, new) in after {
        if before.get(path) != Some(new) {
            fields.push(FieldChange {
                path: path.clone(),
                before: before.get(path).map(|v| mask(path, v)),
                after: Some(mask(path, new)),
            });
        }
    }
    for (path, old) in before {
        if !after.contains_key(path) {
            fields.push(FieldChange {
                path: path.clone(),
                before: Some(mask(path, old)),
                after: None,
            });
        }
    }
    fields
}

fn flatten(prefix: &str, value: &Json, out: &mut BTreeMap<String, Json>) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                if prefix.is_empty() && (k == "v" || k == "kind") {
                    continue;
                }
                flatten(&join(k), v, out);
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&join(&i.to_string()), v, out);
            }
        }
        scalar => {
            out.insert(prefix.to_string(), scalar.clone());
        }
    }
}

/// Masks identity numbers ([S]) and phone numbers ([PI]) by field name.
pub fn mask(path: &str, value: &Json) -> Json {
    let field = path.rsplit('.').next().unwrap_or(path);
    match value {
        Json::String(s) if field.ends_with("id_number") && !s.is_empty() => {
            Json::String(mask_id_number(s))
        }
        Json::String(s) if field.ends_with("phone") && !s.is_empty() => {
            Json::String(mask_mobile(s))
        }
        other => other.clone(),
    }
}

/// A record's JSON with every identity and phone number masked.
pub fn mask_record(value: &Json) -> Json {
    mask_record_revealing(value, false, false)
}

/// A record's JSON with phone numbers ([PI]) and identity numbers ([S])
/// masked unless `phones` or `ids` says to show them.
pub fn mask_record_revealing(value: &Json, phones: bool, ids: bool) -> Json {
    let keep = |k: &str| (phones && k.ends_with("phone")) || (ids && k.ends_with("id_number"));
    fn walk(key: &str, value: &Json, keep: &dyn Fn(&str) -> bool) -> Json {
        match value {
            Json::Object(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), walk(k, v, keep)))
                    .collect(),
            ),
            Json::Array(items) => Json::Array(items.iter().map(|v| walk(key, v, keep)).collect()),
            scalar if keep(key) => scalar.clone(),
            scalar => mask(key, scalar),
        }
    }
    walk("", value, &keep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use gridwork_core::doc::Author;
    use gridwork_core::model::{Household, ReviewDecision, ReviewEntry};

    #[test]
    fn history_names_who_changed_which_field() {
        let demo = gridwork_core::demo::generate(&gridwork_core::demo::DemoConfig {
            households_per_grid: 1,
            incidents_per_grid: 0,
            patrols_per_grid: 0,
            visits_per_grid: 0,
            ..Default::default()
        });
        let h: Household = demo.households[0].clone();
        let mut doc = RecordDoc::create(
            &h,
            ActorId::from(&[1u8; 16][..]),
            &Author::new("gw-1", 1_000_000),
        )
        .unwrap();
        doc.set_actor(ActorId::from(&[2u8; 16][..]));
        doc.update::<Household>(&Author::new("cs-1", 2_000_000), |h| {
            h.review.push(ReviewEntry {
                decision: ReviewDecision::Return,
                by: "cs-1".into(),
                at: 2_000_000,
                comment: "门牌照片不清楚".into(),
            });
            h.owner_phone = Some("13812345678".into());
        })
        .unwrap();
        let second = doc.heads()[0];
        // Who and when are the server's: the actors' bindings and the
        // receipt times, not the messages.
        let provenance = Provenance::new(
            [(second.0, 9_000_000)],
            [
                (ActorId::from(&[1u8; 16][..]).to_hex_string(), "gw-9".into()),
                (ActorId::from(&[2u8; 16][..]).to_hex_string(), "cs-9".into()),
            ],
        );
        let h = history(&doc.save(), &provenance).unwrap();
        assert_eq!(h.len(), 2);
        assert!(h[0].created);
        assert_eq!(h[0].user.as_deref(), Some("gw-9"));
        assert_eq!(h[1].user.as_deref(), Some("cs-9"));
        assert_eq!(h[1].at, 9_000_000, "the server's receipt time");
        assert_eq!(h[1].device_at, 2_000_000, "the device's time beside it");
        assert_eq!(h[0].at, 1_000_000, "no receipt: the device's time");
        let n = h[0].fields.len();
        assert_eq!(n, 0, "creation lists no fields");
        let comment = h[1]
            .fields
            .iter()
            .find(|f| f.path.ends_with(".comment"))
            .expect("the review comment is a changed field");
        assert_eq!(comment.after, Some(Json::String("门牌照片不清楚".into())));
        let phone = h[1]
            .fields
            .iter()
            .find(|f| f.path == "owner_phone")
            .unwrap();
        assert_eq!(
            phone.after,
            Some(Json::String("138****5678".into())),
            "masked"
        );
    }
}
