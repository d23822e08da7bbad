//! Opening the database file and bringing its schema up to date.
//!
//! Migrations are timestamped SQL files in `migrations/`, embedded in the
//! binary and never edited once shipped. `PRAGMA user_version` holds how
//! many have been applied. Pending ones are applied in one transaction, so
//! a database is never left half-migrated. A database written by a newer
//! Gridwork (a higher version than this build knows) is refused before
//! anything in it is touched.

use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// One schema migration.
struct Migration {
    /// The file's name, for logs.
    name: &'static str,
    sql: &'static str,
}

/// Every migration, oldest first. Append only.
const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "20261122_0001_init",
        sql: include_str!("migrations/20261122_0001_init.sql"),
    },
    Migration {
        name: "20261122_0002_sync_state",
        sql: include_str!("migrations/20261122_0002_sync_state.sql"),
    },
    Migration {
        name: "20261122_0003_photos",
        sql: include_str!("migrations/20261122_0003_photos.sql"),
    },
    Migration {
        name: "20261129_0004_notices",
        sql: include_str!("migrations/20261129_0004_notices.sql"),
    },
    Migration {
        name: "20261129_0005_access_log",
        sql: include_str!("migrations/20261129_0005_access_log.sql"),
    },
    Migration {
        name: "20261129_0006_projection_version",
        sql: include_str!("migrations/20261129_0006_projection_version.sql"),
    },
    Migration {
        name: "20261129_0007_photo_referenced",
        sql: include_str!("migrations/20261129_0007_photo_referenced.sql"),
    },
    Migration {
        name: "20261204_0008_access_log_refused",
        sql: include_str!("migrations/20261204_0008_access_log_refused.sql"),
    },
    Migration {
        name: "20261204_0009_own_actors",
        sql: include_str!("migrations/20261204_0009_own_actors.sql"),
    },
    Migration {
        name: "20261205_0010_projection_point",
        sql: include_str!("migrations/20261205_0010_projection_point.sql"),
    },
    Migration {
        name: "20261205_0011_notice_params",
        sql: include_str!("migrations/20261205_0011_notice_params.sql"),
    },
    Migration {
        name: "20261205_0012_drafts",
        sql: include_str!("migrations/20261205_0012_drafts.sql"),
    },
    Migration {
        name: "20261205_0013_rejection_params",
        sql: include_str!("migrations/20261205_0013_rejection_params.sql"),
    },
    Migration {
        name: "20261206_0014_photo_upload_started",
        sql: include_str!("migrations/20261206_0014_photo_upload_started.sql"),
    },
    Migration {
        name: "20261206_0015_outbox_whole",
        sql: include_str!("migrations/20261206_0015_outbox_whole.sql"),
    },
];

/// The schema version this build writes: the number of migrations it knows.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// How long a write waits for another connection's write to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The page cache of each connection, in KiB (SQLite's default is 2,000).
/// It holds pages as SQL reads them, which for the encrypted store means
/// decrypted and authenticated: SQLCipher decrypts (AES-256) and checks
/// (HMAC-SHA512) a page every time it is read from the file, so a page
/// evicted from the cache costs that again at its next read, where a plain
/// store only copies it back from the operating system's cache. With the
/// default 2 MB, the lists' pages of a 50,000-record store (projections,
/// their indexes, the search tables: tens of MB) pushed each other out
/// and a list cost almost three times as much encrypted as in clear (the
/// store bench). 64 MiB holds the pages a worker's lists and searches
/// touch; it is an upper bound, not an allocation: the cache only grows
/// with what is read, so a tablet's store of one grid (a few MB) never
/// gets near it.
const CACHE_KIB: i64 = 64 * 1024;

/// Sets the connection up and migrates it. `file` is false for in-memory
/// databases, which have no write-ahead log.
pub(super) fn prepare(conn: &mut Connection, file: bool) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    // First, before any pragma that writes: refuse a newer database without
    // changing a byte of it.
    check_not_too_new(user_version(conn)?)?;
    if file {
        // Readers never block the writer and a commit is one append.
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt(format!(
                "the database refused write-ahead logging (journal mode {mode})"
            )));
        }
    }
    // FULL: a commit returns after the log is fsynced. NORMAL would already
    // survive a killed process (the frames are in the OS before commit
    // returns) but can lose the last commits on power loss; a local write is
    // the only copy until it syncs, and saves are human-paced, so one fsync
    // per save is a price worth paying.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "trusted_schema", false)?;
    migrate(conn)?;
    optimize(conn)?;
    Ok(())
}

/// Refreshes the query planner's statistics where tables changed a lot
/// (SQLite's advice for each open), sampling so it stays quick. The
/// list and search plans depend on them.
pub(super) fn optimize(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")?;
    Ok(())
}

fn user_version(conn: &Connection) -> Result<u32, StoreError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

fn check_not_too_new(found: u32) -> Result<(), StoreError> {
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    if user_version(conn)? == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the write lock: another process may have migrated.
    let found = user_version(&tx)?;
    check_not_too_new(found)?;
    for migration in &MIGRATIONS[found as usize..] {
        tracing::info!(migration = migration.name, "applying store migration");
        tx.execute_batch(migration.sql)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}
