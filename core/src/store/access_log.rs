//! The device's access log: every reveal of a masked field, kept here
//! append-only until the server has it, then kept still.
//!
//! A reveal is written the moment the worker taps "show", with or without
//! a network; the sync uploads the entries the server has not taken yet
//! ([`Store::unsent_reveals`]) and marks them sent
//! ([`Store::mark_reveals_sent`]) or refused ([`Store::mark_reveals_refused`])
//! in tables of their own, so the log rows themselves are never updated or
//! deleted (triggers refuse it). Each entry's id is made here, so the
//! server stores a retried upload once.
//!
//! The server takes a reveal only of a record it holds in the device's
//! scope. A record made on this device reaches the server with its changes,
//! so a reveal of a record whose changes still wait in the outbox is not
//! sent until they are: the server would not know the record yet. Once
//! they are sent, the server's answer about the reveal is final: stored, or
//! refused (the record's push was refused, or the record left the device's
//! scope before the reveal was uploaded), and a refused entry stays here,
//! in the device's own log, with its code, and is never sent again. So an
//! honest entry is never dropped for arriving early and a refused one is
//! not retried at every sync.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Store, StoreError, parse_uuid};
use crate::model::RecordKind;

/// How protected a revealed field is (DOMAIN.md's marks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// [PI]: personal information.
    Pi,
    /// [S]: sensitive personal information.
    S,
}

impl Protection {
    /// The stable name stored and sent: `pi` or `s`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protection::Pi => "pi",
            Protection::S => "s",
        }
    }

    fn parse(s: &str) -> Option<Protection> {
        [Protection::Pi, Protection::S]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// One reveal of one field of one record, made on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealEntry {
    /// Made on the device (UUIDv7); the server keeps each id once.
    pub id: Uuid,
    /// Unix ms, device clock.
    pub at: i64,
    pub user_id: String,
    pub record_kind: RecordKind,
    pub record_id: Uuid,
    /// The field's name in the record (`id_number`, `owner_phone` …).
    pub field: String,
    pub protection: Protection,
}

/// The longest field name an entry may carry.
pub const MAX_FIELD_CHARS: usize = 64;

impl RevealEntry {
    /// Whether `field` can name a revealed field: not blank, at most
    /// [`MAX_FIELD_CHARS`] characters, no control characters.
    pub fn field_ok(field: &str) -> bool {
        !field.trim().is_empty()
            && field.chars().count() <= MAX_FIELD_CHARS
            && !field.chars().any(char::is_control)
    }

    /// A reveal happening now, with a fresh id.
    pub fn new(
        user_id: &str,
        record_kind: RecordKind,
        record_id: Uuid,
        field: &str,
        protection: Protection,
        at: i64,
    ) -> RevealEntry {
        RevealEntry {
            id: Uuid::now_v7(),
            at,
            user_id: user_id.to_string(),
            record_kind,
            record_id,
            field: field.to_string(),
            protection,
        }
    }
}

impl Store {
    /// Appends a reveal to the log. An entry must say which field was
    /// shown ([`RevealEntry::field_ok`]).
    pub fn record_reveal(&mut self, entry: &RevealEntry) -> Result<(), StoreError> {
        if !RevealEntry::field_ok(&entry.field) {
            return Err(StoreError::Corrupt(format!(
                "a reveal must name the field shown (at most {MAX_FIELD_CHARS} characters)"
            )));
        }
        self.conn.execute(
            "INSERT INTO access_log (id, at, user_id, action, record_kind, record_id, field, class)
             VALUES (?1, ?2, ?3, 'reveal', ?4, ?5, ?6, ?7)",
            params![
                entry.id.to_string(),
                entry.at,
                entry.user_id,
                entry.record_kind.as_str(),
                entry.record_id.to_string(),
                entry.field,
                entry.protection.as_str(),
            ],
        )?;
        Ok(())
    }

    /// Up to `limit` reveals to send: neither taken nor refused by the
    /// server, of records whose own changes have all been sent; oldest
    /// first.
    pub fn unsent_reveals(&self, limit: u32) -> Result<Vec<RevealEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, at, user_id, record_kind, record_id, field, class FROM access_log
             WHERE id NOT IN (SELECT id FROM access_log_sent)
               AND id NOT IN (SELECT id FROM access_log_refused)
               AND record_id NOT IN (SELECT doc_id FROM outbox)
             ORDER BY at, id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at, user_id, kind, record, field, class) = row?;
            out.push(RevealEntry {
                id: parse_uuid(&id)?,
                at,
                user_id,
                record_kind: RecordKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown record kind {kind}")))?,
                record_id: parse_uuid(&record)?,
                field,
                protection: Protection::parse(&class)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown protection {class}")))?,
            });
        }
        Ok(out)
    }

    /// How many reveals still wait for the server (including those whose
    /// record's changes are not sent yet).
    pub fn unsent_reveal_count(&self) -> Result<u64, StoreError> {
        let count: i64 = self.conn.query_row(
            "SELECT count(*) FROM access_log WHERE id NOT IN (SELECT id FROM access_log_sent)
             AND id NOT IN (SELECT id FROM access_log_refused)",
            [],
            |r| r.get(0),
        )?;
        Ok(count as u64)
    }

    /// Notes that the server refused these reveals, with its code: they
    /// stay in this log and are not sent again.
    pub fn mark_reveals_refused(
        &mut self,
        refused: &[(Uuid, &str)],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO access_log_refused (id, refused_at, code) VALUES (?1, ?2, ?3)",
            )?;
            for (id, code) in refused {
                insert.execute(params![id.to_string(), now_ms, code])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The code the server refused this reveal with, if it did.
    pub fn reveal_refusal(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT code FROM access_log_refused WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Notes that the server has stored these reveals.
    pub fn mark_reveals_sent(&mut self, ids: &[Uuid], now_ms: i64) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO access_log_sent (id, sent_at) VALUES (?1, ?2)",
            )?;
            for id in ids {
                insert.execute(params![id.to_string(), now_ms])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;

    fn entry(field: &str) -> RevealEntry {
        RevealEntry::new(
            "wangfang",
            RecordKind::Resident,
            Uuid::now_v7(),
            field,
            Protection::S,
            1_779_000_000_000,
        )
    }

    #[test]
    fn reveals_wait_until_sent_and_the_log_refuses_edits() {
        let mut store = Store::open_in_memory(ActorId::random()).unwrap();
        let a = entry("id_number");
        let b = entry("phone");
        store.record_reveal(&a).unwrap();
        store.record_reveal(&b).unwrap();
        assert_eq!(
            store.unsent_reveals(10).unwrap(),
            vec![a.clone(), b.clone()]
        );
        store.mark_reveals_sent(&[a.id], 1).unwrap();
        // Marking twice (a retried upload) is harmless.
        store.mark_reveals_sent(&[a.id], 2).unwrap();
        assert_eq!(store.unsent_reveals(10).unwrap(), vec![b]);
        assert_eq!(store.unsent_reveal_count().unwrap(), 1);
        for sql in [
            "UPDATE access_log SET field = 'x'",
            "DELETE FROM access_log",
            "DELETE FROM access_log_sent",
        ] {
            let err = store.conn.execute(sql, []).unwrap_err();
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        assert!(store.record_reveal(&entry(" ")).is_err());
        assert!(store.record_reveal(&entry("phone\n")).is_err());
    }

    #[test]
    fn a_refused_reveal_is_kept_and_not_sent_again() {
        let mut store = Store::open_in_memory(ActorId::random()).unwrap();
        let a = entry("id_number");
        let b = entry("phone");
        store.record_reveal(&a).unwrap();
        store.record_reveal(&b).unwrap();
        store
            .mark_reveals_refused(&[(a.id, "outside_scope")], 1)
            .unwrap();
        assert_eq!(store.unsent_reveals(10).unwrap(), vec![b]);
        assert_eq!(store.unsent_reveal_count().unwrap(), 1);
        assert_eq!(
            store.reveal_refusal(a.id).unwrap().as_deref(),
            Some("outside_scope")
        );
        for sql in [
            "UPDATE access_log_refused SET code = 'x'",
            "DELETE FROM access_log_refused",
        ] {
            let err = store.conn.execute(sql, []).unwrap_err();
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
    }
}
