//! The decisions a supervisor or department handler takes in the console:
//! a review (accept, return with a comment) of a household or resident, a
//! workflow transition of an incident. What they may see is
//! [`crate::access`]'s.
//!
//! A decision is written into the record's document as one Automerge
//! change by the console enrolment's actor, then pushed through
//! [`crate::sync::run`] like a tablet's push: the same scope, validation,
//! review and workflow checks, the same log. The rules themselves are
//! `gridwork_core::workflow`'s, checked before writing so an honest
//! console never writes a transition the fold would skip.

use automerge::AutoCommit;
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::media::{self, MediaError};
use gridwork_core::model::{
    AnyRecord, CategoryMajor, Incident, Mediation, PhotoRef, PhotoRole, Record, ReviewDecision,
    ReviewEntry, Role, User, limits,
};
use gridwork_core::problem::{Params, params};
use gridwork_core::sync::wire::{DocChanges, Rejection, SyncRequest};
use gridwork_core::workflow::{self, Action, Actor, Derived, Level, TransitionError};
use serde::Serialize;
use uuid::Uuid;

use crate::access;
use crate::blobs::{self, BlobError, BlobState, BlobStore, UploadLimits, Uploader};
use crate::storage::{Storage, StorageError};
use crate::sync::{SyncContext, SyncError};

pub use crate::auth::ConsoleUser;

/// A decision taken in the console.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Accept (`true`) or return a household or resident.
    Review { accept: bool, comment: String },
    /// A workflow step on an incident; a report-back (`resolve`) carries
    /// the after-photos the handler uploaded (see [`store_photo`]).
    Transition {
        action: Action,
        opinion: String,
        photos: Vec<PhotoRef>,
    },
    /// The mediation record of a dispute (矛盾纠纷) incident; replaces
    /// the one it has. `mediated_at` defaults to now.
    Mediation(Mediation),
}

/// Checks a mediation record's fields, trimmed; the first problem found.
fn checked_mediation(mut m: Mediation, now_ms: i64) -> Result<Mediation, ConsoleError> {
    m.mediator = m.mediator.trim().to_string();
    m.outcome = m.outcome.trim().to_string();
    if m.mediator.is_empty() {
        return Err(ConsoleError::MediationField("mediator".into()));
    }
    if m.outcome.is_empty() {
        return Err(ConsoleError::MediationField("outcome".into()));
    }
    // The record's own limits (`gridwork_core::model::Mediation`), checked
    // here to answer with the console's own message.
    if m.mediator.chars().count() > limits::NAME || m.outcome.chars().count() > limits::TEXT {
        return Err(ConsoleError::MediationTooLong);
    }
    if m.mediated_at.is_some_and(|at| at > now_ms + 86_400_000) {
        return Err(ConsoleError::MediationInFuture);
    }
    m.mediated_at = m.mediated_at.or(Some(now_ms));
    Ok(m)
}

impl From<access::RecordError> for ConsoleError {
    fn from(e: access::RecordError) -> ConsoleError {
        match e {
            access::RecordError::NotFound => ConsoleError::NotFound,
            access::RecordError::Damaged(d) => ConsoleError::Damaged(d),
            access::RecordError::Storage(s) => ConsoleError::Storage(s),
        }
    }
}

/// Why a console call failed. The console shows [`Self::code`] with
/// [`Self::params`] in the user's language (`ui/src/console/i18n`); the
/// `Display` text is English, for the log.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No such record, or not one the user may see (the same answer, so
    /// the console does not reveal what exists elsewhere).
    #[error("no such record in your grids")]
    NotFound,
    #[error("this action does not apply to a {0}")]
    WrongKind(String),
    #[error("a return needs a comment")]
    CommentRequired,
    #[error("your role may not review records")]
    RoleNotAllowed,
    #[error("your role may not see personal data in clear")]
    RevealNotAllowed,
    #[error("the console does not offer {0}")]
    ActionNotOffered(String),
    #[error(transparent)]
    Transition(TransitionError),
    #[error("only a dispute incident has a mediation record")]
    NotADispute,
    #[error("the mediation record needs its {0}")]
    MediationField(String),
    #[error("the mediator or outcome is too long")]
    MediationTooLong,
    #[error("the mediation date is in the future")]
    MediationInFuture,
    #[error("the task needs its {0}")]
    TaskField(String),
    #[error("the task is too long")]
    TaskTooLong,
    #[error("the due date {0} is not a date, or is before today")]
    TaskDue(String),
    #[error("unknown screening filter {0}")]
    TaskFilter(String),
    #[error("the chosen area has no grids to receive the task")]
    TaskNoGrids,
    #[error("too many screening targets in grid {0}")]
    TaskTooMany(String),
    /// The push path refused the change: the sync protocol's rejection,
    /// sent as `refused` with its code as the param `reason` beside its
    /// own params (the console says it as the tablet does), so the
    /// console's own codes stay a closed list.
    #[error("the push path refused the change: {}", .0.code)]
    Refused(Rejection),
    #[error(transparent)]
    Photo(MediaError),
    #[error("the photo {0} has not been uploaded")]
    PhotoMissing(String),
    #[error("a report-back needs a short report")]
    ReportRequired,
    /// A 12345 file that cannot be read at all.
    #[error(transparent)]
    HotlineFile(#[from] crate::console::hotline::FileError),
    #[error("the server's copy of this record is damaged: {0}")]
    Damaged(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Sync(#[from] SyncError),
}

impl ConsoleError {
    /// The stable code the console translates.
    pub fn code(&self) -> String {
        match self {
            ConsoleError::NotFound => "not_found".into(),
            ConsoleError::WrongKind(_) => "wrong_kind".into(),
            ConsoleError::CommentRequired => "comment_required".into(),
            ConsoleError::RoleNotAllowed => "role_not_allowed".into(),
            ConsoleError::RevealNotAllowed => "reveal_not_allowed".into(),
            ConsoleError::ActionNotOffered(_) => "action_not_offered".into(),
            ConsoleError::Transition(e) => e.code().into(),
            ConsoleError::NotADispute => "not_a_dispute".into(),
            ConsoleError::MediationField(_) => "mediation_required".into(),
            ConsoleError::MediationTooLong => "mediation_too_long".into(),
            ConsoleError::MediationInFuture => "mediation_in_future".into(),
            ConsoleError::TaskField(_) => "task_required".into(),
            ConsoleError::TaskTooLong => "task_too_long".into(),
            ConsoleError::TaskDue(_) => "task_due".into(),
            ConsoleError::TaskFilter(_) => "task_filter".into(),
            ConsoleError::TaskNoGrids => "task_no_grids".into(),
            ConsoleError::TaskTooMany(_) => "task_too_many".into(),
            ConsoleError::Refused(_) => "refused".into(),
            ConsoleError::Photo(e) => format!("photo_{}", e.code()),
            ConsoleError::PhotoMissing(_) => "photo_missing".into(),
            ConsoleError::ReportRequired => "report_required".into(),
            ConsoleError::HotlineFile(e) => e.code().into(),
            ConsoleError::Damaged(_) => "server_error".into(),
            ConsoleError::Storage(_) => "internal".into(),
            ConsoleError::Sync(SyncError::Busy) => "busy".into(),
            ConsoleError::Sync(_) => "internal".into(),
        }
    }

    /// The params of the code's message, by name.
    pub fn params(&self) -> Params {
        match self {
            ConsoleError::WrongKind(kind) => params([("kind", kind.as_str().into())]),
            ConsoleError::ActionNotOffered(action) => params([("action", action.as_str().into())]),
            ConsoleError::Transition(e) => e.params(),
            ConsoleError::MediationField(field) | ConsoleError::TaskField(field) => {
                params([("field", field.as_str().into())])
            }
            ConsoleError::TaskDue(due) => params([("due", due.as_str().into())]),
            ConsoleError::TaskFilter(filter) => params([("filter", filter.as_str().into())]),
            ConsoleError::TaskTooMany(grid) => params([("grid", grid.as_str().into())]),
            ConsoleError::Photo(MediaError::TooManyPixels { width, height }) => params([
                ("width", f64::from(*width).into()),
                ("height", f64::from(*height).into()),
                ("max", media::MAX_PIXELS.into()),
            ]),
            ConsoleError::Photo(MediaError::TooLarge(bytes)) => params([
                ("bytes", (*bytes).into()),
                ("max", media::MAX_INPUT_BYTES.into()),
            ]),
            ConsoleError::PhotoMissing(sha256) => params([("sha256", sha256.as_str().into())]),
            ConsoleError::HotlineFile(e) => e.params(),
            ConsoleError::Refused(r) => {
                let mut named = r.params.clone();
                named.insert("reason".into(), r.code.as_str().into());
                named
            }
            _ => Params::new(),
        }
    }
}

/// Whether the console offers a workflow action (by [`Action::name`]) to
/// a role at all: reporting and resolving on the spot need a tablet (the
/// reporter's own account); a report-back (`resolve`, with after-photos)
/// is the department handler's. Whether it applies now is
/// `gridwork_core::workflow`'s.
fn console_offers(action: &str, role: Role) -> bool {
    match action {
        "report" | "resolve_on_spot" => false,
        "resolve" => role == Role::DepartmentHandler,
        _ => true,
    }
}

/// Whether `role` may accept or return a household or resident.
fn may_review(role: Role) -> Result<(), ConsoleError> {
    if role.is_supervisor() {
        Ok(())
    } else {
        Err(ConsoleError::RoleNotAllowed)
    }
}

/// Whether `role` may record the mediation of `incident`: a supervisor's,
/// on a dispute (矛盾纠纷).
fn may_mediate(role: Role, incident: &Incident) -> Result<(), ConsoleError> {
    if !role.is_supervisor() {
        return Err(ConsoleError::RoleNotAllowed);
    }
    if incident.category.major != CategoryMajor::Dispute {
        return Err(ConsoleError::NotADispute);
    }
    Ok(())
}

/// What the signed-in user may do on a record now, as its page offers it.
///
/// The page shows a button for each of these and nothing else, and
/// [`act`] decides a posted decision by the same rules
/// ([`may_review`], [`may_mediate`], [`console_offers`] and
/// `gridwork_core::workflow::offered`, which is `check`'s verdict): an
/// offered action is accepted when posted with the input it asks for, and
/// one not offered is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Offers {
    /// `accept` and `return` (a review) on a household or resident; on an
    /// incident its workflow actions by [`Action::name`] and `mediation`.
    pub actions: Vec<String>,
    /// The levels an escalation may go to (empty unless `escalate` is
    /// offered).
    pub escalate_to: Vec<Level>,
}

/// What `user` may do on `record` (an incident's `derived` state beside it).
pub fn offers(user: &User, record: &AnyRecord, derived: Option<&Derived>) -> Offers {
    match (record, derived) {
        (AnyRecord::Household(_) | AnyRecord::Resident(_), _) => Offers {
            actions: match may_review(user.role) {
                Ok(()) => vec!["accept".into(), "return".into()],
                Err(_) => Vec::new(),
            },
            escalate_to: Vec::new(),
        },
        (AnyRecord::Incident(i), Some(state)) => {
            let actor = Actor {
                user: &user.id,
                role: user.role,
            };
            let offered = workflow::offered(state, &i.meta.created_by, actor);
            let mut actions: Vec<String> = offered
                .actions
                .iter()
                .filter(|a| console_offers(a, user.role))
                .map(|a| a.to_string())
                .collect();
            if may_mediate(user.role, i).is_ok() {
                actions.push("mediation".into());
            }
            Offers {
                escalate_to: if actions.iter().any(|a| a == "escalate") {
                    offered.escalate_to
                } else {
                    Vec::new()
                },
                actions,
            }
        }
        _ => Offers::default(),
    }
}

/// Takes one after-photo of an incident the user may see, for a
/// report-back: the image is made upload-ready ([`media::prepare`]:
/// oriented, scaled, metadata dropped, thumbnailed) and photo and
/// thumbnail are kept in the blob store by their SHA-256, through the
/// same checks as a tablet's upload, as the user's own upload (so the
/// report-back that names them is granted them). Bad input stores
/// nothing. Returns the reference the report-back names. Decoding holds
/// memory: the caller runs it within the server's image budget
/// (`media::prepare_cost`).
pub fn store_photo(
    storage: &dyn Storage,
    store: &dyn BlobStore,
    limits: &UploadLimits,
    ctx: &SyncContext,
    who: &ConsoleUser,
    id: Uuid,
    bytes: &[u8],
) -> Result<PhotoRef, ConsoleError> {
    let (loaded, _, _) = access::console_record(storage, &ctx.calendar, who, id)?;
    if !matches!(loaded.record, AnyRecord::Incident(_)) {
        return Err(ConsoleError::WrongKind(
            loaded.record.kind().as_str().into(),
        ));
    }
    if !console_offers(Action::Resolve.name(), who.session.user.role) {
        return Err(ConsoleError::ActionNotOffered(
            Action::Resolve.name().into(),
        ));
    }
    let prepared = media::prepare(bytes).map_err(ConsoleError::Photo)?;
    let me = uploader(who);
    for encoded in [&prepared.thumbnail, &prepared.photo] {
        let len = encoded.bytes.len() as u64;
        blobs::receive(
            store,
            storage,
            limits,
            &me,
            blobs::Chunk {
                sha256: &encoded.sha256,
                offset: 0,
                length: len,
                bytes: &encoded.bytes,
            },
        )
        .map_err(|e| match e {
            BlobError::Media(m) => ConsoleError::Photo(m),
            BlobError::TooLarge { size, .. } => {
                ConsoleError::Photo(MediaError::TooLarge(size as usize))
            }
            other => ConsoleError::Damaged(other.to_string()),
        })?;
    }
    Ok(PhotoRef {
        sha256: prepared.photo.sha256,
        thumb_sha256: Some(prepared.thumbnail.sha256),
        role: PhotoRole::After,
        bytes: prepared.photo.bytes.len() as u64,
        width: prepared.photo.width,
        height: prepared.photo.height,
        // When it was taken is the camera's to say; re-encoding dropped it.
        taken_at: None,
    })
}

fn uploader(who: &ConsoleUser) -> Uploader<'_> {
    Uploader {
        device_id: &who.session.device_id,
        user_id: &who.session.user.id,
    }
}

/// Takes a decision on a record: writes it as a change by the console's
/// actor and stores it through the sync push path.
pub fn act(
    storage: &dyn Storage,
    store: &dyn BlobStore,
    ctx: &SyncContext,
    who: &ConsoleUser,
    id: Uuid,
    decision: Decision,
    now: jiff::Timestamp,
) -> Result<(), ConsoleError> {
    let (loaded, snapshot, _) = access::console_record(storage, &ctx.calendar, who, id)?;
    let am = AutoCommit::load(&snapshot)
        .map_err(|e| ConsoleError::Damaged(e.to_string()))?
        .with_actor(who.actor.clone());
    let mut doc =
        RecordDoc::from_automerge(am).map_err(|e| ConsoleError::Damaged(e.to_string()))?;
    let heads = doc.heads();
    let user = &who.session.user;
    let now_ms = now.as_millisecond();
    let author = Author::new(user.id.clone(), now_ms);
    let damaged = |e: gridwork_core::doc::DocError| ConsoleError::Damaged(e.to_string());
    match (decision, &loaded.record) {
        (
            Decision::Review { accept, comment },
            record @ (AnyRecord::Household(_) | AnyRecord::Resident(_)),
        ) => {
            may_review(user.role)?;
            if !accept && comment.trim().is_empty() {
                return Err(ConsoleError::CommentRequired);
            }
            let entry = ReviewEntry {
                decision: if accept {
                    ReviewDecision::Accept
                } else {
                    ReviewDecision::Return
                },
                by: user.id.clone(),
                at: now_ms,
                comment: comment.trim().to_string(),
            };
            match record {
                AnyRecord::Household(h) => {
                    let mut after = h.clone();
                    after.review.push(entry);
                    doc.write_diff(&author, h, &after).map_err(damaged)?;
                }
                AnyRecord::Resident(r) => {
                    let mut after = r.clone();
                    after.review.push(entry);
                    doc.write_diff(&author, r, &after).map_err(damaged)?;
                }
                _ => unreachable!("matched above"),
            }
        }
        (
            Decision::Transition {
                action,
                opinion,
                photos,
            },
            AnyRecord::Incident(i),
        ) => {
            if !console_offers(action.name(), user.role) {
                return Err(ConsoleError::ActionNotOffered(action.name().into()));
            }
            let mut after = i.clone();
            let resolving = matches!(action, Action::Resolve);
            if resolving && opinion.trim().is_empty() {
                return Err(ConsoleError::ReportRequired);
            }
            // Only photos the user uploaded whole, and only on a report-back.
            let photos: Vec<PhotoRef> = if resolving { photos } else { Vec::new() };
            for p in &photos {
                for sha in std::iter::once(&p.sha256).chain(p.thumb_sha256.as_ref()) {
                    let held = match blobs::held_for(store, storage, &uploader(who), sha) {
                        Err(BlobError::BadAddress) => BlobState::Absent,
                        other => other.map_err(|e| ConsoleError::Damaged(e.to_string()))?,
                    };
                    if !matches!(held, BlobState::Complete(_)) {
                        return Err(ConsoleError::PhotoMissing(sha.clone()));
                    }
                }
            }
            let hashes: Vec<String> = photos.iter().map(|p| p.sha256.clone()).collect();
            after.photos.extend(photos.into_iter().map(|p| PhotoRef {
                role: PhotoRole::After,
                ..p
            }));
            workflow::transition(
                &mut after,
                &ctx.calendar,
                Actor {
                    user: &user.id,
                    role: user.role,
                },
                action,
                opinion.trim(),
                hashes,
                now_ms,
            )
            .map_err(ConsoleError::Transition)?;
            // The server is the receiver: deadlines count from its clock.
            if let Some(entry) = after.log.last_mut() {
                entry.received_at = Some(now_ms);
            }
            doc.write_diff(&author, i, &after).map_err(damaged)?;
        }
        (Decision::Mediation(m), AnyRecord::Incident(i)) => {
            may_mediate(user.role, i)?;
            let mut after = i.clone();
            after.mediation = Some(checked_mediation(m, now_ms)?);
            if after.mediation == i.mediation {
                return Ok(());
            }
            doc.write_diff(&author, i, &after).map_err(damaged)?;
        }
        (_, record) => return Err(ConsoleError::WrongKind(record.kind().as_str().into())),
    }
    let changes: Vec<Vec<u8>> = doc
        .changes_since(&heads)
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let rejected = push(
        storage,
        ctx,
        who,
        vec![DocChanges { doc: id, changes }],
        now,
    )?;
    if let Some(r) = rejected.into_iter().next() {
        return Err(ConsoleError::Refused(r));
    }
    Ok(())
}

/// A new record's document as one change by the console's actor, ready
/// to [`push`].
pub fn created<T: Record>(
    record: &T,
    who: &ConsoleUser,
    author: &Author,
) -> Result<DocChanges, ConsoleError> {
    let mut doc = RecordDoc::create(record, who.actor.clone(), author)
        .map_err(|e| ConsoleError::Damaged(e.to_string()))?;
    let changes = doc
        .changes_since(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    Ok(DocChanges {
        doc: record.meta().id,
        changes,
    })
}

/// Stores the console's changes through the sync push path, with the
/// same checks and log as a tablet's push; the documents refused.
pub fn push(
    storage: &dyn Storage,
    ctx: &SyncContext,
    who: &ConsoleUser,
    docs: Vec<DocChanges>,
    now: jiff::Timestamp,
) -> Result<Vec<Rejection>, ConsoleError> {
    let response = crate::sync::run(
        storage,
        ctx,
        &who.session,
        SyncRequest {
            cursor: 0,
            push: docs,
            // The console reads documents itself; the pull is not used.
            budget: Some(1),
            ..SyncRequest::default()
        },
        now,
    )?;
    Ok(response.rejected)
}
