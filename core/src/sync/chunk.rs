//! Automerge's change chunk, as far as Gridwork's wire forms take it
//! apart: the header and the fields before the operation columns. Both
//! the compact push ([`super::compact`]) and the packed pull
//! ([`super::pack`]) rebuild a change byte for byte from these parts, so
//! its hash holds.
//!
//! A change chunk is `85 6f 4a 83`, a 4-byte checksum, the chunk type
//! (`01` for a plain change), the body's length (uLEB128) and the body:
//! the dependencies (a count, then 32-byte hashes), the actor, sequence
//! number, start op and time, the message, the other actors, and then the
//! operation columns (their count, each column's spec and length, their
//! bytes) and any extra bytes. The checksum is the first 4 bytes of the
//! change's hash: SHA-256 of the type, the length and the body.

use sha2::{Digest, Sha256};

/// Automerge's chunk magic.
pub(crate) const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// The chunk type of an uncompressed change.
const CHANGE: u8 = 1;

/// A plain change chunk's parts, as slices of it.
pub(crate) struct Parts<'a> {
    pub checksum: &'a [u8],
    pub deps: Vec<&'a [u8]>,
    pub actor: &'a [u8],
    /// Sequence number, start op and time, as encoded.
    pub counters: &'a [u8],
    pub seq: u64,
    pub start_op: u64,
    pub time: i64,
    pub message: &'a [u8],
    pub others: Vec<&'a [u8]>,
    /// The operation columns and extra bytes.
    pub rest: &'a [u8],
}

pub(crate) fn uleb(input: &mut &[u8]) -> Option<u64> {
    leb128::read::unsigned(input).ok()
}

pub(crate) fn sleb(input: &mut &[u8]) -> Option<i64> {
    leb128::read::signed(input).ok()
}

/// A uLEB128 count or length that fits in memory.
pub(crate) fn count(input: &mut &[u8]) -> Option<usize> {
    usize::try_from(uleb(input)?).ok()
}

pub(crate) fn take<'a>(input: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if input.len() < n {
        return None;
    }
    let (head, tail) = input.split_at(n);
    *input = tail;
    Some(head)
}

pub(crate) fn length_prefixed<'a>(input: &mut &'a [u8]) -> Option<&'a [u8]> {
    let n = count(input)?;
    take(input, n)
}

pub(crate) fn put_uleb(out: &mut Vec<u8>, n: u64) {
    // Writing to a Vec cannot fail.
    let _ = leb128::write::unsigned(out, n);
}

pub(crate) fn put_sleb(out: &mut Vec<u8>, n: i64) {
    // Writing to a Vec cannot fail.
    let _ = leb128::write::signed(out, n);
}

pub(crate) fn put_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    put_uleb(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// The parts of `chunk` when it is one uncompressed change chunk.
pub(crate) fn parts(chunk: &[u8]) -> Option<Parts<'_>> {
    let mut i = chunk;
    if take(&mut i, 4)? != MAGIC {
        return None;
    }
    let checksum = take(&mut i, 4)?;
    if take(&mut i, 1)? != [CHANGE] {
        return None;
    }
    let len = count(&mut i)?;
    if i.len() != len {
        return None;
    }
    let n_deps = count(&mut i)?;
    let mut deps = Vec::with_capacity(n_deps.min(64));
    for _ in 0..n_deps {
        deps.push(take(&mut i, 32)?);
    }
    let actor = length_prefixed(&mut i)?;
    let before = i;
    let seq = uleb(&mut i)?;
    let start_op = uleb(&mut i)?;
    let time = sleb(&mut i)?;
    let counters = &before[..before.len() - i.len()];
    let message = length_prefixed(&mut i)?;
    let n_others = count(&mut i)?;
    let mut others = Vec::with_capacity(n_others.min(64));
    for _ in 0..n_others {
        others.push(length_prefixed(&mut i)?);
    }
    Some(Parts {
        checksum,
        deps,
        actor,
        counters,
        seq,
        start_op,
        time,
        message,
        others,
        rest: i,
    })
}

/// The change chunk whose body is `body`, and its hash.
pub(crate) fn seal(body: &[u8]) -> (Vec<u8>, [u8; 32]) {
    let mut hashed = vec![CHANGE];
    put_uleb(&mut hashed, body.len() as u64);
    hashed.extend_from_slice(body);
    let hash: [u8; 32] = Sha256::digest(&hashed).into();
    let mut chunk = Vec::with_capacity(8 + hashed.len());
    chunk.extend_from_slice(&MAGIC);
    chunk.extend_from_slice(&hash[..4]);
    chunk.extend_from_slice(&hashed);
    (chunk, hash)
}
