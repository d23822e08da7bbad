//! The PostgreSQL side of photo grants (see `crate::blobs` for the rules,
//! and `storage/grants.rs` for the SQLite twin). A PostgreSQL database is
//! made with grants in place, so it has no backfill.

use postgres::{GenericClient, Transaction};
use uuid::Uuid;

use super::super::{BlobUpload, PushCommit, StorageError};

/// Stores a finished upload and turns the user's pending claims on the
/// blob into grants; how many grants were made.
pub(super) fn record_upload(
    conn: &mut postgres::Client,
    u: &BlobUpload,
) -> Result<usize, StorageError> {
    let mut tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO blob_uploads (sha256, device_id, user_id, uploaded_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (sha256, device_id) DO NOTHING",
        &[&u.sha256, &u.device_id, &u.user_id, &u.at],
    )?;
    let granted = tx.execute(
        "INSERT INTO blob_grants (doc, sha256, granted_at)
         SELECT doc, sha256, $3 FROM blob_claims WHERE sha256 = $1 AND user_id = $2
         ON CONFLICT (doc, sha256) DO NOTHING",
        &[&u.sha256, &u.user_id, &u.at],
    )?;
    tx.execute(
        "DELETE FROM blob_claims WHERE sha256 = $1 AND user_id = $2",
        &[&u.sha256, &u.user_id],
    )?;
    tx.commit()?;
    Ok(granted as usize)
}

pub(super) fn has_uploaded(
    conn: &mut impl GenericClient,
    user_id: &str,
    sha256: &str,
) -> Result<bool, StorageError> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM blob_uploads WHERE sha256 = $1 AND user_id = $2 LIMIT 1",
            &[&sha256, &user_id],
        )?
        .is_some())
}

pub(super) fn granted(
    conn: &mut impl GenericClient,
    doc: Uuid,
    sha256: &str,
) -> Result<bool, StorageError> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM blob_grants WHERE doc = $1 AND sha256 = $2",
            &[&doc, &sha256],
        )?
        .is_some())
}

pub(super) fn grant_docs(
    conn: &mut impl GenericClient,
    sha256: &str,
    limit: usize,
) -> Result<Vec<Uuid>, StorageError> {
    let rows = conn.query(
        "SELECT doc FROM blob_grants WHERE sha256 = $1 ORDER BY doc LIMIT $2",
        &[&sha256, &(limit as i64)],
    )?;
    Ok(rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?)
}

/// Every photo a record is granted or claimed for.
pub(super) fn known_refs(
    conn: &mut impl GenericClient,
    doc: Uuid,
) -> Result<Vec<String>, StorageError> {
    let rows = conn.query(
        "SELECT sha256 FROM blob_grants WHERE doc = $1
         UNION SELECT sha256 FROM blob_claims WHERE doc = $1",
        &[&doc],
    )?;
    Ok(rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?)
}

/// Writes a push's new references, in the push's transaction: a grant
/// where the check allowed it or the pushing user has uploaded the blob,
/// a pending claim otherwise.
pub(super) fn commit_refs(tx: &mut Transaction<'_>, push: &PushCommit) -> Result<(), StorageError> {
    if push.blob_refs.is_empty() {
        return Ok(());
    }
    let grant = tx.prepare(
        "INSERT INTO blob_grants (doc, sha256, granted_at) VALUES ($1, $2, $3)
         ON CONFLICT (doc, sha256) DO NOTHING",
    )?;
    let claim = tx.prepare(
        "INSERT INTO blob_claims (doc, sha256, user_id, device_id, claimed_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (doc, sha256, user_id) DO NOTHING",
    )?;
    for r in &push.blob_refs {
        if r.granted || has_uploaded(tx, &push.user_id, &r.sha256)? {
            tx.execute(&grant, &[&r.doc, &r.sha256, &push.received_at])?;
        } else {
            tx.execute(
                &claim,
                &[
                    &r.doc,
                    &r.sha256,
                    &push.user_id,
                    &push.device_id,
                    &push.received_at,
                ],
            )?;
        }
    }
    Ok(())
}
