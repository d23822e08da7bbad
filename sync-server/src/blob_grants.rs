//! Which records may be read through for a photo: the push-time check of
//! the photo references a push adds, and the download check.
//!
//! The rules and why are in [`crate::blobs`]' module doc ("A hash is not a
//! key"). In short: a reference a push adds is granted when the pushing
//! user uploaded the blob or a record the user may see is granted it
//! already; otherwise it is a pending claim that the user's finished
//! upload grants. A reference already granted or claimed for the record
//! is not judged again, so only what a push adds counts, judged for the
//! user who added it. Downloads need the record to be visible and granted.
//! What "visible" means is [`crate::access`]'s to say: the blobs channel
//! for a device, the record page for the console's own pushes.

use std::collections::{BTreeSet, HashMap};

use gridwork_core::calendar::WorkCalendar;
use uuid::Uuid;

use crate::access::{self, Channel};
use crate::auth::Session;
use crate::storage::{BlobRef, DocWrite, Storage, StorageError};

/// How many records granted a photo are looked at for "a record the user
/// may see has it": a photo is in a handful of records, and a user who
/// sees none of the first ones can still upload it.
const GRANTED_RECORDS_LOOKED_AT: usize = 32;

/// Whether the device may download a photo through a record: the record
/// goes to the device on the blobs channel ([`access::device_doc`]) and is
/// granted the photo.
pub fn may_download(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    session: &Session,
    doc: Uuid,
    sha256: &str,
) -> Result<bool, StorageError> {
    Ok(
        access::device_doc(storage, calendar, session, doc, Channel::Blobs)?.is_some()
            && storage.blob_granted(doc, sha256)?,
    )
}

/// Judges the photo references a push adds to its records (see the module
/// doc); the storage writes them with the push.
pub fn for_push(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    session: &Session,
    writes: &[DocWrite],
) -> Result<Vec<BlobRef>, StorageError> {
    let mut judged: HashMap<String, bool> = HashMap::new();
    let mut refs = Vec::new();
    for write in writes {
        if write.photos.is_empty() {
            continue;
        }
        let known: BTreeSet<String> = storage.blob_refs_known(write.id)?.into_iter().collect();
        for sha in write.photos.iter().filter(|s| !known.contains(*s)) {
            let granted = match judged.get(sha) {
                Some(g) => *g,
                None => {
                    let g = storage.has_uploaded(&session.user.id, sha)?
                        || seen_elsewhere(storage, calendar, session, sha)?;
                    judged.insert(sha.clone(), g);
                    g
                }
            };
            refs.push(BlobRef {
                doc: write.id,
                sha256: sha.clone(),
                granted,
            });
        }
    }
    Ok(refs)
}

/// A record the user may see is granted the photo already.
fn seen_elsewhere(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    session: &Session,
    sha256: &str,
) -> Result<bool, StorageError> {
    for doc in storage.blob_grant_docs(sha256, GRANTED_RECORDS_LOOKED_AT)? {
        if access::photos_readable(storage, calendar, session, doc)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The references of records the server writes itself (the demo load):
/// granted, as the admin's own import.
pub fn granted_by_server(writes: &[DocWrite]) -> Vec<BlobRef> {
    writes
        .iter()
        .flat_map(|w| {
            w.photos.iter().map(|sha| BlobRef {
                doc: w.id,
                sha256: sha.clone(),
                granted: true,
            })
        })
        .collect()
}
