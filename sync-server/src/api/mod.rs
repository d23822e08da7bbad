//! The HTTP API: routes, grouped by version, over the library's modules.
//!
//! Handlers are thin: they authenticate, read the body, run the blocking
//! work (storage, Automerge, argon2) on tokio's blocking pool, and turn the
//! outcome into a response. Unversioned: `/healthz`, `/readyz`. Version 1:
//! `/v1/login`, `/v1/sync`.
//!
//! **Ranges.** Every file served in parts (a blob to a device, the built
//! console) reads the `Range` header with [`ByteRange`], as RFC 9110 §14
//! says: a header that is not a valid `bytes` range set, or asks for
//! several ranges (which a server may decline to serve), is ignored and the
//! whole file answered `200`; one range that starts past the end (or a
//! suffix of 0 bytes) is answered `416` with `Content-Range: bytes */len`;
//! one that overlaps the file is answered `206` with the part that exists.

pub mod console;
pub mod health;
pub mod refusals;
pub mod v1;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The client's address, when the server was started with connection info
/// (it is, by [`crate::launch`]); unspecified otherwise.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

/// What a `Range` header asks of a file of `total` bytes (RFC 9110 §14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// No header, or one to ignore: answer the whole file, `200`.
    Whole,
    /// Bytes `start..=end` (`end` within the file): `206`.
    Part { start: u64, end: u64 },
    /// One range, none of it in the file: `416`.
    Unsatisfiable,
}

/// One `range-spec` of a `bytes` range set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSpec {
    /// `first-` or `first-last`.
    From(u64, Option<u64>),
    /// `-suffix`: the last `suffix` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Reads `header` (the `Range` value, if any) for a file of `total`
    /// bytes.
    pub fn of(header: Option<&[u8]>, total: u64) -> ByteRange {
        let Some(spec) = header.and_then(single_range) else {
            return ByteRange::Whole;
        };
        let (start, end) = match spec {
            RangeSpec::From(first, _) if first >= total => return ByteRange::Unsatisfiable,
            RangeSpec::From(first, last) => (first, last.unwrap_or(u64::MAX).min(total - 1)),
            RangeSpec::Suffix(0) => return ByteRange::Unsatisfiable,
            RangeSpec::Suffix(_) if total == 0 => return ByteRange::Unsatisfiable,
            RangeSpec::Suffix(n) => (total.saturating_sub(n), total - 1),
        };
        ByteRange::Part { start, end }
    }

    /// Whether a server honours this header at all: it is one valid
    /// `bytes` range. Any other `Range` header is to be ignored.
    pub fn is_honoured(header: &[u8]) -> bool {
        single_range(header).is_some()
    }
}

/// The one range of a valid `bytes=` header, or `None` for a header to
/// ignore (not `bytes`, bad syntax, a last byte before the first, or more
/// than one range).
fn single_range(header: &[u8]) -> Option<RangeSpec> {
    let text = std::str::from_utf8(header).ok()?;
    let (unit, set) = text.split_once('=')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let digits = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    // `1#range-spec`: a list; empty elements are allowed and skipped.
    let mut specs = set
        .split(',')
        .map(|s| s.trim_matches([' ', '\t']))
        .filter(|s| !s.is_empty());
    let spec = specs.next()?;
    if specs.next().is_some() {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    if first.is_empty() {
        return digits(last).map(RangeSpec::Suffix);
    }
    let first = digits(first)?;
    let last = match last {
        "" => None,
        l => Some(digits(l).filter(|l| *l >= first)?),
    };
    Some(RangeSpec::From(first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read_as_rfc_9110_says() {
        let of = |h: &str| ByteRange::of(Some(h.as_bytes()), 100);
        let part = |start, end| ByteRange::Part { start, end };
        assert_eq!(ByteRange::of(None, 100), ByteRange::Whole);
        assert_eq!(of("bytes=0-9"), part(0, 9));
        assert_eq!(of("BYTES=10-"), part(10, 99));
        assert_eq!(of("bytes=90-500"), part(90, 99));
        assert_eq!(of("bytes=-5"), part(95, 99));
        assert_eq!(of("bytes=-500"), part(0, 99));
        assert_eq!(of("bytes= 3-4 ,"), part(3, 4));
        for unsatisfiable in ["bytes=100-", "bytes=500-600", "bytes=-0"] {
            assert_eq!(
                of(unsatisfiable),
                ByteRange::Unsatisfiable,
                "{unsatisfiable}"
            );
        }
        for ignored in [
            "bytes=abc",
            "bytes=9-3",
            "items=0-9",
            "bytes=0-1,5-6",
            "bytes=",
            "bytes=,",
            "bytes=--1",
            "bytes=+1-2",
            "bytes=1-2-3",
            "bytes=99999999999999999999-",
            "garbage",
        ] {
            assert_eq!(of(ignored), ByteRange::Whole, "{ignored}");
            assert!(!ByteRange::is_honoured(ignored.as_bytes()), "{ignored}");
        }
        assert_eq!(ByteRange::of(Some(&[0xff, 0xfe]), 100), ByteRange::Whole);
        assert_eq!(
            ByteRange::of(Some(b"bytes=-5"), 0),
            ByteRange::Unsatisfiable
        );
    }
}
