//! Form drafts: what a worker has typed into a form and not saved yet,
//! kept in the store as it is typed so a killed app loses nothing, and
//! found again when the form is opened (#11).
//!
//! A draft is a form's content as JSON under a key the UI makes:
//! `<kind>.<what>` (`household.new`, `resident.<id>`, `visit.new.<id>`).
//! It holds what the record will hold (names, ID numbers, phones), so it
//! lives here, in the encrypted store, and nowhere in clear: it goes with
//! the store when the store is erased (a wipe, another user signing in)
//! and is dropped when its record is saved, in the save's own transaction
//! ([`Store::write_form`]): a kill can come before the save or after it,
//! never between the record and the draft, so a stale draft is never
//! opened over the saved record. Drafts never sync: they are this
//! device's unsaved typing, not records.
//!
//! A draft is bounded ([`MAX_DRAFT_BYTES`]): a form within its fields'
//! limits is a few dozen KB of JSON, so a bigger one is a bug in the
//! form and is refused rather than written on every keystroke.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Store, StoreError, StoreTx};

/// The most JSON a draft may hold. A record a form can save at all is one
/// change of at most `limits::MAX_CHANGE_BYTES`, the same bound.
pub const MAX_DRAFT_BYTES: usize = crate::model::limits::MAX_CHANGE_BYTES;

/// The longest key a draft may have.
pub const MAX_DRAFT_KEY_CHARS: usize = 128;

/// A form's unsaved content.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Draft {
    /// `<kind>.<what>`, as the form named it.
    pub key: String,
    /// The form's content as the form holds it.
    pub value: serde_json::Value,
    /// Unix ms, device clock: when the form last changed.
    pub saved_at: i64,
}

/// The kind part of a draft key (before the first `.`) when the key is
/// one: a lowercase kind (`household`, `incident_parties`), a dot, then
/// something, at most [`MAX_DRAFT_KEY_CHARS`] characters, no control
/// characters.
pub fn draft_kind(key: &str) -> Option<&str> {
    let (kind, rest) = key.split_once('.')?;
    let kind_ok = !kind.is_empty()
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let ok = kind_ok
        && !rest.is_empty()
        && key.chars().count() <= MAX_DRAFT_KEY_CHARS
        && !key.chars().any(char::is_control);
    ok.then_some(kind)
}

fn kind_of(key: &str) -> Result<&str, StoreError> {
    draft_kind(key).ok_or_else(|| StoreError::BadDraftKey(key.chars().take(40).collect()))
}

impl Store {
    /// Keeps `value` as the draft under `key`, replacing the one there.
    /// Refused, writing nothing, when the key is not a draft key
    /// ([`draft_kind`], [`StoreError::BadDraftKey`]) or the JSON is over
    /// [`MAX_DRAFT_BYTES`] ([`StoreError::DraftTooBig`]).
    pub fn save_draft(
        &mut self,
        key: &str,
        value: &serde_json::Value,
        saved_at: i64,
    ) -> Result<(), StoreError> {
        let kind = kind_of(key)?;
        let text = value.to_string();
        if text.len() > MAX_DRAFT_BYTES {
            return Err(StoreError::DraftTooBig {
                bytes: text.len(),
                max: MAX_DRAFT_BYTES,
            });
        }
        self.conn
            .prepare_cached(
                "INSERT INTO drafts (key, kind, value, saved_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 saved_at = excluded.saved_at",
            )?
            .execute(params![key, kind, text, saved_at])?;
        Ok(())
    }

    /// The draft under `key`, if there is one.
    pub fn draft(&self, key: &str) -> Result<Option<Draft>, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT value, saved_at FROM drafts WHERE key = ?1")?
            .query_row([key], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .optional()?;
        row.map(|(text, saved_at)| read(key.to_string(), &text, saved_at))
            .transpose()
    }

    /// Drops the draft under `key` (the worker discarded it; a saved
    /// record's goes with the save, [`Store::write_form`]). Whether there
    /// was one.
    pub fn drop_draft(&mut self, key: &str) -> Result<bool, StoreError> {
        delete_draft(&self.conn, key)
    }

    /// A form's save: `save` runs in one transaction ([`Store::write`])
    /// that also drops the form's draft under `draft`, so the record and
    /// the draft's end commit together. A save that fails keeps the draft
    /// (nothing of the transaction is written); one that succeeds leaves
    /// none. No draft key (a save from outside a form): `save` alone.
    pub fn write_form<R, E: From<StoreError>>(
        &mut self,
        draft: Option<&str>,
        save: impl FnOnce(&mut StoreTx<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        self.write(|tx| {
            let saved = save(tx)?;
            if let Some(key) = draft {
                tx.drop_draft(key)?;
            }
            Ok(saved)
        })
    }

    /// Every draft of `kind` (the key's first part: `incident`), newest
    /// first.
    pub fn drafts(&self, kind: &str) -> Result<Vec<Draft>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, value, saved_at FROM drafts WHERE kind = ?1 \
             ORDER BY saved_at DESC, key",
        )?;
        let rows = stmt.query_map([kind], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (key, text, saved_at) = row?;
            out.push(read(key, &text, saved_at)?);
        }
        Ok(out)
    }
}

impl StoreTx<'_> {
    /// [`Store::drop_draft`] inside this transaction.
    pub fn drop_draft(&mut self, key: &str) -> Result<bool, StoreError> {
        delete_draft(&self.tx, key)
    }
}

fn delete_draft(conn: &rusqlite::Connection, key: &str) -> Result<bool, StoreError> {
    let gone = conn
        .prepare_cached("DELETE FROM drafts WHERE key = ?1")?
        .execute([key])?;
    Ok(gone > 0)
}

fn read(key: String, text: &str, saved_at: i64) -> Result<Draft, StoreError> {
    let value = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("the draft {key}: {e}")))?;
    Ok(Draft {
        key,
        value,
        saved_at,
    })
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use serde_json::json;

    use super::*;

    fn open(dir: &std::path::Path) -> Store {
        Store::open(dir.join("device.sqlite"), ActorId::from(&[5u8; 16][..])).unwrap()
    }

    #[test]
    fn a_draft_is_kept_replaced_listed_newest_first_and_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path());
        let first = json!({ "title": "楼道堆物", "photos": [] });
        store.save_draft("incident.new", &first, 1_000).unwrap();
        store
            .save_draft("incident.0190", &json!({ "title": "漏水" }), 2_000)
            .unwrap();
        store
            .save_draft("household.new", &json!({ "owner_name": "王" }), 3_000)
            .unwrap();
        assert_eq!(
            store.draft("incident.new").unwrap(),
            Some(Draft {
                key: "incident.new".into(),
                value: first,
                saved_at: 1_000
            })
        );
        assert_eq!(store.draft("incident.none").unwrap(), None);
        let keys = |store: &Store, kind: &str| -> Vec<String> {
            store
                .drafts(kind)
                .unwrap()
                .into_iter()
                .map(|d| d.key)
                .collect()
        };
        assert_eq!(keys(&store, "incident"), ["incident.0190", "incident.new"]);
        assert_eq!(keys(&store, "household"), ["household.new"]);
        // A kind is the whole first part: `incident_parties` is not
        // `incident`, and `incident` is not a prefix match.
        store
            .save_draft("incident_parties.x", &json!({}), 9_000)
            .unwrap();
        assert_eq!(keys(&store, "incident"), ["incident.0190", "incident.new"]);
        assert_eq!(keys(&store, "incident_"), Vec::<String>::new());

        // Typed on: the same key, newer content, first in the list.
        store
            .save_draft("incident.new", &json!({ "title": "楼道堆物严重" }), 4_000)
            .unwrap();
        assert_eq!(keys(&store, "incident"), ["incident.new", "incident.0190"]);
        assert_eq!(
            store.draft("incident.new").unwrap().unwrap().value["title"],
            "楼道堆物严重"
        );

        // Kept across a restart.
        drop(store);
        let mut store = open(dir.path());
        assert_eq!(store.drafts("incident").unwrap().len(), 2);
        assert!(store.drop_draft("incident.new").unwrap());
        assert!(!store.drop_draft("incident.new").unwrap());
        assert_eq!(keys(&store, "incident"), ["incident.0190"]);
    }

    #[test]
    fn a_draft_too_big_or_badly_keyed_is_refused_and_nothing_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path());
        let big = json!({ "description": "x".repeat(MAX_DRAFT_BYTES) });
        let e = store.save_draft("incident.new", &big, 1).unwrap_err();
        assert_eq!(e.code(), "draft_too_big");
        assert!(
            matches!(e, StoreError::DraftTooBig { max, .. } if max == MAX_DRAFT_BYTES),
            "{e:?}"
        );
        // Exactly at the bound is kept.
        let fits = json!({ "d": "x".repeat(MAX_DRAFT_BYTES - 8) });
        assert_eq!(fits.to_string().len(), MAX_DRAFT_BYTES);
        store.save_draft("incident.new", &fits, 2).unwrap();
        // A refused draft leaves the one before it as it was.
        store.save_draft("incident.new", &big, 3).unwrap_err();
        assert_eq!(store.draft("incident.new").unwrap().unwrap().saved_at, 2);

        let long = format!("incident.{}", "a".repeat(MAX_DRAFT_KEY_CHARS));
        for key in [
            "",
            "incident",
            "incident.",
            ".new",
            "Incident.new",
            "incident.new\n",
            "事件.new",
            long.as_str(),
        ] {
            let e = store.save_draft(key, &json!({}), 1).unwrap_err();
            assert_eq!(e.code(), "draft_bad_key", "{key:?}");
        }
        assert_eq!(store.drafts("incident").unwrap().len(), 1);
    }
}
