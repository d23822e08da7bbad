//! Who made a pushed change: the server decides, never the payload.
//!
//! An Automerge change carries an actor id, a message and a time, all
//! chosen by whoever wrote it. The server takes none of them on trust:
//!
//! - **The actor must be one the server assigned** (item 7 of issue #10).
//!   At login (and at a console sign-in) the server gives the enrolment
//!   an actor id and binds it in the `actors` table (actor → device →
//!   user). A pushed change is accepted only if its actor is bound to the
//!   pushing enrolment, or to an *earlier enrolment of the same user*: a
//!   tablet signed in again opens the same local store with its new
//!   actor, and the changes it made before still wait in its outbox under
//!   the old one; refusing them would lose what the worker saved. An
//!   actor nobody was assigned is refused (`actor_mismatch`); it is no
//!   longer bound on first use, so a device cannot pick an identity. The
//!   server's own actor and any other user's (the console's included)
//!   are refused too. A device never needs to relay them: changes it
//!   merely received are already in the log and are dropped as known
//!   before this check runs.
//! - **The message must name the pushing user** (item 6). Gridwork
//!   writes the author's user id as the change's message
//!   ([`gridwork_core::doc::Author`]); a change whose message names
//!   anyone else (or no one) is refused (`author_mismatch`). The history
//!   and the conflicts the console shows do not read the message anyway:
//!   they name the user the actor is bound to, and show the time the
//!   server received the change (`log.received_at`) with the device's
//!   own time beside it ([`crate::console::provenance`]). A device's clock
//!   may be wrong, so a change is never refused for its time.

use std::collections::HashMap;

use automerge::Change;
use gridwork_core::problem::params;
use gridwork_core::sync::wire::RejectionCode;

use super::refused::Refused;
use crate::auth::Session;
use crate::storage::ActorOwner;

/// Checks the actor and the message of every new change of one document;
/// `Some` refusal for the first that fails. `owners` holds the binding of
/// every actor among the changes that has one.
pub(super) fn check(
    owners: &HashMap<String, ActorOwner>,
    session: &Session,
    changes: &[Change],
) -> Option<Refused> {
    let user = &session.user.id;
    for change in changes {
        let actor = change.actor_id().to_hex_string();
        let assigned = owners
            .get(&actor)
            .is_some_and(|owner| owner.device_id == session.device_id || owner.user_id == *user);
        if !assigned {
            return Some(Refused::bare(
                RejectionCode::ActorMismatch,
                format_args!("actor {actor} is not assigned to user {user}'s enrolments"),
            ));
        }
        let message = change.message();
        if message != Some(user.as_str()) {
            let named = message.unwrap_or("");
            return Some(Refused::new(
                RejectionCode::AuthorMismatch,
                params([("author", named.into())]),
                format_args!("a change names {named:?} as its author; the user is {user}"),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::{CommitOptions, Transactable};
    use automerge::{ActorId, AutoCommit, ROOT};
    use gridwork_core::model::{Role, User};

    fn session() -> Session {
        Session {
            device_id: "dev-new".into(),
            user: User {
                id: "gw-1".into(),
                name: "王芳".into(),
                phone: String::new(),
                role: Role::GridWorker,
                grid: "440106001001001".into(),
                department: None,
            },
            actor: None,
        }
    }

    fn change(actor: u8, message: Option<&str>) -> Change {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(vec![actor; 16]));
        doc.put(ROOT, "x", 1).unwrap();
        let mut options = CommitOptions::default().with_time(1_500_000_000);
        if let Some(m) = message {
            options = options.with_message(m.to_string());
        }
        doc.commit_with(options);
        doc.get_changes(&[]).into_iter().next().unwrap().clone()
    }

    fn owner(device: &str, user: &str) -> ActorOwner {
        ActorOwner {
            device_id: device.into(),
            user_id: user.into(),
        }
    }

    #[test]
    fn only_an_assigned_actor_naming_the_pushing_user_passes() {
        let hex = |n: u8| ActorId::from(vec![n; 16]).to_hex_string();
        let owners: HashMap<String, ActorOwner> = [
            (hex(1), owner("dev-new", "gw-1")),
            (hex(2), owner("dev-old", "gw-1")),
            (hex(3), owner("dev-other", "cs-1")),
            (hex(4), owner("server", "gridwork-server")),
        ]
        .into();
        let code = |c: Change| check(&owners, &session(), &[c]).map(|r| r.code);
        assert_eq!(code(change(1, Some("gw-1"))), None);
        assert_eq!(
            code(change(2, Some("gw-1"))),
            None,
            "an earlier enrolment of the same user (a re-login's outbox)"
        );
        for actor in [3, 4, 9] {
            assert_eq!(
                code(change(actor, Some("gw-1"))),
                Some(RejectionCode::ActorMismatch),
                "actor {actor}"
            );
        }
        assert_eq!(
            code(change(1, Some("cs-1"))),
            Some(RejectionCode::AuthorMismatch)
        );
        assert_eq!(code(change(1, None)), Some(RejectionCode::AuthorMismatch));
    }
}
