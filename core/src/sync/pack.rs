//! The changes of a sync answer packed for a slow link (issue #14): the
//! answer's key `k`, for a device that asked for it (`k` in its request).
//!
//! A new tablet's first sync of a grid is thousands of documents of one
//! change each, every change an Automerge chunk of about a kilobyte with
//! the same shape as its neighbours'. Compressed one after the other (as
//! `p` is), zstd finds little to share between them: 168 bytes a
//! document on the bench's grid. Packed, the changes are taken apart and
//! each part travels beside the same part of every other change, where
//! the frame's compression finds it again:
//!
//! - the chunk's header and checksum are left out (the device seals the
//!   body again and computes them), a dependency is the distance back to
//!   the change of the batch it names, an actor or a message the place in
//!   a table of those seen before;
//! - each operation column travels in a stream of its own, across every
//!   change of the batch;
//! - the values (Automerge's value column) are cut by the key they are
//!   written under, so every resident's `name` travels together, every
//!   `phone` together;
//! - a value that is a record's id as text (a resident's own `id`, its
//!   `household_id`) names its document in the batch instead, and a
//!   number (a time in milliseconds) travels as its difference from the
//!   previous number under the same key;
//! - from format 2 on, a photo's SHA-256 as 64 hex characters travels as
//!   its 32 bytes;
//! - from format 3 on, a resident's ID number travels without the 8
//!   digits of the birth date their change wrote just before it, and
//!   without its check digit: the device writes them back; a record id
//!   in its 74 random bits; and a number's difference in byte planes,
//!   each byte beside the same byte of the key's other numbers.
//!
//! The device rebuilds every change byte for byte, so its hash holds and
//! it merges as if it had been sent whole. The packer rebuilds each
//! change itself before packing it and sends whole (in the raw stream)
//! any it could not rebuild exactly: a compressed chunk, a column format
//! it does not know.
//!
//! Four formats: 1; 2, which differs only in the hex values; 3, which
//! differs from 2 in the ID numbers, the ids and the differences; 4,
//! packed as 3, whose device also reads a streamed answer's pages
//! continuing one xz stream ([`super::wire::AnswerWriter`]). A
//! device says the newest it reads (`x` in its request, 1 when it leaves
//! it out: [`super::wire::SyncRequest::pack_format`]), and one that reads
//! 2 or later reads an answer framed with xz too
//! ([`super::wire::Answer`]).
//!
//! Layout: the format byte, the number of documents, the number of
//! streams and each stream's length (uLEB128), then the streams one after
//! the other. The first [`FIXED`] streams are named by [`S`]; after them
//! come, in the order their first byte was written, a stream for each
//! operation column's spec and one for each key's values, told apart by
//! what the reader has rebuilt so far (see `Streams::dynamic`).

use std::collections::HashMap;

use uuid::Uuid;

use super::chunk::{count, parts, put_prefixed, put_sleb, put_uleb, seal, sleb, take, uleb};
use super::wire::DocChanges;

/// The first packed format (the format byte).
const FIRST: u8 = 1;
/// The newest packed format, which this build reads and writes with the
/// others before it. Format 4 packs as 3 does; a device that reads it
/// reads the pages of a streamed answer continuing one xz stream too
/// ([`super::wire::AnswerWriter`]).
pub const NEWEST: u8 = 4;

/// The fixed streams.
#[derive(Clone, Copy)]
enum S {
    /// Per document: its number of changes.
    Docs,
    /// Per document: its id's first 6 bytes (a UUIDv7's milliseconds) as
    /// a number, less the previous id's.
    IdTimes,
    /// Per document: the other 10 bytes of its id. From format 3 on, the
    /// number of ids that are not UUIDv7s and each one's place, then each
    /// UUIDv7's 74 random bits and each other id's 80, bit after bit
    /// ([`put_ids`]).
    Ids,
    /// Per change: 0 sent whole (in `Raw`), 1 packed, 2 packed with each
    /// value's metadata beside it under its key (`Cut::Metas`).
    Head,
    /// Changes sent whole: length, bytes.
    Raw,
    /// Per change: the number of dependencies, then each as the distance
    /// back to the packed change it names (1 = the previous one), or 0
    /// for a hash in `Hashes`.
    Deps,
    Hashes,
    /// Per change: its actor's place in the actor table, the table's
    /// length for a new actor (its bytes in `ActorBytes`).
    Actors,
    ActorBytes,
    /// Per change: sequence number and start op.
    Counters,
    /// Per change: which base its time is sent as the difference from
    /// (`Here::times`), then the difference.
    Time,
    /// Per change: its message's place in the message table, as actors.
    Messages,
    MessageBytes,
    /// Per change: the number of other actors, then each as `Actors`.
    Others,
    /// Per change: its columns' specs' place in the shape table, as
    /// actors (a new shape's count and specs in `ShapeSpecs`).
    Shapes,
    ShapeSpecs,
    /// Per change: each column's length, the value column's left out.
    Lengths,
    /// Per change: the bytes after the columns, length first.
    Extra,
}

const FIXED: usize = S::Extra as usize + 1;

/// Automerge's column specs the values are cut by: the key as text, the
/// values' types and lengths, the values' bytes.
const KEY_STRING: u64 = (1 << 4) | 5;
const VALUE_META: u64 = (5 << 4) | 6;
const VALUE_RAW: u64 = (5 << 4) | 7;

/// Value types (the low 4 bits of a value's metadata) that are packed.
const UINT: u64 = 3;
const INT: u64 = 4;
const UTF8: u64 = 6;
const COUNTER: u64 = 8;
const TIMESTAMP: u64 = 9;

/// How a packed value travels: as it is, as the document it names (its
/// own, or another of the batch by distance), as the difference from the
/// previous number under its key.
const LITERAL: u8 = 0;
const OWN_ID: u8 = 1;
const BATCH_ID: u8 = 2;
const DELTA: u8 = 3;
/// As the difference from the previous number in the same change.
const DELTA_LAST: u8 = 4;
/// As the difference from the time in the record's own id (a UUIDv7's
/// milliseconds: a record is made when its id is).
const DELTA_ID: u8 = 5;
/// As the 32 bytes that 64 lowercase hex characters (a photo's SHA-256)
/// spell.
const HEX: u8 = 6;
/// A record id as text: `0193f0c2-7d4e-7a1b-9c3d-2e1f0a9b8c7d`.
const ID_TEXT: usize = 36;
/// A SHA-256 as lowercase hex.
const HEX_TEXT: usize = 64;
/// From format 3 on, a mainland ID number (18 characters) that carries
/// the date its change wrote before it (a resident's `birth_date`) and a
/// valid check digit: as its other 9 digits.
const ID_NUMBER: u8 = 7;
/// A mainland ID number: 6 digits of region, 8 of birth date, 3 of
/// sequence and a check digit.
const ID_NUMBER_TEXT: usize = 18;
/// A date as text: `2001-04-29`.
const DATE_TEXT: usize = 10;

/// Why packed changes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnpackError {
    #[error("the packed changes are malformed: {0}")]
    Malformed(&'static str),
    #[error("the packed changes expand beyond {0} bytes")]
    TooLarge(usize),
}

/// What a stream after the fixed ones carries.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Dynamic {
    Column(u64),
    Values(Option<Vec<u8>>),
    /// From format 3 on, the numbers of a key's stream that travel as a
    /// difference: each one's width in bytes, then its bytes, the most
    /// significant in plane 0 ([`put_delta`]).
    Widths(usize),
    Plane(usize, u8),
}

/// The tables both sides build as they go, in the same order.
#[derive(Default)]
struct Tables {
    actors: Table,
    messages: Table,
    shapes: Table,
    /// The hashes of the packed changes so far.
    hashes: Vec<[u8; 32]>,
    time: i64,
    dynamic: HashMap<Dynamic, usize>,
    /// The previous number under each value stream.
    previous: HashMap<usize, i64>,
    /// Whether hex values travel as bytes (format 2 on).
    hex: bool,
    /// Whether ID numbers travel without their date, record ids in their
    /// random bits and differences in byte planes (format 3 on).
    format_3: bool,
}

#[derive(Default)]
struct Table {
    items: Vec<Vec<u8>>,
    places: HashMap<Vec<u8>, usize>,
}

impl Table {
    /// Writes `item`'s place to `places`, and its bytes to `bytes` when
    /// it is new.
    fn put(&mut self, item: &[u8], places: &mut Vec<u8>, bytes: &mut Vec<u8>) {
        match self.places.get(item) {
            Some(&at) => put_uleb(places, at as u64),
            None => {
                put_uleb(places, self.items.len() as u64);
                put_prefixed(bytes, item);
                self.add(item.to_vec());
            }
        }
    }

    fn add(&mut self, item: Vec<u8>) {
        self.places.insert(item.clone(), self.items.len());
        self.items.push(item);
    }

    fn get(&mut self, places: &mut &[u8], bytes: &mut &[u8]) -> Result<Vec<u8>, UnpackError> {
        let at = count(places).ok_or(MALFORMED)?;
        if at < self.items.len() {
            return Ok(self.items[at].clone());
        }
        if at > self.items.len() {
            return Err(UnpackError::Malformed("a table place beyond the table"));
        }
        let item = super::chunk::length_prefixed(bytes)
            .ok_or(MALFORMED)?
            .to_vec();
        self.add(item.clone());
        Ok(item)
    }
}

const MALFORMED: UnpackError = UnpackError::Malformed("a stream ends early");

/// A change taken apart down to its columns.
struct Change<'a> {
    deps: Vec<&'a [u8]>,
    actor: &'a [u8],
    seq: u64,
    start_op: u64,
    time: i64,
    message: &'a [u8],
    others: Vec<&'a [u8]>,
    columns: Vec<(u64, &'a [u8])>,
    extra: &'a [u8],
}

fn take_apart(chunk: &[u8]) -> Option<Change<'_>> {
    let p = parts(chunk)?;
    let mut i = p.rest;
    let n = count(&mut i)?;
    let mut specs = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        specs.push((uleb(&mut i)?, count(&mut i)?));
    }
    let mut columns = Vec::with_capacity(specs.len());
    for (spec, len) in specs {
        columns.push((spec, take(&mut i, len)?));
    }
    Some(Change {
        deps: p.deps,
        actor: p.actor,
        seq: p.seq,
        start_op: p.start_op,
        time: p.time,
        message: p.message,
        others: p.others,
        columns,
        extra: i,
    })
}

/// The chunk `change` was taken apart from, and its hash.
fn put_together(change: &Change<'_>) -> (Vec<u8>, [u8; 32]) {
    let mut body = Vec::new();
    put_uleb(&mut body, change.deps.len() as u64);
    for d in &change.deps {
        body.extend_from_slice(d);
    }
    put_prefixed(&mut body, change.actor);
    put_uleb(&mut body, change.seq);
    put_uleb(&mut body, change.start_op);
    put_sleb(&mut body, change.time);
    put_prefixed(&mut body, change.message);
    put_uleb(&mut body, change.others.len() as u64);
    for o in &change.others {
        put_prefixed(&mut body, o);
    }
    put_uleb(&mut body, change.columns.len() as u64);
    for (spec, data) in &change.columns {
        put_uleb(&mut body, *spec);
        put_uleb(&mut body, data.len() as u64);
    }
    for (_, data) in &change.columns {
        body.extend_from_slice(data);
    }
    body.extend_from_slice(change.extra);
    seal(&body)
}

/// The most operations a change's column may hold here: more is an
/// error (a change of a million operations is sent whole).
const MAX_OPS: u64 = 1 << 20;

/// One run-length encoded column (Automerge's RLE: a signed count, then
/// one value repeated, or that many values, or a count of nulls), each
/// value read by `value`.
fn runs<T: Clone>(
    mut column: &[u8],
    value: impl Fn(&mut &[u8]) -> Option<T>,
) -> Option<Vec<Option<T>>> {
    let mut out = Vec::new();
    while !column.is_empty() {
        let n = sleb(&mut column)?;
        if n.unsigned_abs() > MAX_OPS - out.len() as u64 {
            return None;
        }
        if n > 0 {
            let v = value(&mut column)?;
            out.extend(std::iter::repeat_n(Some(v), usize::try_from(n).ok()?));
        } else if n < 0 {
            for _ in 0..n.unsigned_abs() {
                out.push(Some(value(&mut column)?));
            }
        } else {
            let nulls = count(&mut column).filter(|n| *n as u64 <= MAX_OPS - out.len() as u64)?;
            out.extend(std::iter::repeat_n(None, nulls));
        }
    }
    Some(out)
}

/// Each operation's key (`None` for a list element) and value metadata,
/// when the change's values can be cut by key: `None` when not, and then
/// its value column travels as any other column.
fn keyed_values(columns: &[(u64, &[u8])]) -> Option<Keyed> {
    let raw = columns.iter().position(|(s, _)| *s == VALUE_RAW)?;
    let before = &columns[..raw];
    let at = |spec| before.iter().find(|(s, _)| *s == spec).map(|(_, d)| *d);
    let metas: Vec<u64> = runs(at(VALUE_META)?, uleb)?
        .into_iter()
        .map(|m| m.unwrap_or(0))
        .collect();
    let keys = match at(KEY_STRING) {
        Some(k) => runs(k, |i| super::chunk::length_prefixed(i).map(<[u8]>::to_vec))?,
        None => vec![None; metas.len()],
    };
    (keys.len() == metas.len()).then_some((keys, metas))
}

impl Tables {
    /// The tables of a pack in `format`.
    fn of(format: u8) -> Tables {
        Tables {
            hex: format >= 2,
            format_3: format >= 3,
            ..Tables::default()
        }
    }

    /// The number of the stream for `what`: the next one the first time.
    fn stream(&mut self, what: Dynamic) -> usize {
        let next = self.dynamic.len();
        *self.dynamic.entry(what).or_insert(next)
    }
}

/// The streams being written or read.
struct Streams {
    fixed: Vec<Vec<u8>>,
    dynamic: Vec<Vec<u8>>,
}

impl Streams {
    fn at(&mut self, s: S) -> &mut Vec<u8> {
        &mut self.fixed[s as usize]
    }

    /// The stream for `what`, added when first written.
    fn dynamic(&mut self, tables: &mut Tables, what: Dynamic) -> usize {
        let at = tables.stream(what);
        if at == self.dynamic.len() {
            self.dynamic.push(Vec::new());
        }
        at
    }
}

/// Packs the changes of `docs` in `format` (clamped to the formats this
/// build writes), to be unpacked into exactly them.
pub fn pack(docs: &[DocChanges], format: u8) -> Vec<u8> {
    let format = format.clamp(FIRST, NEWEST);
    let mut streams = Streams {
        fixed: vec![Vec::new(); FIXED],
        dynamic: Vec::new(),
    };
    let mut tables = Tables::of(format);
    let places: HashMap<Uuid, usize> = docs.iter().enumerate().map(|(i, d)| (d.doc, i)).collect();
    let mut previous = 0;
    for d in docs {
        let (time, rest) = id_parts(&d.doc);
        put_sleb(streams.at(S::IdTimes), time - previous);
        previous = time;
        if !tables.format_3 {
            streams.at(S::Ids).extend_from_slice(rest);
        }
    }
    if tables.format_3 {
        put_ids(streams.at(S::Ids), docs.iter().map(|d| &d.doc));
    }
    for (at, d) in docs.iter().enumerate() {
        put_uleb(streams.at(S::Docs), d.changes.len() as u64);
        for change in &d.changes {
            match take_apart(change).and_then(|c| packable(c, change)) {
                Some((cut, c, hash)) => {
                    streams.at(S::Head).push(match cut {
                        Cut::Metas(_) => 2,
                        _ => 1,
                    });
                    pack_change(&mut streams, &mut tables, &c, &cut, (at, &d.doc), &places);
                    tables.hashes.push(hash);
                }
                None => {
                    streams.at(S::Head).push(0);
                    put_prefixed(streams.at(S::Raw), change);
                }
            }
        }
    }
    let mut out = vec![format];
    put_uleb(&mut out, docs.len() as u64);
    let all: Vec<&Vec<u8>> = streams.fixed.iter().chain(&streams.dynamic).collect();
    put_uleb(&mut out, all.len() as u64);
    for s in &all {
        put_uleb(&mut out, s.len() as u64);
    }
    for s in all {
        out.extend_from_slice(s);
    }
    out
}

/// Keys and value metadata to cut `c`'s values by
type Keyed = (Vec<Option<Vec<u8>>>, Vec<u64>);

/// How a packed change's values travel.
enum Cut {
    /// In the value column's stream, as any column.
    Not,
    /// Cut by key.
    Values(Keyed),
    /// Cut by key, each with its metadata: the metadata column is rebuilt
    /// from them ([`rle`]), which the packer checked gives it exactly.
    Metas(Keyed),
}

/// `c`, with its values cut by key when they can be, and its hash, when
/// it is packed: when its columns come in Automerge's order (each spec
/// once, ascending) and it puts together into `chunk` exactly.
fn packable<'a>(c: Change<'a>, chunk: &[u8]) -> Option<(Cut, Change<'a>, [u8; 32])> {
    if !c.columns.windows(2).all(|w| w[0].0 < w[1].0) {
        return None;
    }
    let (again, hash) = put_together(&c);
    if again != chunk {
        return None;
    }
    let values = keyed_values(&c.columns);
    if let Some((_, metas)) = &values {
        let total = metas.iter().try_fold(0u64, |t, m| t.checked_add(m >> 4));
        let raw = c.columns.iter().find(|(s, _)| *s == VALUE_RAW)?.1;
        if total != Some(raw.len() as u64) {
            return None;
        }
    }
    let cut = match values {
        None => Cut::Not,
        Some(keyed) => {
            let meta = c.columns.iter().find(|(s, _)| *s == VALUE_META)?.1;
            if rle(&keyed.1) == meta {
                Cut::Metas(keyed)
            } else {
                Cut::Values(keyed)
            }
        }
    };
    Some((cut, c, hash))
}

/// `values` run-length encoded as Automerge encodes a column of unsigned
/// integers without nulls: each run of two or more equal values as its
/// length and the value, the values between runs as a literal run (their
/// count, negative, then each).
fn rle(values: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut literal: Vec<u64> = Vec::new();
    let flush = |out: &mut Vec<u8>, literal: &mut Vec<u64>| {
        if !literal.is_empty() {
            put_sleb(out, -(literal.len() as i64));
            for v in literal.drain(..) {
                put_uleb(out, v);
            }
        }
    };
    for run in values.chunk_by(|a, b| a == b) {
        if run.len() == 1 {
            literal.push(run[0]);
        } else {
            flush(&mut out, &mut literal);
            put_sleb(&mut out, run.len() as i64);
            put_uleb(&mut out, run[0]);
        }
    }
    flush(&mut out, &mut literal);
    out
}

fn pack_change(
    streams: &mut Streams,
    tables: &mut Tables,
    c: &Change<'_>,
    cut: &Cut,
    (doc, id): (usize, &Uuid),
    places: &HashMap<Uuid, usize>,
) {
    let [deps, hashes] = streams
        .fixed
        .get_disjoint_mut([S::Deps as usize, S::Hashes as usize])
        .expect("distinct streams");
    put_uleb(deps, c.deps.len() as u64);
    for d in &c.deps {
        match tables.hashes.iter().rposition(|h| h == d) {
            Some(at) => put_uleb(deps, (tables.hashes.len() - at) as u64),
            None => {
                put_uleb(deps, 0);
                hashes.extend_from_slice(d);
            }
        }
    }
    let [actors, actor_bytes] = streams
        .fixed
        .get_disjoint_mut([S::Actors as usize, S::ActorBytes as usize])
        .expect("distinct streams");
    tables.actors.put(c.actor, actors, actor_bytes);
    put_uleb(streams.at(S::Counters), c.seq);
    put_uleb(streams.at(S::Counters), c.start_op);
    let [messages, message_bytes] = streams
        .fixed
        .get_disjoint_mut([S::Messages as usize, S::MessageBytes as usize])
        .expect("distinct streams");
    tables.messages.put(c.message, messages, message_bytes);
    put_uleb(streams.at(S::Others), c.others.len() as u64);
    for o in &c.others {
        let [others, actor_bytes] = streams
            .fixed
            .get_disjoint_mut([S::Others as usize, S::ActorBytes as usize])
            .expect("distinct streams");
        tables.actors.put(o, others, actor_bytes);
    }
    let mut shape = Vec::new();
    put_uleb(&mut shape, c.columns.len() as u64);
    for (spec, _) in &c.columns {
        put_uleb(&mut shape, *spec);
    }
    let [shapes, shape_specs] = streams
        .fixed
        .get_disjoint_mut([S::Shapes as usize, S::ShapeSpecs as usize])
        .expect("distinct streams");
    tables.shapes.put(&shape, shapes, shape_specs);
    let mut here = Here::new(doc, id, tables);
    for (spec, data) in &c.columns {
        match cut {
            Cut::Metas((_, metas)) if *spec == VALUE_META => {
                put_uleb(streams.at(S::Lengths), metas.len() as u64);
            }
            Cut::Values((keys, metas)) | Cut::Metas((keys, metas)) if *spec == VALUE_RAW => {
                let mut data: &[u8] = data;
                for (key, meta) in keys.iter().zip(metas) {
                    let value = take(&mut data, (meta >> 4) as usize).expect("lengths checked");
                    let s = streams.dynamic(tables, Dynamic::Values(key.clone()));
                    if matches!(cut, Cut::Metas(_)) {
                        put_uleb(&mut streams.dynamic[s], *meta);
                    }
                    let previous = tables.previous.entry(s).or_default();
                    let delta = put_value(
                        &mut streams.dynamic[s],
                        previous,
                        meta & 0xf,
                        value,
                        &mut here,
                        places,
                    );
                    if let Some(delta) = delta {
                        put_delta(streams, tables, s, delta);
                    }
                }
            }
            _ => {
                put_uleb(streams.at(S::Lengths), data.len() as u64);
                let s = streams.dynamic(tables, Dynamic::Column(*spec));
                streams.dynamic[s].extend_from_slice(data);
            }
        }
    }
    let bases = here.times(tables.time);
    let form = (0..bases.len())
        .min_by_key(|f| c.time.wrapping_sub(bases[*f]).unsigned_abs())
        .expect("three bases");
    streams.at(S::Time).push(form as u8);
    put_sleb(streams.at(S::Time), c.time.wrapping_sub(bases[form]));
    tables.time = c.time;
    put_prefixed(streams.at(S::Extra), c.extra);
}

/// Where a value is written: its document's place in the batch, its id's
/// time, the previous number of its change; and whether hex values travel
/// as bytes.
struct Here {
    doc: usize,
    id_ms: i64,
    last: i64,
    hex: bool,
    /// Whether ID numbers travel as [`ID_NUMBER`] (format 3 on).
    id_numbers: bool,
    /// The digits of the last date written in the change, for
    /// [`ID_NUMBER`].
    date: Option<[u8; 8]>,
}

impl Here {
    fn new(doc: usize, id: &Uuid, tables: &Tables) -> Here {
        // A UUIDv7 starts with its milliseconds.
        let id_ms = if id.get_version_num() == 7 {
            id_parts(id).0
        } else {
            0
        };
        Here {
            doc,
            id_ms,
            last: id_ms,
            hex: tables.hex,
            id_numbers: tables.format_3,
            date: None,
        }
    }

    /// Notes a text value written or read: its digits if it is a date.
    fn wrote_text(&mut self, value: &[u8]) {
        if let [y @ .., b'-', m1, m2, b'-', d1, d2] = value
            && value.len() == DATE_TEXT
            && [*m1, *m2, *d1, *d2].iter().chain(y).all(u8::is_ascii_digit)
        {
            let mut digits = [0u8; 8];
            digits[..4].copy_from_slice(y);
            digits[4..].copy_from_slice(&[*m1, *m2, *d1, *d2]);
            self.date = Some(digits);
        }
    }

    /// `value`'s region and sequence digits when it is an ID number that
    /// carries the change's last date and a valid check digit.
    fn id_number(&self, value: &[u8]) -> Option<[u8; 9]> {
        let date = self.date?;
        let (digits, check) = value.split_at_checked(ID_NUMBER_TEXT - 1)?;
        if !digits.iter().all(u8::is_ascii_digit)
            || digits[6..14] != date[..]
            || check != [id_check_digit(digits)]
        {
            return None;
        }
        let mut rest = [0u8; 9];
        rest[..6].copy_from_slice(&digits[..6]);
        rest[6..].copy_from_slice(&digits[14..]);
        Some(rest)
    }

    /// The ID number [`Here::id_number`] took `rest` from.
    fn id_number_of(&self, rest: &[u8]) -> Result<Vec<u8>, UnpackError> {
        let date = self
            .date
            .ok_or(UnpackError::Malformed("an ID number without its date"))?;
        if rest.len() != 9 || !rest.iter().all(u8::is_ascii_digit) {
            return Err(UnpackError::Malformed("an ID number that is not digits"));
        }
        let mut out = Vec::with_capacity(ID_NUMBER_TEXT);
        out.extend_from_slice(&rest[..6]);
        out.extend_from_slice(&date);
        out.extend_from_slice(&rest[6..]);
        out.push(id_check_digit(&out));
        Ok(out)
    }

    /// What a change's time (in seconds) is sent as the difference from,
    /// after its values: the previous change's time, the id's, the last
    /// number's (a record's times are in milliseconds).
    fn times(&self, previous: i64) -> [i64; 3] {
        [
            previous,
            self.id_ms.div_euclid(1000),
            self.last.div_euclid(1000),
        ]
    }

    /// The number a value of form `form` is the difference from.
    fn base(&self, form: u8, previous: i64) -> i64 {
        match form {
            DELTA_LAST => self.last,
            DELTA_ID => self.id_ms,
            _ => previous,
        }
    }
}

/// The check digit of a mainland ID number's first 17 digits (GB 11643:
/// ISO 7064 MOD 11-2).
fn id_check_digit(digits: &[u8]) -> u8 {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize]
}

/// The random bits of a UUIDv7 after its time: 74 of the 80, its version
/// (4 bits) and variant (2) left out.
const V7_BITS: u32 = 74;

/// A UUIDv7's last 62 bits, after its variant.
const RAND_B: u128 = (1 << 62) - 1;

/// Whether `id` is a UUIDv7 of the RFC's variant, as the device makes
/// every record's id.
fn is_v7(id: &Uuid) -> bool {
    id.get_version_num() == 7 && id.get_variant() == uuid::Variant::RFC4122
}

/// Writes the 10 bytes after each id's time as the [`S::Ids`] stream of
/// format 3: the places of the ids that are not UUIDv7s, then every id's
/// bits.
fn put_ids<'a>(out: &mut Vec<u8>, ids: impl Iterator<Item = &'a Uuid> + Clone) {
    use bitstream_io::{BigEndian, BitWrite, BitWriter};
    let others: Vec<usize> = ids
        .clone()
        .enumerate()
        .filter(|(_, id)| !is_v7(id))
        .map(|(at, _)| at)
        .collect();
    put_uleb(out, others.len() as u64);
    for at in others {
        put_uleb(out, at as u64);
    }
    let mut bits = BitWriter::endian(std::mem::take(out), BigEndian);
    for id in ids {
        let rest = u128::from_be_bytes(*id.as_bytes()) & ((1 << 80) - 1);
        let written = if is_v7(id) {
            let (rand_a, rand_b) = (rest >> 64 & 0xfff, rest & RAND_B);
            bits.write_var(V7_BITS, rand_a << 62 | rand_b)
        } else {
            bits.write_var(80, rest)
        };
        written.expect("a Vec takes every bit");
    }
    bits.byte_align().expect("a Vec takes every bit");
    *out = bits.into_writer();
}

/// The 10 bytes after each of `n` ids' time, from the [`S::Ids`] stream
/// of format 3 ([`put_ids`]).
fn take_ids(mut input: &[u8], n: usize) -> Result<Vec<[u8; 10]>, UnpackError> {
    use bitstream_io::{BigEndian, BitRead, BitReader};
    let n_others = count(&mut input).ok_or(MALFORMED)?;
    if n_others > n {
        return Err(UnpackError::Malformed("more other ids than documents"));
    }
    let mut others = std::collections::HashSet::with_capacity(n_others.min(input.len()));
    for _ in 0..n_others {
        others.insert(count(&mut input).ok_or(MALFORMED)?);
    }
    let mut bits = BitReader::endian(input, BigEndian);
    let mut out = Vec::with_capacity(n.min(input.len() * 8 / V7_BITS as usize));
    for at in 0..n {
        let rest: u128 = if others.contains(&at) {
            bits.read_var(80)
        } else {
            bits.read_var::<u128>(V7_BITS).map(|b| {
                let (rand_a, rand_b) = (b >> 62, b & RAND_B);
                0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
            })
        }
        .map_err(|_| MALFORMED)?;
        out.push(rest.to_be_bytes()[6..].try_into().expect("10 bytes"));
    }
    Ok(out)
}

/// An id's first 6 bytes as a number, and the rest.
fn id_parts(id: &Uuid) -> (i64, &[u8]) {
    let bytes = id.as_bytes();
    let mut time = [0u8; 8];
    time[2..].copy_from_slice(&bytes[..6]);
    (i64::from_be_bytes(time), &bytes[6..])
}

/// Writes the difference a number of the stream `s` travels as: in its
/// byte planes from format 3 on (a number's width and each of its bytes
/// in a stream of their own, where the compression finds the alike
/// bytes of alike numbers together), else after its form.
fn put_delta(streams: &mut Streams, tables: &mut Tables, s: usize, delta: i64) {
    if !tables.format_3 {
        put_sleb(&mut streams.dynamic[s], delta);
        return;
    }
    let zigzag = ((delta << 1) ^ (delta >> 63)) as u64;
    let width = zigzag.checked_ilog2().map_or(0, |bits| bits / 8 + 1) as u8;
    let at = streams.dynamic(tables, Dynamic::Widths(s));
    streams.dynamic[at].push(width);
    for (plane, byte) in zigzag.to_be_bytes()[8 - usize::from(width)..]
        .iter()
        .enumerate()
    {
        let at = streams.dynamic(tables, Dynamic::Plane(s, plane as u8));
        streams.dynamic[at].push(*byte);
    }
}

/// Writes one value of type `kind` under its key's stream; a number's
/// difference, when it travels as one, is for the caller to write
/// ([`put_delta`]).
fn put_value(
    out: &mut Vec<u8>,
    previous: &mut i64,
    kind: u64,
    value: &[u8],
    here: &mut Here,
    places: &HashMap<Uuid, usize>,
) -> Option<i64> {
    let doc = here.doc;
    match kind {
        UTF8 if value.len() == ID_TEXT => {
            let named = std::str::from_utf8(value)
                .ok()
                .and_then(|t| Uuid::try_parse(t).ok())
                .filter(|id| id.hyphenated().to_string().as_bytes() == value)
                .and_then(|id| places.get(&id));
            match named {
                Some(&at) if at == doc => out.push(OWN_ID),
                Some(&at) => {
                    out.push(BATCH_ID);
                    put_sleb(out, at as i64 - doc as i64);
                }
                None => {
                    out.push(LITERAL);
                    out.extend_from_slice(value);
                }
            }
        }
        UTF8 if value.len() == HEX_TEXT && here.hex => match hex::decode(value) {
            Ok(bytes) if hex::encode(&bytes).as_bytes() == value => {
                out.push(HEX);
                out.extend_from_slice(&bytes);
            }
            _ => {
                out.push(LITERAL);
                out.extend_from_slice(value);
            }
        },
        UINT | INT | COUNTER | TIMESTAMP => match number(kind, value) {
            Some(n) => {
                let form = [DELTA, DELTA_LAST, DELTA_ID]
                    .into_iter()
                    .min_by_key(|f| n.wrapping_sub(here.base(*f, *previous)).unsigned_abs())
                    .expect("three forms");
                out.push(form);
                let delta = n.wrapping_sub(here.base(form, *previous));
                *previous = n;
                here.last = n;
                return Some(delta);
            }
            None => {
                out.push(LITERAL);
                out.extend_from_slice(value);
            }
        },
        UTF8 if value.len() == ID_NUMBER_TEXT && here.id_numbers => match here.id_number(value) {
            Some(rest) => {
                out.push(ID_NUMBER);
                out.extend_from_slice(&rest);
            }
            None => {
                out.push(LITERAL);
                out.extend_from_slice(value);
            }
        },
        UTF8 => {
            out.extend_from_slice(value);
            here.wrote_text(value);
        }
        _ => out.extend_from_slice(value),
    }
    None
}

/// The number `value` holds when it is written exactly as [`put_number`]
/// writes it again.
fn number(kind: u64, value: &[u8]) -> Option<i64> {
    let mut i = value;
    let n = if kind == UINT {
        i64::try_from(uleb(&mut i)?).ok()?
    } else {
        sleb(&mut i)?
    };
    (i.is_empty() && put_number(kind, n) == value).then_some(n)
}

fn put_number(kind: u64, n: i64) -> Vec<u8> {
    let mut out = Vec::new();
    if kind == UINT {
        put_uleb(&mut out, n as u64);
    } else {
        put_sleb(&mut out, n);
    }
    out
}

/// The changes `packed` holds, refusing to build more than `limit` bytes
/// of them.
pub fn unpack(packed: &[u8], limit: usize) -> Result<Vec<DocChanges>, UnpackError> {
    let mut i = packed;
    let format = match take(&mut i, 1) {
        Some(&[f]) if (FIRST..=NEWEST).contains(&f) => f,
        _ => return Err(UnpackError::Malformed("an unknown format")),
    };
    let n_docs = count(&mut i).ok_or(MALFORMED)?;
    let n_streams = count(&mut i).ok_or(MALFORMED)?;
    if n_streams < FIXED || n_streams > i.len() {
        return Err(UnpackError::Malformed("too few or too many streams"));
    }
    let mut lengths = Vec::with_capacity(n_streams);
    for _ in 0..n_streams {
        lengths.push(count(&mut i).ok_or(MALFORMED)?);
    }
    let mut streams: Vec<&[u8]> = Vec::with_capacity(n_streams);
    for len in lengths {
        streams.push(take(&mut i, len).ok_or(MALFORMED)?);
    }
    let (fixed, dynamic) = streams.split_at_mut(FIXED);
    let mut r = Reader {
        fixed,
        dynamic,
        tables: Tables::of(format),
        built: 0,
        limit,
    };
    let mut ids = Vec::with_capacity(n_docs.min(r.fixed[S::Ids as usize].len() / 9));
    let bits = (r.tables.format_3)
        .then(|| take_ids(r.fixed[S::Ids as usize], n_docs))
        .transpose()?;
    let mut previous = 0i64;
    for at in 0..n_docs {
        let time = sleb(r.s(S::IdTimes))
            .and_then(|d| d.checked_add(previous))
            .filter(|t| (0..1 << 48).contains(t))
            .ok_or(MALFORMED)?;
        previous = time;
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&time.to_be_bytes()[2..]);
        match &bits {
            Some(all) => bytes[6..].copy_from_slice(&all[at]),
            None => bytes[6..].copy_from_slice(r.bytes(S::Ids, 10)?),
        }
        ids.push(Uuid::from_bytes(bytes));
    }
    let mut docs = Vec::with_capacity(n_docs);
    for (at, id) in ids.iter().enumerate() {
        let n = count(&mut r.fixed[S::Docs as usize]).ok_or(MALFORMED)?;
        let mut changes = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let change = r.change(at, &ids)?;
            r.built += change.len() + 64;
            if r.built > r.limit {
                return Err(UnpackError::TooLarge(r.limit));
            }
            changes.push(change);
        }
        docs.push(DocChanges { doc: *id, changes });
    }
    Ok(docs)
}

struct Reader<'a, 'b> {
    fixed: &'b mut [&'a [u8]],
    dynamic: &'b mut [&'a [u8]],
    tables: Tables,
    built: usize,
    limit: usize,
}

impl<'a> Reader<'a, '_> {
    fn s(&mut self, s: S) -> &mut &'a [u8] {
        &mut self.fixed[s as usize]
    }

    fn n(&mut self, s: S) -> Result<usize, UnpackError> {
        count(self.s(s)).ok_or(MALFORMED)
    }

    fn bytes(&mut self, s: S, n: usize) -> Result<&'a [u8], UnpackError> {
        take(self.s(s), n).ok_or(MALFORMED)
    }

    fn dynamic(&mut self, what: Dynamic) -> Result<usize, UnpackError> {
        let at = self.tables.stream(what);
        if at >= self.dynamic.len() {
            return Err(UnpackError::Malformed("a stream is missing"));
        }
        Ok(at)
    }

    fn table(&mut self, which: S) -> Result<Vec<u8>, UnpackError> {
        let (places, bytes) = match which {
            S::Messages => (S::Messages, S::MessageBytes),
            S::Shapes => (S::Shapes, S::ShapeSpecs),
            other => (other, S::ActorBytes),
        };
        let [p, b] = self
            .fixed
            .get_disjoint_mut([places as usize, bytes as usize])
            .expect("distinct streams");
        let table = match which {
            S::Messages => &mut self.tables.messages,
            S::Shapes => &mut self.tables.shapes,
            _ => &mut self.tables.actors,
        };
        table.get(p, b)
    }

    fn change(&mut self, doc: usize, ids: &[Uuid]) -> Result<Vec<u8>, UnpackError> {
        let head = self.bytes(S::Head, 1)?[0];
        match head {
            0 => {
                let n = self.n(S::Raw)?;
                return Ok(self.bytes(S::Raw, n)?.to_vec());
            }
            1 | 2 => {}
            _ => return Err(UnpackError::Malformed("an unknown change form")),
        }
        // The values read with their metadata, for the value column.
        let mut cut_values: Option<Vec<u8>> = None;
        let n_deps = self.n(S::Deps)?;
        let mut deps = Vec::with_capacity(n_deps.min(64));
        for _ in 0..n_deps {
            let back = self.n(S::Deps)?;
            deps.push(if back == 0 {
                self.bytes(S::Hashes, 32)?.to_vec()
            } else {
                let at = self
                    .tables
                    .hashes
                    .len()
                    .checked_sub(back)
                    .ok_or(UnpackError::Malformed("a dependency before the batch"))?;
                self.tables.hashes[at].to_vec()
            });
        }
        let actor = self.table(S::Actors)?;
        let seq = uleb(self.s(S::Counters)).ok_or(MALFORMED)?;
        let start_op = uleb(self.s(S::Counters)).ok_or(MALFORMED)?;
        let message = self.table(S::Messages)?;
        let n_others = self.n(S::Others)?;
        let mut others = Vec::with_capacity(n_others.min(64));
        for _ in 0..n_others {
            others.push(self.table(S::Others)?);
        }
        let shape = self.table(S::Shapes)?;
        let mut shape: &[u8] = &shape;
        let n_columns = count(&mut shape).ok_or(MALFORMED)?;
        let mut specs = Vec::with_capacity(n_columns.min(64));
        for _ in 0..n_columns {
            specs.push(uleb(&mut shape).ok_or(MALFORMED)?);
        }
        let mut columns: Vec<(u64, Vec<u8>)> = Vec::with_capacity(specs.len());
        let mut here = Here::new(doc, &ids[doc], &self.tables);
        for spec in specs {
            if head == 2 && spec == VALUE_META {
                let (metas, values) = self.values_with_metas(&columns, &mut here, ids)?;
                cut_values = Some(values);
                columns.push((spec, rle(&metas)));
                continue;
            }
            if head == 2 && spec == VALUE_RAW {
                let values = cut_values
                    .take()
                    .ok_or(UnpackError::Malformed("values without their metadata"))?;
                columns.push((spec, values));
                continue;
            }
            let keyed = if spec == VALUE_RAW {
                let mut view: Vec<(u64, &[u8])> =
                    columns.iter().map(|(s, d)| (*s, d.as_slice())).collect();
                view.push((VALUE_RAW, &[]));
                keyed_values(&view)
            } else {
                None
            };
            let data = match keyed {
                Some((keys, metas)) => self.values(&keys, &metas, &mut here, ids)?,
                None => {
                    let n = self.n(S::Lengths)?;
                    let s = self.dynamic(Dynamic::Column(spec))?;
                    take(&mut self.dynamic[s], n).ok_or(MALFORMED)?.to_vec()
                }
            };
            if self.built + data.len() > self.limit {
                return Err(UnpackError::TooLarge(self.limit));
            }
            columns.push((spec, data));
        }
        let form = usize::from(self.bytes(S::Time, 1)?[0]);
        let base = *here
            .times(self.tables.time)
            .get(form)
            .ok_or(UnpackError::Malformed("an unknown time form"))?;
        let time = sleb(self.s(S::Time)).ok_or(MALFORMED)?.wrapping_add(base);
        self.tables.time = time;
        let n = self.n(S::Extra)?;
        let extra = self.bytes(S::Extra, n)?;
        let change = Change {
            deps: deps.iter().map(Vec::as_slice).collect(),
            actor: &actor,
            seq,
            start_op,
            time,
            message: &message,
            others: others.iter().map(Vec::as_slice).collect(),
            columns: columns.iter().map(|(s, d)| (*s, d.as_slice())).collect(),
            extra,
        };
        let (chunk, hash) = put_together(&change);
        self.tables.hashes.push(hash);
        Ok(chunk)
    }

    /// Reads one value of the stream `s` onto `out` ([`take_value`]).
    fn value(
        &mut self,
        s: usize,
        kind_len: (u64, usize),
        here: &mut Here,
        ids: &[Uuid],
        out: &mut Vec<u8>,
    ) -> Result<(), UnpackError> {
        let mut input = self.dynamic[s];
        let mut previous = self.tables.previous.get(&s).copied().unwrap_or_default();
        take_value(&mut input, &mut previous, kind_len, here, ids, out, |i| {
            self.delta(s, i)
        })?;
        self.dynamic[s] = input;
        self.tables.previous.insert(s, previous);
        Ok(())
    }

    /// The difference a number of the stream `s` travels as: from its
    /// byte planes from format 3 on ([`put_delta`]), else from `input`.
    fn delta(&mut self, s: usize, input: &mut &[u8]) -> Result<i64, UnpackError> {
        if !self.tables.format_3 {
            return sleb(input).ok_or(MALFORMED);
        }
        let at = self.dynamic(Dynamic::Widths(s))?;
        let width = take(&mut self.dynamic[at], 1).ok_or(MALFORMED)?[0];
        if width > 8 {
            return Err(UnpackError::Malformed("a number wider than 8 bytes"));
        }
        let mut zigzag = 0u64;
        for plane in 0..width {
            let at = self.dynamic(Dynamic::Plane(s, plane))?;
            let byte = take(&mut self.dynamic[at], 1).ok_or(MALFORMED)?[0];
            zigzag = zigzag << 8 | u64::from(byte);
        }
        Ok((zigzag >> 1) as i64 ^ -((zigzag & 1) as i64))
    }

    /// The metadata and the value column of a change whose values travel
    /// with their metadata, after the `columns` before them.
    fn values_with_metas(
        &mut self,
        columns: &[(u64, Vec<u8>)],
        here: &mut Here,
        ids: &[Uuid],
    ) -> Result<(Vec<u64>, Vec<u8>), UnpackError> {
        let n = self.n(S::Lengths)?;
        let keys = match columns.iter().find(|(s, _)| *s == KEY_STRING) {
            Some((_, k)) => runs(k, |i| super::chunk::length_prefixed(i).map(<[u8]>::to_vec))
                .ok_or(UnpackError::Malformed("a key column that does not read"))?,
            None if n as u64 <= MAX_OPS => vec![None; n],
            None => return Err(UnpackError::Malformed("too many operations")),
        };
        if keys.len() != n {
            return Err(UnpackError::Malformed(
                "keys and values of different counts",
            ));
        }
        let (mut metas, mut out) = (Vec::with_capacity(n), Vec::new());
        for key in keys {
            let s = self.dynamic(Dynamic::Values(key))?;
            let meta = uleb(&mut self.dynamic[s]).ok_or(MALFORMED)?;
            let len = usize::try_from(meta >> 4).map_err(|_| MALFORMED)?;
            if self.built + out.len() + len > self.limit {
                return Err(UnpackError::TooLarge(self.limit));
            }
            self.value(s, (meta & 0xf, len), here, ids, &mut out)?;
            metas.push(meta);
        }
        Ok((metas, out))
    }

    /// The value column of operations with `keys` and `metas`.
    fn values(
        &mut self,
        keys: &[Option<Vec<u8>>],
        metas: &[u64],
        here: &mut Here,
        ids: &[Uuid],
    ) -> Result<Vec<u8>, UnpackError> {
        let mut out = Vec::new();
        for (key, meta) in keys.iter().zip(metas) {
            let len = usize::try_from(meta >> 4).map_err(|_| MALFORMED)?;
            if self.built + out.len() + len > self.limit {
                return Err(UnpackError::TooLarge(self.limit));
            }
            let s = self.dynamic(Dynamic::Values(key.clone()))?;
            self.value(s, (meta & 0xf, len), here, ids, &mut out)?;
        }
        Ok(out)
    }
}

/// Reads one value of type `kind` and length `len` as [`put_value`]
/// wrote it, onto `out`.
fn take_value(
    input: &mut &[u8],
    previous: &mut i64,
    (kind, len): (u64, usize),
    here: &mut Here,
    ids: &[Uuid],
    out: &mut Vec<u8>,
    delta: impl FnOnce(&mut &[u8]) -> Result<i64, UnpackError>,
) -> Result<(), UnpackError> {
    let doc = here.doc;
    let packed = matches!(kind, UINT | INT | COUNTER | TIMESTAMP)
        || (kind == UTF8
            && (len == ID_TEXT
                || (len == HEX_TEXT && here.hex)
                || (len == ID_NUMBER_TEXT && here.id_numbers)));
    let value = match if packed {
        take(input, 1).ok_or(MALFORMED)?[0]
    } else {
        LITERAL
    } {
        LITERAL => take(input, len).ok_or(MALFORMED)?.to_vec(),
        OWN_ID if kind == UTF8 => ids[doc].hyphenated().to_string().into_bytes(),
        BATCH_ID if kind == UTF8 => {
            let back = sleb(input).ok_or(MALFORMED)?;
            let at = (doc as i64)
                .checked_add(back)
                .and_then(|a| usize::try_from(a).ok())
                .and_then(|a| ids.get(a))
                .ok_or(UnpackError::Malformed("a record beyond the batch"))?;
            at.hyphenated().to_string().into_bytes()
        }
        HEX if kind == UTF8 && here.hex => {
            hex::encode(take(input, HEX_TEXT / 2).ok_or(MALFORMED)?).into_bytes()
        }
        ID_NUMBER if kind == UTF8 && len == ID_NUMBER_TEXT && here.id_numbers => {
            here.id_number_of(take(input, 9).ok_or(MALFORMED)?)?
        }
        form @ (DELTA | DELTA_LAST | DELTA_ID) if kind != UTF8 => {
            let n = delta(input)?.wrapping_add(here.base(form, *previous));
            *previous = n;
            here.last = n;
            put_number(kind, n)
        }
        _ => return Err(UnpackError::Malformed("an unknown value form")),
    };
    if value.len() != len {
        return Err(UnpackError::Malformed("a value of the wrong length"));
    }
    if kind == UTF8 {
        here.wrote_text(&value);
    }
    out.extend_from_slice(&value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit, ObjType, ROOT, ScalarValue};
    use proptest::prelude::*;

    use super::*;

    /// A grid's worth of small documents as devices write them: a
    /// household, its residents naming it and themselves, and one record
    /// edited again by a second device (a dependency, another actor, a
    /// deleted key, a list, a counter, text).
    fn grid() -> Vec<DocChanges> {
        let household = Uuid::from_u128(0x0193_f0c2_7d4e_7a1b_9c3d_2e1f_0a9b_8c7d);
        let mut docs = Vec::new();
        let mut doc = AutoCommit::new().with_actor(ActorId::from(vec![7u8; 16]));
        doc.put(ROOT, "id", household.hyphenated().to_string())
            .unwrap();
        doc.put(ROOT, "address", "幸福路 12 号").unwrap();
        doc.put(ROOT, "at", ScalarValue::Timestamp(1_764_000_000_000))
            .unwrap();
        doc.commit_with(automerge::transaction::CommitOptions::default().with_message("u-worker"));
        let mut second = doc.fork().with_actor(ActorId::from(vec![9u8; 16]));
        let tags = second.put_object(ROOT, "tags", ObjType::List).unwrap();
        second.insert(&tags, 0, "独居").unwrap();
        second.insert(&tags, 1, 3_i64).unwrap();
        second.put(ROOT, "visits", ScalarValue::counter(2)).unwrap();
        second.delete(ROOT, "address").unwrap();
        let notes = second.put_object(ROOT, "notes", ObjType::Text).unwrap();
        second.splice_text(&notes, 0, 0, "门口有台阶").unwrap();
        second.put(ROOT, "lat", 23.125_f64).unwrap();
        second.commit();
        docs.push(DocChanges {
            doc: household,
            changes: second
                .get_changes(&[])
                .iter()
                .map(|c| c.raw_bytes().to_vec())
                .collect(),
        });
        for n in 0..40u128 {
            let id = Uuid::from_u128(0x0193_f0c2_7d4e_7a1b_9c3d_0000_0000_0000 + n);
            let mut doc = AutoCommit::new().with_actor(ActorId::from(vec![7u8; 16]));
            doc.put(ROOT, "id", id.hyphenated().to_string()).unwrap();
            doc.put(ROOT, "household_id", household.hyphenated().to_string())
                .unwrap();
            doc.put(ROOT, "name", format!("居民{n}")).unwrap();
            // An ID number after the birth date it carries; the second
            // resident's check digit is wrong, the third's date another.
            let born = format!("19{}-03-07", 50 + n);
            doc.put(ROOT, "birth_date", born.as_str()).unwrap();
            let id_number = match n {
                1 => wrong_check(id_number(n, &born)),
                2 => id_number(n, "1949-10-01"),
                _ => id_number(n, &born),
            };
            doc.put(ROOT, "id_number", id_number).unwrap();
            doc.put(ROOT, "created_at", 1_764_000_000_000_i64 + n as i64 * 1_234)
                .unwrap();
            doc.put(ROOT, "size", n as u64).unwrap();
            doc.put(ROOT, "sha256", photo_hash(n)).unwrap();
            // 64 characters that are not lowercase hex travel as they are.
            let not_hex = match n {
                0 => photo_hash(n).to_uppercase(),
                _ => "z".repeat(HEX_TEXT),
            };
            doc.put(ROOT, "note", not_hex).unwrap();
            // Text the shape of an id that names no record of the batch.
            doc.put(ROOT, "other", Uuid::from_u128(n).hyphenated().to_string())
                .unwrap();
            doc.commit_with(
                automerge::transaction::CommitOptions::default().with_message("u-worker"),
            );
            docs.push(DocChanges {
                doc: id,
                changes: doc
                    .get_changes(&[])
                    .iter()
                    .map(|c| c.raw_bytes().to_vec())
                    .collect(),
            });
        }
        docs
    }

    #[test]
    fn a_grid_unpacks_to_exactly_its_changes_in_fewer_compressed_bytes() {
        let docs = grid();
        let packed = pack(&docs, NEWEST);
        assert_eq!(unpack(&packed, usize::MAX).unwrap(), docs);
        // Every change was packed with its values' metadata beside them
        // (Automerge encodes the metadata column as `rle` does), none sent
        // whole.
        assert!(
            heads(&packed).iter().all(|h| *h == 2),
            "{:?}",
            heads(&packed)
        );
        let z = |b: &[u8]| zstd::bulk::compress(b, 19).unwrap().len();
        let plain: Vec<u8> = docs.iter().flat_map(|d| d.changes.concat()).collect();
        assert!(
            z(&packed) * 10 < z(&plain) * 8,
            "packed {} against {}",
            z(&packed),
            z(&plain)
        );
    }

    /// A mainland ID number of someone born on `date`.
    fn id_number(n: u128, date: &str) -> String {
        let digits = format!("440106{}{:03}", date.replace('-', ""), n * 37 % 1000);
        format!("{digits}{}", id_check_digit(digits.as_bytes()) as char)
    }

    /// `id_number` with another check digit.
    fn wrong_check(mut id_number: String) -> String {
        let check = id_number.pop().unwrap();
        id_number.push(if check == '0' { '1' } else { '0' });
        id_number
    }

    #[test]
    fn format_3_sends_differences_in_byte_planes() {
        let docs = grid();
        let (two, three) = (pack(&docs, 2), pack(&docs, 3));
        let find = |packed: &[u8], what: &[u8]| packed.windows(what.len()).any(|w| w == what);
        // Each resident's `created_at` is 1,234 ms after the one before:
        // 2,468 zigzagged, 0x09a4. Format 2 writes it after its form
        // (`03`, signed LEB128 `d2 09`); format 3 writes its width (2)
        // and its two bytes in streams of their own, where each byte
        // comes 39 times in a row.
        assert!(find(&two, &[DELTA, 0xd2, 0x09]));
        assert!(!find(&three, &[DELTA, 0xd2, 0x09]));
        for plane in [0x09, 0xa4] {
            assert!(find(&three, &[plane; 39]), "{plane:#x}");
            assert!(!find(&two, &[plane; 39]), "{plane:#x}");
        }
        assert_eq!(unpack(&three, usize::MAX).unwrap(), docs);
    }

    #[test]
    fn format_3_sends_id_numbers_without_their_birth_date_and_ids_in_their_random_bits() {
        let mut docs = grid();
        // Ids that are not UUIDv7s: a UUIDv4 and the nil id.
        for id in [
            Uuid::from_u128(0x6f1c_9a4e_2d3b_4c5d_8e6f_7a8b_9c0d_1e2f),
            Uuid::nil(),
        ] {
            docs.insert(
                3,
                DocChanges {
                    doc: id,
                    changes: vec![],
                },
            );
        }
        let (two, three) = (pack(&docs, 2), pack(&docs, 3));
        let find =
            |packed: &[u8], what: &str| packed.windows(what.len()).any(|w| w == what.as_bytes());
        let born = |n: u128| format!("19{}-03-07", 50 + n);
        let sent = id_number(5, &born(5));
        assert!(find(&two, &sent) && !find(&three, &sent));
        // Its 9 other digits travel.
        assert!(find(&three, "440106185"));
        // The wrong check digit and the other date travel as they are.
        assert!(find(&three, &wrong_check(id_number(1, &born(1)))));
        assert!(find(&three, &id_number(2, "1949-10-01")));
        // 41 UUIDv7s in 74 bits each, the other two in 80, after the
        // count of the others and their places.
        assert_eq!(stream(&two, S::Ids).len(), 43 * 10);
        assert_eq!(
            stream(&three, S::Ids).len(),
            3 + (41 * 74 + 2 * 80_usize).div_ceil(8)
        );
        assert_eq!(three[0], 3, "the format byte");
        for packed in [two, three] {
            assert_eq!(unpack(&packed, usize::MAX).unwrap(), docs);
        }
    }

    /// A photo's SHA-256 as the records write it.
    fn photo_hash(n: u128) -> String {
        format!("{:032x}{:032x}", n * 0x9e37_79b9_7f4a_7c15, !n)
    }

    #[test]
    fn format_1_sends_hex_as_text_and_format_2_as_bytes() {
        let docs = grid();
        let (one, two) = (pack(&docs, 1), pack(&docs, 2));
        let find = |packed: &[u8], what: &[u8]| packed.windows(what.len()).any(|w| w == what);
        let text = photo_hash(7);
        let bytes = hex::decode(&text).unwrap();
        assert!(find(&one, text.as_bytes()) && !find(&one, &bytes));
        assert!(find(&two, &bytes) && !find(&two, text.as_bytes()));
        assert!(find(&two, photo_hash(0).to_uppercase().as_bytes()));
        assert_eq!((one[0], two[0]), (1, 2), "the format byte");
        assert_eq!(pack(&docs, 9)[0], NEWEST, "no format past the newest");
        for packed in [one, two] {
            assert_eq!(unpack(&packed, usize::MAX).unwrap(), docs);
        }
    }

    #[test]
    fn an_unknown_format_is_refused() {
        let mut packed = pack(&grid(), NEWEST);
        packed[0] = NEWEST + 1;
        assert_eq!(
            unpack(&packed, usize::MAX),
            Err(UnpackError::Malformed("an unknown format"))
        );
    }

    /// The packed-or-whole byte of each change.
    fn heads(packed: &[u8]) -> Vec<u8> {
        stream(packed, S::Head)
    }

    /// One of the fixed streams of `packed`.
    fn stream(packed: &[u8], s: S) -> Vec<u8> {
        let mut i = &packed[1..];
        count(&mut i).unwrap();
        let n = count(&mut i).unwrap();
        let lengths: Vec<usize> = (0..n).map(|_| count(&mut i).unwrap()).collect();
        let skip: usize = lengths[..s as usize].iter().sum();
        i[skip..skip + lengths[s as usize]].to_vec()
    }

    #[test]
    fn what_is_not_a_plain_change_travels_whole() {
        let mut docs = grid();
        docs[3].changes.push(b"not a change".to_vec());
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "n", 1_i64).unwrap();
        // A saved document is a chunk of another type.
        docs[4].changes.push(doc.save());
        docs.push(DocChanges {
            doc: Uuid::nil(),
            changes: vec![],
        });
        let packed = pack(&docs, NEWEST);
        assert_eq!(heads(&packed).iter().filter(|h| **h == 0).count(), 2);
        assert_eq!(unpack(&packed, usize::MAX).unwrap(), docs);
    }

    #[test]
    fn values_whose_metadata_is_written_otherwise_are_cut_without_it() {
        let mut docs = grid();
        // The first resident's change, its metadata column written as
        // literals only: the same change to Automerge, not as `rle` writes it.
        let chunk = docs[1].changes[0].clone();
        let c = take_apart(&chunk).unwrap();
        let (_, metas) = keyed_values(&c.columns).unwrap();
        let mut literal = Vec::new();
        put_sleb(&mut literal, -(metas.len() as i64));
        for m in &metas {
            put_uleb(&mut literal, *m);
        }
        assert_ne!(literal, rle(&metas));
        let mut columns = c.columns.clone();
        columns
            .iter_mut()
            .find(|(s, _)| *s == VALUE_META)
            .unwrap()
            .1 = &literal;
        let (rewritten, _) = put_together(&Change { columns, ..c });
        automerge::Change::from_bytes(rewritten.clone()).expect("still a change");
        docs[1].changes[0] = rewritten;
        let packed = pack(&docs, NEWEST);
        // The household has two changes before it.
        assert_eq!(heads(&packed)[2], 1);
        assert_eq!(unpack(&packed, usize::MAX).unwrap(), docs);
    }

    #[test]
    fn a_pack_that_claims_more_records_than_fit_is_refused() {
        for format in 1..=NEWEST {
            let packed = pack(&grid(), format);
            let mut i = &packed[1..];
            count(&mut i).unwrap();
            // The same pack, claiming 2^64 - 1 records.
            let mut claims = vec![format];
            put_uleb(&mut claims, u64::MAX);
            claims.extend_from_slice(i);
            assert_eq!(
                unpack(&claims, usize::MAX),
                Err(MALFORMED),
                "format {format}"
            );
        }
    }

    #[test]
    fn changes_past_the_limit_are_refused() {
        let docs = grid();
        let packed = pack(&docs, NEWEST);
        assert_eq!(unpack(&packed, 2_000), Err(UnpackError::TooLarge(2_000)));
    }

    proptest! {
        #[test]
        fn damaged_packs_are_refused_or_read_never_panic(
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            cut in any::<prop::sample::Index>(),
        ) {
            let packed = pack(&grid(), NEWEST);
            let mut damaged = packed.clone();
            damaged[at.index(packed.len())] = byte;
            let _ = unpack(&damaged, 1 << 20);
            let _ = unpack(&packed[..cut.index(packed.len())], 1 << 20);
        }
    }
}
