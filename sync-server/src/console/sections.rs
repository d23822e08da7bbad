//! The console's sections (its menu) and which roles may open each.
//!
//! The API checks a section's calls with [`require`], and the signed-in
//! user's `sections` (`GET /console/api/me`) are [`open_to`] over the same
//! [`may_open`]: the browser renders the menu it is given and keeps no
//! copy of who may open what. Every console role opens the queue, the
//! dashboard, the ledgers, the map and its own access log (what a role
//! sees in them is [`crate::access`]'s); the hotline import is a
//! supervisor's ([`Role::is_supervisor`]), tasks are issued by community
//! and street supervisors ([`Role::may_issue_tasks`]); the device page
//! ([`crate::devices`]) is an admin's.

use gridwork_core::model::Role;
use serde::Serialize;

use super::actions::{ConsoleError, ConsoleUser};

/// A section of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Queue,
    Dashboard,
    Ledgers,
    Map,
    Hotline,
    Tasks,
    AccessLog,
    Devices,
}

impl Section {
    /// Every section, in menu order.
    pub const ALL: [Section; 8] = [
        Section::Queue,
        Section::Dashboard,
        Section::Ledgers,
        Section::Map,
        Section::Hotline,
        Section::Tasks,
        Section::AccessLog,
        Section::Devices,
    ];
}

/// Whether `role` may open `section` (a role that cannot use the console
/// at all is refused at sign-in, [`crate::access::may_use_console`]).
pub fn may_open(role: Role, section: Section) -> bool {
    match section {
        Section::Hotline => role.is_supervisor(),
        Section::Tasks => role.may_issue_tasks(),
        Section::Devices => role == Role::Admin,
        Section::Queue
        | Section::Dashboard
        | Section::Ledgers
        | Section::Map
        | Section::AccessLog => true,
    }
}

/// The sections `role` may open, in menu order.
pub fn open_to(role: Role) -> Vec<Section> {
    Section::ALL
        .into_iter()
        .filter(|s| may_open(role, *s))
        .collect()
}

/// `Ok` when the signed-in user may open `section`, otherwise
/// [`ConsoleError::RoleNotAllowed`].
pub fn require(who: &ConsoleUser, section: Section) -> Result<(), ConsoleError> {
    if may_open(who.session.user.role, section) {
        Ok(())
    } else {
        Err(ConsoleError::RoleNotAllowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_department_handler_opens_neither_the_hotline_nor_tasks() {
        let open = open_to(Role::DepartmentHandler);
        assert!(!open.contains(&Section::Hotline));
        assert!(!open.contains(&Section::Tasks));
        assert!(open.contains(&Section::Queue));
    }

    #[test]
    fn an_admin_opens_every_section() {
        assert_eq!(open_to(Role::Admin), Section::ALL);
    }
}
