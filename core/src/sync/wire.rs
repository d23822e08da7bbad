//! The sync protocol's messages and their binary framing.
//!
//! A body is a 4-byte header, `G` `W` version flags, followed by the message
//! as CBOR with one-letter keys, zstd-compressed when that makes it smaller
//! (flag bit 0). A body from a different protocol version is refused with
//! [`WireError::UnsupportedVersion`], so a future format change is detected
//! and answered clearly instead of being misread.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

/// The protocol version this build speaks. 2: record ids travel as their
/// 16 raw bytes instead of 36 characters of text (a small edit's request
/// shrank by a tenth).
pub const PROTOCOL_VERSION: u8 = 2;
const MAGIC: [u8; 2] = *b"GW";
const FLAG_ZSTD: u8 = 1;
/// Bodies smaller than this are sent uncompressed: compression would only
/// add its own framing.
const COMPRESS_ABOVE: usize = 96;
/// The largest body either side accepts, compressed or not.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Changes of one record document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocChanges {
    /// The record's id.
    #[serde(rename = "d", with = "uuid_bytes")]
    pub doc: Uuid,
    /// Raw Automerge changes, in causal order.
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
}

/// Why the server refused the pushed changes of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    #[serde(rename = "d", with = "uuid_bytes")]
    pub doc: Uuid,
    /// A stable code the app translates (`outside_scope`, `invalid_record` …).
    #[serde(rename = "k")]
    pub code: String,
    /// A sentence for the worker.
    #[serde(rename = "m")]
    pub message: String,
}

/// Something the server did about stored changes that the worker should
/// know: a transition kept in the timeline but not applied, a forbidden
/// field edit undone by the server's compensating change. Unlike a
/// [`Rejection`], the pushed changes were stored (the outbox entries are
/// acknowledged); any compensating change arrives in the same answer's
/// pull, by the server's actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    #[serde(rename = "d", with = "uuid_bytes")]
    pub doc: Uuid,
    /// A stable code the app translates (`transition_refused`,
    /// `immutable_field`, `review_refused` …).
    #[serde(rename = "k")]
    pub code: String,
    /// The sentence in Simplified Chinese.
    #[serde(rename = "z")]
    pub message_zh: String,
    /// The sentence in English.
    #[serde(rename = "e")]
    pub message_en: String,
    /// The server undid the edit with a change of its own (in the pull).
    #[serde(rename = "u", default, skip_serializing_if = "is_false")]
    pub compensated: bool,
}

/// What the server answers: which pushed documents were refused, the
/// changes after the cursor the user may see, and the new cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
        Uuid::from_slice(&bytes).map_err(|_| D::Error::invalid_length(bytes.len(), &"16 bytes"))
    }
}

mod change_list {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_bytes::ByteBuf;

    pub fn serialize<S: Serializer>(changes: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let bufs: Vec<&serde_bytes::Bytes> =
            changes.iter().map(|c| serde_bytes::Bytes::new(c)).collect();
        bufs.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let bufs: Vec<ByteBuf> = Vec::deserialize(d)?;
        Ok(bufs.into_iter().map(ByteBuf::into_vec).collect())
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
            WireError::Malformed(_) => "malformed",
        }
    }
}

/// Frames a message: header, CBOR, compressed when smaller.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    let mut cbor = Vec::new();
    // Serializing plain data into a Vec cannot fail.
    ciborium::into_writer(message, &mut cbor).expect("CBOR encoding of a sync message");
    let mut out = Vec::with_capacity(cbor.len() + 4);
    out.extend_from_slice(&MAGIC);
    out.push(PROTOCOL_VERSION);
    if cbor.len() > COMPRESS_ABOVE
        && let Ok(z) = zstd::bulk::compress(&cbor, 3)
        && z.len() < cbor.len()
    {
        out.push(FLAG_ZSTD);
        out.extend_from_slice(&z);
        return out;
    }
    out.push(0);
    out.extend_from_slice(&cbor);
    out
}

/// Reads a framed message, refusing other versions, oversized and
/// malformed bodies.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, WireError> {
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
        ciborium::from_reader::<T, _>(bytes).map_err(|e| match e {
            ciborium::de::Error::Io(_) => WireError::Truncated,
            other => WireError::Malformed(other.to_string()),
        })
    };
    match body[3] {
        0 => read(payload),
        FLAG_ZSTD => {
            let raw = zstd::bulk::decompress(payload, MAX_BODY_BYTES)
                .map_err(|e| WireError::Malformed(format!("compression: {e}")))?;
            read(&raw)
        }
        other => Err(WireError::Malformed(format!("unknown flags {other}"))),
    }
}

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
        });
        assert_eq!(big[3], FLAG_ZSTD);
        let cut = &big[..big.len() / 2];
        assert!(decode::<SyncRequest>(cut).is_err());
        let mut garbage = good[..4].to_vec();
        garbage.extend_from_slice(&[0xff, 0x00, 0x13]);
        assert!(decode::<SyncRequest>(&garbage).is_err());
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
            notices: vec![Notice {
                doc: Uuid::nil(),
                code: "transition_refused".into(),
                message_zh: "不生效".into(),
                message_en: "not applied".into(),
                compensated: false,
            }],
            ..Default::default()
        });
        assert_eq!(decode::<OldReader>(&new).unwrap().cursor, 7);
    }

    proptest! {
        #[test]
        fn messages_round_trip(cursor in any::<u64>(), more in any::<bool>(),
            docs in prop::collection::vec((any::<u128>(), prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..4)), 0..5)) {
            let pull: Vec<DocChanges> = docs.into_iter().map(|(d, c)| DocChanges { doc: Uuid::from_u128(d), changes: c }).collect();
            let notices = vec![Notice { doc: Uuid::nil(), code: "immutable_field".into(), message_zh: "已撤销".into(), message_en: "undone".into(), compensated: more }];
            let resp = SyncResponse { cursor, more, rejected: vec![Rejection { doc: Uuid::nil(), code: "x".into(), message: "不行".into() }], pull: pull.clone(), notices };
            prop_assert_eq!(decode::<SyncResponse>(&encode(&resp)).unwrap(), resp);
            let req = SyncRequest { cursor, push: pull, budget: Some(5) };
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
