//! One sync round trip on the server: store what the device pushed (after
//! checking it), then answer with what the device has not seen.
//!
//! **Cursors.** The cursor the server hands out is opaque to the device:
//! the high 16 bits are the device's *scope epoch*, the low 48 bits a
//! position in the log. When a user's grid subtree grows (a new grid, a
//! reassignment), the epoch is bumped and a cursor from an older epoch
//! counts as 0, so the new grids' existing records reach the device (a
//! single global position would skip them). The epoch only moves forward on
//! the server, and the device only ever sends a cursor the server gave it,
//! so a lost answer cannot make the server skip anything: the device sends
//! its old cursor again, which is still of the older epoch.
//!
//! **Positions.** A change's position is its sequence number, except when
//! its document later moved into another grid: the document's whole
//! history is then re-published at the move's position, so the new grid's
//! users receive it whole.
//!
//! **Pushes** are checked by [`push`]; refused documents come back as
//! `Rejection`s and everything else in the batch is stored, some with a
//! `Notice` (and the server's compensating change in the pull).

mod authorship;
pub mod contain;
mod expand;
mod follow;
mod push;
mod refused;
mod repair;
mod state;

use std::collections::{BTreeSet, HashMap};

use gridwork_core::calendar::WorkCalendar;
use gridwork_core::sync::wire::{DocChanges, SyncRequest, SyncResponse};

use crate::access::{self, Channel};
use crate::auth::Session;
use crate::storage::{PullPage, PullQuery, ServedScope, Storage, StorageError};

pub use push::PushError;
pub use repair::{RepairError, repair};
pub use state::Places;

/// Bits of a cursor that hold the log position.
const POSITION_BITS: u32 = 48;
const POSITION_MASK: u64 = (1 << POSITION_BITS) - 1;

/// Splits a cursor into (epoch, position).
pub fn split_cursor(cursor: u64) -> (u16, u64) {
    ((cursor >> POSITION_BITS) as u16, cursor & POSITION_MASK)
}

/// Makes a cursor from an epoch and a position.
pub fn make_cursor(epoch: u16, position: u64) -> u64 {
    (u64::from(epoch) << POSITION_BITS) | (position & POSITION_MASK)
}

/// What a sync needs besides storage.
#[derive(Debug)]
pub struct SyncContext {
    pub calendar: WorkCalendar,
    pub budget_default: u32,
    pub budget_max: u32,
    /// The stored grid tree, for checking a record's point is in its grid.
    pub places: Places,
}

/// Why a sync failed as a whole (a refused document is not a failure).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("the user's grid {0} does not exist")]
    NoGrid(String),
    #[error("too many concurrent writers on the same documents")]
    Busy,
}

impl From<PushError> for SyncError {
    fn from(e: PushError) -> SyncError {
        match e {
            PushError::Storage(s) => SyncError::Storage(s),
            PushError::Busy => SyncError::Busy,
        }
    }
}

/// The materialized path of the session user's grid.
fn user_scope(storage: &dyn Storage, session: &Session) -> Result<String, SyncError> {
    storage
        .grid_path(&session.user.grid)?
        .ok_or_else(|| SyncError::NoGrid(session.user.grid.clone()))
}

/// Runs one sync for an authenticated device: its first page, when the
/// answer streams more ([`next_page`]). Blocking.
#[tracing::instrument(skip_all, err, fields(device = %session.device_id, user = %session.user.id, pushed = request.push.len()))]
pub fn run(
    storage: &dyn Storage,
    ctx: &SyncContext,
    session: &Session,
    request: SyncRequest,
    now: jiff::Timestamp,
) -> Result<SyncResponse, SyncError> {
    let scope_path = user_scope(storage, session)?;
    let epoch = current_epoch(storage, session, &scope_path)?;
    let page = Page::of(&request);
    let pushed = push::store(storage, ctx, session, &scope_path, request.push, now)?;
    let mut response = pull_page(storage, ctx, session, scope_path, epoch, &page)?;
    // The device confirms by sending the cursor back.
    storage.confirm_cursor(&session.device_id, request.cursor, now.as_millisecond())?;
    response.rejected = pushed.rejected;
    response.notices = pushed.notices;
    Ok(response)
}

/// Which page of a pull to answer: after `cursor`, up to `budget` bytes
/// of changes, packed in `format` ([`SyncRequest::pack_format`]).
///
/// **Short ends.** In a streamed answer ([`SyncRequest::answer_pages`])
/// the first page, and the end of the last, are short: a sixteenth of the
/// budget ([`SHORT_PAGE`]). On a slow link the device waits for the
/// server to build the first page before anything travels, and stores
/// the last after everything has arrived; on the bench's 2G link a page
/// of 4 MiB is 0.8 s to build and 1.2 s to store. A short page is built
/// and stored in a tenth of that, and the page next to it is built or
/// stored while the short one travels.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub cursor: u64,
    pub budget: Option<u32>,
    pub format: Option<u8>,
    /// Whether this is the answer's first page.
    pub first: bool,
    /// Whether the answer may stream a page after this one.
    pub followed: bool,
}

/// A short page holds this part of the budget ([`Page`]).
const SHORT_PAGE: usize = 16;

impl Page {
    /// The page `request` asks for.
    pub fn of(request: &SyncRequest) -> Page {
        Page {
            cursor: request.cursor,
            budget: request.budget,
            format: request.pack_format(),
            first: true,
            followed: request.answer_pages() > 1,
        }
    }

    /// The page after `response`, the answer to this one, followed by
    /// another if `followed`.
    pub fn after(&self, response: &SyncResponse, followed: bool) -> Page {
        Page {
            cursor: response.cursor,
            first: false,
            followed,
            ..*self
        }
    }
}

/// Leaves the end of the log's last page, about `tail` bytes of changes,
/// for a page of its own ([`Page`]): cut after a position, so a position
/// is never split, and only when the page is at least twice as long.
fn leave_tail(found: &mut PullPage, tail: usize) {
    let total: usize = found.changes.iter().map(|c| c.bytes.len()).sum();
    if found.more || tail == 0 || total < 2 * tail {
        return;
    }
    let mut kept = 0;
    for (at, pair) in found.changes.windows(2).enumerate() {
        kept += pair[0].bytes.len();
        if kept >= total - tail && pair[0].position != pair[1].position {
            found.cursor = pair[0].position;
            found.more = true;
            found.changes.truncate(at + 1);
            return;
        }
    }
}

/// A later page of a streamed answer ([`gridwork_core::sync::pages`]):
/// what [`run`] answers a request from `page.cursor` that pushes nothing,
/// but the cursor is not confirmed, as the device has not stored the page
/// before it yet. The scope and what the user may see are worked out
/// again, as for a request of its own. Blocking.
#[tracing::instrument(skip_all, err, fields(device = %session.device_id, user = %session.user.id))]
pub fn next_page(
    storage: &dyn Storage,
    ctx: &SyncContext,
    session: &Session,
    page: &Page,
) -> Result<SyncResponse, SyncError> {
    let scope_path = user_scope(storage, session)?;
    let epoch = current_epoch(storage, session, &scope_path)?;
    pull_page(storage, ctx, session, scope_path, epoch, page)
}

/// The changes after `page.cursor` the device may see, as an answer
/// without pushed documents' refusals and notices.
fn pull_page(
    storage: &dyn Storage,
    ctx: &SyncContext,
    session: &Session,
    scope_path: String,
    epoch: u16,
    page: &Page,
) -> Result<SyncResponse, SyncError> {
    if !access::device_channel_open(session, Channel::DeviceSync) {
        return Ok(SyncResponse {
            cursor: page.cursor,
            ..SyncResponse::default()
        });
    }
    let (cursor_epoch, position) = split_cursor(page.cursor);
    let after = if cursor_epoch == epoch { position } else { 0 };
    let budget = page
        .budget
        .unwrap_or(ctx.budget_default)
        .min(ctx.budget_max) as usize;
    let short = budget / SHORT_PAGE;
    let mut found = storage.pull(&PullQuery {
        after,
        scope_path,
        device_id: session.device_id.clone(),
        budget: if page.first && page.followed {
            short.max(1)
        } else {
            budget
        },
    })?;
    if page.followed {
        leave_tail(&mut found, short);
    }

    let mut pull: Vec<DocChanges> = Vec::new();
    let mut index: HashMap<uuid::Uuid, usize> = HashMap::new();
    let mut visible: HashMap<uuid::Uuid, bool> = HashMap::new();
    let everything = access::sends_whole_subtree(session.user.role, Channel::DeviceSync);
    for change in found.changes {
        if !everything && !sends(storage, ctx, session, &mut visible, change.doc)? {
            continue;
        }
        let i = *index.entry(change.doc).or_insert_with(|| {
            pull.push(DocChanges {
                doc: change.doc,
                changes: Vec::new(),
            });
            pull.len() - 1
        });
        pull[i].changes.push(change.bytes);
    }
    let mut response = SyncResponse {
        cursor: make_cursor(epoch, found.cursor),
        more: found.more,
        pull,
        ..SyncResponse::default()
    };
    if let Some(format) = page.format {
        response.pack_pull(format);
    }
    Ok(response)
}

/// A sync from a device an admin reported lost ([`crate::devices`]): its
/// push is checked and stored like any other (the log's device and
/// receipt time flag it for review), nothing is sent down and the cursor
/// is not confirmed, and the answer tells the device to wipe itself.
#[tracing::instrument(skip_all, err, fields(device = %session.device_id, user = %session.user.id, pushed = request.push.len()))]
pub fn run_lost(
    storage: &dyn Storage,
    ctx: &SyncContext,
    session: &Session,
    request: SyncRequest,
    now: jiff::Timestamp,
) -> Result<SyncResponse, SyncError> {
    let scope_path = user_scope(storage, session)?;
    let pushed = push::store(storage, ctx, session, &scope_path, request.push, now)?;
    Ok(SyncResponse {
        cursor: request.cursor,
        rejected: pushed.rejected,
        notices: pushed.notices,
        wipe: true,
        ..SyncResponse::default()
    })
}

/// Whether the device receives this document ([`access::device_sends`]),
/// cached per sync. When an incident is dispatched to a handler, its
/// earlier changes were never sent: the device parks the new ones for
/// their missing predecessors and the repair path brings the history.
fn sends(
    storage: &dyn Storage,
    ctx: &SyncContext,
    session: &Session,
    known: &mut HashMap<uuid::Uuid, bool>,
    doc: uuid::Uuid,
) -> Result<bool, StorageError> {
    if let Some(v) = known.get(&doc) {
        return Ok(*v);
    }
    let v = match storage.load_doc(doc)? {
        Some(stored) => {
            access::device_sends(&session.user, Channel::DeviceSync, &stored, &ctx.calendar)?
        }
        None => false,
    };
    known.insert(doc, v);
    Ok(v)
}

/// The device's scope epoch, bumped when the user's subtree now holds a
/// grid the device was not served in the current one.
fn current_epoch(
    storage: &dyn Storage,
    session: &Session,
    scope_path: &str,
) -> Result<u16, StorageError> {
    let version = storage.grids_version()?;
    let served = storage.served_scope(&session.device_id)?;
    if let Some(s) = &served
        && s.root == session.user.grid
        && s.grids_version == version
    {
        return Ok(s.epoch);
    }
    let current = storage.subtree_codes(scope_path)?;
    let (epoch, grew) = match &served {
        None => (0, false),
        Some(s) => {
            let before: BTreeSet<&str> = s.grids.iter().map(String::as_str).collect();
            let grew = current.iter().any(|c| !before.contains(c.as_str()));
            (s.epoch, grew)
        }
    };
    // Wrapping after 65,535 scope changes of one device only risks
    // re-sending, never skipping, unless the device held a cursor from
    // exactly 65,536 changes ago.
    let epoch = if grew { epoch.wrapping_add(1) } else { epoch };
    if grew {
        tracing::info!(device = %session.device_id, epoch, "scope grew: re-sending from the start");
    }
    storage.set_served_scope(
        &session.device_id,
        &ServedScope {
            epoch,
            root: session.user.grid.clone(),
            grids_version: version,
            grids: current,
        },
    )?;
    Ok(epoch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_carry_the_epoch_above_the_position() {
        assert_eq!(make_cursor(0, 42), 42, "epoch 0 keeps small cursors small");
        let c = make_cursor(3, 1_000_000);
        assert_eq!(split_cursor(c), (3, 1_000_000));
        assert_eq!(split_cursor(u64::MAX), (u16::MAX, POSITION_MASK));
    }
}
