//! Checking and storing pushed changes.
//!
//! For each pushed document: drop changes the log already holds (a re-push
//! is harmless), refuse changes whose actor the server did not assign to
//! the user or whose message names someone else ([`super::authorship`]),
//! apply the rest to the server's copy, and check the result with
//! the same code the device runs: the document is a readable record with
//! the pushed id, its grid before and after is in the user's subtree, it
//! validates, and every new workflow or review entry is the user's own and
//! allowed.
//!
//! Two kinds of refusal, following "a CRDT change cannot be taken back":
//!
//! - **Refused outright, nothing stored** (the rest of the batch still is):
//!   a record outside the user's grids (before or after the change), an
//!   unreadable or invalid record, a change by someone else's actor
//!   (the server's own included), a log entry in someone else's name or a
//!   rewritten log entry, a kind of record the user's role may not write
//!   at all (a department handler's household, a task a grid worker made
//!   or deleted: tasks come from above). An honest device never
//!   makes these; its local checks are the same.
//! - **Stored and answered with a [`Notice`]**, for what the user did to a
//!   record they may otherwise edit:
//!   - a workflow transition, in their own name, that the rules do not
//!     allow where it lands (a grid worker verifying their own report,
//!     acting on a stale status). The incident's state is derived by a
//!     fold that skips such entries on every device
//!     ([`gridwork_core::workflow::derive`]), so storing it changes only
//!     the visible timeline (`transition_refused`);
//!   - a forbidden field edit: who created a record and when
//!     (`immutable_field`), a review decision the user's role may not take
//!     (`review_refused`, since review state is "last entry wins"), a
//!     department handler's edit of an incident's fields
//!     (`field_not_allowed`), a grid worker's edit of a task beyond ticking
//!     its lines (`field_not_allowed`; only community and street
//!     supervisors and admins create, change or delete tasks, see
//!     [`gridwork_core::model::Task::worker_edit_only`]). The server stores the change and makes a
//!     **compensating change** with its own actor that restores the
//!     previous values; it is logged like any change, so the pushing device
//!     receives it in the same answer's pull, and every other device too.
//!     Nothing is wedged and the history stays honest.
//!
//! **Receipt time.** Every new workflow entry gets `received_at`, the
//! server's clock when it first stored it, in the same server change:
//! deadlines and overdue flags count from it because device clocks lie.

use std::collections::{HashMap, HashSet};

use automerge::{ActorId, AutoCommit, Change};
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::model::{
    AnyRecord, Incident, Meta, PhotoRole, ReviewDecision, ReviewEntry, Role, ValidateCtx,
};
use gridwork_core::problem::{Params, params};
use gridwork_core::sync::compact::ExpandError;
use gridwork_core::sync::wire::{DocChanges, Notice, NoticeCode, Rejection, RejectionCode};
use gridwork_core::workflow::{self, Actor};
use uuid::Uuid;

use super::contain::contained;
use super::refused::Refused;
use super::{SyncContext, authorship, expand, follow, state};
use crate::auth::Session;
use crate::auth::{SERVER_DEVICE, SERVER_USER};
use crate::storage::{
    ActorOwner, Boundaries, CommitOutcome, DocWrite, NewChange, ProjectionRow, PushCommit, Storage,
    StorageError, StoredDoc,
};

/// How often a push is re-checked after losing a race for a document.
const MAX_ATTEMPTS: usize = 5;

/// Why a push could not be stored at all.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("kept conflicting with concurrent pushes")]
    Busy,
}

/// One pushed document, parsed.
struct Batch {
    doc: Uuid,
    changes: Vec<Change>,
}

/// What a push came to: refused documents and notices about stored ones.
#[derive(Debug, Default)]
pub(super) struct Pushed {
    pub rejected: Vec<Rejection>,
    pub notices: Vec<Notice>,
}

/// Checks and stores a push.
pub(super) fn store(
    storage: &dyn Storage,
    ctx: &SyncContext,
    session: &Session,
    scope_path: &str,
    push: Vec<DocChanges>,
    now: jiff::Timestamp,
) -> Result<Pushed, PushError> {
    if push.is_empty() {
        return Ok(Pushed::default());
    }
    let mut preloaded = expand::preload(storage, push.iter().map(|e| (e.doc, &e.changes[..])))?;
    let (batches, malformed) = parse(push, &mut preloaded, session);
    let mut scope = ScopeCheck::new(storage, scope_path);
    let mut server = ServerActor::new(storage, scope_path);
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            // Lost a race: what was read before may be stale.
            preloaded.clear();
        }
        let mut rejected = malformed.clone();
        let mut notices = Vec::new();
        let mut writes = Vec::new();
        let fresh = unseen(storage, &batches)?;
        let actors: Vec<String> = fresh
            .iter()
            .flat_map(|(_, changes)| changes.iter().map(|c| c.actor_id().to_hex_string()))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let owners: HashMap<String, ActorOwner> =
            storage.actor_owners(&actors)?.into_iter().collect();
        for (batch, changes) in &fresh {
            if changes.is_empty() {
                continue;
            }
            if let Some(refused) = authorship::check(&owners, session, changes) {
                rejected.push(refused.reject(batch.doc));
                continue;
            }
            let mut checker = Checker {
                storage,
                preloaded: &mut preloaded,
                ctx,
                session,
                scope: &mut scope,
                server: &mut server,
                now,
            };
            let checked = contained("the push check", || checker.check(batch.doc, changes))
                .unwrap_or_else(|panic| {
                    Ok(Checked::Refused(Refused::bare(
                        RejectionCode::MalformedChange,
                        format_args!("the changes cannot be applied: {panic}"),
                    )))
                })?;
            match checked {
                Checked::Refused(r) => rejected.push(r.reject(batch.doc)),
                Checked::Accepted {
                    write,
                    notices: told,
                } => {
                    notices.extend(told);
                    writes.push(*write);
                }
            }
        }
        if writes.is_empty() {
            return Ok(Pushed { rejected, notices });
        }
        let follow = follow::parties_follow(storage, &mut server, &writes, now)?;
        writes.extend(follow);
        let commit = PushCommit {
            device_id: session.device_id.clone(),
            user_id: session.user.id.clone(),
            received_at: now.as_millisecond(),
            blob_refs: crate::blob_grants::for_push(storage, &ctx.calendar, session, &writes)?,
            docs: writes,
        };
        match storage.commit_push(&commit)? {
            CommitOutcome::Committed => return Ok(Pushed { rejected, notices }),
            CommitOutcome::Conflict => {
                tracing::debug!("push lost a race; checking again");
                continue;
            }
        }
    }
    Err(PushError::Busy)
}

/// Parses every change, rebuilding compact ones ([`expand`]); a document
/// with an unreadable change is refused whole (`malformed_change`), one
/// with a compact change the server cannot rebuild too
/// (`compact_unresolved`: the device sends it whole next time). Several
/// entries for one document are merged, in order.
fn parse(
    push: Vec<DocChanges>,
    preloaded: &mut expand::Preloaded,
    session: &Session,
) -> (Vec<Batch>, Vec<Rejection>) {
    let mut batches: Vec<Batch> = Vec::new();
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    let mut bad: HashSet<Uuid> = HashSet::new();
    let mut rejected = Vec::new();
    let mut rebuild = expand::Rebuild::default();
    let own_actor = session.actor.as_ref().map_or(&[][..], |a| a.to_bytes());
    for entry in push {
        if bad.contains(&entry.doc) {
            continue;
        }
        let doc = entry.doc;
        let parsed: Result<Vec<Change>, Refused> = entry
            .changes
            .into_iter()
            .map(|c| {
                let whole = rebuild
                    .whole(preloaded, doc, own_actor, &session.user.id, c)
                    .map_err(|e| match e {
                        ExpandError::Malformed => Refused::bare(
                            RejectionCode::MalformedChange,
                            format_args!("a compact change cannot be read: {e}"),
                        ),
                        other => Refused::bare(
                            RejectionCode::CompactUnresolved,
                            format_args!("a compact change cannot be rebuilt: {other}"),
                        ),
                    })?;
                let change = match contained("Change::from_bytes", || Change::from_bytes(whole)) {
                    Ok(parsed) => parsed.map_err(|e| e.to_string()),
                    Err(panic) => Err(panic),
                }
                .map_err(|e| {
                    Refused::bare(
                        RejectionCode::MalformedChange,
                        format_args!("a change cannot be read: {e}"),
                    )
                })?;
                rebuild.add(preloaded, doc, &change);
                Ok(change)
            })
            .collect();
        match parsed {
            Ok(changes) => {
                let i = *index.entry(doc).or_insert_with(|| {
                    batches.push(Batch {
                        doc,
                        changes: Vec::new(),
                    });
                    batches.len() - 1
                });
                batches[i].changes.extend(changes);
            }
            Err(refused) => {
                bad.insert(doc);
                rejected.push(refused.reject(doc));
            }
        }
    }
    batches.retain(|b| !bad.contains(&b.doc));
    (batches, rejected)
}

/// The changes of each batch not yet in the log, without duplicates.
fn unseen<'a>(
    storage: &dyn Storage,
    batches: &'a [Batch],
) -> Result<Vec<(&'a Batch, Vec<Change>)>, StorageError> {
    let hashes: Vec<[u8; 32]> = batches
        .iter()
        .flat_map(|b| b.changes.iter().map(|c| c.hash().0))
        .collect();
    let mut seen: HashSet<[u8; 32]> = storage.known_changes(&hashes)?.into_iter().collect();
    Ok(batches
        .iter()
        .map(|b| {
            let fresh = b
                .changes
                .iter()
                .filter(|c| seen.insert(c.hash().0))
                .cloned()
                .collect();
            (b, fresh)
        })
        .collect())
}

/// Grid codes checked against the user's subtree, remembered per request.
struct ScopeCheck<'a> {
    storage: &'a dyn Storage,
    root_path: &'a str,
    known: HashMap<String, bool>,
}

impl<'a> ScopeCheck<'a> {
    fn new(storage: &'a dyn Storage, root_path: &'a str) -> ScopeCheck<'a> {
        ScopeCheck {
            storage,
            root_path,
            known: HashMap::new(),
        }
    }

    fn contains(&mut self, grid: &str) -> Result<bool, StorageError> {
        if let Some(inside) = self.known.get(grid) {
            return Ok(*inside);
        }
        let inside = self
            .storage
            .grid_path(grid)?
            .is_some_and(|p| crate::access::within(&p, self.root_path));
        self.known.insert(grid.to_string(), inside);
        Ok(inside)
    }
}

enum Checked {
    Refused(Refused),
    Accepted {
        write: Box<DocWrite>,
        /// Stored, but the app should tell the worker.
        notices: Vec<Notice>,
    },
}

/// The server's own actor, looked up (or made) once per push and only
/// when the server has a change of its own to write.
pub(super) struct ServerActor<'a> {
    storage: &'a dyn Storage,
    scope_path: &'a str,
    actor: Option<ActorId>,
}

impl<'a> ServerActor<'a> {
    fn new(storage: &'a dyn Storage, scope_path: &'a str) -> ServerActor<'a> {
        ServerActor {
            storage,
            scope_path,
            actor: None,
        }
    }

    pub(super) fn get(&mut self) -> Result<ActorId, StorageError> {
        if let Some(actor) = &self.actor {
            return Ok(actor.clone());
        }
        // The server's pseudo-user needs a grid: the root of the tree.
        let root = self
            .scope_path
            .split('/')
            .find(|s| !s.is_empty())
            .unwrap_or_default();
        let hex = match crate::admin::server_actor(self.storage, root) {
            Ok(hex) => hex,
            // Two first pushes made it at once: the other one's stands.
            Err(_) => crate::admin::server_actor(self.storage, root).map_err(|e| match e {
                crate::admin::AdminError::Storage(s) => s,
                other => StorageError::Corrupt(other.to_string()),
            })?,
        };
        let actor = ActorId::try_from(hex.as_str())
            .map_err(|_| StorageError::Corrupt(format!("the server's actor {hex} is not hex")))?;
        self.actor = Some(actor.clone());
        Ok(actor)
    }
}

/// Checks one document of a push.
struct Checker<'a, 'b> {
    storage: &'a dyn Storage,
    /// Documents already read to rebuild compact changes.
    preloaded: &'b mut expand::Preloaded,
    ctx: &'a SyncContext,
    session: &'a Session,
    scope: &'b mut ScopeCheck<'a>,
    server: &'b mut ServerActor<'a>,
    now: jiff::Timestamp,
}

impl Checker<'_, '_> {
    /// Applies one document's new changes to the server's copy and checks
    /// the result.
    fn check(&mut self, doc_id: Uuid, changes: &[Change]) -> Result<Checked, StorageError> {
        let refuse = |refused: Refused| Ok(Checked::Refused(refused));
        let bare = |code: RejectionCode, detail: String| refuse(Refused::bare(code, detail));
        let session = self.session;
        if let Some(refused) = state::change_sizes(changes.iter().map(|c| c.raw_bytes().len())) {
            return refuse(refused);
        }
        let (stored, decoded) = match self.preloaded.remove(&doc_id) {
            Some(preload) => (Some(preload.stored), preload.decoded),
            None => (self.storage.load_doc(doc_id)?, None),
        };
        if let Some(refused) = state::created_once(stored.is_some(), changes) {
            return refuse(refused);
        }
        let (mut am, before) = match &stored {
            None => (AutoCommit::new(), None),
            Some(StoredDoc { snapshot, .. }) => match load_stored(snapshot, decoded) {
                Ok((am, record)) => (am, Some(record)),
                Err(e) => {
                    tracing::error!(doc = %doc_id, error = %e, "a stored document cannot be read");
                    return bare(
                        RejectionCode::ServerError,
                        "the server's copy of this record is damaged".into(),
                    );
                }
            },
        };

        if let Err(e) = am.apply_changes(changes.iter().cloned()) {
            return bare(
                RejectionCode::MalformedChange,
                format!("the changes cannot be applied: {e}"),
            );
        }
        if changes
            .iter()
            .any(|c| am.get_change_by_hash(&c.hash()).is_none())
        {
            return bare(
                RejectionCode::MissingDependencies,
                "an earlier change these depend on was not pushed".into(),
            );
        }
        let mut doc = match RecordDoc::from_automerge(am) {
            Ok(d) => d,
            Err(e) => return refuse(doc_refused(&e)),
        };
        if doc.id() != doc_id {
            return bare(
                RejectionCode::DocIdMismatch,
                format!("the document holds record {}, not {doc_id}", doc.id()),
            );
        }
        if let Some(stored) = &stored
            && stored.kind != doc.kind().as_str()
        {
            return refuse(Refused::new(
                RejectionCode::DocWrongKind,
                params([("kind", stored.kind.as_str().into())]),
                format_args!("a {} cannot become a {}", stored.kind, doc.kind()),
            ));
        }
        let after = match doc.read_any() {
            Ok(r) => r,
            Err(e) => return refuse(doc_refused(&e)),
        };

        // Scope: where it was and where it is now must both be the user's.
        let grid_after = after.meta().grid.clone();
        for grid in before.iter().map(|b| &b.meta().grid).chain([&grid_after]) {
            if !self.scope.contains(grid)? {
                return refuse(Refused::new(
                    RejectionCode::OutsideScope,
                    params([("grid", grid.as_str().into())]),
                    format_args!("grid {grid} is outside the user's grids"),
                ));
            }
        }
        // A department handler works on incidents dispatched to them; the
        // register (households, residents), patrols and visits are the
        // grid staff's.
        if session.user.role == Role::DepartmentHandler
            && (before.is_none() || !matches!(after, AnyRecord::Incident(_)))
        {
            return refuse(Refused::new(
                RejectionCode::RoleNotAllowed,
                params([("kind", after.kind().as_str().into())]),
                "a department handler may only edit an existing incident",
            ));
        }
        // ... and only on those dispatched to them (to them by name or to
        // their department), as they were before this push.
        if let Some(AnyRecord::Incident(old)) = &before
            && session.user.role == Role::DepartmentHandler
            && !crate::access::dispatched_to(
                &session.user,
                workflow::derive(old, &self.ctx.calendar).assignee.as_ref(),
            )
        {
            return bare(
                RejectionCode::OutsideScope,
                "the incident is not dispatched to the handler or their department".into(),
            );
        }
        // Tasks come from above: only an issuer creates or deletes one (a
        // tombstone cannot be compensated); a worker's other edits are
        // narrowed to ticking items below.
        if let AnyRecord::Task(_) = &after
            && !session.user.role.may_issue_tasks()
            && (before.is_none() || after.meta().deleted)
        {
            return refuse(Refused::new(
                RejectionCode::RoleNotAllowed,
                params([("kind", "task".into())]),
                "only a community or street supervisor may issue or delete a task",
            ));
        }
        if before.is_none() && after.meta().created_by != session.user.id {
            return bare(
                RejectionCode::ImmutableField,
                format!(
                    "a new record names {} as its creator",
                    after.meta().created_by
                ),
            );
        }

        if let Some(refused) = crate::access::refused_push(
            self.storage,
            session,
            stored.as_ref(),
            doc.automerge(),
            &after,
        )? {
            use crate::access::PushRefused;
            let (code, named) = match &refused {
                PushRefused::PartiesInIncident => (RejectionCode::PartiesInIncident, Params::new()),
                PushRefused::PartiesNotByCreator => (
                    RejectionCode::RoleNotAllowed,
                    params([("kind", after.kind().as_str().into())]),
                ),
                PushRefused::PartiesOutsideGrid(grid) => (
                    RejectionCode::PartiesOutsideGrid,
                    params([("grid", grid.as_str().into())]),
                ),
            };
            return refuse(Refused::new(code, named, refused));
        }
        let today = gridwork_core::calendar::shanghai_date(self.now);
        if let Err(refused) = state::validate(before.as_ref(), &after, &ValidateCtx { today }) {
            return refuse(refused);
        }
        if let Some(refused) = self
            .ctx
            .places
            .check(self.storage, before.as_ref(), &after)?
        {
            return refuse(refused);
        }

        // What the server writes back: restored fields, receipt times.
        let mut corrected = after.clone();
        let mut notices = Vec::new();
        notices.extend(state::keep_tombstone(
            doc_id,
            before.as_ref(),
            &mut corrected,
        ));
        if let Some(b) = &before {
            let (old, new) = (b.meta(), after.meta());
            if old.created_by != new.created_by || old.created_at != new.created_at {
                let meta = meta_mut(&mut corrected);
                meta.created_by = old.created_by.clone();
                meta.created_at = old.created_at;
                notices.push(Notice::new(
                    doc_id,
                    NoticeCode::ImmutableField,
                    Params::new(),
                ));
            }
        }
        if let AnyRecord::Incident(inc) = &mut corrected {
            let old = match &before {
                Some(AnyRecord::Incident(b)) => Some(b),
                _ => None,
            };
            let old_log = old.map(|b| b.log.as_slice()).unwrap_or_default();
            let fresh =
                match check_transitions(self.ctx, session, old_log, inc) {
                    LogCheck::Forged(detail) => {
                        return bare(RejectionCode::TransitionForged, detail);
                    }
                    LogCheck::Checked { fresh, refused } => {
                        notices.extend(refused.into_iter().map(|params| {
                            Notice::new(doc_id, NoticeCode::TransitionRefused, params)
                        }));
                        fresh
                    }
                };
            let received = self.now.as_millisecond();
            for i in fresh {
                inc.log[i].received_at = Some(received);
            }
            if session.user.role == Role::DepartmentHandler
                && let Some(old) = old
                && restore_all_but_log(old, inc)
            {
                notices.push(Notice::new(
                    doc_id,
                    NoticeCode::FieldNotAllowed,
                    params([("kind", "incident".into())]),
                ));
            }
        } else if let (AnyRecord::Task(task), Some(AnyRecord::Task(old))) =
            (&mut corrected, &before)
        {
            if !session.user.role.may_issue_tasks() {
                let allowed = old.worker_edit_only(task, &session.user.id);
                if allowed != *task {
                    *task = allowed;
                    notices.push(Notice::new(
                        doc_id,
                        NoticeCode::FieldNotAllowed,
                        params([("kind", "task".into())]),
                    ));
                }
            }
        } else if let Some(log) = review_log_mut(&mut corrected) {
            let old = before.as_ref().map(review_log).unwrap_or_default();
            match check_reviews(session, old, log) {
                Err(detail) => return bare(RejectionCode::ReviewForged, detail),
                Ok(forbidden) if forbidden.is_empty() => {}
                Ok(forbidden) => {
                    for i in forbidden.into_iter().rev() {
                        log.remove(i);
                    }
                    notices.push(Notice::new(
                        doc_id,
                        NoticeCode::ReviewRefused,
                        Params::new(),
                    ));
                }
            }
        }

        let mut new_changes: Vec<NewChange> = changes
            .iter()
            .map(|c| NewChange {
                hash: c.hash().0,
                bytes: c.raw_bytes().to_vec(),
                device_id: None,
            })
            .collect();
        if corrected != after {
            doc.set_actor(self.server.get()?);
            let author = Author::new(SERVER_USER, self.now.as_millisecond());
            match doc.write_diff_any(&author, &after, &corrected) {
                Ok(Some(hash)) => {
                    let bytes = doc
                        .automerge()
                        .get_change_by_hash(&hash)
                        .map(|c| c.raw_bytes().to_vec())
                        .ok_or_else(|| {
                            StorageError::Corrupt("the server's own change vanished".into())
                        })?;
                    // Credited to the server's device, so the pushing
                    // device pulls it like everyone else.
                    new_changes.push(NewChange {
                        hash: hash.0,
                        bytes,
                        device_id: Some(SERVER_DEVICE.to_string()),
                    });
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(doc = %doc_id, error = %e, "the server's compensating change failed");
                    return bare(
                        RejectionCode::ServerError,
                        "the server's compensating change failed".into(),
                    );
                }
            }
        }

        let moved = before.as_ref().is_some_and(|b| b.meta().grid != grid_after);
        let snapshot = doc.save();
        if let Some(refused) = state::document_size(snapshot.len()) {
            return refuse(refused);
        }
        Ok(Checked::Accepted {
            write: Box::new(DocWrite {
                id: doc_id,
                kind: doc.kind().as_str().to_string(),
                grid: grid_after,
                snapshot,
                base_rev: stored.map(|s| s.rev),
                moved,
                changes: new_changes,
                photos: crate::storage::photo_references(&corrected),
                projection: ProjectionRow::read(
                    &corrected,
                    &self.ctx.calendar,
                    &mut Boundaries::new(self.storage),
                )?,
            }),
            notices,
        })
    }
}

/// The refusal of a pushed document that does not read as a record.
fn doc_refused(e: &gridwork_core::doc::DocError) -> Refused {
    let (code, named) = RejectionCode::of_doc_error(e);
    Refused::new(code, named, e)
}

fn meta_mut(record: &mut AnyRecord) -> &mut Meta {
    match record {
        AnyRecord::Household(r) => &mut r.meta,
        AnyRecord::Resident(r) => &mut r.meta,
        AnyRecord::Incident(r) => &mut r.meta,
        AnyRecord::Patrol(r) => &mut r.meta,
        AnyRecord::Visit(r) => &mut r.meta,
        AnyRecord::Task(r) => &mut r.meta,
        AnyRecord::IncidentParties(r) => &mut r.meta,
    }
}

/// Puts every field of `old` back into `new` except the workflow log and
/// the after-photos a report-back added (new photos of role `after` that a
/// log entry names). Whether anything had changed.
fn restore_all_but_log(old: &Incident, new: &mut Incident) -> bool {
    let mut restored = old.clone();
    restored.log = new.log.clone();
    let named: std::collections::HashSet<&str> = new
        .log
        .iter()
        .flat_map(|t| t.photos.iter().map(String::as_str))
        .collect();
    restored.photos.extend(
        new.photos
            .iter()
            .filter(|p| {
                p.role == PhotoRole::After
                    && named.contains(p.sha256.as_str())
                    && !old.photos.contains(p)
            })
            .cloned(),
    );
    if restored == *new {
        return false;
    }
    *new = restored;
    true
}

/// The stored document and its record, from `snapshot` unless it was
/// decoded already (to rebuild a compact change).
fn load_stored(
    snapshot: &[u8],
    decoded: Option<AutoCommit>,
) -> Result<(AutoCommit, AnyRecord), String> {
    let am = match decoded {
        Some(am) => am,
        None => AutoCommit::load(snapshot).map_err(|e| e.to_string())?,
    };
    let mut doc = RecordDoc::from_automerge(am).map_err(|e| e.to_string())?;
    let record = doc.read_any().map_err(|e| e.to_string())?;
    // Take the document back out: the pushed changes are applied to it and
    // the result checked from scratch.
    Ok((std::mem::take(doc.automerge()), record))
}

fn review_log(record: &AnyRecord) -> &[ReviewEntry] {
    match record {
        AnyRecord::Household(h) => &h.review,
        AnyRecord::Resident(r) => &r.review,
        AnyRecord::Visit(v) => &v.review,
        _ => &[],
    }
}

fn review_log_mut(record: &mut AnyRecord) -> Option<&mut Vec<ReviewEntry>> {
    match record {
        AnyRecord::Household(h) => Some(&mut h.review),
        AnyRecord::Resident(r) => Some(&mut r.review),
        AnyRecord::Visit(v) => Some(&mut v.review),
        _ => None,
    }
}

/// Splits `after` into entries already in `before` and new ones (by value:
/// an append-only log's old entries never change). `None` when an old
/// entry was removed or rewritten.
fn new_entries<T: PartialEq>(before: &[T], after: &[T]) -> Option<Vec<usize>> {
    let mut unmatched: Vec<&T> = before.iter().collect();
    let mut fresh = Vec::new();
    for (i, entry) in after.iter().enumerate() {
        match unmatched.iter().position(|old| *old == entry) {
            Some(j) => {
                unmatched.swap_remove(j);
            }
            None => fresh.push(i),
        }
    }
    unmatched.is_empty().then_some(fresh)
}

enum LogCheck {
    /// The new entries (indexes into the log) and, as the params of a
    /// `transition_refused` notice, why each refused one is kept but not
    /// applied.
    Checked {
        fresh: Vec<usize>,
        refused: Vec<Params>,
    },
    Forged(String),
}

fn check_transitions(
    ctx: &SyncContext,
    session: &Session,
    before: &[workflow::Transition],
    after: &Incident,
) -> LogCheck {
    let Some(fresh) = new_entries(before, &after.log) else {
        return LogCheck::Forged(
            "事件的流转记录只能追加，不能修改或删除 (an incident's log can only be appended to)"
                .into(),
        );
    };
    let user = &session.user;
    let mut refused = Vec::new();
    for &i in &fresh {
        let entry = &after.log[i];
        if entry.actor != user.id || entry.role != user.role {
            return LogCheck::Forged(format!(
                "流转记录必须以您本人的身份和角色填写 (a log entry names {} as {:?}; you are {} as {:?})",
                entry.actor, entry.role, user.id, user.role
            ));
        }
        // The state where the entry lands, as every device's fold sees it.
        let mut prefix = after.clone();
        prefix.log.truncate(i);
        let state = workflow::derive(&prefix, &ctx.calendar);
        if let Err(e) = workflow::check(
            &state,
            &after.meta.created_by,
            Actor {
                user: &user.id,
                role: user.role,
            },
            &entry.action,
            &entry.opinion,
            &entry.photos,
        ) {
            tracing::info!(error = %e, "a transition kept in the timeline, not applied");
            let mut why = e.params();
            why.insert("error".into(), e.code().into());
            refused.push(why);
        }
    }
    LogCheck::Checked { fresh, refused }
}

/// Checks the new review entries: `Err` for a rewritten log or an entry
/// in someone else's name (refused outright), otherwise the indexes of the
/// entries the user's role may not make (undone by the server).
fn check_reviews(
    session: &Session,
    before: &[ReviewEntry],
    after: &[ReviewEntry],
) -> Result<Vec<usize>, String> {
    let Some(fresh) = new_entries(before, after) else {
        return Err(
            "审核记录只能追加，不能修改或删除 (the review log can only be appended to)".into(),
        );
    };
    let mut forbidden = Vec::new();
    for i in fresh {
        let entry = &after[i];
        if entry.by != session.user.id {
            return Err(format!(
                "审核记录必须以您本人的身份填写 (a review entry names {}; you are {})",
                entry.by, session.user.id
            ));
        }
        if matches!(
            entry.decision,
            ReviewDecision::Accept | ReviewDecision::Return
        ) && !session.user.role.is_supervisor()
        {
            forbidden.push(i);
        }
    }
    forbidden.sort_unstable();
    Ok(forbidden)
}

#[cfg(test)]
mod tests {
    use super::{new_entries, restore_all_but_log};
    use gridwork_core::model::{
        Category, CategoryMajor, Incident, IncidentSource, Meta, PhotoRef, PhotoRole, Role, Urgency,
    };
    use gridwork_core::workflow::{Action, Status, Transition};

    fn incident() -> Incident {
        Incident {
            meta: Meta::new("440106001001001", "gw-1", 0),
            number: "SJ-1".into(),
            title: "占道经营".into(),
            description: "路口占道摆摊".into(),
            category: Category {
                major: CategoryMajor::Other,
                minor: String::new(),
            },
            source: IncidentSource::Patrol,
            urgency: Urgency::Medium,
            point: None,
            address: String::new(),
            happened_at: 0,
            photos: Vec::new(),
            hotline_order: None,
            patrol_id: None,
            mediation: None,
            log: Vec::new(),
        }
    }

    fn photo(sha: &str, role: PhotoRole) -> PhotoRef {
        PhotoRef {
            sha256: sha.repeat(32),
            thumb_sha256: None,
            role,
            bytes: 1,
            width: 1,
            height: 1,
            taken_at: None,
        }
    }

    #[test]
    fn a_handler_keeps_only_after_photos_their_report_back_names() {
        let old = incident();
        let mut new = old.clone();
        new.log.push(Transition {
            action: Action::Resolve,
            actor: "dh".into(),
            role: Role::DepartmentHandler,
            from: Status::InProgress,
            to: Status::Resolved,
            opinion: "已处理".into(),
            photos: vec!["ab".repeat(32)],
            at: 1,
            received_at: None,
        });
        new.photos.push(photo("ab", PhotoRole::After));
        let kept = new.clone();
        assert!(!restore_all_but_log(&old, &mut new), "nothing to restore");
        assert_eq!(new, kept);

        // An after-photo no log entry names, a before-photo, a title edit: undone.
        new.photos.push(photo("cd", PhotoRole::After));
        new.photos.push(photo("ab", PhotoRole::Before));
        new.title = "改过的标题".into();
        assert!(restore_all_but_log(&old, &mut new));
        assert_eq!(new, kept);
    }

    #[test]
    fn new_log_entries_are_found_wherever_a_merge_put_them() {
        assert_eq!(new_entries(&[1, 2], &[1, 3, 2, 4]), Some(vec![1, 3]));
        assert_eq!(new_entries::<i32>(&[], &[]), Some(vec![]));
        assert_eq!(new_entries(&[1, 1], &[1, 1, 1]), Some(vec![2]));
        assert_eq!(new_entries(&[1, 2], &[1, 5]), None, "a rewritten entry");
        assert_eq!(new_entries(&[1, 2], &[1]), None, "a removed entry");
    }
}
