//! Photos on the device: the upload-ready bytes, what still has to reach
//! the server, and what records reference that this device lacks.
//!
//! A photo is taken with [`Store::add_photo`]: made upload-ready by
//! [`media::prepare`], then the photo and its thumbnail are stored by their
//! SHA-256 in one transaction, both waiting for upload. The returned
//! [`PhotoRef`] goes into the record. The upload itself
//! ([`crate::sync::blobs`]) records the byte count the server confirmed
//! after every chunk, so a cut connection or a restarted app resumes where
//! it stopped. Nothing is deleted when an upload is refused: the bytes stay
//! until the server holds them.
//!
//! Only photos a record references are uploaded ([`Store::pending_photos`]):
//! one taken for a form and removed before the record was saved, or removed
//! from a record before the sync, never reaches the server. A photo a
//! record once referenced and none references any more is dropped from the
//! device ([`Store::drop_released_photos`], run before every upload pass);
//! one no record has referenced yet stays, as a form's draft (kept by the
//! UI) may hold it.
//!
//! [`Store::missing_photos`] lists the hashes records reference whose bytes
//! are not here (a supervisor's after-photo, a colleague's door plate),
//! with a record that references each, which the server asks for before it
//! hands out the bytes. The references are read from the documents
//! themselves, again only for documents whose heads moved since they were
//! last read, so this module needs nothing from the write path.

use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::{Store, StoreError, doc_row, load_doc};
use crate::media::{self, MediaError};
use crate::model::{AnyRecord, PhotoRef, PhotoRole, RecordKind};

/// Why a photo could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("the photo's bytes do not match its address (expected {expected}, got {found})")]
    HashMismatch { expected: String, found: String },
    #[error("the photo is not a SHA-256 address: {0}")]
    BadAddress(String),
}

impl PhotoError {
    /// A stable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            PhotoError::Media(e) => e.code(),
            PhotoError::HashMismatch { .. } => "photo_hash_mismatch",
            PhotoError::BadAddress(_) => "photo_bad_address",
        }
    }
}

/// Whether stored bytes are a photo or its thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoKind {
    Photo,
    Thumb,
}

impl PhotoKind {
    fn as_str(self) -> &'static str {
        match self {
            PhotoKind::Photo => "photo",
            PhotoKind::Thumb => "thumb",
        }
    }

    fn parse(s: &str) -> PhotoKind {
        if s == "thumb" {
            PhotoKind::Thumb
        } else {
            PhotoKind::Photo
        }
    }
}

/// A photo the server does not hold whole yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPhoto {
    pub sha256: String,
    pub kind: PhotoKind,
    /// Bytes in all.
    pub size: u64,
    /// Bytes the server has confirmed so far.
    pub offset: u64,
    /// Bytes of it may have left this device: the server may hold more
    /// than [`PendingPhoto::offset`] (an answer lost to a cut), so its
    /// upload asks the server first. One never started is sent at once.
    pub started: bool,
}

/// A photo a record references whose bytes this device lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPhoto {
    pub sha256: String,
    pub kind: PhotoKind,
    /// A record that references it: the server hands the bytes only to
    /// devices that may see such a record.
    pub doc_id: Uuid,
}

/// Every photo hash a record references: its photos, their thumbnails,
/// and the photos attached to an incident's workflow steps.
pub fn photo_hashes(record: &AnyRecord) -> Vec<(&str, PhotoKind)> {
    let refs: Vec<&PhotoRef> = match record {
        AnyRecord::Household(h) => h.door_plate_photo.iter().collect(),
        AnyRecord::Resident(_) => Vec::new(),
        AnyRecord::Incident(i) => i.photos.iter().collect(),
        AnyRecord::Patrol(p) => p
            .check_ins
            .iter()
            .filter_map(|c| c.photo.as_ref())
            .collect(),
        AnyRecord::Visit(v) => v.photos.iter().collect(),
        AnyRecord::Task(_) | AnyRecord::IncidentParties(_) => Vec::new(),
    };
    let mut out = Vec::new();
    for r in refs {
        out.push((r.sha256.as_str(), PhotoKind::Photo));
        if let Some(thumb) = &r.thumb_sha256 {
            out.push((thumb.as_str(), PhotoKind::Thumb));
        }
    }
    if let AnyRecord::Incident(i) = record {
        for step in &i.log {
            out.extend(step.photos.iter().map(|p| (p.as_str(), PhotoKind::Photo)));
        }
    }
    out
}

/// Notes that a record being written references its photos, so that
/// they are dropped once no record does ([`Store::drop_released_photos`]).
/// Done on the write path: a photo added and removed again between two
/// upload passes is still known to have been let go.
pub(super) fn mark_referenced(
    tx: &rusqlite::Transaction<'_>,
    record: &AnyRecord,
) -> Result<(), StoreError> {
    let hashes = photo_hashes(record);
    if hashes.is_empty() {
        return Ok(());
    }
    let mut mark =
        tx.prepare_cached("UPDATE photos SET referenced = 1 WHERE sha256 = ?1 AND referenced = 0")?;
    for (sha256, _) in hashes {
        mark.execute([sha256])?;
    }
    Ok(())
}

/// Whether `text` is a lowercase hex SHA-256.
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Store {
    /// Makes a camera photo upload-ready ([`media::prepare`]), stores it
    /// and its thumbnail in one transaction, both waiting for upload, and
    /// returns the reference to put in a record. Taking the same photo
    /// twice stores it once.
    pub fn add_photo(
        &mut self,
        original: &[u8],
        role: PhotoRole,
        taken_at: Option<i64>,
    ) -> Result<PhotoRef, StoreError> {
        let prepared = media::prepare(original).map_err(PhotoError::from)?;
        let now = now_ms();
        let tx = self.conn.transaction()?;
        {
            // Taken again after its record let it go: a form holds it now,
            // so it is no longer one to drop.
            let mut insert = tx.prepare_cached(
                "INSERT INTO photos (sha256, kind, bytes, size, created_at, upload_started) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 0) \
                 ON CONFLICT (sha256) DO UPDATE SET referenced = 0 \
                 WHERE NOT EXISTS (SELECT 1 FROM photo_refs r WHERE r.sha256 = excluded.sha256)",
            )?;
            for (encoded, kind) in [
                (&prepared.thumbnail, PhotoKind::Thumb),
                (&prepared.photo, PhotoKind::Photo),
            ] {
                insert.execute(params![
                    encoded.sha256,
                    kind.as_str(),
                    encoded.bytes,
                    encoded.bytes.len() as i64,
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(PhotoRef {
            sha256: prepared.photo.sha256,
            thumb_sha256: Some(prepared.thumbnail.sha256),
            role,
            bytes: prepared.photo.bytes.len() as u64,
            width: prepared.photo.width,
            height: prepared.photo.height,
            taken_at,
        })
    }

    /// A photo's (or thumbnail's) bytes, if this device has them.
    pub fn photo_bytes(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT bytes FROM photos WHERE sha256 = ?1")?
            .query_row([sha256], |row| row.get(0))
            .optional()?)
    }

    /// Photos a record references that the server does not hold whole
    /// yet, thumbnails first, oldest first. A photo no record references
    /// (only a form's draft holds it, or it was removed from its record)
    /// is not sent: the server would hold bytes nothing points to.
    pub fn pending_photos(&self) -> Result<Vec<PendingPhoto>, StoreError> {
        self.refresh_photo_refs()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.sha256, f.kind, f.size, f.upload_offset, f.upload_started FROM photos f \
             WHERE f.uploaded = 0 AND EXISTS (SELECT 1 FROM photo_refs r \
               JOIN projections p ON p.id = r.doc_id AND p.deleted = 0 \
               WHERE r.sha256 = f.sha256) \
             ORDER BY f.created_at, f.kind DESC, f.sha256",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(PendingPhoto {
                sha256: row.get(0)?,
                kind: PhotoKind::parse(&row.get::<_, String>(1)?),
                size: row.get::<_, i64>(2)? as u64,
                offset: row.get::<_, i64>(3)? as u64,
                started: row.get::<_, i64>(4)? != 0,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Drops the photos a record referenced once and no record (deleted
    /// ones included) references any more: removed from their record here
    /// or on another device. Returns how many photos and thumbnails went.
    pub fn drop_released_photos(&mut self) -> Result<usize, StoreError> {
        self.refresh_photo_refs()?;
        Ok(self
            .conn
            .prepare_cached(
                "DELETE FROM photos WHERE referenced = 1 AND NOT EXISTS \
                 (SELECT 1 FROM photo_refs r WHERE r.sha256 = photos.sha256)",
            )?
            .execute([])?)
    }

    /// Records how many bytes of a photo the server has confirmed, and
    /// that its upload started: called before its first chunk leaves, so
    /// a cut before that chunk's answer makes the next upload ask the
    /// server where it stands ([`PendingPhoto::started`]).
    pub fn set_upload_offset(&mut self, sha256: &str, offset: u64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE photos SET upload_offset = ?2, upload_started = 1 WHERE sha256 = ?1",
            )?
            .execute(params![sha256, offset as i64])?;
        Ok(())
    }

    /// Records that the server holds a photo whole.
    pub fn mark_uploaded(&mut self, sha256: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE photos SET uploaded = 1, upload_offset = size WHERE sha256 = ?1",
            )?
            .execute([sha256])?;
        Ok(())
    }

    /// Hashes that records in this store reference (not deleted ones)
    /// whose bytes are not here, thumbnails first, each with one record
    /// that references it.
    pub fn missing_photos(&self) -> Result<Vec<MissingPhoto>, StoreError> {
        self.refresh_photo_refs()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.sha256, max(r.kind), min(r.doc_id) FROM photo_refs r
             JOIN projections p ON p.id = r.doc_id AND p.deleted = 0
             WHERE NOT EXISTS (SELECT 1 FROM photos f WHERE f.sha256 = r.sha256)
             GROUP BY r.sha256 ORDER BY max(r.kind) DESC, r.sha256",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (sha256, kind, doc) = row?;
            out.push(MissingPhoto {
                sha256,
                kind: PhotoKind::parse(&kind),
                doc_id: super::parse_uuid(&doc)?,
            });
        }
        Ok(out)
    }

    /// Stores a photo downloaded from the server, after checking its bytes
    /// are the ones its address names.
    pub fn put_downloaded_photo(&mut self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        if !is_sha256(sha256) {
            return Err(PhotoError::BadAddress(sha256.to_string()).into());
        }
        let found = media::sha256_hex(bytes);
        if found != sha256 {
            return Err(PhotoError::HashMismatch {
                expected: sha256.to_string(),
                found,
            }
            .into());
        }
        let kind: Option<String> = self
            .conn
            .prepare_cached("SELECT max(kind) FROM photo_refs WHERE sha256 = ?1")?
            .query_row([sha256], |row| row.get(0))?;
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "INSERT OR IGNORE INTO photos (sha256, kind, bytes, size, uploaded, upload_offset, \
             created_at, referenced) VALUES (?1, ?2, ?3, ?4, 1, ?4, ?5, 1)",
        )?
        .execute(params![
            sha256,
            kind.as_deref().unwrap_or("photo"),
            bytes,
            bytes.len() as i64,
            now_ms()
        ])?;
        tx.prepare_cached("DELETE FROM photo_downloads WHERE sha256 = ?1")?
            .execute([sha256])?;
        tx.prepare_cached("DELETE FROM photo_unavailable WHERE sha256 = ?1")?
            .execute([sha256])?;
        tx.commit()?;
        Ok(())
    }

    /// The bytes of a download so far, kept between attempts so a cut
    /// download resumes.
    pub fn partial_download(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT bytes FROM photo_downloads WHERE sha256 = ?1")?
            .query_row([sha256], |row| row.get(0))
            .optional()?
            .unwrap_or_default())
    }

    /// Appends a received piece to a download in progress.
    pub fn append_download(&mut self, sha256: &str, piece: &[u8]) -> Result<(), StoreError> {
        // SQLite's `||` makes text of blobs: append in Rust. A piece and a
        // photo are a few hundred kilobytes.
        let tx = self.conn.transaction()?;
        let mut bytes: Vec<u8> = tx
            .prepare_cached("SELECT bytes FROM photo_downloads WHERE sha256 = ?1")?
            .query_row([sha256], |row| row.get(0))
            .optional()?
            .unwrap_or_default();
        bytes.extend_from_slice(piece);
        tx.prepare_cached(
            "INSERT INTO photo_downloads (sha256, bytes) VALUES (?1, ?2)
             ON CONFLICT (sha256) DO UPDATE SET bytes = excluded.bytes",
        )?
        .execute(params![sha256, bytes])?;
        tx.commit()?;
        Ok(())
    }

    /// Records that the server could not give a photo just now.
    pub fn note_unavailable(&mut self, sha256: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO photo_unavailable (sha256, tried_at) VALUES (?1, ?2)
                 ON CONFLICT (sha256) DO UPDATE SET tried_at = excluded.tried_at",
            )?
            .execute(params![sha256, now_ms()])?;
        Ok(())
    }

    /// Whether the server could not give a photo at or after `since_ms`.
    pub fn unavailable_since(&self, sha256: &str, since_ms: i64) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM photo_unavailable WHERE sha256 = ?1 AND tried_at >= ?2")?
            .query_row(params![sha256, since_ms], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Forgets a download in progress (its bytes turned out wrong).
    pub fn drop_download(&mut self, sha256: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM photo_downloads WHERE sha256 = ?1")?
            .execute([sha256])?;
        Ok(())
    }

    /// Reads the photo references of every document whose heads moved
    /// since it was last read. Residents hold no photos and are skipped.
    fn refresh_photo_refs(&self) -> Result<(), StoreError> {
        let stale: Vec<(String, Vec<u8>)> = self
            .conn
            .prepare_cached(
                "SELECT d.id, d.heads FROM documents d
                 LEFT JOIN photo_ref_scan s ON s.doc_id = d.id
                 WHERE d.kind != ?1 AND (s.heads IS NULL OR s.heads != d.heads)",
            )?
            .query_map([RecordKind::Resident.as_str()], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        if stale.is_empty() {
            return Ok(());
        }
        let tx = self.conn.unchecked_transaction()?;
        {
            let mut clear = tx.prepare_cached("DELETE FROM photo_refs WHERE doc_id = ?1")?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO photo_refs (doc_id, sha256, kind) VALUES (?1, ?2, ?3)",
            )?;
            let mut scanned = tx.prepare_cached(
                "INSERT INTO photo_ref_scan (doc_id, heads) VALUES (?1, ?2)
                 ON CONFLICT (doc_id) DO UPDATE SET heads = excluded.heads",
            )?;
            for (id, heads) in stale {
                let Some(row) = doc_row(&tx, super::parse_uuid(&id)?)? else {
                    clear.execute([&id])?;
                    continue;
                };
                match load_doc(&tx, &row, self.actor.clone()).and_then(|d| Ok(d.read_any()?)) {
                    Ok(record) => {
                        clear.execute([&id])?;
                        for (sha256, kind) in photo_hashes(&record) {
                            insert.execute(params![id, sha256, kind.as_str()])?;
                        }
                    }
                    // An unreadable record shows its own error where it is
                    // opened; it keeps the references last read from it, so
                    // its photos are not dropped as let go.
                    Err(e) => tracing::warn!(doc = %id, error = %e, "photo references unreadable"),
                }
                scanned.execute(params![id, heads])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Author;
    use crate::media::synthetic_photo;
    use crate::model::{Incident, Meta};
    use automerge::ActorId;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.sqlite"), ActorId::random()).unwrap();
        (dir, store)
    }

    fn incident_with(photos: Vec<PhotoRef>) -> Incident {
        let at = 1_779_000_000_000;
        let mut i = crate::store::tests::incident("440106001001001", "路灯损坏", "", at);
        i.meta = Meta::new(&i.meta.grid, "w1", at);
        i.photos = photos;
        i
    }

    #[test]
    fn a_photo_is_stored_with_its_thumbnail_and_waits_for_upload() {
        let (_dir, mut s) = store();
        let original = synthetic_photo(2000, 1500, 5);
        let r = s.add_photo(&original, PhotoRole::Before, Some(42)).unwrap();
        assert_eq!((r.width, r.height, r.taken_at), (1600, 1200, Some(42)));
        let bytes = s.photo_bytes(&r.sha256).unwrap().unwrap();
        assert_eq!(media::sha256_hex(&bytes), r.sha256);
        assert_eq!(bytes.len() as u64, r.bytes);
        let thumb = r.thumb_sha256.clone().unwrap();
        assert!(s.photo_bytes(&thumb).unwrap().is_some());
        assert!(
            s.pending_photos().unwrap().is_empty(),
            "no record references it yet"
        );
        let author = Author::new("w1", 1_779_000_000_000);
        let today = jiff::civil::date(2026, 5, 17);
        s.insert(incident_with(vec![r.clone()]), &author, today)
            .unwrap();
        let pending = s.pending_photos().unwrap();
        assert_eq!(pending.len(), 2);
        assert_eq!(pending[0].sha256, thumb, "thumbnails go first");
        assert!(pending.iter().all(|p| p.offset == 0 && !p.started));

        // The same photo again is stored once.
        s.add_photo(&original, PhotoRole::Before, Some(42)).unwrap();
        assert_eq!(s.pending_photos().unwrap().len(), 2);

        s.set_upload_offset(&r.sha256, 1000).unwrap();
        let p = s.pending_photos().unwrap();
        let started = p.iter().find(|p| p.sha256 == r.sha256).unwrap();
        assert_eq!((started.offset, started.started), (1000, true));
        s.set_upload_offset(&thumb, 0).unwrap();
        assert!(
            s.pending_photos().unwrap().iter().all(|p| p.started),
            "an offset of 0 stored before the first chunk still marks it started"
        );
        s.mark_uploaded(&r.sha256).unwrap();
        s.mark_uploaded(&thumb).unwrap();
        assert!(s.pending_photos().unwrap().is_empty());
        // Uploaded photos stay: the record still shows them.
        assert!(s.photo_bytes(&r.sha256).unwrap().is_some());
    }

    #[test]
    fn a_photo_removed_from_its_record_before_the_upload_is_not_sent_and_is_dropped() {
        let (_dir, mut s) = store();
        let author = Author::new("w1", 1_779_000_000_000);
        let today = jiff::civil::date(2026, 5, 17);
        let kept = s
            .add_photo(&synthetic_photo(640, 480, 1), PhotoRole::Before, None)
            .unwrap();
        let removed = s
            .add_photo(&synthetic_photo(640, 480, 4), PhotoRole::Before, None)
            .unwrap();
        let drafted = s
            .add_photo(&synthetic_photo(640, 480, 6), PhotoRole::Before, None)
            .unwrap();
        let incident = s
            .insert(
                incident_with(vec![kept.clone(), removed.clone()]),
                &author,
                today,
            )
            .unwrap();
        s.update::<Incident>(incident.meta.id, &author, today, |i| {
            i.photos.retain(|p| p.sha256 != removed.sha256);
        })
        .unwrap();

        let pending: Vec<String> = s
            .pending_photos()
            .unwrap()
            .into_iter()
            .map(|p| p.sha256)
            .collect();
        assert_eq!(pending.len(), 2, "{pending:?}");
        assert!(pending.contains(&kept.sha256));
        assert!(!pending.contains(&removed.sha256));
        assert!(!pending.contains(&drafted.sha256), "only a form holds it");

        assert_eq!(s.drop_released_photos().unwrap(), 2, "photo and thumbnail");
        assert!(s.photo_bytes(&removed.sha256).unwrap().is_none());
        assert!(
            s.photo_bytes(removed.thumb_sha256.as_deref().unwrap())
                .unwrap()
                .is_none()
        );
        assert!(s.photo_bytes(&kept.sha256).unwrap().is_some());
        assert!(
            s.photo_bytes(&drafted.sha256).unwrap().is_some(),
            "a photo no record has held yet may be in a form's draft"
        );
    }

    #[test]
    fn a_non_image_is_refused_with_a_code_and_nothing_is_stored() {
        let (_dir, mut s) = store();
        let err = s
            .add_photo(b"not a photo", PhotoRole::Evidence, None)
            .unwrap_err();
        assert_eq!(err.code(), "not_an_image");
        assert!(s.pending_photos().unwrap().is_empty());
    }

    #[test]
    fn photos_records_reference_but_this_device_lacks_are_listed_until_downloaded() {
        let (_dir, mut worker) = store();
        let r = worker
            .add_photo(&synthetic_photo(640, 480, 9), PhotoRole::After, None)
            .unwrap();
        let incident = incident_with(vec![r.clone()]);
        let author = Author::new("w1", 1_779_000_000_000);
        let today = jiff::civil::date(2026, 5, 17);
        worker.insert(incident.clone(), &author, today).unwrap();
        assert!(worker.missing_photos().unwrap().is_empty(), "it has them");

        // Another device receives the record but not the bytes.
        let (_dir2, mut other) = store();
        let changes: Vec<_> = worker
            .outbox(100)
            .unwrap()
            .iter()
            .map(|e| e.change().unwrap())
            .collect();
        other
            .apply_remote_batch(vec![(incident.meta.id, changes)])
            .unwrap();
        let missing = other.missing_photos().unwrap();
        let thumb = r.thumb_sha256.clone().unwrap();
        assert_eq!(
            missing
                .iter()
                .map(|m| m.sha256.as_str())
                .collect::<Vec<_>>(),
            vec![thumb.as_str(), r.sha256.as_str()]
        );
        assert!(missing.iter().all(|m| m.doc_id == incident.meta.id));
        assert_eq!(missing[0].kind, PhotoKind::Thumb);

        // Wrong bytes are refused; right ones are kept, already uploaded.
        let bytes = worker.photo_bytes(&r.sha256).unwrap().unwrap();
        let err = other.put_downloaded_photo(&r.sha256, b"junk").unwrap_err();
        assert_eq!(err.code(), "photo_hash_mismatch");
        other.put_downloaded_photo(&r.sha256, &bytes).unwrap();
        assert_eq!(other.photo_bytes(&r.sha256).unwrap().unwrap(), bytes);
        assert!(other.pending_photos().unwrap().is_empty());
        let missing = other.missing_photos().unwrap();
        assert_eq!(missing.len(), 1, "only the thumbnail is left");

        // A later edit that drops the photo drops the need for it.
        let mut doc = other.load(incident.meta.id).unwrap().unwrap();
        let before: Incident = doc.read().unwrap();
        let mut after = before.clone();
        after.photos.clear();
        doc.write_diff(&author, &before, &after).unwrap();
        other.save_doc(&mut doc).unwrap();
        assert!(other.missing_photos().unwrap().is_empty());
    }

    #[test]
    fn downloads_in_progress_accumulate_and_are_dropped_once_stored() {
        let (_dir, mut s) = store();
        let bytes = synthetic_photo(64, 48, 2);
        let sha = media::sha256_hex(&bytes);
        s.append_download(&sha, &bytes[..10]).unwrap();
        s.append_download(&sha, &bytes[10..]).unwrap();
        assert_eq!(s.partial_download(&sha).unwrap(), bytes);
        s.put_downloaded_photo(&sha, &bytes).unwrap();
        assert!(s.partial_download(&sha).unwrap().is_empty());
    }
}
