//! What a signed-in worker does on the device, each as one call over the
//! local store and one SQLite transaction ([`crate::store::Store::write`]):
//! save a form ([`forms`]), take a workflow step or report an incident
//! ([`incidents`]), walk a patrol ([`patrols`]), record a visit and move
//! its resident's next due date ([`visits`]), draw the grid map ([`map`]),
//! tick a task's line ([`tasks`]), settle a conflict ([`conflicts`]), and
//! hand the tablet over to another user ([`sign_in`]).
//!
//! The rules live here, not in the app shell: a Tauri command unlocks the
//! session, calls one of these and maps the error. Who did it comes from
//! the [`Worker`] the shell builds from the server's sign-in answer, never
//! from what a form sent; the time is the caller's `now_ms` (device clock,
//! Unix milliseconds), the day is its date in Asia/Shanghai. Nothing here
//! touches the network, and errors are typed ([`WorkError`]), never
//! rendered in a language: the UI translates their codes and params
//! ([`crate::problem`]).

pub mod conflicts;
pub mod forms;
pub mod incidents;
pub mod map;
pub mod patrols;
pub mod sign_in;
pub mod tasks;
pub mod visits;

#[cfg(test)]
mod testkit;

use crate::doc::{Author, DocError};
use crate::model::Role;
use crate::model::grid::Grid;
use crate::store::StoreError;
use crate::workflow::{Actor, TransitionError};

use conflicts::ResolveError;
use forms::OutsideGrid;
use patrols::PatrolEnded;
use tasks::TickError;

/// Who works on this device: the signed-in user as the server named them
/// at sign-in. Every author field a call writes (a record's creator, a
/// visit's visitor, a workflow entry's actor, a task line's ticker) is
/// this user.
#[derive(Debug, Clone, Copy)]
pub struct Worker<'a> {
    /// The user's id.
    pub user: &'a str,
    pub role: Role,
    /// The user's own grid: new records and patrols start there.
    pub grid: &'a str,
    /// This device's id (incident numbers carry part of it).
    pub device: &'a str,
    /// The user's grid subtree with boundaries: where a point may lie.
    pub grids: &'a [Grid],
}

impl Worker<'_> {
    /// The author of a change made now.
    pub fn author(&self, now_ms: i64) -> Author {
        Author::new(self.user, now_ms)
    }

    /// The actor of a workflow step.
    pub fn actor(&self) -> Actor<'_> {
        Actor {
            user: self.user,
            role: self.role,
        }
    }
}

/// The day (Asia/Shanghai) of `now_ms`: what validation counts "today"
/// from (a birth date in the future, a task's due date).
pub fn day_of(now_ms: i64) -> jiff::civil::Date {
    jiff::Timestamp::from_millisecond(now_ms)
        .map(crate::calendar::shanghai_date)
        .unwrap_or(jiff::civil::date(1970, 1, 1))
}

/// Why a call of this module did nothing. Every call is one transaction:
/// whatever the error, nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    /// The store failed, the record is invalid (field by field), or it
    /// does not exist.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A point outside the worker's grids.
    #[error(transparent)]
    OutsideGrid(#[from] OutsideGrid),
    /// A workflow step the rules do not allow.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A point, check-in or stop of a patrol that has ended.
    #[error(transparent)]
    PatrolEnded(#[from] PatrolEnded),
    /// A task line that cannot be ticked as asked.
    #[error(transparent)]
    Tick(#[from] TickError),
    /// A conflict that changed since it was shown.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// Another user may not sign in while the store holds work of the
    /// signed-in user that the server has not got.
    #[error("this device still holds {unsent} unsent item(s) of {user}")]
    PreviousUserUnsent { user: String, unsent: u64 },
}

impl From<DocError> for WorkError {
    fn from(e: DocError) -> Self {
        WorkError::Store(StoreError::Doc(e))
    }
}

impl WorkError {
    /// The stable code for the UI.
    pub fn code(&self) -> &'static str {
        match self {
            WorkError::Store(e) => e.code(),
            WorkError::OutsideGrid(_) => OutsideGrid::CODE,
            WorkError::Transition(e) => e.code(),
            WorkError::PatrolEnded(_) => PatrolEnded::CODE,
            WorkError::Tick(e) => e.code(),
            WorkError::Resolve(e) => e.code(),
            WorkError::PreviousUserUnsent { .. } => "previous_user_unsent",
        }
    }
}
