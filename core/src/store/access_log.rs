//! The device's access log: every reveal of a masked field, kept here
//! append-only until the server has it, then kept still.
//!
//! A reveal is written the moment the worker taps "show", with or without
//! a network; the sync uploads the entries the server has not taken yet
//! ([`Store::unsent_reveals`]) and marks them sent
//! ([`Store::mark_reveals_sent`]) in a table of its own, so the log rows
//! themselves are never updated or deleted (triggers refuse it). Each
//! entry's id is made here, so the server stores a retried upload once.

use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Store, StoreError, parse_uuid};
use crate::model::RecordKind;
pub use crate::privacy::Protection;

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
    /// [`MAX_FIELD_CHARS`] characters.
    pub fn field_ok(field: &str) -> bool {
        !field.trim().is_empty() && field.chars().count() <= MAX_FIELD_CHARS
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

    /// Up to `limit` reveals the server has not taken yet, oldest first.
    pub fn unsent_reveals(&self, limit: u32) -> Result<Vec<RevealEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, at, user_id, record_kind, record_id, field, class FROM access_log
             WHERE id NOT IN (SELECT id FROM access_log_sent) ORDER BY at, id LIMIT ?1",
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

    /// How many reveals still wait for the server.
    pub fn unsent_reveal_count(&self) -> Result<u64, StoreError> {
        let count: i64 = self.conn.query_row(
            "SELECT count(*) FROM access_log WHERE id NOT IN (SELECT id FROM access_log_sent)",
            [],
            |r| r.get(0),
        )?;
        Ok(count as u64)
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
    }
}
