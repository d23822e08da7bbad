//! What the sync client keeps in the store: the cursor and the server's
//! refusals.

use automerge::ChangeHash;
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::{Store, StoreError};

const CURSOR: &str = "cursor";

/// A local change the server refused, as the worker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRejection {
    pub doc_id: Uuid,
    pub code: String,
    pub message: String,
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
        doc_id: Uuid,
        hashes: &[ChangeHash],
        code: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO rejections (doc_id, hash, code, message) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut delete = tx.prepare_cached("DELETE FROM outbox WHERE hash = ?1")?;
            for hash in hashes {
                insert.execute(params![doc_id.to_string(), &hash.0[..], code, message])?;
                delete.execute([&hash.0[..]])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Refusals for the worker, newest first.
    pub fn rejections(&self) -> Result<Vec<StoredRejection>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id, code, message FROM rejections GROUP BY doc_id, code, message
             ORDER BY max(seq) DESC",
        )?;
        let rows = stmt.query_map([], |row| {
            let id: String = row.get(0)?;
            Ok((id, row.get(1)?, row.get(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, code, message) = row?;
            out.push(StoredRejection {
                doc_id: Uuid::parse_str(&id).unwrap_or_default(),
                code,
                message,
            });
        }
        Ok(out)
    }
}
