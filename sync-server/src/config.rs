//! The server's settings, in layers: built-in defaults, then a TOML file,
//! then `GRIDWORK_*` environment variables, then command-line flags.
//!
//! The TOML file is the one given with `--config`, or `gridwork.toml` in
//! the data directory when it exists. Keys are flat and the same in every
//! layer: `max_body_bytes` in the file is `GRIDWORK_MAX_BODY_BYTES` in the
//! environment. The one secret, a password inside `database_url`, is a
//! [`DatabaseUrl`]: redacted in `Debug` and in `print-config`.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The file looked for in the data directory when no `--config` is given.
pub const CONFIG_FILE: &str = "gridwork.toml";
/// The prefix of environment variables.
pub const ENV_PREFIX: &str = "GRIDWORK_";

/// Every setting, with its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// The data directory: `gridwork.sqlite`, `blobs/`, optional
    /// `gridwork.toml`.
    pub data_dir: PathBuf,
    /// A `postgres://user:password@host:port/database` URL: the server
    /// stores everything but photo blobs in that PostgreSQL database
    /// instead of SQLite in the data directory. Unset: SQLite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<DatabaseUrl>,
    /// Connections to PostgreSQL one process keeps at most.
    pub database_pool_size: u32,
    /// Bytes of changes a sync answer carries when the device names no
    /// budget.
    pub sync_budget_default: u32,
    /// The most a device may ask for in one answer.
    pub sync_budget_max: u32,
    /// Largest request body accepted (bytes).
    pub max_body_bytes: usize,
    /// Largest photo blob accepted (bytes); uploads come in chunks, each
    /// a request body.
    pub max_blob_bytes: u64,
    /// Bytes of unfinished photo uploads one device may hold; a chunk past
    /// it is refused (`upload_quota_exceeded`). At least `max_blob_bytes`.
    pub blob_partial_quota_bytes: u64,
    /// An unfinished upload not written to for this long is deleted (the
    /// device starts that photo again). The server looks every quarter of
    /// this, at most every 10 minutes.
    pub blob_partial_expiry_secs: u64,
    /// Memory that image work may hold at once: preparing the console's
    /// photos and checking finished uploads, each counted at its peak as
    /// read from the file's header. An image larger than this runs alone.
    pub image_memory_bytes: u64,
    /// Threads that decode, check and store sync and repair requests;
    /// more requests wait their turn. Each may hold its body decompressed
    /// (at most `max_body_bytes`) and its decoded changes.
    pub max_concurrent_syncs: usize,
    /// Login attempts per minute for one user id from one client address
    /// (an IPv6 address counts by its /64). No limit counts a user id
    /// alone, so nobody can lock a user out (see [`crate::auth::LoginLimiter`]).
    pub login_per_user_per_minute: NonZeroU32,
    /// Login attempts per minute from one client address, whatever the user.
    pub login_per_ip_per_minute: NonZeroU32,
    /// Wrong passwords in a row for one user from one address before each
    /// further one makes that user wait there: 1 s, then twice as long
    /// after each failure.
    pub login_free_failures: u32,
    /// The longest such wait, in seconds.
    pub login_backoff_max_secs: u64,
    /// Requests taking longer are answered 408 (a slow 2G upload counts).
    pub request_timeout_secs: u64,
    /// Threads for blocking work besides syncs and image work (which have
    /// threads of their own, `max_concurrent_syncs` and
    /// `limits::IMAGE_THREADS`): logins' password hashing, photo uploads
    /// and downloads, the console. More threads only wait, each holding
    /// memory of its own.
    pub blocking_threads: usize,
    /// A `tracing` filter: `info`, `gridwork_server=debug,tower_http=info` …
    pub log_level: String,
    /// The built supervisor console (`npm run build:console` in `ui/`),
    /// served at `/console/`.
    pub console_dir: PathBuf,
    /// A console sign-in lasts this many hours.
    pub console_session_hours: u32,
    /// Mark the console's cookie `Secure` (set it when clients reach the
    /// server over HTTPS, directly or through a proxy).
    pub console_secure_cookie: bool,
    /// Departments incidents can be dispatched to; a department handler
    /// whose `department` is one of these receives them.
    pub console_departments: Vec<String>,
    /// Removed: the console lists from the projection tables and reads
    /// nothing into memory at start. Still accepted, so a file written for
    /// an older server starts this one; [`Settings::obsolete`] names it
    /// and the server logs that it is ignored. Never printed.
    #[serde(default, skip_serializing)]
    pub console_warm_index: Option<bool>,
    /// A PEM certificate chain (the server's certificate first): with
    /// `tls_key_file`, the server speaks HTTPS itself (rustls). Without
    /// both, it speaks plain HTTP, for loopback or behind a proxy that
    /// terminates TLS (see the README, "Deploying with TLS").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert_file: Option<PathBuf>,
    /// The PEM private key of `tls_cert_file`'s certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key_file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("gridwork-data"),
            database_url: None,
            database_pool_size: 16,
            sync_budget_default: 1024 * 1024,
            sync_budget_max: 8 * 1024 * 1024,
            max_body_bytes: 16 * 1024 * 1024,
            max_blob_bytes: 8 * 1024 * 1024,
            blob_partial_quota_bytes: 32 * 1024 * 1024,
            blob_partial_expiry_secs: 48 * 3600,
            image_memory_bytes: 256 * 1024 * 1024,
            max_concurrent_syncs: 4,
            login_per_user_per_minute: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            login_per_ip_per_minute: NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN),
            login_free_failures: 5,
            login_backoff_max_secs: 15 * 60,
            request_timeout_secs: 120,
            blocking_threads: 16,
            log_level: "info".to_string(),
            // The source checkout's built console, so `scripts/demo` and the
            // tests find it from any working directory.
            console_dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/dist-console")),
            console_session_hours: 12,
            console_secure_cookie: false,
            console_departments: ["城管", "环保", "市场监管", "应急管理", "住建", "公安"]
                .map(String::from)
                .to_vec(),
            console_warm_index: None,
            tls_cert_file: None,
            tls_key_file: None,
        }
    }
}

/// A database URL, which may hold a password: `Debug` and serializing
/// (`print-config`) show it with the password as `***`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The URL as given, password and all: for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for DatabaseUrl {
    fn from(url: &str) -> DatabaseUrl {
        DatabaseUrl(url.to_string())
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", crate::storage::postgres::redact_url(&self.0))
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::storage::postgres::redact_url(&self.0))
    }
}

/// Settings given as flags: each one set overrides every other layer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key_file: Option<PathBuf>,
}

/// Why the settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("{0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("{0}")]
    Inconsistent(String),
}

fn env() -> Env {
    // Only the settings' own keys: GRIDWORK_PASSWORD and friends are for
    // the admin commands, not settings.
    Env::prefixed(ENV_PREFIX).only(&[
        "listen",
        "data_dir",
        "database_url",
        "database_pool_size",
        "sync_budget_default",
        "sync_budget_max",
        "max_body_bytes",
        "max_blob_bytes",
        "blob_partial_quota_bytes",
        "blob_partial_expiry_secs",
        "image_memory_bytes",
        "max_concurrent_syncs",
        "login_per_user_per_minute",
        "login_per_ip_per_minute",
        "login_free_failures",
        "login_backoff_max_secs",
        "request_timeout_secs",
        "blocking_threads",
        "log_level",
        "console_dir",
        "console_session_hours",
        "console_secure_cookie",
        "console_warm_index",
        "tls_cert_file",
        "tls_key_file",
    ])
}

impl Settings {
    /// Reads the layers: defaults, the TOML file (`config_file`, or
    /// `<data_dir>/gridwork.toml` if present), the environment, `flags`.
    pub fn load(config_file: Option<&Path>, flags: &Overrides) -> Result<Settings, ConfigError> {
        let file = match config_file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.into())),
            Some(path) => Some(path.to_path_buf()),
            None => {
                // Where is the data directory, before reading the file?
                let data_dir: PathBuf = Figment::from(Serialized::defaults(Settings::default()))
                    .merge(env())
                    .merge(Serialized::defaults(flags))
                    .extract_inner("data_dir")
                    .map_err(Box::new)?;
                Some(data_dir.join(CONFIG_FILE)).filter(|p| p.exists())
            }
        };
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        let settings: Settings = figment
            .merge(env())
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(Box::new)?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.sync_budget_default > self.sync_budget_max {
            return Err(ConfigError::Inconsistent(format!(
                "sync_budget_default ({}) is larger than sync_budget_max ({})",
                self.sync_budget_default, self.sync_budget_max
            )));
        }
        if self.max_body_bytes > gridwork_core::sync::wire::MAX_BODY_BYTES {
            return Err(ConfigError::Inconsistent(format!(
                "max_body_bytes may be at most {} (the sync protocol's limit)",
                gridwork_core::sync::wire::MAX_BODY_BYTES
            )));
        }
        if self.blob_partial_quota_bytes < self.max_blob_bytes {
            return Err(ConfigError::Inconsistent(format!(
                "blob_partial_quota_bytes ({}) must be at least max_blob_bytes ({}): a device must be able to upload one whole photo",
                self.blob_partial_quota_bytes, self.max_blob_bytes
            )));
        }
        if self.blob_partial_expiry_secs == 0 || self.max_concurrent_syncs == 0 {
            return Err(ConfigError::Inconsistent(
                "blob_partial_expiry_secs and max_concurrent_syncs must be at least 1".into(),
            ));
        }
        if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
            return Err(ConfigError::Inconsistent(
                "tls_cert_file and tls_key_file go together: set both to serve HTTPS, or neither"
                    .into(),
            ));
        }
        if let Some(url) = &self.database_url
            && !crate::storage::postgres::is_postgres_url(url.expose())
        {
            return Err(ConfigError::Inconsistent(format!(
                "database_url {url:?} is not a postgres:// URL (leave it unset for SQLite in the data directory)"
            )));
        }
        if self.database_pool_size == 0 {
            return Err(ConfigError::Inconsistent(
                "database_pool_size must be at least 1".into(),
            ));
        }
        if self.blocking_threads == 0 {
            return Err(ConfigError::Inconsistent(
                "blocking_threads must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// The settings given that no longer do anything (accepted so an
    /// older file still starts the server, logged as ignored).
    pub fn obsolete(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.console_warm_index.is_some() {
            out.push("console_warm_index");
        }
        out
    }

    /// Whether the server terminates TLS itself.
    pub fn serves_tls(&self) -> bool {
        self.tls_cert_file.is_some() && self.tls_key_file.is_some()
    }

    /// The settings as TOML, as `print-config` shows them.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot print settings: {e}\n"))
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's test jail returns its own large error
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn layers_apply_in_order_defaults_file_env_flags() {
        Jail::expect_with(|jail| {
            let data = jail.directory().join("data");
            std::fs::create_dir_all(&data).unwrap();
            // The file in the data directory is found without --config.
            jail.create_file(
                "data/gridwork.toml",
                r#"
                    listen = "0.0.0.0:9000"
                    sync_budget_default = 2048
                    log_level = "debug"
                "#,
            )?;
            jail.set_env("GRIDWORK_DATA_DIR", data.display().to_string());
            jail.set_env("GRIDWORK_SYNC_BUDGET_DEFAULT", "4096");
            jail.set_env("GRIDWORK_LOG_LEVEL", "warn");
            // Not a setting: ignored, not an error.
            jail.set_env("GRIDWORK_PASSWORD", "secret");

            let s = Settings::load(None, &Overrides::default()).unwrap();
            assert_eq!(
                s.listen,
                "0.0.0.0:9000".parse().unwrap(),
                "file over default"
            );
            assert_eq!(s.sync_budget_default, 4096, "env over file");
            assert_eq!(s.log_level, "warn");
            assert_eq!(
                s.max_body_bytes,
                Settings::default().max_body_bytes,
                "default"
            );

            let flags = Overrides {
                log_level: Some("error".into()),
                ..Overrides::default()
            };
            let s = Settings::load(None, &flags).unwrap();
            assert_eq!(s.log_level, "error", "flag over env");

            // An explicit file replaces the one in the data directory.
            jail.create_file("other.toml", "max_body_bytes = 1000")?;
            let s = Settings::load(Some(Path::new("other.toml")), &Overrides::default()).unwrap();
            assert_eq!(s.max_body_bytes, 1000);
            assert_eq!(s.listen, Settings::default().listen);
            assert!(s.obsolete().is_empty());

            // A removed setting in an older file: the server starts, told
            // it is ignored, and print-config no longer shows it.
            jail.create_file("old.toml", "console_warm_index = false")?;
            let s = Settings::load(Some(Path::new("old.toml")), &Overrides::default()).unwrap();
            assert_eq!(s.obsolete(), vec!["console_warm_index"]);
            assert!(!s.to_toml().contains("console_warm_index"));
            Ok(())
        });
    }

    #[test]
    fn bad_settings_are_refused_with_a_reason() {
        Jail::expect_with(|jail| {
            jail.create_file("typo.toml", "lisen = \"0.0.0.0:1\"")?;
            let err =
                Settings::load(Some(Path::new("typo.toml")), &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("lisen"), "{err}");

            jail.create_file(
                "budget.toml",
                "sync_budget_default = 10\nsync_budget_max = 5",
            )?;
            let err =
                Settings::load(Some(Path::new("budget.toml")), &Overrides::default()).unwrap_err();
            assert!(matches!(err, ConfigError::Inconsistent(_)), "{err}");

            jail.create_file("quota.toml", "blob_partial_quota_bytes = 1000")?;
            let err =
                Settings::load(Some(Path::new("quota.toml")), &Overrides::default()).unwrap_err();
            assert!(
                err.to_string().contains("blob_partial_quota_bytes"),
                "{err}"
            );

            jail.set_env("GRIDWORK_BLOCKING_THREADS", "0");
            let err = Settings::load(None, &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("blocking_threads"), "{err}");
            jail.set_env("GRIDWORK_BLOCKING_THREADS", "8");
            assert_eq!(
                Settings::load(None, &Overrides::default())
                    .unwrap()
                    .blocking_threads,
                8
            );

            let err =
                Settings::load(Some(Path::new("missing.toml")), &Overrides::default()).unwrap_err();
            assert!(matches!(err, ConfigError::MissingFile(_)));
            Ok(())
        });
    }

    #[test]
    fn a_database_url_chooses_postgres_and_its_password_is_never_shown() {
        Jail::expect_with(|jail| {
            jail.set_env(
                "GRIDWORK_DATABASE_URL",
                "postgres://gw:s3cret@db.example:5432/gridwork",
            );
            let s = Settings::load(None, &Overrides::default()).unwrap();
            let url = s.database_url.clone().unwrap();
            assert_eq!(
                url.expose(),
                "postgres://gw:s3cret@db.example:5432/gridwork"
            );
            for shown in [format!("{s:?}"), s.to_toml()] {
                assert!(!shown.contains("s3cret"), "{shown}");
                assert!(
                    shown.contains("postgres://gw:***@db.example:5432/gridwork"),
                    "{shown}"
                );
            }
            jail.set_env("GRIDWORK_DATABASE_URL", "mysql://gw@db/gridwork");
            let err = Settings::load(None, &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("postgres://"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn the_default_config_prints_as_toml_that_reads_back() {
        let text = Settings::default().to_toml();
        assert!(text.contains("listen = \"127.0.0.1:8080\""), "{text}");
        let back: Settings = toml::from_str(&text).unwrap();
        assert_eq!(back, Settings::default());
    }
}
