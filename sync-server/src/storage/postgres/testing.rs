//! Throwaway PostgreSQL databases for tests and benches: each one made
//! fresh on a server an environment variable names, and dropped after.
//!
//! `GRIDWORK_TEST_POSTGRES` holds the URL of a database on that server to
//! connect to for `CREATE DATABASE` (e.g.
//! `postgres://postgres@127.0.0.1:55432/postgres`); `scripts/test-postgres`
//! starts such a server and sets it. Work happens on a thread of its own,
//! so these can be called from async tests (the synchronous client refuses
//! to run on an async worker thread).

use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable naming the test server.
pub const TEST_POSTGRES_ENV: &str = "GRIDWORK_TEST_POSTGRES";

/// The test server's admin URL, when one is named.
pub fn test_server() -> Option<String> {
    std::env::var(TEST_POSTGRES_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// A fresh database on the test server; `None`, after saying so on
/// standard error, when no server is named, unless
/// `GRIDWORK_REQUIRE_POSTGRES` is set (`scripts/test-postgres` sets it),
/// where a missing server fails the test.
#[allow(clippy::print_stderr)] // a skipped test says so
pub fn test_database_or_skip() -> Option<TestDatabase> {
    let Some(admin) = test_server() else {
        assert!(
            std::env::var_os("GRIDWORK_REQUIRE_POSTGRES").is_none(),
            "GRIDWORK_REQUIRE_POSTGRES is set but {TEST_POSTGRES_ENV} is not"
        );
        eprintln!("skipped on PostgreSQL: {TEST_POSTGRES_ENV} is not set");
        return None;
    };
    Some(TestDatabase::create(&admin).expect("a database on the test server"))
}

/// A database made for one test, dropped (with any connections still on
/// it) when this is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

/// `url` naming database `name` instead of its own.
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let query_at = rest.find('?').unwrap_or(rest.len());
    let (main, query) = rest.split_at(query_at);
    let authority = main.split('/').next().unwrap_or(main);
    format!("{scheme}://{authority}/{name}{query}")
}

fn on_own_thread<T: Send>(
    f: impl FnOnce() -> Result<T, postgres::Error> + Send,
) -> Result<T, postgres::Error> {
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

impl TestDatabase {
    /// A new empty database on the server at `admin_url`.
    pub fn create(admin_url: &str) -> Result<TestDatabase, postgres::Error> {
        TestDatabase::create_from(admin_url, None)
    }

    /// A new database on the server at `admin_url`, a copy of `template`
    /// when given (which nobody may be connected to meanwhile).
    pub fn create_from(
        admin_url: &str,
        template: Option<&str>,
    ) -> Result<TestDatabase, postgres::Error> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "gridwork_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            jiff::Timestamp::now().as_microsecond() % 1_000_000_000
        );
        let sql = match template {
            Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\""),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        on_own_thread(|| {
            let mut client = postgres::Client::connect(admin_url, postgres::NoTls)?;
            client.batch_execute(&sql)
        })?;
        Ok(TestDatabase {
            admin_url: admin_url.to_string(),
            url: with_database(admin_url, &name),
            name,
        })
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Keeps the database: it is not dropped.
    pub fn keep(mut self) -> String {
        std::mem::take(&mut self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.name.is_empty() {
            return;
        }
        let _ = drop_database(&self.admin_url, &self.name);
    }
}

/// Drops database `name` on the server at `admin_url`, with any
/// connections still on it; no error if it is gone already.
pub fn drop_database(admin_url: &str, name: &str) -> Result<(), postgres::Error> {
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    on_own_thread(|| {
        let mut client = postgres::Client::connect(admin_url, postgres::NoTls)?;
        client.batch_execute(&sql)
    })
}

/// Renames database `from` to `to` on the server at `admin_url` (fails if
/// `to` exists, or someone is connected to `from`).
pub fn rename_database(admin_url: &str, from: &str, to: &str) -> Result<(), postgres::Error> {
    let sql = format!("ALTER DATABASE \"{from}\" RENAME TO \"{to}\"");
    on_own_thread(|| {
        let mut client = postgres::Client::connect(admin_url, postgres::NoTls)?;
        client.batch_execute(&sql)
    })
}

/// The identity of the PostgreSQL server at `admin_url` (its system
/// identifier, made by `initdb`): tells one throwaway server from the
/// next one started on the same port.
pub fn server_identity(admin_url: &str) -> Result<String, postgres::Error> {
    on_own_thread(|| {
        let mut client = postgres::Client::connect(admin_url, postgres::NoTls)?;
        Ok(client
            .query_one(
                "SELECT system_identifier::text FROM pg_control_system()",
                &[],
            )?
            .get(0))
    })
}
