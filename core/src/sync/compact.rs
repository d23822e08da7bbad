//! A change as a device pushes it without what the server already
//! knows: protocol version 3's compact change (issue #14).
//!
//! A one-field edit's Automerge change is about 165 bytes, and 105 of them
//! are framing the server knows or can look up: the chunk header (11), a
//! dependency's full hash (33), the pushing device's own actor (17), the
//! message, which is the pushing user's id (19), and each other actor
//! named by the operations (17 each). [`compact`] drops or shortens them;
//! [`expand`] rebuilds the exact bytes, so the change keeps its hash, and
//! checks them against the chunk's own checksum, which the compact form
//! keeps: a prefix that named the wrong hash or actor is caught, and the
//! device sends that change whole (the refusal `compact_unresolved`).
//! The bench's edit ("门口有台阶" into a
//! household's `address.detail`, after the server's actor made it): 165
//! bytes, 82 compact.
//!
//! Layout, after Automerge's change chunk (its columns are copied as they
//! are):
//!
//! | bytes | what |
//! |---|---|
//! | 1 | flags: 1 the actor is the pusher's own, 2 the message is the pusher's user id |
//! | 4 | the chunk's checksum |
//! | uLEB, then 4 each | the dependencies, as hash prefixes |
//! | uLEB length, bytes | the actor, unless flag 1 |
//! | as in the chunk | sequence number, start op, time |
//! | uLEB length, bytes | the message, unless flag 2 |
//! | uLEB, then 4 each | the other actors, as prefixes |
//! | the rest | the operation columns and extra bytes, as in the chunk |
//!
//! The flags byte comes first and never has its high bit set, while every
//! Automerge chunk starts with its magic (0x85): a pushed change is told
//! whole or compact by its first byte ([`is_compact`]), at no cost.

use super::chunk::{
    MAGIC, count, length_prefixed, parts, put_prefixed, put_uleb, seal, sleb, take, uleb,
};

/// How many bytes of a dependency's hash are sent: a record has at most
/// thousands of changes, so two sharing 4 bytes is rare (about one record
/// in a million with a thousand changes), and then the device sends the
/// change whole.
pub const DEP_PREFIX: usize = 4;

/// How many bytes of another actor's id are sent (a record has a few).
pub const ACTOR_PREFIX: usize = 4;

const OWN_ACTOR: u8 = 1;
const OWN_MESSAGE: u8 = 2;

/// Whether a pushed change is in the compact form rather than a whole
/// Automerge chunk (which starts with its magic).
pub fn is_compact(change: &[u8]) -> bool {
    change.first().is_some_and(|b| *b != MAGIC[0])
}

/// Why a compact change could not be rebuilt: the device sends it whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("the compact change is truncated or malformed")]
    Malformed,
    #[error("no single known change starts with a dependency's prefix")]
    UnknownDependency,
    #[error("no single known actor starts with an actor's prefix")]
    UnknownActor,
    #[error("the rebuilt change does not match its checksum")]
    Checksum,
}

/// The compact form of `change` pushed by the device whose actor is
/// `own_actor`, signed in as `user`; `None` when it is not a plain
/// change chunk (a compressed one, say), which goes whole.
pub fn compact(change: &[u8], own_actor: &[u8], user: &str) -> Option<Vec<u8>> {
    let p = parts(change)?;
    let mut flags = 0;
    if p.actor == own_actor {
        flags |= OWN_ACTOR;
    }
    if p.message == user.as_bytes() {
        flags |= OWN_MESSAGE;
    }
    if p.others.iter().any(|a| a.len() < ACTOR_PREFIX) {
        return None;
    }
    let mut out = Vec::with_capacity(change.len());
    out.push(flags);
    out.extend_from_slice(p.checksum);
    put_uleb(&mut out, p.deps.len() as u64);
    for d in &p.deps {
        out.extend_from_slice(&d[..DEP_PREFIX]);
    }
    if flags & OWN_ACTOR == 0 {
        put_prefixed(&mut out, p.actor);
    }
    out.extend_from_slice(p.counters);
    if flags & OWN_MESSAGE == 0 {
        put_prefixed(&mut out, p.message);
    }
    put_uleb(&mut out, p.others.len() as u64);
    for a in &p.others {
        out.extend_from_slice(&a[..ACTOR_PREFIX]);
    }
    out.extend_from_slice(p.rest);
    Some(out)
}

/// The message of `change` when it is a plain change chunk (Gridwork
/// writes its author's user id there), without parsing its operations.
pub fn message(change: &[u8]) -> Option<&[u8]> {
    parts(change).map(|p| p.message)
}

/// What [`expand`] looks prefixes up in: the document's changes and
/// actors, as the server holds them.
pub trait Known {
    /// The one hash of the document's changes starting with `prefix`;
    /// `None` when none or several do.
    fn dependency(&self, prefix: &[u8]) -> Option<[u8; 32]>;
    /// The one actor of the document starting with `prefix`; `None` when
    /// none or several do.
    fn actor(&self, prefix: &[u8]) -> Option<Vec<u8>>;
}

/// A document's change hashes and actors, as a compact change's prefixes
/// are looked up in: what the server holds of it, and the changes pushed
/// before in the same request ([`Held::add`]).
#[derive(Debug, Default, Clone)]
pub struct Held {
    hashes: Vec<[u8; 32]>,
    actors: Vec<Vec<u8>>,
}

impl Held {
    /// Counts `change` as held.
    pub fn add(&mut self, change: &automerge::Change) {
        self.hashes.push(change.hash().0);
        let actor = change.actor_id().to_bytes();
        if !self.actors.iter().any(|a| a == actor) {
            self.actors.push(actor.to_vec());
        }
    }
}

impl<'a> FromIterator<&'a automerge::Change> for Held {
    fn from_iter<I: IntoIterator<Item = &'a automerge::Change>>(changes: I) -> Held {
        let mut held = Held::default();
        for change in changes {
            held.add(change);
        }
        held
    }
}

impl Known for Held {
    fn dependency(&self, prefix: &[u8]) -> Option<[u8; 32]> {
        one(self
            .hashes
            .iter()
            .filter(|h| h.starts_with(prefix))
            .copied())
    }

    fn actor(&self, prefix: &[u8]) -> Option<Vec<u8>> {
        one(self
            .actors
            .iter()
            .filter(|a| a.starts_with(prefix))
            .cloned())
    }
}

/// The only item, `None` for none or several.
fn one<T>(mut items: impl Iterator<Item = T>) -> Option<T> {
    let first = items.next()?;
    items.next().is_none().then_some(first)
}

/// The change chunk `compact` was made from, pushed by `own_actor` as
/// `user`, its prefixes looked up in `known`; checked against its
/// checksum.
pub fn expand(
    compact: &[u8],
    own_actor: &[u8],
    user: &str,
    known: &impl Known,
) -> Result<Vec<u8>, ExpandError> {
    let malformed = || ExpandError::Malformed;
    let mut i = compact;
    let flags = take(&mut i, 1).ok_or_else(malformed)?[0];
    let checksum = take(&mut i, 4).ok_or_else(malformed)?;
    if flags & !(OWN_ACTOR | OWN_MESSAGE) != 0 {
        return Err(ExpandError::Malformed);
    }
    let mut data = Vec::with_capacity(compact.len() + 128);
    let n_deps = count(&mut i).ok_or_else(malformed)?;
    put_uleb(&mut data, n_deps as u64);
    for _ in 0..n_deps {
        let prefix = take(&mut i, DEP_PREFIX).ok_or_else(malformed)?;
        let hash = known
            .dependency(prefix)
            .ok_or(ExpandError::UnknownDependency)?;
        data.extend_from_slice(&hash);
    }
    if flags & OWN_ACTOR != 0 {
        put_prefixed(&mut data, own_actor);
    } else {
        put_prefixed(&mut data, length_prefixed(&mut i).ok_or_else(malformed)?);
    }
    let before = i;
    uleb(&mut i).ok_or_else(malformed)?;
    uleb(&mut i).ok_or_else(malformed)?;
    sleb(&mut i).ok_or_else(malformed)?;
    data.extend_from_slice(&before[..before.len() - i.len()]);
    if flags & OWN_MESSAGE != 0 {
        put_prefixed(&mut data, user.as_bytes());
    } else {
        put_prefixed(&mut data, length_prefixed(&mut i).ok_or_else(malformed)?);
    }
    let n_others = count(&mut i).ok_or_else(malformed)?;
    put_uleb(&mut data, n_others as u64);
    for _ in 0..n_others {
        let prefix = take(&mut i, ACTOR_PREFIX).ok_or_else(malformed)?;
        let actor = known.actor(prefix).ok_or(ExpandError::UnknownActor)?;
        put_prefixed(&mut data, &actor);
    }
    data.extend_from_slice(i);

    let (chunk, hash) = seal(&data);
    if hash[..4] != *checksum {
        return Err(ExpandError::Checksum);
    }
    Ok(chunk)
}

#[cfg(test)]
mod tests {
    use automerge::transaction::{CommitOptions, Transactable};
    use automerge::{ActorId, AutoCommit, ROOT};

    use super::*;

    const USER: &str = "gw-440106001001001";

    /// A household made by the server's actor, then one field edited on
    /// a device: the bench's edit.
    fn an_edit() -> (Held, ActorId, Vec<u8>) {
        let server = ActorId::random();
        let device = ActorId::random();
        let mut doc = AutoCommit::new().with_actor(server);
        let address = doc
            .put_object(ROOT, "address", automerge::ObjType::Map)
            .unwrap();
        doc.put(&address, "detail", "一楼").unwrap();
        doc.put(&address, "room", "101").unwrap();
        doc.commit_with(
            CommitOptions::default()
                .with_message("gridwork-demo")
                .with_time(1_779_000_000),
        );
        let mut edit = doc.fork().with_actor(device.clone());
        edit.put(&address, "detail", "门口有台阶").unwrap();
        let hash = edit
            .commit_with(
                CommitOptions::default()
                    .with_message(USER)
                    .with_time(1_779_000_100),
            )
            .unwrap();
        let bytes = edit
            .get_change_by_hash(&hash)
            .unwrap()
            .clone()
            .bytes()
            .to_vec();
        (doc.get_changes(&[]).iter().collect(), device, bytes)
    }

    #[test]
    fn an_edit_is_rebuilt_byte_for_byte_from_two_thirds_of_its_size() {
        let (known, device, change) = an_edit();
        let small = compact(&change, device.to_bytes(), USER).unwrap();
        assert!(
            small.len() * 3 <= change.len() * 2,
            "{} bytes of {}",
            small.len(),
            change.len()
        );
        assert_eq!(
            expand(&small, device.to_bytes(), USER, &known).unwrap(),
            change
        );
    }

    #[test]
    fn someone_elses_actor_and_message_travel_whole() {
        let (known, device, change) = an_edit();
        let own = compact(&change, device.to_bytes(), USER).unwrap();
        let other = ActorId::random();
        let whole = compact(&change, other.to_bytes(), "someone-else").unwrap();
        // The actor (16 bytes and its length) and the user id (and its
        // length) are in it.
        assert_eq!(whole.len(), own.len() + 17 + 1 + USER.len());
        // Rebuilt whoever pushes it: that the actor is the pusher's is the
        // push's own check, on the rebuilt change.
        assert_eq!(
            expand(&whole, other.to_bytes(), "someone-else", &known).unwrap(),
            change
        );
        assert_eq!(
            expand(&whole, device.to_bytes(), USER, &known).unwrap(),
            change
        );
    }

    #[test]
    fn a_change_the_server_cannot_rebuild_exactly_is_refused() {
        let (known, device, change) = an_edit();
        let small = compact(&change, device.to_bytes(), USER).unwrap();
        // Another user's id as the message: the checksum catches it.
        assert_eq!(
            expand(&small, device.to_bytes(), "gw-other", &known),
            Err(ExpandError::Checksum)
        );
        // A dependency the server does not hold.
        assert_eq!(
            expand(&small, device.to_bytes(), USER, &Held::default()),
            Err(ExpandError::UnknownDependency)
        );
        // Cut anywhere: malformed or unknown, never a wrong change.
        for n in 0..small.len() {
            assert!(
                expand(&small[..n], device.to_bytes(), USER, &known).is_err(),
                "cut at {n}"
            );
        }
        // Not a change chunk: it goes whole.
        assert_eq!(compact(b"not a change", device.to_bytes(), USER), None);
    }

    #[test]
    fn a_compact_change_is_told_from_a_whole_one_by_its_first_byte() {
        let (_, device, change) = an_edit();
        assert!(!is_compact(&change));
        for (actor, user) in [(device.to_bytes(), USER), (&[1u8; 16][..], "someone")] {
            assert!(is_compact(&compact(&change, actor, user).unwrap()));
        }
        assert!(!is_compact(&[]));
    }
}
