//! HTTPS in the server itself: the certificate and key named in the
//! settings ([`Settings::tls_cert_file`](crate::config::Settings)), read
//! once at start into a rustls configuration.
//!
//! Decisions:
//! - rustls with the aws-lc-rs provider (the one reqwest already brings),
//!   named explicitly so that no process-wide default provider is needed;
//!   TLS 1.2 and 1.3, rustls' safe defaults; HTTP/2 and HTTP/1.1 by ALPN.
//! - A missing file, a file with no certificate or no key, or a key that
//!   does not belong to the certificate stops the start with a message
//!   naming the file: a server never falls back to plain HTTP.
//! - Under TLS the console's cookie is `Secure` and every answer carries
//!   `Strict-Transport-Security` ([`HSTS`]), so a browser that once reached
//!   the console over HTTPS never tries plain HTTP for it again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use axum_server::tls_rustls::RustlsConfig;

/// The `Strict-Transport-Security` value sent under TLS: one year.
pub const HSTS: &str = "max-age=31536000";

/// Why the TLS settings could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading the TLS certificate file {path}: {source}")]
    Certificate {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error(
        "the TLS certificate file {0} holds no certificate (expected PEM, -----BEGIN CERTIFICATE-----)"
    )]
    NoCertificate(PathBuf),
    #[error("reading the TLS key file {path}: {source}")]
    Key {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("the TLS key in {key} cannot serve the certificate in {cert}: {source}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
}

/// Reads `cert` (a PEM chain, the server's certificate first) and `key`
/// (its PEM private key: PKCS#8, PKCS#1 or SEC1) into a server
/// configuration.
pub fn load(cert: &Path, key: &Path) -> Result<RustlsConfig, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Certificate {
            path: cert.to_path_buf(),
            source,
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(cert.to_path_buf()));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Key {
        path: key.to_path_buf(),
        source,
    })?;
    let mismatch = |source| TlsError::Mismatch {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        source,
    };
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(mismatch)?
    .with_no_client_auth()
    .with_single_cert(chain, private)
    .map_err(mismatch)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn pair(name: &str) -> rcgen::CertifiedKey<rcgen::KeyPair> {
        rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap()
    }

    #[test]
    fn a_certificate_and_its_key_load() {
        let dir = tempfile::tempdir().unwrap();
        let p = pair("localhost");
        let cert = write(dir.path(), "cert.pem", &p.cert.pem());
        let key = write(dir.path(), "key.pem", &p.signing_key.serialize_pem());
        assert!(load(&cert, &key).is_ok());
    }

    #[test]
    fn a_key_of_another_certificate_is_refused_naming_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let cert = write(dir.path(), "cert.pem", &pair("localhost").cert.pem());
        let other = pair("localhost").signing_key.serialize_pem();
        let key = write(dir.path(), "other-key.pem", &other);
        let e = load(&cert, &key).expect_err("a mismatched key must be refused");
        assert!(matches!(e, TlsError::Mismatch { .. }), "{e}");
        let text = e.to_string();
        assert!(
            text.contains("other-key.pem") && text.contains("cert.pem"),
            "{text}"
        );
    }

    #[test]
    fn files_without_pem_or_missing_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = pair("localhost");
        let key = write(dir.path(), "key.pem", &p.signing_key.serialize_pem());
        let empty = write(dir.path(), "empty.pem", "not a certificate\n");
        let e = load(&empty, &key).expect_err("no certificate");
        assert!(matches!(e, TlsError::NoCertificate(_)), "{e}");
        assert!(e.to_string().contains("empty.pem"));

        let missing = dir.path().join("missing.pem");
        let e = load(&missing, &key).expect_err("missing file");
        assert!(e.to_string().contains("missing.pem"), "{e}");

        let cert = write(dir.path(), "cert.pem", &p.cert.pem());
        let e = load(&cert, &empty).expect_err("no key");
        assert!(matches!(e, TlsError::Key { .. }), "{e}");
        assert!(e.to_string().contains("empty.pem"), "{e}");
    }
}
