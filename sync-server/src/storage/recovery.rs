//! The SQLite side of the tablets' recovery secrets (see `crate::enrol`
//! for the rules): one row per enrolment that holds one, in
//! `device_recovery`.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::StorageError;

/// Bytes of a recovery secret.
const SECRET_LEN: usize = 32;

pub(super) fn hand_out(
    conn: &mut Connection,
    device_id: &str,
    user_id: &str,
    earlier: Option<&str>,
    fresh: &[u8; SECRET_LEN],
) -> Result<[u8; SECRET_LEN], StorageError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Only the same user's enrolment that is still in good standing hands
    // its secret on; the row moves, so one enrolment holds it at a time.
    let handed: Option<Vec<u8>> = match earlier {
        Some(earlier) => tx
            .query_row(
                "DELETE FROM device_recovery WHERE device_id = (
                     SELECT d.id FROM devices d
                     WHERE d.id = ?1 AND d.user_id = ?2 AND d.id <> ?3
                       AND d.revoked_at IS NULL AND d.lost_at IS NULL AND d.wiped_at IS NULL)
                 RETURNING secret",
                params![earlier, user_id, device_id],
                |r| r.get(0),
            )
            .optional()?,
        None => None,
    };
    let secret: [u8; SECRET_LEN] = match handed {
        Some(bytes) => bytes
            .try_into()
            .map_err(|_| StorageError::Corrupt("a recovery secret is not 32 bytes".into()))?,
        None => *fresh,
    };
    tx.execute(
        "INSERT INTO device_recovery (device_id, secret) VALUES (?1, ?2)",
        params![device_id, &secret[..]],
    )?;
    tx.commit()?;
    Ok(secret)
}
