//! A record's page in the console: what it shows ([`detail`]), the photos
//! it may open ([`photo`]), and the record with its protected fields in
//! clear ([`reveal`], written to the access log first).
//!
//! Each takes the record through [`access::console_record`], so a record
//! outside the user's subtree, or one their role does not need, is
//! [`ConsoleError::NotFound`] here as everywhere. The HTTP handlers in
//! `crate::api::console` only extract the request, call one of these and
//! map the error.

use gridwork_core::calendar::{WorkCalendar, shanghai_date};
use gridwork_core::fieldwork::incidents::{TimelineEntry, incident_view};
use gridwork_core::model::AnyRecord;
use gridwork_core::privacy::{self, Reveal};
use gridwork_core::store::photo_hashes;
use gridwork_core::workflow::Derived;
use serde::Serialize;
use uuid::Uuid;

use super::actions::{self, ConsoleError, ConsoleUser, Offers};
use super::export::Logged;
use super::history::{self, HistoryEntry};
use super::index::{Flags, Summary};
use super::provenance::{self, ConsoleConflict, Provenance};
use crate::access;
use crate::blobs::BlobStore;
use crate::storage::Storage;

/// A record with everything its page shows.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Detail {
    pub summary: Summary,
    #[serde(flatten)]
    pub flags: Flags,
    /// The record as [`gridwork_core::privacy::mask_record`] masks it for
    /// a view that reveals nothing (a reveal shows what the role may see).
    #[ts(type = "{ [key in string]?: JsonValue }")]
    pub record: serde_json::Value,
    /// For incidents: the derived state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Derived>,
    /// For incidents: the transition log, with whether each entry applied
    /// (core's, as the app's detail screen shows it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
    pub history: Vec<HistoryEntry>,
    /// Fields with concurrent values, each with who wrote it and when the
    /// server received it.
    pub conflicts: Vec<ConsoleConflict>,
    /// The history's changes pushed by a device after an admin reported it
    /// lost (hex hashes): kept, and shown as 来自已挂失设备 for review
    /// ([`crate::devices`]).
    pub from_lost_device: Vec<String>,
    /// What the signed-in user may do on the record now: the page shows
    /// these and nothing else.
    #[serde(flatten)]
    pub offers: Offers,
}

/// The record `id` as its page shows it to `who` at `now`: masked, with
/// its history as the role may see it, its conflicts, (for incidents) its
/// state and core's timeline, and what the user may do on it.
pub fn detail(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    who: &ConsoleUser,
    id: Uuid,
    now: jiff::Timestamp,
) -> Result<Detail, ConsoleError> {
    let (loaded, snapshot, _) = access::console_record(storage, calendar, who, id)?;
    let grid_path = storage
        .grid_path(&loaded.record.meta().grid)?
        .unwrap_or_else(|| who.scope_path.clone());
    let updated_at = storage
        .doc_heads(&grid_path)?
        .into_iter()
        .find(|h| h.id == id)
        .map(|h| h.updated_at)
        .unwrap_or_default();
    let summary = Summary::of(&loaded.record, loaded.derived.as_ref(), updated_at);
    let provenance = Provenance::load(storage, id, &snapshot)?;
    let history = history::history(&snapshot, &provenance).map_err(ConsoleError::Damaged)?;
    let conflicts = provenance::conflicts(&snapshot, &provenance).map_err(ConsoleError::Damaged)?;
    let user = &who.session.user;
    let history = history::history_shown(user, loaded.record.kind(), history);
    let timeline = match &loaded.record {
        AnyRecord::Incident(i) => incident_view(i.clone(), calendar).timeline,
        _ => Vec::new(),
    };
    let offers = actions::offers(user, &loaded.record, loaded.derived.as_ref());
    let record =
        serde_json::to_value(&loaded.record).map_err(|e| ConsoleError::Damaged(e.to_string()))?;
    let record = access::with_parties(storage, calendar, who, &loaded.record, record)?;
    Ok(Detail {
        flags: summary.flags(shanghai_date(now), calendar),
        summary,
        record: privacy::mask_record(loaded.record.kind(), &record, Reveal::MASKED),
        state: loaded.derived,
        timeline,
        history,
        conflicts,
        from_lost_device: crate::devices::lost_changes(storage, id)?,
        offers,
    })
}

/// The bytes of photo or thumbnail `sha256` of record `id`, for its page:
/// the record is one `who` may see, it references the photo, and the photo
/// is granted to it (a hash alone opens nothing, see `crate::blobs`).
/// Anything else is [`ConsoleError::NotFound`].
pub fn photo(
    storage: &dyn Storage,
    blobs: &dyn BlobStore,
    calendar: &WorkCalendar,
    who: &ConsoleUser,
    id: Uuid,
    sha256: &str,
) -> Result<Vec<u8>, ConsoleError> {
    let (loaded, _, _) = access::console_record(storage, calendar, who, id)?;
    let referenced = photo_hashes(&loaded.record)
        .iter()
        .any(|(h, _)| *h == sha256);
    if !referenced || !storage.blob_granted(id, sha256)? {
        return Err(ConsoleError::NotFound);
    }
    let damaged = |e: crate::blobs::BlobError| ConsoleError::Damaged(e.to_string());
    let total = blobs
        .complete(sha256)
        .map_err(damaged)?
        .ok_or(ConsoleError::NotFound)?;
    blobs.read(sha256, 0, total).map_err(damaged)
}

/// A record with its [PI] and [S] fields in clear as far as the role may
/// see them.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Revealed {
    /// The record, masked where the role may not see in clear.
    #[ts(type = "{ [key in string]?: JsonValue }")]
    pub record: serde_json::Value,
    /// [`Reveal::label`] of what is in clear.
    pub revealed: String,
}

/// Record `id` with its [PI] and [S] fields in clear as far as `who`'s
/// role may see them (and masked, as its page masks them, where it may
/// not). The reveal is written to the access log before it is answered;
/// a role that may see nothing in clear is refused.
pub fn reveal(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    who: &ConsoleUser,
    id: Uuid,
    now: jiff::Timestamp,
) -> Result<Revealed, ConsoleError> {
    let reveal = access::reveal_allowed(who.session.user.role);
    if reveal == Reveal::MASKED {
        return Err(ConsoleError::RevealNotAllowed);
    }
    let (loaded, _, _) = access::console_record(storage, calendar, who, id)?;
    let record =
        serde_json::to_value(&loaded.record).map_err(|e| ConsoleError::Damaged(e.to_string()))?;
    let record = access::with_parties(storage, calendar, who, &loaded.record, record)?;
    storage.append_access(
        &Logged {
            action: "reveal",
            target: loaded.record.kind().as_str(),
            filter: "{}".into(),
            format: None,
            record_ids: vec![id],
            row_count: 1,
            reveal,
        }
        .entry(who, now),
    )?;
    Ok(Revealed {
        record: privacy::mask_record(loaded.record.kind(), &record, reveal),
        revealed: reveal.label().into(),
    })
}
