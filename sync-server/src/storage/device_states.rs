//! The SQLite side of lost and wiped devices (see `crate::devices` for the
//! rules): the two timestamps on `devices`, and which logged changes came
//! from a device after it was reported lost.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::StorageError;

fn exists(conn: &Connection, device_id: &str) -> Result<(), StorageError> {
    let found = conn
        .query_row("SELECT 1 FROM devices WHERE id = ?1", [device_id], |_| {
            Ok(())
        })
        .optional()?;
    found.ok_or_else(|| StorageError::NotFound {
        what: "device",
        key: device_id.to_string(),
    })
}

pub(super) fn mark_lost(conn: &Connection, device_id: &str, at: i64) -> Result<bool, StorageError> {
    exists(conn, device_id)?;
    let changed = conn.execute(
        "UPDATE devices SET lost_at = ?2 WHERE id = ?1 AND lost_at IS NULL",
        params![device_id, at],
    )?;
    Ok(changed > 0)
}

pub(super) fn record_wipe(
    conn: &Connection,
    device_id: &str,
    at: i64,
) -> Result<bool, StorageError> {
    exists(conn, device_id)?;
    let changed = conn.execute(
        "UPDATE devices SET wiped_at = ?2
         WHERE id = ?1 AND lost_at IS NOT NULL AND wiped_at IS NULL",
        params![device_id, at],
    )?;
    Ok(changed > 0)
}

fn hash(bytes: Vec<u8>) -> Result<[u8; 32], StorageError> {
    bytes
        .try_into()
        .map_err(|_| StorageError::Corrupt("a change hash is not 32 bytes".into()))
}

/// The documents changed from a device after it was marked lost, as a
/// sub-select of the console's lists.
pub(super) const DOCS_FROM_LOST: &str =
    "SELECT DISTINCT l.doc FROM devices d JOIN log l ON l.device_id = d.id
         WHERE d.lost_at IS NOT NULL AND l.received_at >= d.lost_at";

pub(super) fn changes_from_lost(
    conn: &Connection,
    doc: Uuid,
) -> Result<Vec<([u8; 32], String)>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.hash, l.device_id FROM log l JOIN devices d ON d.id = l.device_id
         WHERE l.doc = ?1 AND d.lost_at IS NOT NULL AND l.received_at >= d.lost_at
         ORDER BY l.seq",
    )?;
    let rows = stmt.query_map([&doc.as_bytes()[..]], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
    })?;
    rows.map(|row| {
        let (h, device) = row?;
        Ok((hash(h)?, device))
    })
    .collect()
}
