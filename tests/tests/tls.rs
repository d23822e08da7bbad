//! HTTPS on the wire (issue #11, item 4): `gridwork-server` terminating TLS
//! itself with a certificate from a CA made at test time, and the device's
//! side of trust: the system's roots plus the CA given at setup, and plain
//! `http://` refused to anything but this machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use gridwork_core::model::Role;
use gridwork_core::store::Store;
use gridwork_core::sync::client::{SyncClient, TransportError};
use gridwork_core::sync::http::{self, HttpTransport};
use gridwork_core::sync::trust::Trust;
use gridwork_tests::{PASSWORD, Server, community, server_binary};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use reqwest::header::{SET_COOKIE, STRICT_TRANSPORT_SECURITY};

/// A CA and a certificate it issued for 127.0.0.1 and localhost, as files.
struct Pki {
    dir: tempfile::TempDir,
    ca_pem: String,
}

impl Pki {
    fn new() -> Result<Pki> {
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "某区网格化服务管理中心 test CA");
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;
        let server_key = KeyPair::generate()?;
        let server =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?
                .signed_by(&server_key, &ca)?;
        let dir = tempfile::tempdir()?;
        // The chain as a server sends it: its certificate, then the CA's.
        std::fs::write(
            dir.path().join("server.pem"),
            format!("{}{}", server.pem(), ca.pem()),
        )?;
        std::fs::write(dir.path().join("server.key"), server_key.serialize_pem())?;
        Ok(Pki {
            ca_pem: ca.pem(),
            dir,
        })
    }

    fn cert(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    fn key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    /// The server's settings for HTTPS.
    fn config(&self) -> String {
        format!(
            "tls_cert_file = {:?}\ntls_key_file = {:?}\n",
            self.cert(),
            self.key()
        )
    }

    fn trust(&self) -> Trust {
        Trust {
            ca_pem: Some(self.ca_pem.clone()),
            allow_plain_http: false,
        }
    }

    /// A plain HTTP client trusting this CA alone.
    fn http_client(&self) -> Result<reqwest::Client> {
        let ca = reqwest::Certificate::from_pem(self.ca_pem.as_bytes())?;
        Ok(reqwest::Client::builder().tls_certs_only([ca]).build()?)
    }
}

fn worker() -> &'static gridwork_core::model::User {
    community()
        .users
        .iter()
        .find(|u| u.role == Role::GridWorker)
        .expect("the demo has a grid worker")
}

fn supervisor() -> &'static gridwork_core::model::User {
    community()
        .users
        .iter()
        .find(|u| u.role == Role::CommunitySupervisor)
        .expect("the demo has a community supervisor")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_trusting_the_districts_ca_logs_in_and_syncs_over_https() -> Result<()> {
    let pki = Pki::new()?;
    let server = Server::start_with_config(&pki.config())?;
    assert!(server.url().starts_with("https://"), "{}", server.url());

    let w = worker();
    let login =
        http::login_trusting(&server.url(), &pki.trust(), &w.id, PASSWORD, "平板", None).await?;
    let dir = tempfile::tempdir()?;
    let actor = automerge::ActorId::from(hex::decode(&login.actor_id)?);
    let mut store = Store::open(dir.path().join("device.sqlite"), actor)?;
    let transport = HttpTransport::trusting(&server.url(), &pki.trust(), &login.token)?;
    let progress = SyncClient::default()
        .sync(&mut store, &transport, |_| {})
        .await
        .context("a sync over HTTPS")?;
    assert!(progress.rounds >= 1, "{progress:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_without_the_ca_refuses_the_server_as_untrusted_not_offline() -> Result<()> {
    let pki = Pki::new()?;
    let server = Server::start_with_config(&pki.config())?;
    let e = http::login(&server.url(), &worker().id, PASSWORD, "平板")
        .await
        .expect_err("a certificate from an unknown CA must be refused");
    assert!(matches!(e, TransportError::Untrusted(_)), "{e:?}");
    assert_eq!(e.code(), "untrusted_certificate");

    // Another CA given at setup does not help either.
    let other = Pki::new()?;
    let e = http::login_trusting(
        &server.url(),
        &other.trust(),
        &worker().id,
        PASSWORD,
        "平板",
        None,
    )
    .await
    .expect_err("a CA that did not issue the certificate must not be trusted");
    assert_eq!(e.code(), "untrusted_certificate", "{e:?}");

    // Plain HTTP to the HTTPS port gets no answer.
    let plain = server.url().replacen("https://", "http://", 1);
    let answer = reqwest::Client::new()
        .get(format!("{plain}/healthz"))
        .send()
        .await;
    assert!(
        answer.as_ref().map_or(true, |r| !r.status().is_success()),
        "{answer:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_tls_the_console_cookie_is_secure_and_hsts_is_sent() -> Result<()> {
    async fn console_login(
        http: &reqwest::Client,
        url: &str,
    ) -> Result<(Option<String>, Option<String>)> {
        let health = http.get(format!("{url}/healthz")).send().await?;
        let hsts = health
            .headers()
            .get(STRICT_TRANSPORT_SECURITY)
            .map(|v| v.to_str().unwrap_or_default().to_string());
        let login = http
            .post(format!("{url}/console/api/login"))
            .header("x-gridwork-console", "1")
            .json(&serde_json::json!({"user": supervisor().id, "password": PASSWORD}))
            .send()
            .await?;
        assert!(login.status().is_success(), "{}", login.status());
        let cookie = login
            .headers()
            .get(SET_COOKIE)
            .map(|v| v.to_str().unwrap_or_default().to_string());
        Ok((hsts, cookie))
    }

    let pki = Pki::new()?;
    let tls = Server::start_with_config(&pki.config())?;
    let (hsts, cookie) = console_login(&pki.http_client()?, &tls.url()).await?;
    assert_eq!(hsts.as_deref(), Some("max-age=31536000"));
    let cookie = cookie.context("a session cookie")?;
    assert!(cookie.contains("; Secure"), "{cookie}");

    // Without TLS (loopback, or behind a proxy) neither is sent by default.
    let plain = Server::start()?;
    let (hsts, cookie) = console_login(&reqwest::Client::new(), &plain.url()).await?;
    assert_eq!(hsts, None);
    let cookie = cookie.context("a session cookie")?;
    assert!(!cookie.contains("Secure"), "{cookie}");
    Ok(())
}

/// Runs `gridwork-server serve` over an empty data directory with `env`;
/// it must stop at once, and its standard error is returned.
fn refused_start(data: &Path, env: &[(&str, &Path)]) -> Result<String> {
    let mut command = Command::new(server_binary());
    command
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0"]);
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output()?;
    assert!(!out.status.success(), "the server must not start");
    Ok(String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_tls_settings_stop_the_start_saying_what_is_wrong() -> Result<()> {
    let pki = Pki::new()?;
    let data = tempfile::tempdir()?;

    let alone = refused_start(data.path(), &[("GRIDWORK_TLS_CERT_FILE", &pki.cert())])?;
    assert!(
        alone.contains("tls_cert_file and tls_key_file go together"),
        "{alone}"
    );

    let other = Pki::new()?;
    let mismatch = refused_start(
        data.path(),
        &[
            ("GRIDWORK_TLS_CERT_FILE", &pki.cert()),
            ("GRIDWORK_TLS_KEY_FILE", &other.key()),
        ],
    )?;
    assert!(
        mismatch.contains("cannot serve the certificate") && mismatch.contains("server.key"),
        "{mismatch}"
    );

    let missing = pki.dir.path().join("nowhere.pem");
    let gone = refused_start(
        data.path(),
        &[
            ("GRIDWORK_TLS_CERT_FILE", &missing),
            ("GRIDWORK_TLS_KEY_FILE", &pki.key()),
        ],
    )?;
    assert!(gone.contains("nowhere.pem"), "{gone}");
    Ok(())
}
