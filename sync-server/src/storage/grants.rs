//! The SQLite side of photo grants (see `crate::blobs` for the rules):
//! finished uploads, grants, pending claims, and the one-time grant of the
//! references in documents stored before grants existed.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use uuid::Uuid;

use super::{BlobUpload, PushCommit, StorageError};

/// Stores a finished upload and turns the user's pending claims on the
/// blob into grants; how many grants were made.
pub(super) fn record_upload(conn: &mut Connection, u: &BlobUpload) -> Result<usize, StorageError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO blob_uploads (sha256, device_id, user_id, uploaded_at)
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (sha256, device_id) DO NOTHING",
        params![u.sha256, u.device_id, u.user_id, u.at],
    )?;
    let granted = tx.execute(
        "INSERT INTO blob_grants (doc, sha256, granted_at)
         SELECT doc, sha256, ?3 FROM blob_claims WHERE sha256 = ?1 AND user_id = ?2
         ON CONFLICT (doc, sha256) DO NOTHING",
        params![u.sha256, u.user_id, u.at],
    )?;
    tx.execute(
        "DELETE FROM blob_claims WHERE sha256 = ?1 AND user_id = ?2",
        params![u.sha256, u.user_id],
    )?;
    tx.commit()?;
    Ok(granted)
}

pub(super) fn has_uploaded(
    conn: &Connection,
    user_id: &str,
    sha256: &str,
) -> Result<bool, StorageError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM blob_uploads WHERE sha256 = ?1 AND user_id = ?2")?
        .exists(params![sha256, user_id])?)
}

pub(super) fn granted(conn: &Connection, doc: Uuid, sha256: &str) -> Result<bool, StorageError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM blob_grants WHERE doc = ?1 AND sha256 = ?2")?
        .exists(params![&doc.as_bytes()[..], sha256])?)
}

pub(super) fn grant_docs(
    conn: &Connection,
    sha256: &str,
    limit: usize,
) -> Result<Vec<Uuid>, StorageError> {
    let mut stmt =
        conn.prepare_cached("SELECT doc FROM blob_grants WHERE sha256 = ?1 ORDER BY doc LIMIT ?2")?;
    let rows = stmt.query_map(params![sha256, limit as i64], |r| r.get::<_, Vec<u8>>(0))?;
    rows.map(|r| {
        let bytes = r?;
        Uuid::from_slice(&bytes).map_err(|_| StorageError::Corrupt("a grant's doc id".into()))
    })
    .collect()
}

/// Every photo a record is granted or claimed for.
pub(super) fn known_refs(conn: &Connection, doc: Uuid) -> Result<Vec<String>, StorageError> {
    let mut stmt = conn.prepare_cached(
        "SELECT sha256 FROM blob_grants WHERE doc = ?1
         UNION SELECT sha256 FROM blob_claims WHERE doc = ?1",
    )?;
    let rows = stmt.query_map([&doc.as_bytes()[..]], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Writes a push's new references, in the push's transaction: a grant
/// where the check allowed it or the pushing user has uploaded the blob
/// (checked here too, so an upload finishing meanwhile is not missed),
/// a pending claim otherwise.
pub(super) fn commit_refs(tx: &Transaction<'_>, push: &PushCommit) -> Result<(), StorageError> {
    if push.blob_refs.is_empty() {
        return Ok(());
    }
    let mut grant = tx.prepare_cached(
        "INSERT INTO blob_grants (doc, sha256, granted_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (doc, sha256) DO NOTHING",
    )?;
    let mut claim = tx.prepare_cached(
        "INSERT INTO blob_claims (doc, sha256, user_id, device_id, claimed_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (doc, sha256, user_id) DO NOTHING",
    )?;
    for r in &push.blob_refs {
        let doc = &r.doc.as_bytes()[..];
        if r.granted || has_uploaded(tx, &push.user_id, &r.sha256)? {
            grant.execute(params![doc, r.sha256, push.received_at])?;
        } else {
            claim.execute(params![
                doc,
                r.sha256,
                push.user_id,
                push.device_id,
                push.received_at
            ])?;
        }
    }
    Ok(())
}

/// The migration's second half: grants every photo referenced by a
/// document stored before grants existed, once (the SQL half leaves a
/// marker, deleted here in the same transaction as the grants).
pub(super) fn backfill(conn: &mut Connection) -> Result<(), StorageError> {
    let tx = conn.transaction()?;
    let pending: Option<i64> = tx
        .query_row(
            "SELECT value FROM counters WHERE name = 'blob_grants_backfill'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if pending.is_none() {
        return Ok(());
    }
    let now = jiff::Timestamp::now().as_millisecond();
    let (mut docs, mut grants, mut unreadable) = (0usize, 0usize, 0usize);
    {
        let mut read = tx.prepare("SELECT id, snapshot FROM docs")?;
        let mut grant = tx.prepare(
            "INSERT INTO blob_grants (doc, sha256, granted_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (doc, sha256) DO NOTHING",
        )?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let id: Vec<u8> = row.get(0)?;
            let snapshot: Vec<u8> = row.get(1)?;
            docs += 1;
            match super::photo_references_in_snapshot(&snapshot) {
                Ok(shas) => {
                    for sha in shas {
                        grants += grant.execute(params![id, sha, now])?;
                    }
                }
                Err(e) => {
                    // Its photos stay unreadable until a push rewrites it.
                    unreadable += 1;
                    tracing::warn!(error = %e, "a stored document cannot be read for its photos");
                }
            }
        }
    }
    tx.execute(
        "DELETE FROM counters WHERE name = 'blob_grants_backfill'",
        [],
    )?;
    tx.commit()?;
    if docs > 0 {
        tracing::info!(
            docs,
            grants,
            unreadable,
            "granted the photos of stored records"
        );
    }
    Ok(())
}
