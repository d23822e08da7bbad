//! The sync protocol's messages and their binary framing.
//!
//! A body is a 4-byte header, `G` `W` version flags, followed by the message
//! as CBOR with one-letter keys, zstd-compressed when that makes it smaller
//! (flags 1; 2 with the push dictionary; 3, xz, for a large answer to a
//! device that reads it: [`Answer`]). A body from a different protocol
//! version is refused with [`WireError::UnsupportedVersion`], so a future
//! format change is detected and answered clearly instead of being
//! misread.
//!
//! **Decoding is bounded.** A small body must not cost a large amount of
//! memory: [`decode_within`] refuses a body whose compressed payload
//! would decompress to more than its limit (the zstd frame must declare
//! its size, which this encoder always writes, so a bomb is refused from
//! its header without decompressing anything), and charges every decoded
//! change and record id against the same limit, so CBOR full of empty
//! byte strings (one byte each on the wire, dozens in memory) is refused
//! too ([`WireError::Expands`]). The server passes its `max_body_bytes`:
//! a body never decodes to more than the server would accept as a plain,
//! uncompressed body. How many decodes run at once is the server's to
//! bound (`sync-server/src/limits.rs`).

use std::sync::LazyLock;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;
use zstd::dict::DecoderDictionary;

use crate::problem::Params;

/// The protocol version this build speaks. 2: record ids travel as their
/// 16 raw bytes instead of 36 characters of text (a small edit's request
/// shrank by a tenth). 3: a pushed change may travel compact, without
/// what the server already knows ([`super::compact`]), and a push may be
/// compressed with the protocol's dictionary ([`encode_push`]); a
/// one-field edit's request shrank from 203 bytes to about 100.
pub const PROTOCOL_VERSION: u8 = 3;
const MAGIC: [u8; 2] = *b"GW";
const FLAG_ZSTD: u8 = 1;
/// zstd with the push dictionary ([`encode_push`]).
const FLAG_ZSTD_DICTIONARY: u8 = 2;
/// xz (LZMA2), for a large answer to a device that reads packed format 2
/// ([`Answer`]): only [`decode`] reads it, so the server never spends
/// LZMA's slower decoding on what a device sends.
const FLAG_XZ: u8 = 3;
/// xz continued: the large pages of a streamed answer to a device that
/// reads packed format 4, each the next part of one LZMA2 stream
/// ([`AnswerWriter`], [`AnswerReader`]).
const FLAG_XZ_CONTINUED: u8 = 4;
/// The first packed format whose device reads [`FLAG_XZ_CONTINUED`].
pub const XZ_CONTINUED_FORMAT: u8 = 4;
/// The xz options an answer is compressed with: the dictionary of preset 6
/// (8 MiB, more than a page of changes), literals coded by the high 4 bits
/// of the byte before and not by position, and matches searched to their
/// longest. On the bench's grid, in 4 MiB pages: 78.1 bytes a document
/// against zstd 19's 82.7, in about the same time.
const XZ_PRESET: u32 = 6;
const XZ_LITERAL_CONTEXT: u32 = 4;
const XZ_POSITION: u32 = 0;
const XZ_NICE: u32 = 273;
/// What the xz decoder may allocate: the 8 MiB dictionary and its state,
/// with room; a frame asking for more is refused.
const XZ_MEMORY: u64 = 32 << 20;
/// A zstd frame's first 4 bytes, left out of a dictionary frame.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// The level a small push is compressed at with the dictionary: a few
/// kilobytes take microseconds even at zstd's highest levels.
const DICTIONARY_LEVEL: i32 = 19;
/// Pushes larger than this are compressed as answers are, without the
/// dictionary: what it knows is lost in a large body's own repetitions
/// (300 copies of one change: 797 bytes plain, 1,225 with it at level 3),
/// and level 19 over a day's records would cost a tablet seconds.
const DICTIONARY_UP_TO: usize = 16 * 1024;
/// The zstd level of a body compressed without the dictionary.
const LEVEL: i32 = 3;
/// An answer of at least this many bytes of CBOR (a page of a first
/// sync, packed: [`super::pack`]) is compressed at [`LARGE_LEVEL`]: on
/// the bench's grid, a 4 MiB page packs to about 84.5 bytes a document
/// at level 19 against 86.5 at level 12, for about 0.15 s of the server's
/// time a MiB of changes instead of 0.03.
const LARGE_BODY: usize = 64 * 1024;
const LARGE_LEVEL: i32 = 19;
/// Bodies smaller than this are sent uncompressed: compression would only
/// add its own framing.
const COMPRESS_ABOVE: usize = 96;
/// The largest body either side accepts, compressed or not.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// What [`decode`] lets a body decode to: decompressed bytes, and the
/// memory its decoded changes take (see [`decode_within`]).
pub const MAX_DECODED_BYTES: usize = MAX_BODY_BYTES;
/// What one decoded byte string (a change, a head, a record id) is
/// charged besides its bytes: its `Vec`, the slack of the list holding it,
/// the allocator's overhead.
const ITEM_OVERHEAD: usize = 64;

/// Changes of one record document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocChanges {
    /// The record's id.
    #[serde(rename = "d", with = "uuid_bytes")]
    pub doc: Uuid,
    /// Raw Automerge changes, in causal order. In a push, each may
    /// instead be in the compact form ([`super::compact`], told apart by
    /// its first byte); the server rebuilds it before anything else.
    #[serde(rename = "c", with = "change_list")]
    pub changes: Vec<Vec<u8>>,
}

/// What a device sends: its unsent changes and its cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The device's position in the server's log: everything up to it has
    /// been received and stored. Sending it confirms it.
    #[serde(rename = "c")]
    pub cursor: u64,
    /// Changes not yet acknowledged, all documents at once.
    #[serde(rename = "p", default, skip_serializing_if = "Vec::is_empty")]
    pub push: Vec<DocChanges>,
    /// How many bytes of changes the device wants back at most (the server
    /// has a default and a ceiling).
    #[serde(rename = "b", default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<u32>,
    /// The device reads the pulled changes packed ([`super::pack`]): the
    /// answer carries them in `packed` rather than `pull` (optional
    /// field, added within protocol version 3: an older app leaves it out
    /// and gets `pull` as before).
    #[serde(rename = "k", default, skip_serializing_if = "is_false")]
    pub packed: bool,
    /// With `packed`, the newest packed format the device reads, 1 when
    /// left out ([`SyncRequest::pack_format`]); 2 also says it reads an
    /// answer framed with xz ([`Answer`]). Optional, added within
    /// protocol version 3 after `k`, in a key of its own: a server that
    /// knows `k` as true or false and not `x` ignores it.
    #[serde(rename = "x", default, skip_serializing_if = "is_zero")]
    pub reads: u8,
    /// How many pages of the pull the device takes in one answer,
    /// streamed ([`super::pages`]); 0 or 1: one, as a single frame. The
    /// server sends at most [`MAX_PAGES`], and more than one only as a
    /// streamed answer. Optional, added within protocol version 3: a
    /// server that does not know `s` answers one page, as a single frame.
    #[serde(rename = "s", default, skip_serializing_if = "is_zero")]
    pub pages: u8,
}

/// The most pages one answer streams ([`SyncRequest::pages`]): with pages
/// of [`super::client::PAGE_BUDGET`], up to 64 MiB of changes before the
/// device asks again.
pub const MAX_PAGES: u8 = 16;

/// Why the server refused the pushed changes of a document: a code and its
/// params, as a [`Notice`] is. The app translates it in its message files
/// (`rejections` in `ui/src/i18n/zh-CN.ts` and `en.ts`); the server writes
/// no sentence (what a developer needs, it writes in its own log). See
/// [`RejectionCode`] for the codes and their params.
///
/// **The key `m` is gone.** Builds before this one carried the server's
/// Chinese and English sentence there. As with the notices' `z` and `e`,
/// no such build was ever deployed, so the change stays within protocol
/// version 2: an app that still requires `m` fails to read an answer
/// carrying a refusal (`malformed`) and keeps the refused changes in its
/// outbox, which is where they would be after any failed sync; nothing of
/// its data is lost (`docs/protocol.md`, section 13).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    #[serde(rename = "d", with = "uuid_bytes")]
    pub doc: Uuid,
    /// A stable code the app translates; one of [`RejectionCode`] from
    /// this build's server, kept as text so an app reads codes newer than
    /// it.
    #[serde(rename = "k")]
    pub code: String,
    /// What the code's message needs, by name (see [`RejectionCode`]).
    #[serde(rename = "p", default, skip_serializing_if = "Params::is_empty")]
    pub params: Params,
}

impl Rejection {
    /// A refusal of `doc`'s pushed changes for `code`.
    pub fn new(doc: Uuid, code: RejectionCode, params: Params) -> Rejection {
        Rejection {
            doc,
            code: code.code().to_string(),
            params,
        }
    }
}

/// Every refusal the server sends, with the params its message takes.
/// Nothing of a refused document's pushed changes was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum RejectionCode {
    /// A pushed change cannot be read or applied.
    MalformedChange,
    /// A change depends on one the server does not hold: the repair path
    /// ([`crate::sync::repair`]) settles it.
    MissingDependencies,
    /// A change's actor is not one the server assigned to this user.
    ActorMismatch,
    /// A change's message names someone else as its author. Params:
    /// `author`, the name it gives.
    AuthorMismatch,
    /// The record's grid, before or after, is not the user's; or, for a
    /// department handler, the incident is not dispatched to them.
    /// Params: `grid`, in the first case.
    OutsideScope,
    /// The role may not write this at all. Params: `kind`, the record
    /// kind.
    RoleNotAllowed,
    /// The record fails validation. Params: `field`, `error` (a field
    /// error code, core's `validate::Code`) and that error's own params,
    /// for the first error found.
    InvalidRecord,
    /// An incident carrying its parties in the old `parties` key: an app
    /// older than the parties record; update the app.
    PartiesInIncident,
    /// A parties record outside its incident's grid. Params: `grid`.
    PartiesOutsideGrid,
    /// A household's or incident's point lies outside its grid. Params:
    /// `lon`, `lat`, `grid`.
    PointOutsideGrid,
    /// A new record whose creator is not the pushing user.
    ImmutableField,
    /// The document's `id` is not the record id it was pushed under.
    DocIdMismatch,
    /// The document's kind differs from the stored record's. Params:
    /// `kind`, the stored record's kind.
    DocWrongKind,
    /// No kind, an unknown kind, or no or a bad id at the root.
    DocNotARecord,
    /// The document's layout is newer than this server reads. Params:
    /// `layout`.
    DocTooNew,
    /// A field does not have the type its record kind needs.
    DocShape,
    /// Automerge cannot read the document.
    DocCorrupt,
    /// A second dependency-free change for one record.
    RecordCreatedTwice,
    /// One change is over the limit. Params: `bytes`, `max`.
    ChangeTooLarge,
    /// The record's document would be over the limit. Params: `bytes`,
    /// `max`.
    DocumentTooLarge,
    /// A workflow entry in someone else's name, or an earlier entry
    /// rewritten.
    TransitionForged,
    /// A review entry in someone else's name, or an earlier entry
    /// rewritten.
    ReviewForged,
    /// The server's copy is damaged or it could not make its own change.
    ServerError,
    /// A compact change the server cannot rebuild (a dependency or actor
    /// prefix it does not hold once, or a rebuilt change that does not
    /// match its checksum). Not for the worker: the device sends the
    /// document's changes whole on its next try.
    CompactUnresolved,
}

impl RejectionCode {
    /// Every code, for tests and the protocol document.
    pub const ALL: [RejectionCode; 24] = [
        RejectionCode::MalformedChange,
        RejectionCode::MissingDependencies,
        RejectionCode::ActorMismatch,
        RejectionCode::AuthorMismatch,
        RejectionCode::OutsideScope,
        RejectionCode::RoleNotAllowed,
        RejectionCode::InvalidRecord,
        RejectionCode::PartiesInIncident,
        RejectionCode::PartiesOutsideGrid,
        RejectionCode::PointOutsideGrid,
        RejectionCode::ImmutableField,
        RejectionCode::DocIdMismatch,
        RejectionCode::DocWrongKind,
        RejectionCode::DocNotARecord,
        RejectionCode::DocTooNew,
        RejectionCode::DocShape,
        RejectionCode::DocCorrupt,
        RejectionCode::RecordCreatedTwice,
        RejectionCode::ChangeTooLarge,
        RejectionCode::DocumentTooLarge,
        RejectionCode::TransitionForged,
        RejectionCode::ReviewForged,
        RejectionCode::ServerError,
        RejectionCode::CompactUnresolved,
    ];

    /// The code on the wire.
    pub fn code(&self) -> &'static str {
        match self {
            RejectionCode::MalformedChange => "malformed_change",
            RejectionCode::MissingDependencies => "missing_dependencies",
            RejectionCode::ActorMismatch => "actor_mismatch",
            RejectionCode::AuthorMismatch => "author_mismatch",
            RejectionCode::OutsideScope => "outside_scope",
            RejectionCode::RoleNotAllowed => "role_not_allowed",
            RejectionCode::InvalidRecord => "invalid_record",
            RejectionCode::PartiesInIncident => "parties_in_incident",
            RejectionCode::PartiesOutsideGrid => "parties_outside_grid",
            RejectionCode::PointOutsideGrid => "point_outside_grid",
            RejectionCode::ImmutableField => "immutable_field",
            RejectionCode::DocIdMismatch => "doc_id_mismatch",
            RejectionCode::DocWrongKind => "doc_wrong_kind",
            RejectionCode::DocNotARecord => "doc_not_a_record",
            RejectionCode::DocTooNew => "doc_too_new",
            RejectionCode::DocShape => "doc_shape",
            RejectionCode::DocCorrupt => "doc_corrupt",
            RejectionCode::RecordCreatedTwice => "record_created_twice",
            RejectionCode::ChangeTooLarge => "change_too_large",
            RejectionCode::DocumentTooLarge => "document_too_large",
            RejectionCode::TransitionForged => "transition_forged",
            RejectionCode::ReviewForged => "review_forged",
            RejectionCode::ServerError => "server_error",
            RejectionCode::CompactUnresolved => "compact_unresolved",
        }
    }

    /// The refusal of a pushed document that does not read as a record,
    /// with its params.
    pub fn of_doc_error(e: &crate::doc::DocError) -> (RejectionCode, Params) {
        use crate::doc::DocError;
        match e {
            DocError::Automerge(_) => (RejectionCode::DocCorrupt, Params::new()),
            DocError::WrongKind { expected, .. } => (
                RejectionCode::DocWrongKind,
                crate::problem::params([("kind", expected.as_str().into())]),
            ),
            DocError::TooNew(layout) => (
                RejectionCode::DocTooNew,
                crate::problem::params([("layout", (*layout).into())]),
            ),
            DocError::Shape(_) => (RejectionCode::DocShape, Params::new()),
            // Local editing errors never arrive from a push; a document
            // that yields one is not a record the server can take.
            DocError::NotARecord(_) | DocError::NoSuchPath(_) | DocError::IdChanged => {
                (RejectionCode::DocNotARecord, Params::new())
            }
        }
    }
}

/// Something the server did about stored changes that the worker should
/// know: a transition kept in the timeline but not applied, a forbidden
/// field edit undone by the server's compensating change. Unlike a
/// [`Rejection`], the pushed changes were stored (the outbox entries are
/// acknowledged); any compensating change arrives in the same answer's
/// pull, by the server's actor.
///
/// A notice is a code and its params (core's [`Params`], as every error
/// that reaches a person): the app translates it in its message files
/// (`notices` in `ui/src/i18n/zh-CN.ts` and `en.ts`), the server writes no
/// sentence. See [`NoticeCode`] for the codes and their params.
///
/// **The keys `z` and `e` are gone.** Builds before this one carried the
/// server's Chinese and English sentences there. No such build was ever
/// deployed, so the change stays within protocol version 2 rather than
/// refusing every device of the old build: an app that still requires
/// `z`/`e` fails to read an answer carrying a notice (`malformed`), retries,
/// and goes on, because the server drops changes it already holds from a
/// re-push and so has nothing to notice the second time; that app misses
/// the notice and nothing else. From the first deployed release on, a key
/// is removed or retyped only with a new protocol version
/// (`docs/protocol.md`, section 13).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    #[serde(rename = "d", with = "uuid_bytes")]
    pub doc: Uuid,
    /// A stable code the app translates; one of [`NoticeCode`] from this
    /// build's server, kept as text so an app reads codes newer than it.
    #[serde(rename = "k")]
    pub code: String,
    /// What the code's message needs, by name (see [`NoticeCode`]).
    #[serde(rename = "p", default, skip_serializing_if = "Params::is_empty")]
    pub params: Params,
    /// The server undid the edit with a change of its own (in the pull).
    #[serde(rename = "u", default, skip_serializing_if = "is_false")]
    pub compensated: bool,
}

impl Notice {
    /// A notice of `code` about `doc`.
    pub fn new(doc: Uuid, code: NoticeCode, params: Params) -> Notice {
        Notice {
            doc,
            code: code.code().to_string(),
            params,
            compensated: code.compensated(),
        }
    }
}

/// Every notice the server sends, with the params its message takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum NoticeCode {
    /// A workflow step the rules do not allow where it lands: kept in the
    /// timeline, not applied. Params: `error`, the workflow's refusal code
    /// (`own_work`, `wrong_status` …), and that refusal's own params
    /// (`action`, `status` …), so the app says why in its words.
    TransitionRefused,
    /// Who created an existing record, or when, was changed; put back.
    ImmutableField,
    /// A deleted record was written live again; the tombstone and every
    /// field put back.
    RecordDeleted,
    /// A review decision the role may not take; removed.
    ReviewRefused,
    /// Fields the role may not edit; put back. Params: `kind`, the record
    /// kind (`incident`: a department handler acts on the workflow only;
    /// `task`: a grid worker ticks lines and adds notes only).
    FieldNotAllowed,
}

impl NoticeCode {
    /// Every code, for tests and the protocol document.
    pub const ALL: [NoticeCode; 5] = [
        NoticeCode::TransitionRefused,
        NoticeCode::ImmutableField,
        NoticeCode::RecordDeleted,
        NoticeCode::ReviewRefused,
        NoticeCode::FieldNotAllowed,
    ];

    /// The code on the wire.
    pub fn code(&self) -> &'static str {
        match self {
            NoticeCode::TransitionRefused => "transition_refused",
            NoticeCode::ImmutableField => "immutable_field",
            NoticeCode::RecordDeleted => "record_deleted",
            NoticeCode::ReviewRefused => "review_refused",
            NoticeCode::FieldNotAllowed => "field_not_allowed",
        }
    }

    /// Whether the server undoes the effect with a change of its own: all
    /// but a refused transition, which the fold skips on every device.
    pub fn compensated(&self) -> bool {
        !matches!(self, NoticeCode::TransitionRefused)
    }
}

/// What the server answers: which pushed documents were refused, the
/// changes after the cursor the user may see, and the new cursor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// The cursor to send next time, once the changes below are stored.
    #[serde(rename = "c")]
    pub cursor: u64,
    /// More changes are waiting: sync again right away.
    #[serde(rename = "m", default, skip_serializing_if = "is_false")]
    pub more: bool,
    /// Pushed documents refused; every other pushed change was stored.
    #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<Rejection>,
    /// Changes for the device, including the server's compensating
    /// changes and other users' edits.
    #[serde(rename = "p", default, skip_serializing_if = "Vec::is_empty")]
    pub pull: Vec<DocChanges>,
    /// Stored changes the worker should hear about (optional field, added
    /// within protocol version 1: older apps ignore it).
    #[serde(rename = "n", default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
    /// An admin reported this device lost: the pushed changes were stored
    /// (flagged for review) and nothing is sent down. Push what is left,
    /// then erase the device's data and report it at
    /// [`super::api::WIPED`] (optional field, added within protocol
    /// version 2: an older app ignores it and keeps pushing).
    #[serde(rename = "w", default, skip_serializing_if = "is_false")]
    pub wipe: bool,
    /// The changes for the device packed ([`super::pack`]), when it asked
    /// for them so: then `pull` is empty ([`SyncResponse::pack_pull`],
    /// [`SyncResponse::unpack_pull`]).
    #[serde(
        rename = "k",
        default,
        with = "serde_bytes",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub packed: Vec<u8>,
}

impl SyncRequest {
    /// A device's request pushing `push` from `cursor`, with the answer's
    /// changes asked for packed in the newest format, up to `budget` bytes
    /// a page and [`MAX_PAGES`] pages streamed: always, but with a push of
    /// one or two edits, whose answer is small, and whose request the 9
    /// to 16 bytes of asking (`k`, `x`, `b`, `s`) would make 9–16% larger.
    pub fn new(cursor: u64, push: Vec<DocChanges>, budget: Option<u32>) -> SyncRequest {
        let pushed: usize = push.iter().flat_map(|d| &d.changes).map(Vec::len).sum();
        let packed = pushed == 0 || pushed > SMALL_PUSH;
        SyncRequest {
            cursor,
            push,
            budget: budget.filter(|_| packed),
            packed,
            reads: if packed { super::pack::NEWEST } else { 0 },
            pages: if packed { MAX_PAGES } else { 0 },
        }
    }

    /// The packed format the answer's changes are to travel in: the newest
    /// both sides know, up to the one the device reads; `None` when it did
    /// not ask for packed changes.
    pub fn pack_format(&self) -> Option<u8> {
        self.packed
            .then(|| self.reads.clamp(1, super::pack::NEWEST))
    }

    /// How many pages the answer may stream: what the device asked, up
    /// to [`MAX_PAGES`]; 1 means a single frame.
    pub fn answer_pages(&self) -> u8 {
        self.pages.clamp(1, MAX_PAGES)
    }
}

/// Changes of at most this many bytes make a small push
/// ([`SyncRequest::new`]): a compact one-field edit is about 80.
const SMALL_PUSH: usize = 512;

impl SyncResponse {
    /// Moves the changes for the device into `packed`, in `format`.
    pub fn pack_pull(&mut self, format: u8) {
        if !self.pull.is_empty() {
            self.packed = super::pack::pack(&std::mem::take(&mut self.pull), format);
        }
    }

    /// Moves packed changes back into `pull`, building at most
    /// [`MAX_DECODED_BYTES`] of them.
    pub fn unpack_pull(&mut self) -> Result<(), WireError> {
        if !self.packed.is_empty() {
            let mut pulled = super::pack::unpack(&self.packed, MAX_DECODED_BYTES)
                .map_err(|e| WireError::Malformed(e.to_string()))?;
            self.packed = Vec::new();
            self.pull.append(&mut pulled);
        }
        Ok(())
    }
}

/// The repair path's question about one document found divergent (a
/// change waiting for dependencies that never came, a push refused for
/// missing dependencies): one message of Automerge's own per-document sync
/// protocol. Sent to `POST /v1/repair/{doc}`; never used for bulk sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairRequest {
    /// An encoded `automerge::sync::Message`.
    #[serde(rename = "m", with = "serde_bytes")]
    pub message: Vec<u8>,
}

/// The server's side of one repair round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairResponse {
    /// The document's heads on the server. The device's own changes that
    /// are not behind them are missing on the server and go back to the
    /// outbox, to be pushed and checked like any other.
    #[serde(rename = "h", with = "change_list")]
    pub heads: Vec<Vec<u8>>,
    /// An encoded `automerge::sync::Message` carrying the changes the
    /// device lacks; absent when the server has nothing to say.
    #[serde(
        rename = "m",
        default,
        with = "serde_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub message: Option<Vec<u8>>,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A record id as its 16 raw bytes.
mod uuid_bytes {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};
    use serde_bytes::ByteBuf;
    use uuid::Uuid;

    pub fn serialize<S: Serializer>(id: &Uuid, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(id.as_bytes())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Uuid, D::Error> {
        let bytes = ByteBuf::deserialize(d)?;
        // Charged for the struct around it (a `DocChanges`, a notice).
        super::budget::charge::<D::Error>(bytes.len())?;
        Uuid::from_slice(&bytes).map_err(|_| D::Error::invalid_length(bytes.len(), &"16 bytes"))
    }
}

mod change_list {
    use std::fmt;

    use serde::de::{SeqAccess, Visitor};
    use serde::{Deserializer, Serialize, Serializer};
    use serde_bytes::ByteBuf;

    pub fn serialize<S: Serializer>(changes: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let bufs: Vec<&serde_bytes::Bytes> =
            changes.iter().map(|c| serde_bytes::Bytes::new(c)).collect();
        bufs.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        d.deserialize_seq(Changes)
    }

    /// A list of byte strings, each charged to the decode budget as it
    /// is read, so the list never grows past what the limit allows.
    struct Changes;

    impl<'de> Visitor<'de> for Changes {
        type Value = Vec<Vec<u8>>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of byte strings")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            // A list announces its length; trust it only a little.
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(buf) = seq.next_element::<ByteBuf>()? {
                super::budget::charge::<A::Error>(buf.len())?;
                out.push(buf.into_vec());
            }
            Ok(out)
        }
    }
}

/// What the body being decoded on this thread may still take. Decoding
/// is synchronous, so a thread-local carries the limit into the serde
/// visitors without threading it through every message type.
mod budget {
    use std::cell::Cell;

    thread_local! {
        /// Bytes left, while a [`super::decode_within`] runs on this thread.
        static LEFT: Cell<Option<usize>> = const { Cell::new(None) };
        /// Set when a visitor ran out.
        static SPENT: Cell<bool> = const { Cell::new(false) };
    }

    /// The message serde reports when the budget is spent (the decoder
    /// turns it into `WireError::Expands`).
    const SPENT_MESSAGE: &str = "the decoded message exceeds its limit";

    /// Charges one decoded byte string of `len` bytes.
    pub fn charge<E: serde::de::Error>(len: usize) -> Result<(), E> {
        let cost = len.saturating_add(super::ITEM_OVERHEAD);
        LEFT.with(|left| match left.get() {
            None => Ok(()),
            Some(n) if n >= cost => {
                left.set(Some(n - cost));
                Ok(())
            }
            Some(_) => {
                SPENT.with(|s| s.set(true));
                Err(E::custom(SPENT_MESSAGE))
            }
        })
    }

    /// Runs `f` with `limit` bytes to spend; whether it ran out.
    pub fn within<R>(limit: usize, f: impl FnOnce() -> R) -> (R, bool) {
        struct Restore(Option<usize>, bool);
        impl Drop for Restore {
            fn drop(&mut self) {
                LEFT.with(|l| l.set(self.0));
                SPENT.with(|s| s.set(self.1));
            }
        }
        let _restore = Restore(LEFT.with(Cell::get), SPENT.with(Cell::get));
        LEFT.with(|l| l.set(Some(limit)));
        SPENT.with(|s| s.set(false));
        let out = f();
        (out, SPENT.with(Cell::get))
    }
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("the body is not a Gridwork sync message")]
    BadMagic,
    #[error("the body is truncated")]
    Truncated,
    #[error(
        "protocol version {found} is not supported (this side speaks {supported}); update the app or the server"
    )]
    UnsupportedVersion { found: u8, supported: u8 },
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error(
        "消息解压或解码后超过 {limit} 字节的上限 (the body expands to more than {limit} bytes when decompressed or decoded)"
    )]
    Expands { limit: usize },
    #[error("the body is malformed: {0}")]
    Malformed(String),
}

impl WireError {
    /// A stable code for HTTP answers and the app.
    pub fn code(&self) -> &'static str {
        match self {
            WireError::BadMagic => "bad_magic",
            WireError::Truncated => "truncated",
            WireError::UnsupportedVersion { .. } => "unsupported_version",
            WireError::TooLarge => "too_large",
            WireError::Expands { .. } => "expands_too_large",
            WireError::Malformed(_) => "malformed",
        }
    }
}

/// Frames a message: header, CBOR, compressed when smaller; at zstd's
/// level 19 from [`LARGE_BODY`] on, where the bytes saved are worth the
/// time (a first sync's answer).
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    frame_sized(&cbor(message))
}

/// [`encode`], from the CBOR.
fn frame_sized(cbor: &[u8]) -> Vec<u8> {
    let level = if cbor.len() >= LARGE_BODY {
        LARGE_LEVEL
    } else {
        LEVEL
    };
    frame_at(cbor, None, level)
}

/// A message the server answers with, and how it is framed.
pub trait Answer: Serialize + Sized {
    /// The answer as its frame.
    fn frame(&self) -> Vec<u8> {
        encode(self)
    }
}

impl Answer for RepairResponse {}

/// An answer whose changes are packed in format 2 or later goes to a
/// device that reads xz: from [`LARGE_BODY`] on it is compressed with xz
/// when that is smaller, else as [`encode`] frames it.
impl Answer for SyncResponse {
    fn frame(&self) -> Vec<u8> {
        sync_frame(self, &cbor(self))
    }
}

/// `response`, whose CBOR is `cbor`, framed as [`Answer`] frames it.
fn sync_frame(response: &SyncResponse, cbor: &[u8]) -> Vec<u8> {
    let reads_xz = response.packed.first().is_some_and(|format| *format >= 2);
    if reads_xz
        && cbor.len() >= LARGE_BODY
        && let Some(z) = xz(cbor).filter(|z| z.len() < cbor.len())
    {
        return framed(FLAG_XZ, &z);
    }
    frame_sized(cbor)
}

/// Frames the pages of one answer, in order, as the server sends them. To
/// a device that reads packed format 4, every page of at least
/// [`LARGE_BODY`] bytes of CBOR continues one LZMA2 stream
/// ([`FLAG_XZ_CONTINUED`]): its matches reach back into the pages before
/// it, which pages compressed apart cannot (16 KB less, 2%, over the
/// bench's grid in five pages). Every other page is framed as [`Answer`] frames
/// it. The writer holds the encoder, about 94 MiB, until it is dropped:
/// the server says whether an answer may hold one (`continues`).
pub struct AnswerWriter {
    continues: bool,
    encoder: Option<liblzma::stream::Stream>,
}

impl std::fmt::Debug for AnswerWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerWriter")
            .field("continues", &self.continues)
            .field("encoding", &self.encoder.is_some())
            .finish()
    }
}

impl AnswerWriter {
    /// A writer for one answer; `continues` false frames every page apart.
    pub fn new(continues: bool) -> AnswerWriter {
        AnswerWriter {
            continues,
            encoder: None,
        }
    }

    /// The next page's frame.
    pub fn frame(&mut self, response: &SyncResponse) -> Vec<u8> {
        let cbor = cbor(response);
        let reads = response
            .packed
            .first()
            .is_some_and(|format| *format >= XZ_CONTINUED_FORMAT);
        if self.continues && reads && cbor.len() >= LARGE_BODY {
            match self.continue_xz(&cbor) {
                Some(z) => return framed(FLAG_XZ_CONTINUED, &z),
                // The device never sees what the encoder took: the pages
                // after go apart.
                None => self.continues = false,
            }
        }
        sync_frame(response, &cbor)
    }

    /// `cbor`'s length (uLEB128), then what the answer's encoder gives for
    /// it, flushed so the device can read the page whole.
    fn continue_xz(&mut self, cbor: &[u8]) -> Option<Vec<u8>> {
        use liblzma::stream::{Action, Status, Stream};
        let encoder = match &mut self.encoder {
            Some(encoder) => encoder,
            None => self
                .encoder
                .insert(Stream::new_raw_encoder(&xz_filters()?).ok()?),
        };
        let mut out = Vec::with_capacity(cbor.len() / 4 + 64);
        super::chunk::put_uleb(&mut out, cbor.len() as u64);
        let mut input = cbor;
        loop {
            if out.capacity() - out.len() < 4096 {
                out.reserve(out.capacity().max(4096));
            }
            let flushing = input.is_empty();
            let action = if flushing {
                Action::SyncFlush
            } else {
                Action::Run
            };
            let before = encoder.total_in();
            let status = encoder.process_vec(input, &mut out, action).ok()?;
            input = &input[usize::try_from(encoder.total_in() - before).ok()?..];
            if flushing && status == Status::StreamEnd {
                return Some(out);
            }
        }
    }
}

/// Reads the frames of one answer, in order, as a device does: as
/// [`decode`] reads them, and the pages that continue one LZMA2 stream
/// ([`AnswerWriter`]) with the answer's decoder. A page that does not
/// read leaves the stream unreadable: every later continued page is
/// refused.
#[derive(Default)]
pub struct AnswerReader {
    decoder: Option<liblzma::stream::Stream>,
    broken: bool,
}

impl std::fmt::Debug for AnswerReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerReader")
            .field("decoding", &self.decoder.is_some())
            .field("broken", &self.broken)
            .finish()
    }
}

impl AnswerReader {
    /// Reads the answer's next frame.
    pub fn decode<T: DeserializeOwned>(&mut self, body: &[u8]) -> Result<T, WireError> {
        read_frame(body, MAX_DECODED_BYTES, Side::Pages(self))
    }

    /// Decompresses a continued page whose declared length is at most
    /// `limit`, into exactly that many bytes, as [`unxz`] does.
    fn unxz(&mut self, payload: &[u8], limit: usize) -> Result<Vec<u8>, WireError> {
        use liblzma::stream::{Action, Stream};
        if self.broken {
            return Err(bad_xz(&"a page after one that did not read"));
        }
        let (declared, mut payload) = xz_declared(payload, limit)?;
        self.broken = true;
        let decoder = match &mut self.decoder {
            Some(decoder) => decoder,
            None => {
                let filters = xz_filters().ok_or_else(|| bad_xz(&"the protocol's xz options"))?;
                self.decoder
                    .insert(Stream::new_raw_decoder(&filters).map_err(|e| bad_xz(&e))?)
            }
        };
        let mut out = Vec::with_capacity(declared + 1);
        loop {
            let (was_in, was_out) = (decoder.total_in(), decoder.total_out());
            decoder
                .process_vec(payload, &mut out, Action::Run)
                .map_err(|e| bad_xz(&e))?;
            let taken = usize::try_from(decoder.total_in() - was_in).map_err(|e| bad_xz(&e))?;
            payload = &payload[taken..];
            if out.len() > declared {
                return Err(bad_xz(&XZ_SIZE));
            }
            if (payload.is_empty() && out.len() == declared)
                || (taken == 0 && decoder.total_out() == was_out)
            {
                break;
            }
        }
        if !payload.is_empty() || out.len() != declared {
            return Err(bad_xz(&XZ_SIZE));
        }
        self.broken = false;
        Ok(out)
    }
}

/// The protocol's LZMA2 options ([`XZ_PRESET`]).
fn xz_filters() -> Option<liblzma::stream::Filters> {
    let mut options = liblzma::stream::LzmaOptions::new_preset(XZ_PRESET).ok()?;
    options
        .literal_context_bits(XZ_LITERAL_CONTEXT)
        .position_bits(XZ_POSITION)
        .nice_len(XZ_NICE);
    let mut filters = liblzma::stream::Filters::new();
    filters.lzma2(&options);
    Some(filters)
}

/// `cbor` as an xz stream ([`XZ_PRESET`]) after its length (uLEB128), as
/// [`FLAG_XZ`] carries it; `None` if liblzma refuses (it does not with
/// these options).
fn xz(cbor: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let stream =
        liblzma::stream::Stream::new_stream_encoder(&xz_filters()?, liblzma::stream::Check::Crc32)
            .ok()?;
    let mut out = Vec::with_capacity(cbor.len() / 4);
    super::chunk::put_uleb(&mut out, cbor.len() as u64);
    let mut encoder = liblzma::write::XzEncoder::new_stream(out, stream);
    encoder.write_all(cbor).ok()?;
    encoder.finish().ok()
}

/// Frames `message` with xz whatever its size, as [`Answer`] frames a
/// large answer to a device that reads it: for tests, and the fuzzer's
/// seeds.
pub fn encode_xz<T: Serialize>(message: &T) -> Vec<u8> {
    framed(
        FLAG_XZ,
        &xz(&cbor(message)).expect("xz with the protocol's options"),
    )
}

/// Frames a sync request as a device pushes it: compressed with the push
/// dictionary ([`push_dictionary`]) when that makes it smaller, which a
/// one-field edit's request is: the bench's edit from 126 bytes to 99,
/// and half the edits `gridwork-bench dictionary` measures to 70 or less.
/// Only the server reads such a frame (flags 2): its answers are framed
/// by [`encode`], so a client need not know the dictionary.
pub fn encode_push(request: &SyncRequest) -> Vec<u8> {
    frame(&cbor(request), Some(push_dictionary()))
}

/// The protocol's push dictionary: a zstd dictionary trained on
/// one-field edits as devices push them (`gridwork-bench dictionary`
/// makes it and measures it). A device and the server must hold the same
/// one, so it changes only with [`PROTOCOL_VERSION`].
pub fn push_dictionary() -> &'static [u8] {
    include_bytes!("push.dict")
}

/// A message as the CBOR a frame carries.
pub fn cbor<T: Serialize>(message: &T) -> Vec<u8> {
    let mut cbor = Vec::new();
    // Serializing plain data into a Vec cannot fail.
    ciborium::into_writer(message, &mut cbor).expect("CBOR encoding of a sync message");
    cbor
}

/// Frames `cbor`: header, then the CBOR as it is or compressed, whichever
/// is smaller; up to 16 KiB of CBOR with `dictionary` (the push
/// dictionary, or one being measured against it), compressed with it
/// (flags 2), else plain zstd (flags 1). The frame declares its content
/// size, as [`decode_within`] requires, and not the dictionary's id: the
/// protocol version names it.
pub fn frame(cbor: &[u8], dictionary: Option<&[u8]>) -> Vec<u8> {
    frame_at(cbor, dictionary, LEVEL)
}

/// The header with `flags`, then `payload`.
fn framed(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 4);
    out.extend_from_slice(&MAGIC);
    out.push(PROTOCOL_VERSION);
    out.push(flags);
    out.extend_from_slice(payload);
    out
}

/// [`frame`], compressing without a dictionary at `level`.
fn frame_at(cbor: &[u8], dictionary: Option<&[u8]>, level: i32) -> Vec<u8> {
    let compressed = match dictionary {
        Some(dictionary) if cbor.len() <= DICTIONARY_UP_TO => {
            compress_with(cbor, dictionary).map(|z| (FLAG_ZSTD_DICTIONARY, z))
        }
        _ if cbor.len() > COMPRESS_ABOVE => zstd::bulk::compress(cbor, level)
            .ok()
            .map(|z| (FLAG_ZSTD, z)),
        _ => None,
    };
    match compressed {
        Some((flag, z)) if z.len() < cbor.len() => framed(flag, &z),
        _ => framed(0, cbor),
    }
}

/// `cbor` compressed with `dictionary`: a zstd frame without its magic
/// number (the flags say what follows) or the dictionary's id; `None` if
/// zstd refuses the dictionary.
fn compress_with(cbor: &[u8], dictionary: &[u8]) -> Option<Vec<u8>> {
    let mut compressor =
        zstd::bulk::Compressor::with_dictionary(DICTIONARY_LEVEL, dictionary).ok()?;
    compressor
        .set_parameter(zstd::zstd_safe::CParameter::DictIdFlag(false))
        .ok()?;
    let frame = compressor.compress(cbor).ok()?;
    frame.strip_prefix(&ZSTD_MAGIC).map(<[u8]>::to_vec)
}

/// Reads a framed answer, as a device does: [`decode_within`]
/// [`MAX_DECODED_BYTES`], and an answer framed with xz too ([`Answer`]).
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, WireError> {
    read_frame(body, MAX_DECODED_BYTES, Side::Answer)
}

/// Who reads a frame, and so which flags it takes.
enum Side<'a> {
    /// The server: no xz.
    Request,
    /// A device, one answer's frame.
    Answer,
    /// A device, the next page of an answer it reads page after page.
    Pages(&'a mut AnswerReader),
}

/// Reads a framed message whose payload decompresses to at most `limit`
/// bytes and whose decoded changes take at most `limit` bytes of memory
/// (see the module doc); refuses other versions, oversized and malformed
/// bodies, and xz, which only answers are framed with: the server reads
/// what devices send with this.
pub fn decode_within<T: DeserializeOwned>(body: &[u8], limit: usize) -> Result<T, WireError> {
    read_frame(body, limit, Side::Request)
}

fn read_frame<T: DeserializeOwned>(
    body: &[u8],
    limit: usize,
    side: Side<'_>,
) -> Result<T, WireError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(WireError::TooLarge);
    }
    if body.len() < 4 {
        return Err(
            if body.is_empty() || body.starts_with(&MAGIC[..body.len().min(2)]) {
                WireError::Truncated
            } else {
                WireError::BadMagic
            },
        );
    }
    if body[..2] != MAGIC {
        return Err(WireError::BadMagic);
    }
    if body[2] != PROTOCOL_VERSION {
        return Err(WireError::UnsupportedVersion {
            found: body[2],
            supported: PROTOCOL_VERSION,
        });
    }
    let payload = &body[4..];
    let read = |bytes: &[u8]| {
        let (read, spent) = budget::within(limit, || ciborium::from_reader::<T, _>(bytes));
        read.map_err(|e| match e {
            _ if spent => WireError::Expands { limit },
            ciborium::de::Error::Io(_) => WireError::Truncated,
            other => WireError::Malformed(other.to_string()),
        })
    };
    match body[3] {
        0 => read(payload),
        FLAG_ZSTD => read(&decompress(payload, limit, None)?),
        FLAG_ZSTD_DICTIONARY => {
            let frame = [&ZSTD_MAGIC, payload].concat();
            read(&decompress(&frame, limit, Some(&PUSH_DICTIONARY))?)
        }
        FLAG_XZ if !matches!(side, Side::Request) => read(&unxz(payload, limit)?),
        FLAG_XZ_CONTINUED if let Side::Pages(reader) = side => read(&reader.unxz(payload, limit)?),
        other => Err(WireError::Malformed(format!("unknown flags {other}"))),
    }
}

/// Decompresses a zstd payload that declares its size in the frame
/// header, at most `limit` bytes: a larger declaration is refused before
/// anything is decompressed, and the output buffer is the declared size,
/// so a frame that lies about its size fails instead of growing it.
fn decompress(
    payload: &[u8],
    limit: usize,
    dictionary: Option<&LazyLock<DecoderDictionary<'static>>>,
) -> Result<Vec<u8>, WireError> {
    let declared = match zstd::zstd_safe::get_frame_content_size(payload) {
        Ok(Some(n)) => n,
        Ok(None) => {
            return Err(WireError::Malformed(
                "compression: the zstd frame does not declare its size".into(),
            ));
        }
        Err(_) => return Err(WireError::Malformed("compression: not a zstd frame".into())),
    };
    if declared > limit as u64 {
        return Err(WireError::Expands { limit });
    }
    let mut decompressor = match dictionary {
        Some(dictionary) => zstd::bulk::Decompressor::with_prepared_dictionary(dictionary),
        None => zstd::bulk::Decompressor::new(),
    }
    .map_err(|e| WireError::Malformed(format!("compression: {e}")))?;
    decompressor
        .decompress(payload, declared as usize)
        .map_err(|e| WireError::Malformed(format!("compression: {e}")))
}

/// Decompresses an xz payload ([`xz`]) whose declared length is at most
/// `limit`, into exactly that many bytes: a larger declaration is refused
/// before anything is decompressed, a stream that gives more or fewer
/// bytes than it declared fails, and so does one that asks the decoder for
/// more than [`XZ_MEMORY`].
fn unxz(payload: &[u8], limit: usize) -> Result<Vec<u8>, WireError> {
    use std::io::Read;
    let (declared, payload) = xz_declared(payload, limit)?;
    let stream =
        liblzma::stream::Stream::new_stream_decoder(XZ_MEMORY, 0).map_err(|e| bad_xz(&e))?;
    let mut out = Vec::with_capacity(declared);
    liblzma::read::XzDecoder::new_stream(payload, stream)
        .take(declared as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| bad_xz(&e))?;
    if out.len() != declared {
        return Err(bad_xz(&XZ_SIZE));
    }
    Ok(out)
}

/// An xz payload's declared length, at most `limit`, and the stream after
/// it ([`FLAG_XZ`], [`FLAG_XZ_CONTINUED`]).
fn xz_declared(mut payload: &[u8], limit: usize) -> Result<(usize, &[u8]), WireError> {
    let declared = super::chunk::count(&mut payload)
        .ok_or_else(|| bad_xz(&"the xz frame does not declare its size"))?;
    if declared > limit {
        return Err(WireError::Expands { limit });
    }
    Ok((declared, payload))
}

/// Why an xz payload that decompresses to another length is refused.
const XZ_SIZE: &str = "the xz stream is not the size it declares";

/// An xz payload that does not read, as [`WireError::Malformed`].
fn bad_xz(e: &dyn std::fmt::Display) -> WireError {
    WireError::Malformed(format!("compression: {e}"))
}

/// The push dictionary, loaded once for every frame the server reads.
static PUSH_DICTIONARY: LazyLock<DecoderDictionary<'static>> =
    LazyLock::new(|| DecoderDictionary::copy(push_dictionary()));

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_idle_sync_costs_a_few_bytes() {
        let req = encode(&SyncRequest {
            cursor: 1_234_567,
            ..Default::default()
        });
        let resp = encode(&SyncResponse {
            cursor: 1_234_567,
            ..Default::default()
        });
        assert!(
            req.len() + resp.len() <= 40,
            "{} + {}",
            req.len(),
            resp.len()
        );
        assert_eq!(decode::<SyncRequest>(&req).unwrap().cursor, 1_234_567);
    }

    #[test]
    fn record_ids_travel_as_sixteen_bytes() {
        let doc = Uuid::now_v7();
        let request = SyncRequest {
            cursor: 7,
            push: vec![DocChanges {
                doc,
                changes: vec![vec![1, 2, 3]],
            }],
            budget: None,
            ..SyncRequest::default()
        };
        let body = encode(&request);
        assert!(
            body.windows(16).any(|w| w == doc.as_bytes()),
            "the raw id is in the body"
        );
        // 58 bytes with the id as text.
        assert!(body.len() <= 38, "{} bytes", body.len());
        assert_eq!(decode::<SyncRequest>(&body).unwrap(), request);

        let mut short = Vec::new();
        ciborium::into_writer(
            &serde_json::json!({"c": 7, "p": [{"d": serde_bytes::Bytes::new(&[1, 2, 3]), "c": []}]}),
            &mut short,
        )
        .unwrap();
        let framed = [b"GW".as_slice(), &[PROTOCOL_VERSION, 0], &short].concat();
        assert!(matches!(
            decode::<SyncRequest>(&framed),
            Err(WireError::Malformed(_))
        ));
    }

    #[test]
    fn bad_bodies_get_clear_errors() {
        let good = encode(&SyncRequest::default());
        assert_eq!(
            decode::<SyncRequest>(b"").unwrap_err(),
            WireError::Truncated
        );
        assert_eq!(
            decode::<SyncRequest>(b"{\"c\":1}").unwrap_err(),
            WireError::BadMagic
        );
        let mut next = good.clone();
        next[2] = PROTOCOL_VERSION + 1;
        assert_eq!(
            decode::<SyncRequest>(&next).unwrap_err().code(),
            "unsupported_version"
        );
        let big = encode(&SyncRequest {
            cursor: 1,
            push: vec![DocChanges {
                doc: Uuid::nil(),
                changes: vec![vec![7; 400]; 3],
            }],
            budget: None,
            ..SyncRequest::default()
        });
        assert_eq!(big[3], FLAG_ZSTD);
        let cut = &big[..big.len() / 2];
        assert!(decode::<SyncRequest>(cut).is_err());
        let mut garbage = good[..4].to_vec();
        garbage.extend_from_slice(&[0xff, 0x00, 0x13]);
        assert!(decode::<SyncRequest>(&garbage).is_err());
    }

    #[test]
    fn an_answer_framed_with_xz_is_read_by_a_device_and_never_by_the_server() {
        let answer = SyncResponse {
            cursor: 9,
            packed: vec![2; 100_000],
            ..SyncResponse::default()
        };
        let body = answer.frame();
        assert_eq!(body[3], FLAG_XZ, "a large answer packed in format 2");
        assert!(body.len() < 2_000, "{} bytes", body.len());
        assert_eq!(decode::<SyncResponse>(&body).unwrap(), answer);
        // The server reads requests with `decode_within`: no xz there.
        let request = encode_xz(&SyncRequest::default());
        assert_eq!(
            decode_within::<SyncRequest>(&request, MAX_DECODED_BYTES),
            Err(WireError::Malformed("unknown flags 3".into()))
        );
        assert_eq!(
            decode::<SyncRequest>(&request).unwrap(),
            SyncRequest::default()
        );

        // Format 1, or a small answer, goes as before.
        let older = SyncResponse {
            packed: vec![1; 100_000],
            ..answer.clone()
        };
        assert_eq!(older.frame()[3], FLAG_ZSTD);
        let small = SyncResponse {
            packed: vec![2; 1_000],
            ..answer
        };
        assert_eq!(small.frame()[3], FLAG_ZSTD);
    }

    #[test]
    fn the_pages_of_an_answer_continue_one_xz_stream_and_a_page_that_lies_ends_it() {
        // Large pages (64 KiB of CBOR on) of a device that reads format
        // 4, much alike, as a grid's pages are.
        let page = |n: u32| SyncResponse {
            cursor: u64::from(n),
            more: true,
            packed: std::iter::once(4)
                .chain((0..40_000u32).flat_map(|i| (i % 977 + n).to_le_bytes()))
                .collect(),
            ..SyncResponse::default()
        };
        let pages: Vec<SyncResponse> = (0..3).map(page).collect();
        let mut writer = AnswerWriter::new(true);
        let frames: Vec<Vec<u8>> = pages.iter().map(|p| writer.frame(p)).collect();
        assert!(frames.iter().all(|f| f[3] == FLAG_XZ_CONTINUED));
        let apart: Vec<Vec<u8>> = pages.iter().map(Answer::frame).collect();
        assert!(apart.iter().all(|f| f[3] == FLAG_XZ));
        assert!(
            frames[1].len() * 4 < apart[1].len(),
            "a page like the one before is a few bytes: {} against {}",
            frames[1].len(),
            apart[1].len()
        );
        let mut reader = AnswerReader::default();
        for (frame, page) in frames.iter().zip(&pages) {
            assert_eq!(reader.decode::<SyncResponse>(frame).as_ref(), Ok(page));
        }
        // Only the answer's reader reads them, and only in order.
        assert!(decode::<SyncResponse>(&frames[0]).is_err());
        assert!(
            AnswerReader::default()
                .decode::<SyncResponse>(&frames[1])
                .is_err()
        );
        // Not to a device of format 3, nor without the server's leave.
        let three = SyncResponse {
            packed: [&[3][..], &pages[0].packed[1..]].concat(),
            ..pages[0].clone()
        };
        assert_eq!(AnswerWriter::new(true).frame(&three)[3], FLAG_XZ);
        assert_eq!(AnswerWriter::new(false).frame(&pages[0])[3], FLAG_XZ);

        // A page declaring a byte more or less than it holds is refused,
        // and so is every page after it.
        for wrong in [1i64, -1] {
            let mut reader = AnswerReader::default();
            let mut payload = &frames[0][4..];
            let declared = crate::sync::chunk::count(&mut payload).unwrap();
            let mut lying = frames[0][..4].to_vec();
            crate::sync::chunk::put_uleb(&mut lying, (declared as i64 + wrong) as u64);
            lying.extend_from_slice(payload);
            assert!(matches!(
                reader.decode::<SyncResponse>(&lying),
                Err(WireError::Malformed(e)) if e.starts_with("compression")
            ));
            assert!(reader.decode::<SyncResponse>(&frames[1]).is_err());
        }
        // A declared size past the limit is refused before decoding.
        let mut big = frames[0][..4].to_vec();
        crate::sync::chunk::put_uleb(&mut big, MAX_DECODED_BYTES as u64 + 1);
        assert_eq!(
            AnswerReader::default().decode::<SyncResponse>(&big),
            Err(WireError::Expands {
                limit: MAX_DECODED_BYTES
            })
        );
    }

    #[test]
    fn an_xz_frame_is_refused_before_it_expands_past_the_limit_or_its_size() {
        let zeros = vec![0u8; 31 * 1024 * 1024];
        let bomb = framed(FLAG_XZ, &xz(&zeros).unwrap());
        assert!(bomb.len() < 8_192, "{} bytes", bomb.len());
        let limit = 16 * 1024 * 1024;
        assert_eq!(
            read_frame::<SyncResponse>(&bomb, limit, Side::Answer),
            Err(WireError::Expands { limit })
        );
        // A stream that gives more, or fewer, bytes than it declares.
        let cbor = cbor(&SyncResponse::default());
        let stream = &xz(&cbor).unwrap()[1..];
        for declared in [cbor.len() - 1, cbor.len() + 1] {
            let mut payload = Vec::new();
            crate::sync::chunk::put_uleb(&mut payload, declared as u64);
            payload.extend_from_slice(stream);
            assert!(matches!(
                decode::<SyncResponse>(&framed(FLAG_XZ, &payload)),
                Err(WireError::Malformed(e)) if e.starts_with("compression")
            ));
        }
        // No size, or garbage after it.
        for payload in [&[][..], &[5, 1, 2, 3][..]] {
            assert!(matches!(
                decode::<SyncResponse>(&framed(FLAG_XZ, payload)),
                Err(WireError::Malformed(_))
            ));
        }
    }

    /// Regression (issue #10, item 13): a 1 KB body that decompressed to
    /// 31 MiB was accepted. A frame declaring more than the limit is
    /// refused from its header, and one that does not declare its size
    /// is refused.
    #[test]
    fn a_zstd_bomb_is_refused_before_it_expands() {
        let zeros = vec![0u8; 31 * 1024 * 1024];
        let bomb = [
            b"GW".as_slice(),
            &[PROTOCOL_VERSION, FLAG_ZSTD],
            &zstd::bulk::compress(&zeros, 19).unwrap(),
        ]
        .concat();
        assert!(bomb.len() < 2048, "{} bytes", bomb.len());
        let limit = 16 * 1024 * 1024;
        let err = decode_within::<SyncRequest>(&bomb, limit).unwrap_err();
        assert_eq!(err, WireError::Expands { limit });
        assert_eq!(err.code(), "expands_too_large");
        assert!(err.to_string().starts_with("消息"), "zh-CN first: {err}");

        // A streamed frame does not declare its size: refused.
        let mut streamed = Vec::new();
        {
            let mut enc = zstd::stream::write::Encoder::new(&mut streamed, 3).unwrap();
            std::io::Write::write_all(&mut enc, &zeros[..4096]).unwrap();
            enc.finish().unwrap();
        }
        let framed = [b"GW".as_slice(), &[PROTOCOL_VERSION, FLAG_ZSTD], &streamed].concat();
        assert!(matches!(
            decode_within::<SyncRequest>(&framed, limit),
            Err(WireError::Malformed(_))
        ));
    }

    /// The bench's edit ("门口有台阶" into a household's
    /// `address.detail`, which the server's actor wrote), compact, in a
    /// request: with the push dictionary it is under issue #14's 100
    /// bytes, where plain zstd gains nothing.
    #[test]
    fn a_one_field_edit_is_pushed_in_under_a_hundred_bytes() {
        use automerge::transaction::{CommitOptions, Transactable};
        use automerge::{ActorId, AutoCommit, ObjType, ROOT};

        let user = "gw-440106001001001";
        let device = ActorId::random();
        let mut doc = AutoCommit::new().with_actor(ActorId::random());
        doc.put(ROOT, "kind", "household").unwrap();
        let address = doc.put_object(ROOT, "address", ObjType::Map).unwrap();
        doc.put(&address, "detail", "一楼").unwrap();
        doc.commit_with(CommitOptions::default().with_message("gw-admin"));
        let mut edit = doc.fork().with_actor(device.clone());
        edit.put(&address, "detail", "门口有台阶").unwrap();
        let hash = edit
            .commit_with(
                CommitOptions::default()
                    .with_message(user)
                    .with_time(1_779_000_100),
            )
            .unwrap();
        let change = edit
            .get_change_by_hash(&hash)
            .unwrap()
            .clone()
            .bytes()
            .to_vec();
        let request = SyncRequest {
            cursor: 1_234_567,
            push: vec![DocChanges {
                doc: Uuid::now_v7(),
                changes: vec![
                    super::super::compact::compact(&change, device.to_bytes(), user).unwrap(),
                ],
            }],
            budget: None,
            ..SyncRequest::default()
        };
        let plain = encode(&request);
        let pushed = encode_push(&request);
        assert_eq!(pushed[3], FLAG_ZSTD_DICTIONARY);
        assert!(
            pushed.len() <= 100 && pushed.len() + 20 < plain.len(),
            "{} bytes with the dictionary, {} without",
            pushed.len(),
            plain.len()
        );
        assert_eq!(decode::<SyncRequest>(&pushed).unwrap(), request);
        // A large push is framed as plain zstd frames it.
        let big = SyncRequest {
            cursor: 9,
            push: (0..300)
                .map(|i| DocChanges {
                    doc: Uuid::from_u128(i),
                    changes: vec![change.clone()],
                })
                .collect(),
            budget: None,
            ..SyncRequest::default()
        };
        let (with, without) = (encode_push(&big), encode(&big));
        assert_eq!(with, without);
        assert_eq!(decode::<SyncRequest>(&with).unwrap(), big);
    }

    /// The dictionary is part of protocol version 3: a device and a server
    /// of this version must hold the same bytes. A new dictionary needs a
    /// new [`PROTOCOL_VERSION`] (and this digest with it).
    #[test]
    fn the_push_dictionary_is_the_one_version_3_was_released_with() {
        use sha2::{Digest, Sha256};
        assert_eq!(PROTOCOL_VERSION, 3);
        assert_eq!(
            hex::encode(Sha256::digest(push_dictionary())),
            "34db0610ec567fdc483b4bb9e1362a304815fcc357650c9e53f029905902bab2"
        );
    }

    /// A dictionary frame is bounded as a plain one is: its declared size
    /// is checked before anything is decompressed, and a frame made with
    /// another dictionary does not read.
    #[test]
    fn a_dictionary_frame_is_bounded_and_needs_the_dictionary() {
        let zeros = vec![0u8; 31 * 1024 * 1024];
        let bomb = [
            b"GW".as_slice(),
            &[PROTOCOL_VERSION, FLAG_ZSTD_DICTIONARY],
            &compress_with(&zeros, push_dictionary()).unwrap(),
        ]
        .concat();
        let limit = 16 * 1024 * 1024;
        assert_eq!(
            decode_within::<SyncRequest>(&bomb, limit).unwrap_err(),
            WireError::Expands { limit }
        );
        let request = SyncRequest {
            cursor: 5,
            push: vec![DocChanges {
                doc: Uuid::from_u128(5),
                changes: vec![b"a change of some length, repeated".repeat(4)],
            }],
            budget: None,
            ..SyncRequest::default()
        };
        // Made with a dictionary holding the message itself: tiny, and
        // meaningless with the push dictionary.
        let own = cbor(&request);
        let other = [
            b"GW".as_slice(),
            &[PROTOCOL_VERSION, FLAG_ZSTD_DICTIONARY],
            &compress_with(&own, &own).unwrap(),
        ]
        .concat();
        assert!(other.len() < 40, "{} bytes", other.len());
        assert_ne!(decode::<SyncRequest>(&other).ok(), Some(request.clone()));
        let mut unknown = encode_push(&request);
        unknown[3] = 3;
        assert!(matches!(
            decode::<SyncRequest>(&unknown),
            Err(WireError::Malformed(_))
        ));
    }

    /// CBOR of empty byte strings costs one byte each on the wire and
    /// dozens in memory: charged against the limit, compressed or not.
    #[test]
    fn a_list_of_empty_changes_is_charged_for_its_memory() {
        let request = SyncRequest {
            cursor: 0,
            push: vec![DocChanges {
                doc: Uuid::nil(),
                changes: vec![Vec::new(); 200_000],
            }],
            budget: None,
            ..SyncRequest::default()
        };
        let body = encode(&request);
        assert!(body.len() < 50_000, "{} bytes", body.len());
        let limit = 1024 * 1024;
        assert_eq!(
            decode_within::<SyncRequest>(&body, limit).unwrap_err(),
            WireError::Expands { limit }
        );
        // The default limit takes it, and an honest push well within the
        // limit reads whole.
        assert_eq!(decode::<SyncRequest>(&body).unwrap(), request);
        let honest = SyncRequest {
            cursor: 3,
            push: (0..2000)
                .map(|i| DocChanges {
                    doc: Uuid::from_u128(i),
                    changes: vec![vec![(i % 251) as u8; 300]],
                })
                .collect(),
            budget: None,
            ..SyncRequest::default()
        };
        assert_eq!(
            decode_within::<SyncRequest>(&encode(&honest), limit).unwrap(),
            honest
        );
        // The budget ends with the decode: the next one on this thread
        // starts afresh.
        assert_eq!(decode::<SyncRequest>(&body).unwrap(), request);
    }

    /// A body from a build without `notices` reads the same, and a body
    /// with them still reads for a build that ignores them: the field is
    /// compatible within version 1.
    #[test]
    fn notices_are_an_optional_field() {
        #[derive(Serialize)]
        struct OldResponse {
            #[serde(rename = "c")]
            cursor: u64,
        }
        let old = encode(&OldResponse { cursor: 9 });
        let read: SyncResponse = decode(&old).unwrap();
        assert_eq!((read.cursor, read.notices.len()), (9, 0));
        #[derive(Deserialize)]
        struct OldReader {
            #[serde(rename = "c")]
            cursor: u64,
        }
        let new = encode(&SyncResponse {
            cursor: 7,
            notices: vec![Notice::new(
                Uuid::nil(),
                NoticeCode::TransitionRefused,
                crate::problem::params([("error", "own_work".into())]),
            )],
            ..Default::default()
        });
        assert_eq!(decode::<OldReader>(&new).unwrap().cursor, 7);
    }

    proptest! {
        #[test]
        fn messages_round_trip(cursor in any::<u64>(), more in any::<bool>(),
            docs in prop::collection::vec((any::<u128>(), prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..4)), 0..5)) {
            let pull: Vec<DocChanges> = docs.into_iter().map(|(d, c)| DocChanges { doc: Uuid::from_u128(d), changes: c }).collect();
            let notices = vec![Notice { doc: Uuid::nil(), code: "immutable_field".into(), params: crate::problem::params([("max", cursor.into()), ("field", "created_by".into())]), compensated: more }];
            let resp = SyncResponse { cursor, more, rejected: vec![Rejection::new(Uuid::nil(), RejectionCode::OutsideScope, crate::problem::params([("grid", "g-1".into())]))], pull: pull.clone(), notices, wipe: !more, ..SyncResponse::default() };
            prop_assert_eq!(decode::<SyncResponse>(&encode(&resp)).unwrap(), resp);
            let req = SyncRequest { cursor, push: pull, budget: Some(5), ..SyncRequest::default() };
            prop_assert_eq!(decode::<SyncRequest>(&encode(&req)).unwrap(), req);
        }

        #[test]
        fn any_bytes_decode_or_fail_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let mut framed = [b"GW".as_slice(), &[PROTOCOL_VERSION, 0]].concat();
            framed.extend_from_slice(&bytes);
            let _ = decode::<SyncRequest>(&framed);
            let _ = decode::<SyncResponse>(&bytes);
        }
    }
}
