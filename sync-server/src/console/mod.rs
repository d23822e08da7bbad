//! The supervisor console's server side, without HTTP: the review queue,
//! a record's field history, the decisions (accept, return, dispatch,
//! escalate …) they take, and the tasks they issue to the grids below
//! them. Who may use it and what they may see is [`crate::access`]'s.
//!
//! A console sign-in is a device enrolment like a tablet's (its id starts
//! with [`DEVICE_PREFIX`]): the session token is stored hashed, revoking
//! the device ends the session, and the enrolment's actor id is the one the
//! supervisor's decisions are written with. A decision is an Automerge
//! change pushed through [`crate::sync::run`], the same checks and log as a
//! tablet's push, so it reaches the worker's tablet at the next sync.
//!
//! The queue, the ledgers, the dashboard and its drill-downs read the
//! projection tables (`crate::storage::projections`): filtered, counted,
//! aggregated and paged in SQL, reading only a page's documents. Tasks
//! and the hotline's address lookup pick their records from the same rows
//! (a screening decodes only the records of the kind its filter tests, a
//! campaign only its task documents); nothing is read into memory at
//! start.
//!
//! The HTTP handlers (`crate::api::console`) hold no rule: each extracts
//! the request, calls one function here and maps the error. Sign-in and
//! the session are [`session`]'s, the menu [`sections`]', a record's page
//! [`page`]'s, exports and their access log [`export`]'s, the dashboard's
//! page and export [`overview`]'s.
//!
//! What a record page offers the user ([`actions::offers`]) and what a
//! posted decision is allowed ([`actions::act`]) are decided by the same
//! functions, over `gridwork_core::workflow`: the browser keeps no copy of
//! who may do what in which status.

pub mod actions;
pub mod dashboard;
pub mod export;
pub mod history;
pub mod hotline;
pub mod ledger;
pub mod overview;
pub mod page;
pub mod provenance;
pub mod queue;
pub mod sections;
pub mod session;
pub mod tasks;

use crate::config::Settings;

/// The records the console lists, kept by revision (a module of its own,
/// which [`crate::access`] reads too).
pub use crate::index;

/// Console enrolments' device ids start with this.
pub use crate::auth::CONSOLE_DEVICE_PREFIX as DEVICE_PREFIX;

/// The name console enrolments get in `list-devices`.
pub const DEVICE_NAME: &str = "监督控制台 (console)";

/// The console's settings.
#[derive(Debug)]
pub struct ConsoleState {
    pub dir: std::path::PathBuf,
    pub session_ms: i64,
    pub secure_cookie: bool,
    pub departments: Vec<String>,
}

impl ConsoleState {
    /// The console's part of `settings`.
    pub fn new(settings: &Settings) -> ConsoleState {
        ConsoleState {
            dir: settings.console_dir.clone(),
            session_ms: i64::from(settings.console_session_hours) * 3_600_000,
            // Under TLS in the server the cookie is always `Secure`.
            secure_cookie: settings.console_secure_cookie || settings.serves_tls(),
            departments: settings.console_departments.clone(),
        }
    }
}
