//! Checking and storing pushed changes.
//!
//! For each pushed document: drop changes the log already holds (a re-push
//! is harmless), refuse changes made with an actor id bound to another
//! device, apply the rest to the server's copy, and check the result with
//! the same code the device runs: the document is a readable record with
//! the pushed id, its grid before and after is in the user's subtree, it
//! validates, and every new workflow or review entry is the user's own and
//! allowed.
//!
//! Two kinds of refusal, following "a CRDT change cannot be taken back":
//!
//! - **Refused outright, nothing stored** (the rest of the batch still is):
//!   a record outside the user's grids, an unreadable or invalid record, a
//!   change by someone else's actor, a log entry in someone else's name or
//!   a rewritten log entry, a review decision the user's role may not take
//!   (review state is "last entry wins", so storing it would apply it). An
//!   honest device never makes these; its local checks are the same.
//! - **Stored and answered**: a workflow transition by the user, in their
//!   own name, that the rules do not allow where it lands (a grid worker
//!   verifying their own report, acting on a stale status). The incident's
//!   state is derived by a fold that skips such entries deterministically
//!   on every device ([`gridwork_core::workflow::derive`]), so storing it
//!   changes nothing but the visible timeline, and refusing it would wedge
//!   the document on the device. The answer carries `transition_refused`
//!   so the app can tell the worker why. (DESIGN.md's compensating change
//!   by the server's own actor is not needed for these: the fold already
//!   undoes their effect.)

use std::collections::{HashMap, HashSet};

use automerge::{AutoCommit, Change};
use gridwork_core::doc::RecordDoc;
use gridwork_core::model::{AnyRecord, Incident, ReviewDecision, ReviewEntry, ValidateCtx};
use gridwork_core::sync::wire::{DocChanges, Rejection};
use gridwork_core::validate::Lang;
use gridwork_core::workflow::{self, Actor};
use uuid::Uuid;

use super::SyncContext;
use crate::auth::Session;
use crate::storage::{
    CommitOutcome, DocWrite, NewChange, PushCommit, Storage, StorageError, StoredDoc,
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

/// Stable rejection codes.
pub mod codes {
    pub const MALFORMED_CHANGE: &str = "malformed_change";
    pub const MISSING_DEPENDENCIES: &str = "missing_dependencies";
    pub const ACTOR_MISMATCH: &str = "actor_mismatch";
    pub const OUTSIDE_SCOPE: &str = "outside_scope";
    pub const INVALID_RECORD: &str = "invalid_record";
    pub const DOC_ID_MISMATCH: &str = "doc_id_mismatch";
    pub const IMMUTABLE_FIELD: &str = "immutable_field";
    pub const TRANSITION_FORGED: &str = "transition_forged";
    pub const TRANSITION_REFUSED: &str = "transition_refused";
    pub const REVIEW_REFUSED: &str = "review_refused";
    pub const SERVER_ERROR: &str = "server_error";
}

/// One pushed document, parsed.
struct Batch {
    doc: Uuid,
    changes: Vec<Change>,
}

/// Checks and stores a push; returns the refused documents.
pub(super) fn store(
    storage: &dyn Storage,
    ctx: &SyncContext,
    session: &Session,
    scope_path: &str,
    push: Vec<DocChanges>,
    now: jiff::Timestamp,
) -> Result<Vec<Rejection>, PushError> {
    if push.is_empty() {
        return Ok(Vec::new());
    }
    let (batches, malformed) = parse(push);
    let mut scope = ScopeCheck::new(storage, scope_path);
    for _ in 0..MAX_ATTEMPTS {
        let mut rejected = malformed.clone();
        let mut writes = Vec::new();
        let mut new_actors = HashSet::new();
        let fresh = unseen(storage, &batches)?;
        let actors: Vec<String> = fresh
            .iter()
            .flat_map(|(_, changes)| changes.iter().map(|c| c.actor_id().to_hex_string()))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let owners: HashMap<String, String> = storage.actor_devices(&actors)?.into_iter().collect();
        for (batch, changes) in &fresh {
            if changes.is_empty() {
                continue;
            }
            let mut doc_actors = Vec::new();
            let mut mismatch = false;
            for c in changes {
                let actor = c.actor_id().to_hex_string();
                match owners.get(&actor) {
                    Some(device) if *device != session.device_id => mismatch = true,
                    Some(_) => {}
                    None => doc_actors.push(actor),
                }
            }
            if mismatch {
                rejected.push(reject(
                    batch.doc,
                    codes::ACTOR_MISMATCH,
                    "这些修改的作者身份属于另一台设备，服务器拒收 (the changes were made with another device's actor id)",
                ));
                continue;
            }
            match check(storage, ctx, session, &mut scope, batch.doc, changes, now)? {
                Checked::Refused(r) => rejected.push(r),
                Checked::Accepted { write, warnings } => {
                    new_actors.extend(doc_actors);
                    rejected.extend(warnings);
                    writes.push(write);
                }
            }
        }
        if writes.is_empty() {
            return Ok(rejected);
        }
        let commit = PushCommit {
            device_id: session.device_id.clone(),
            user_id: session.user.id.clone(),
            received_at: now.as_millisecond(),
            new_actors: new_actors.into_iter().collect(),
            docs: writes,
        };
        match storage.commit_push(&commit)? {
            CommitOutcome::Committed => return Ok(rejected),
            CommitOutcome::Conflict => {
                tracing::debug!("push lost a race; checking again");
                continue;
            }
        }
    }
    Err(PushError::Busy)
}

/// Parses every change; a document with an unreadable change is refused
/// whole. Several entries for one document are merged, in order.
fn parse(push: Vec<DocChanges>) -> (Vec<Batch>, Vec<Rejection>) {
    let mut batches: Vec<Batch> = Vec::new();
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    let mut bad: HashSet<Uuid> = HashSet::new();
    let mut rejected = Vec::new();
    for entry in push {
        if bad.contains(&entry.doc) {
            continue;
        }
        let parsed: Result<Vec<Change>, _> =
            entry.changes.into_iter().map(Change::from_bytes).collect();
        match parsed {
            Ok(changes) => {
                let i = *index.entry(entry.doc).or_insert_with(|| {
                    batches.push(Batch {
                        doc: entry.doc,
                        changes: Vec::new(),
                    });
                    batches.len() - 1
                });
                batches[i].changes.extend(changes);
            }
            Err(e) => {
                bad.insert(entry.doc);
                rejected.push(reject(
                    entry.doc,
                    codes::MALFORMED_CHANGE,
                    &format!("无法读取推送的修改 (a change cannot be read: {e})"),
                ));
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
            .is_some_and(|p| p.starts_with(self.root_path));
        self.known.insert(grid.to_string(), inside);
        Ok(inside)
    }
}

enum Checked {
    Refused(Rejection),
    Accepted {
        write: DocWrite,
        /// Stored, but the app should tell the worker (refused transitions).
        warnings: Vec<Rejection>,
    },
}

fn reject(doc: Uuid, code: &str, message: &str) -> Rejection {
    Rejection {
        doc,
        code: code.to_string(),
        message: message.to_string(),
    }
}

/// Applies one document's new changes to the server's copy and checks the
/// result.
fn check(
    storage: &dyn Storage,
    ctx: &SyncContext,
    session: &Session,
    scope: &mut ScopeCheck<'_>,
    doc_id: Uuid,
    changes: &[Change],
    now: jiff::Timestamp,
) -> Result<Checked, StorageError> {
    let refuse = |code: &str, message: String| Ok(Checked::Refused(reject(doc_id, code, &message)));
    let stored = storage.load_doc(doc_id)?;
    let (mut am, before) = match &stored {
        None => (AutoCommit::new(), None),
        Some(StoredDoc { snapshot, .. }) => match load_stored(snapshot) {
            Ok((am, record)) => (am, Some(record)),
            Err(e) => {
                tracing::error!(doc = %doc_id, error = %e, "a stored document cannot be read");
                return refuse(
                    codes::SERVER_ERROR,
                    "服务器上的该记录已损坏，请联系管理员 (the server's copy of this record is damaged)".into(),
                );
            }
        },
    };

    if let Err(e) = am.apply_changes(changes.iter().cloned()) {
        return refuse(
            codes::MALFORMED_CHANGE,
            format!("修改无法应用 (the changes cannot be applied: {e})"),
        );
    }
    if changes
        .iter()
        .any(|c| am.get_change_by_hash(&c.hash()).is_none())
    {
        return refuse(
            codes::MISSING_DEPENDENCIES,
            "修改依赖的早先修改尚未上传 (an earlier change these depend on was not pushed)".into(),
        );
    }
    let mut doc = match RecordDoc::from_automerge(am) {
        Ok(d) => d,
        Err(e) => return refuse(e.code(), format!("不是有效的记录文档 ({e})")),
    };
    if doc.id() != doc_id {
        return refuse(
            codes::DOC_ID_MISMATCH,
            format!(
                "记录编号与文档不符 (the document holds record {}, not {doc_id})",
                doc.id()
            ),
        );
    }
    if let Some(stored) = &stored
        && stored.kind != doc.kind().as_str()
    {
        return refuse(
            "doc_wrong_kind",
            format!(
                "记录类型不能更改 (a {} cannot become a {})",
                stored.kind,
                doc.kind()
            ),
        );
    }
    let after = match doc.read_any() {
        Ok(r) => r,
        Err(e) => return refuse(e.code(), format!("记录内容不完整或格式错误 ({e})")),
    };

    // Scope: where it was and where it is now must both be the user's.
    let grid_after = after.meta().grid.clone();
    for grid in before.iter().map(|b| &b.meta().grid).chain([&grid_after]) {
        if !scope.contains(grid)? {
            return refuse(
                codes::OUTSIDE_SCOPE,
                format!("网格 {grid} 不在您的管辖范围内 (grid {grid} is outside your grids)"),
            );
        }
    }
    if before.is_none() && after.meta().created_by != session.user.id {
        return refuse(
            codes::IMMUTABLE_FIELD,
            format!(
                "新记录的创建人必须是您本人 (a new record must be created by you, not {})",
                after.meta().created_by
            ),
        );
    }
    if let Some(b) = &before
        && (b.meta().created_by != after.meta().created_by
            || b.meta().created_at != after.meta().created_at)
    {
        return refuse(
            codes::IMMUTABLE_FIELD,
            "记录的创建人和创建时间不能修改 (who created a record and when cannot change)".into(),
        );
    }

    if !after.meta().deleted {
        let today = gridwork_core::calendar::shanghai_date(now);
        // Validation may normalize; the normalized copy is thrown away; the
        // device writes normalizations itself.
        if let Err(errors) = after.clone().normalize_and_validate(&ValidateCtx { today }) {
            let message = errors
                .0
                .iter()
                .map(|e| e.message(Lang::ZhCn))
                .collect::<Vec<_>>()
                .join("；");
            return refuse(codes::INVALID_RECORD, message);
        }
    }

    let mut warnings = Vec::new();
    match (&before, &after) {
        (before, AnyRecord::Incident(inc)) => {
            let old = match before {
                Some(AnyRecord::Incident(b)) => b.log.as_slice(),
                _ => &[],
            };
            match check_transitions(ctx, session, old, inc) {
                LogCheck::Ok => {}
                LogCheck::Forged(message) => return refuse(codes::TRANSITION_FORGED, message),
                LogCheck::Refused(messages) => warnings.extend(
                    messages
                        .into_iter()
                        .map(|m| reject(doc_id, codes::TRANSITION_REFUSED, &m)),
                ),
            }
        }
        (before, AnyRecord::Household(_) | AnyRecord::Resident(_)) => {
            let old = before.as_ref().map(review_log).unwrap_or_default();
            if let Err((code, message)) = check_reviews(session, old, review_log(&after)) {
                return refuse(code, message);
            }
        }
        _ => {}
    }

    let moved = before.as_ref().is_some_and(|b| b.meta().grid != grid_after);
    Ok(Checked::Accepted {
        write: DocWrite {
            id: doc_id,
            kind: doc.kind().as_str().to_string(),
            grid: grid_after,
            snapshot: doc.save(),
            base_rev: stored.map(|s| s.rev),
            moved,
            changes: changes
                .iter()
                .map(|c| NewChange {
                    hash: c.hash().0,
                    bytes: c.raw_bytes().to_vec(),
                })
                .collect(),
        },
        warnings,
    })
}

fn load_stored(snapshot: &[u8]) -> Result<(AutoCommit, AnyRecord), String> {
    let am = AutoCommit::load(snapshot).map_err(|e| e.to_string())?;
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
        _ => &[],
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
    Ok,
    Forged(String),
    Refused(Vec<String>),
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
    for i in fresh {
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
            refused.push(format!(
                "{}（该操作已记录但不生效）({}; kept in the timeline, not applied)",
                e.message(Lang::ZhCn),
                e.code()
            ));
        }
    }
    if refused.is_empty() {
        LogCheck::Ok
    } else {
        LogCheck::Refused(refused)
    }
}

fn check_reviews(
    session: &Session,
    before: &[ReviewEntry],
    after: &[ReviewEntry],
) -> Result<(), (&'static str, String)> {
    let Some(fresh) = new_entries(before, after) else {
        return Err((
            codes::REVIEW_REFUSED,
            "审核记录只能追加，不能修改或删除 (the review log can only be appended to)".into(),
        ));
    };
    for i in fresh {
        let entry = &after[i];
        if entry.by != session.user.id {
            return Err((
                codes::REVIEW_REFUSED,
                format!(
                    "审核记录必须以您本人的身份填写 (a review entry names {}; you are {})",
                    entry.by, session.user.id
                ),
            ));
        }
        if matches!(
            entry.decision,
            ReviewDecision::Accept | ReviewDecision::Return
        ) && !session.user.role.is_supervisor()
        {
            return Err((
                codes::REVIEW_REFUSED,
                "只有主管人员可以审核通过或退回 (only a supervisor may accept or return a record)"
                    .into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::new_entries;

    #[test]
    fn new_log_entries_are_found_wherever_a_merge_put_them() {
        assert_eq!(new_entries(&[1, 2], &[1, 3, 2, 4]), Some(vec![1, 3]));
        assert_eq!(new_entries::<i32>(&[], &[]), Some(vec![]));
        assert_eq!(new_entries(&[1, 1], &[1, 1, 1]), Some(vec![2]));
        assert_eq!(new_entries(&[1, 2], &[1, 5]), None, "a rewritten entry");
        assert_eq!(new_entries(&[1, 2], &[1]), None, "a removed entry");
    }
}
