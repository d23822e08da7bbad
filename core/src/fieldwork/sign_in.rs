//! Handing a tablet over to another user.
//!
//! A device's store holds one user's work: their grid's records, their
//! sync cursor, their unsent changes (made under actors the server bound
//! to them). A different user signing in therefore starts from an empty
//! store, so they neither see the previous user's records nor miss their
//! own behind the previous user's cursor; and while the previous user has
//! anything unsent (changes, photos, reveal log entries) the sign-in is
//! refused, since the server would refuse that work under the new user's
//! token and it would never arrive. The same user signing in again keeps
//! everything.

use super::WorkError;
use crate::store::Store;

/// What a sign-in does to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOver {
    /// The same user again (or nobody was signed in): keep the store.
    Keep,
    /// Another user: close the store and erase it ([`Store::erase`])
    /// before theirs opens.
    Erase,
}

/// Whether `signing_in` may take over the device `signed_in` works on
/// with `store`, and what becomes of the store. Refused with
/// [`WorkError::PreviousUserUnsent`] while another user's work is unsent.
pub fn hand_over(store: &Store, signed_in: &str, signing_in: &str) -> Result<HandOver, WorkError> {
    if signed_in == signing_in {
        return Ok(HandOver::Keep);
    }
    let unsent = store.unsent_work()?;
    if unsent > 0 {
        return Err(WorkError::PreviousUserUnsent {
            user: signed_in.to_string(),
            unsent,
        });
    }
    Ok(HandOver::Erase)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fieldwork::forms::blank_household;
    use crate::fieldwork::testkit::{NOW, open_store, worker};
    use crate::model::{Household, RecordKind};
    use crate::store::ListQuery;

    #[test]
    fn another_user_waits_for_the_unsent_work_and_then_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.sqlite");
        let mut store = open_store(&path);
        let gw_a = worker("gw-a");
        let mut h: Household = blank_household("440106001001001", "gw-a", NOW);
        h.address.room = "801".into();
        crate::fieldwork::forms::save(&mut store, &gw_a, h, NOW).unwrap();

        let refused = hand_over(&store, "gw-a", "gw-b").unwrap_err();
        assert_eq!(refused.code(), "previous_user_unsent");
        assert!(
            matches!(&refused, WorkError::PreviousUserUnsent { user, unsent: 1 } if user == "gw-a"),
            "{refused:?}"
        );
        assert_eq!(hand_over(&store, "gw-a", "gw-a").unwrap(), HandOver::Keep);

        let sent: Vec<_> = store.outbox(100).unwrap().iter().map(|e| e.hash).collect();
        store.ack(&sent).unwrap();
        assert_eq!(hand_over(&store, "gw-a", "gw-b").unwrap(), HandOver::Erase);
        drop(store);
        Store::erase(&path).unwrap();
        assert!(!path.exists());
        Store::erase(&path).unwrap();
        let store = open_store(&path);
        let q = ListQuery {
            kind: Some(RecordKind::Household),
            ..ListQuery::default()
        };
        assert!(store.list(&q).unwrap().is_empty(), "gw-b starts empty");
    }
}
