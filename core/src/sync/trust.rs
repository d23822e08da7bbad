//! Which servers a device talks to, and how it trusts them: the one rule
//! for the server address and the one HTTP client every transport uses.
//!
//! Decisions:
//! - Records cross the network only over HTTPS. Plain `http://` is
//!   accepted only to a loopback address (a server on the same machine:
//!   tests, a demo) or when the admin allowed it explicitly at setup
//!   ([`Trust::allow_plain_http`], for a trial on a closed network).
//! - The server's certificate is checked against the system's roots (the
//!   platform verifier) plus, where the district runs its own CA, the CA
//!   certificate the admin gave at setup ([`Trust::ca_pem`]).
//! - A certificate the device does not trust is its own error
//!   ([`TransportError::Untrusted`]), not "no network": retrying does not
//!   help, and the worker is told to call the admin.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::client::TransportError;

/// How this device trusts its server, set at setup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trust {
    /// A CA certificate (PEM) trusted beside the system's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// Plain `http://` to a server that is not on this machine.
    #[serde(default)]
    pub allow_plain_http: bool,
}

/// `url` as a server address under `trust`: trimmed, without a trailing
/// slash, `https://` (or `http://` where [`Trust`] allows it).
pub fn server_address(url: &str, trust: &Trust) -> Result<String, TransportError> {
    let base = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(base)
        .map_err(|e| TransportError::BadAddress(format!("{base}: {e}")))?;
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Err(TransportError::BadAddress(format!("{base}: no host")));
    };
    match parsed.scheme() {
        "https" => Ok(base.to_string()),
        "http" if trust.allow_plain_http || is_loopback(host) => Ok(base.to_string()),
        "http" => Err(TransportError::PlainHttp(host.to_string())),
        other => Err(TransportError::BadAddress(format!(
            "{base}: {other}:// is not http:// or https://"
        ))),
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// How long a request may take, answer included, unless it says
/// otherwise (a streamed answer: [`super::http`]).
pub(super) const ANSWER_WITHIN: Duration = Duration::from_secs(120);

/// The HTTP client every transport uses, trusting what `trust` names.
pub(super) fn client(trust: &Trust) -> Result<reqwest::Client, TransportError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(ANSWER_WITHIN);
    if let Some(pem) = &trust.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| TransportError::BadCa(e.to_string()))?;
        if certs.is_empty() {
            return Err(TransportError::BadCa(
                "no certificate in the PEM text".to_string(),
            ));
        }
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .build()
        .map_err(|e| TransportError::BadCa(e.to_string()))
}

/// A failed request: a certificate the device does not trust, or the
/// network.
pub(super) fn failed(e: reqwest::Error) -> TransportError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = source {
        let tls = err.downcast_ref::<rustls::Error>().or_else(|| {
            err.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(why)) = tls {
            return TransportError::Untrusted(format!("{why:?}"));
        }
        source = err.source();
    }
    // `io::Error::source` skips the error it wraps, so a rustls error under
    // a custom I/O error can be missed above; its Debug form still names it.
    let chain = format!("{e:?}");
    if chain.contains("InvalidCertificate") {
        return TransportError::Untrusted(chain);
    }
    TransportError::Unreachable(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_accepted_and_plain_http_only_to_this_machine() {
        let strict = Trust::default();
        assert_eq!(
            server_address(" https://gw.example.cn/ ", &strict).unwrap(),
            "https://gw.example.cn"
        );
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost:8080/",
            "http://[::1]:9000",
            "http://127.1.2.3",
        ] {
            assert!(server_address(local, &strict).is_ok(), "{local}");
        }
        for remote in [
            "http://10.0.0.5:8080",
            "http://gw.example.cn",
            "http://[fe80::1]",
        ] {
            let e = server_address(remote, &strict).unwrap_err();
            assert!(matches!(e, TransportError::PlainHttp(_)), "{remote}: {e:?}");
            assert_eq!(e.code(), "plain_http_refused");
        }
        let allowed = Trust {
            allow_plain_http: true,
            ..Trust::default()
        };
        assert!(server_address("http://10.0.0.5:8080", &allowed).is_ok());
    }

    #[test]
    fn addresses_that_are_not_http_are_refused_saying_why() {
        for bad in ["gw.example.cn", "ftp://gw.example.cn", "https://", ""] {
            let e = server_address(bad, &Trust::default()).unwrap_err();
            assert!(matches!(e, TransportError::BadAddress(_)), "{bad}: {e:?}");
            assert_eq!(e.code(), "bad_server_url");
        }
    }

    #[test]
    fn a_ca_that_is_not_pem_is_refused() {
        let trust = Trust {
            ca_pem: Some("not a certificate".into()),
            ..Trust::default()
        };
        let e = client(&trust).unwrap_err();
        assert_eq!(e.code(), "bad_ca_certificate", "{e:?}");
    }
}
