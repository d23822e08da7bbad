//! What the sync client keeps in the store: the cursor and the server's
//! refusals.

use automerge::{Change, ChangeHash};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::{Store, StoreError};
use crate::problem::Params;
use crate::sync::wire::{Notice, Rejection, RejectionCode};

const CURSOR: &str = "cursor";

/// The server's refusal code for changes whose dependencies it lacks.
const MISSING_DEPENDENCIES: RejectionCode = RejectionCode::MissingDependencies;

/// A note from the server about a stored change, as the worker sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNotice {
    pub seq: i64,
    pub doc_id: Uuid,
    pub notice: Notice,
    /// When the device received it (ms since the epoch).
    pub received_at: i64,
}

/// A local change the server refused, as the worker sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRejection {
    pub doc_id: Uuid,
    /// One of core's [`RejectionCode`]s, or a newer server's code.
    pub code: String,
    pub params: Params,
}

impl Store {
    /// The server cursor everything up to which is stored here.
    pub fn sync_cursor(&self) -> Result<u64, StoreError> {
        let value: Option<i64> = self
            .conn
            .query_row(
                "SELECT value FROM sync_state WHERE key = ?1",
                [CURSOR],
                |row| row.get(0),
            )
            .optional()?;
        Ok(value.map_or(0, |v| v as u64))
    }

    /// Records the cursor once the changes up to it are stored.
    pub fn set_sync_cursor(&mut self, cursor: u64) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![CURSOR, cursor as i64],
        )?;
        Ok(())
    }

    /// Moves refused changes out of the outbox into the refusals the worker
    /// sees, in one transaction. The changes stay in the document.
    pub fn reject(
        &mut self,
        rejection: &Rejection,
        hashes: &[ChangeHash],
    ) -> Result<(), StoreError> {
        let params_json = serde_json::to_string(&rejection.params)
            .map_err(|e| StoreError::Corrupt(format!("a refusal's params: {e}")))?;
        let doc_id = rejection.doc.to_string();
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO rejections (doc_id, hash, code, params) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut delete = tx.prepare_cached("DELETE FROM outbox WHERE hash = ?1")?;
            for hash in hashes {
                insert.execute(params![doc_id, &hash.0[..], rejection.code, params_json])?;
                delete.execute([&hash.0[..]])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Refusals for the worker, newest first.
    pub fn rejections(&self) -> Result<Vec<StoredRejection>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id, code, params FROM rejections GROUP BY doc_id, code, params
             ORDER BY max(seq) DESC",
        )?;
        let rows = stmt.query_map([], |row| {
            let id: String = row.get(0)?;
            let params: String = row.get(2)?;
            Ok((id, row.get(1)?, params))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, code, params) = row?;
            out.push(StoredRejection {
                doc_id: Uuid::parse_str(&id).unwrap_or_default(),
                code,
                params: serde_json::from_str(&params)
                    .map_err(|e| StoreError::Corrupt(format!("a refusal's params: {e}")))?,
            });
        }
        Ok(out)
    }

    /// Documents the batched sync could not settle, for the repair path
    /// ([`crate::sync::repair`]): changes from the server still waiting
    /// for their dependencies, or local changes the server refused because
    /// a change they build on is missing there. At most `limit`.
    pub fn divergent_docs(&self, limit: u32) -> Result<Vec<Uuid>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id FROM remote_pending
             UNION SELECT doc_id FROM rejections WHERE code = ?1
             LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![MISSING_DEPENDENCIES.code(), limit], |row| {
            row.get::<_, String>(0)
        })?;
        let mut docs = Vec::new();
        for id in rows {
            docs.push(super::parse_uuid(&id?)?);
        }
        Ok(docs)
    }

    /// Puts this device's changes the server turned out to lack back in the
    /// outbox (in the order given, which must be causal) and clears the
    /// document's "missing dependencies" refusals: the next push carries
    /// them. Changes already waiting are left as they are. Returns how many
    /// were added.
    pub fn requeue(&mut self, doc_id: Uuid, changes: &[Change]) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let mut added = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO outbox (doc_id, hash, bytes) VALUES (?1, ?2, ?3)",
            )?;
            for change in changes {
                let mut change = change.clone();
                added += insert.execute(params![
                    doc_id.to_string(),
                    &change.hash().0[..],
                    change.bytes().as_ref()
                ])?;
            }
            tx.execute(
                "DELETE FROM rejections WHERE doc_id = ?1 AND code = ?2",
                params![doc_id.to_string(), MISSING_DEPENDENCIES.code()],
            )?;
        }
        tx.commit()?;
        Ok(added)
    }

    /// Keeps the server's notes about stored changes until the worker has
    /// seen them.
    pub fn record_notices(&mut self, notices: &[Notice], now_ms: i64) -> Result<(), StoreError> {
        if notices.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO notices (doc_id, code, params, compensated, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for n in notices {
                insert.execute(params![
                    n.doc.to_string(),
                    n.code,
                    serde_json::to_string(&n.params)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    n.compensated,
                    now_ms
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Notes the worker has not marked seen, newest first.
    pub fn unseen_notices(&self) -> Result<Vec<StoredNotice>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, doc_id, code, params, compensated, received_at
             FROM notices WHERE seen = 0 ORDER BY seq DESC",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, bool>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, doc, code, params, compensated, received_at) = row?;
            let doc_id = super::parse_uuid(&doc)?;
            out.push(StoredNotice {
                seq,
                doc_id,
                notice: Notice {
                    doc: doc_id,
                    code,
                    params: serde_json::from_str(&params)
                        .map_err(|e| StoreError::Corrupt(format!("a notice's params: {e}")))?,
                    compensated,
                },
                received_at,
            });
        }
        Ok(out)
    }

    /// Marks notes seen (they stay in the table, out of the list).
    pub fn mark_notices_seen(&mut self, seqs: &[i64]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut update = tx.prepare_cached("UPDATE notices SET seen = 1 WHERE seq = ?1")?;
            for seq in seqs {
                update.execute([seq])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
