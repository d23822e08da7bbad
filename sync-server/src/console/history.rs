//! A record's history from its Automerge changes: who changed which field
//! when. Who and when are the server's ([`Provenance`]): the user the
//! server bound the change's actor to and the time it received the change,
//! with the device's own time beside it; the change's message and time
//! are the device's word and are not shown as the truth. The fields are
//! found by replaying the changes one by one and comparing the record
//! before and after each.
//!
//! Values are shown as the record page shows them before a reveal: each
//! version masked whole by [`gridwork_core::privacy::mask_record`] with
//! [`Reveal::MASKED`], so a value is masked with what stands beside it in
//! mind. Changes are found on the clear values (a phone whose hidden
//! digits changed is listed, masked on both sides), and a change inside a
//! field hidden whole (a care tag, a household flag, a track point) is
//! listed once under the field's own path, never under the paths inside
//! it, whose names and indexes would say what it holds.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use gridwork_core::doc::RecordDoc;
use gridwork_core::model::RecordKind;
use gridwork_core::privacy::{self, Reveal};
use serde::Serialize;
use serde_json::Value as Json;

use crate::console::provenance::Provenance;

/// One change of a record.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
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
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
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
    let mut before = Version::default();
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
        let after = Version::of(&doc.to_json());
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

/// One version of the record: its leaves in clear (to find what changed)
/// and masked (to show it).
#[derive(Default)]
struct Version {
    kind: Option<RecordKind>,
    clear: BTreeMap<String, Json>,
    masked: BTreeMap<String, Json>,
}

impl Version {
    fn of(json: &Json) -> Version {
        let kind = json
            .get("kind")
            .and_then(Json::as_str)
            .and_then(RecordKind::parse);
        let mut clear = BTreeMap::new();
        flatten("", json, &mut clear);
        let mut masked = BTreeMap::new();
        if let Some(kind) = kind {
            flatten(
                "",
                &privacy::mask_record(kind, json, Reveal::MASKED),
                &mut masked,
            );
        }
        Version {
            kind,
            clear,
            masked,
        }
    }

    /// The path a change at `path` is listed under, and its value as
    /// shown: a path inside a field hidden whole is listed as the field.
    fn shown(&self, kind: Option<RecordKind>, path: &str) -> (String, Option<Json>) {
        let listed = match kind.and_then(|k| privacy::field_over(k, path)) {
            Some(f) => path
                .split('.')
                .take(f.path.split('.').count())
                .collect::<Vec<_>>()
                .join("."),
            None => path.to_string(),
        };
        // A document of no known kind shows nothing (`masked` is empty).
        let value = self.masked.get(&listed).cloned();
        (listed, value)
    }
}

fn diff(before: &Version, after: &Version) -> Vec<FieldChange> {
    let kind = after.kind.or(before.kind);
    let changed = after
        .clear
        .iter()
        .filter(|(path, new)| before.clear.get(*path) != Some(new))
        .map(|(path, _)| path)
        .chain(
            before
                .clear
                .keys()
                .filter(|path| !after.clear.contains_key(*path)),
        );
    let mut fields: Vec<FieldChange> = Vec::new();
    for path in changed {
        let (listed, old) = before.shown(kind, path);
        let (_, new) = after.shown(kind, path);
        if fields.iter().any(|f| f.path == listed) {
            continue;
        }
        fields.push(FieldChange {
            path: listed,
            before: old,
            after: new,
        });
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

/// A record's field history as `user` gets it: each field
/// [`crate::access::history_field_shown`] withholds is dropped.
pub fn history_shown(
    user: &gridwork_core::model::User,
    kind: RecordKind,
    history: Vec<HistoryEntry>,
) -> Vec<HistoryEntry> {
    history
        .into_iter()
        .map(|mut e| {
            e.fields
                .retain(|f| crate::access::history_field_shown(user, kind, &f.path));
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use gridwork_core::doc::Author;
    use gridwork_core::model::{Household, ReviewDecision, ReviewEntry};

    fn household() -> Household {
        let demo = gridwork_demo::generate(&gridwork_demo::DemoConfig {
            households_per_grid: 1,
            incidents_per_grid: 0,
            patrols_per_grid: 0,
            visits_per_grid: 0,
            ..Default::default()
        });
        demo.households[0].clone()
    }

    #[test]
    fn history_names_who_changed_which_field() {
        let h = household();
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

    #[test]
    fn a_change_inside_a_field_hidden_whole_is_listed_as_the_field() {
        let h = household();
        let low_income = h.flags.low_income;
        let mut doc = RecordDoc::create(
            &h,
            ActorId::from(&[1u8; 16][..]),
            &Author::new("gw-1", 1_000_000),
        )
        .unwrap();
        doc.update::<Household>(&Author::new("gw-1", 2_000_000), |h| {
            h.flags.low_income = !low_income;
        })
        .unwrap();
        let h = history(&doc.save(), &Provenance::default()).unwrap();
        let hidden = Some(Json::String(privacy::HIDDEN.into()));
        assert_eq!(
            h[1].fields,
            vec![FieldChange {
                path: "flags".into(),
                before: hidden.clone(),
                after: hidden,
            }]
        );
    }
}
