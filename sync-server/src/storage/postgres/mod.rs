//! PostgreSQL storage, for a district or a city: the same [`Storage`]
//! operations as the SQLite backend, over a pool of connections.
//!
//! **Why the synchronous `postgres` client and r2d2's pool.** The trait is
//! synchronous: the server calls it from blocking threads (tokio's
//! blocking pool and its own sync threads, see `crate::limits`), never
//! from async code. `postgres` is tokio-postgres with each connection
//! driven by a small runtime of its own, so a blocking thread simply
//! waits for its query, and `r2d2_postgres` (by the same author) pools
//! those connections. An async driver (sqlx, deadpool) would need a bridge
//! back to blocking calls (`Handle::block_on` from every method) for no
//! gain while the trait stays synchronous. The one rule this brings: a
//! storage call must not run on an async worker thread (the client's
//! runtime refuses to start inside another); the server opens storage and
//! runs the data migrations before it enters its runtime.
//!
//! **Positions in the log.** A device's cursor is a position in the log,
//! and a change must never be committed at a position below one a device
//! has already read past (DESIGN.md, "Two writers, one sequence"). Every
//! commit that appends to the log first locks the `log_seq` row of
//! `counters` (`SELECT … FOR UPDATE`), numbers its changes from it and
//! writes it back, all in its own transaction; the row lock is held until
//! that transaction commits. A second committer, in this process or any
//! other over the same database, waits on the lock and reads the value
//! the first one committed, so positions are handed out in commit order: a
//! reader that sees position n also sees every position below it
//! (PostgreSQL makes a commit visible to new snapshots before it releases
//! the commit's locks, so the next committer cannot get ahead of it). A
//! pull reads its page and the log's end in one `REPEATABLE READ`
//! snapshot. Nothing else appends to the log. `tests/tests/two_processes.rs`
//! checks it with two server processes pushing at once.
//! The price is that commits append one at a time, as on SQLite; they are
//! short (the Automerge work happens before), and reads never wait.
//!
//! **Migrations** are the files in `migrations/postgres/`, applied in
//! order in one transaction under an advisory lock (two processes starting
//! at once do not both migrate), recorded by name in `schema_migrations`;
//! a database that has a migration this build does not know is refused.

mod grants;
mod projections;
pub mod testing;

use std::time::Duration;

use gridwork_core::model::User;
use gridwork_core::store::RevealEntry;
use postgres::types::ToSql;
use postgres::{GenericClient, IsolationLevel, NoTls, Row};
use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::r2d2;
use uuid::Uuid;

use super::sqlite::{parse_role, role_name};
use super::{
    AccessEntry, Account, ActorOwner, BlobUpload, CommitOutcome, DeviceInfo, DocHead,
    LoginLimitState, MigrationLock, NewDevice, PullPage, PullQuery, PulledChange, PushCommit,
    ServedScope, Storage, StorageError, StoredDoc, TokenOwner,
};
use crate::grids::{Grid, PlacedGrid, subtree_range};

/// Migrations in order, never edited once shipped.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "20261205150000_initial",
        include_str!("../migrations/postgres/20261205150000_initial.sql"),
    ),
    (
        "20261205160000_device_recovery",
        include_str!("../migrations/postgres/20261205160000_device_recovery.sql"),
    ),
    (
        "20261205170000_projections",
        include_str!("../migrations/postgres/20261205170000_projections.sql"),
    ),
    (
        "20261206010000_dashboard_facts",
        include_str!("../migrations/postgres/20261206010000_dashboard_facts.sql"),
    ),
    (
        "20261206050000_login_limits",
        include_str!("../migrations/postgres/20261206050000_login_limits.sql"),
    ),
    (
        "20261206090000_ledger_records",
        include_str!("../migrations/postgres/20261206090000_ledger_records.sql"),
    ),
    (
        "20261206120000_list_counts",
        include_str!("../migrations/postgres/20261206120000_list_counts.sql"),
    ),
    (
        "20261206140000_list_pages",
        include_str!("../migrations/postgres/20261206140000_list_pages.sql"),
    ),
    (
        "20261206210000_visit_cycles",
        include_str!("../migrations/postgres/20261206210000_visit_cycles.sql"),
    ),
    (
        "20261207000000_index_only_reads",
        include_str!("../migrations/postgres/20261207000000_index_only_reads.sql"),
    ),
];

/// Any number, the same in every process: who holds it migrates.
const MIGRATION_LOCK: i64 = 0x6772_6964_776f_726b;
/// The same for the data migrations (`crate::migrate`).
const DATA_MIGRATION_LOCK: i64 = MIGRATION_LOCK + 1;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;
type Conn = r2d2::PooledConnection<PostgresConnectionManager<NoTls>>;

impl From<postgres::Error> for StorageError {
    fn from(e: postgres::Error) -> StorageError {
        StorageError::Database(Box::new(e))
    }
}

impl From<r2d2::Error> for StorageError {
    fn from(e: r2d2::Error) -> StorageError {
        StorageError::Database(Box::new(e))
    }
}

/// Storage in a PostgreSQL database.
pub struct PgStorage {
    /// Always `Some` but while being dropped ([`Drop for PgStorage`]).
    pool: Option<Pool>,
    /// The URL without its password, for logs and errors.
    shown: String,
    /// Where the pool connects, for a connection outside it.
    config: postgres::Config,
}

/// A connection of its own holding a session-level advisory lock: closing
/// it releases the lock, also when the process dies.
struct SessionLock(Option<postgres::Client>);

impl Drop for SessionLock {
    fn drop(&mut self) {
        let Some(client) = self.0.take() else { return };
        // As for the pool (`Drop for PgStorage`).
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

/// The synchronous client closes each connection with a `block_on` of its
/// own, which panics on a thread that drives an async runtime: a storage
/// whose last handle goes away there (a server's state at shutdown, a
/// test) hands its connections to a thread of their own to close.
impl Drop for PgStorage {
    fn drop(&mut self) {
        let Some(pool) = self.pool.take() else { return };
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

impl std::fmt::Debug for PgStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStorage")
            .field("url", &self.shown)
            .finish_non_exhaustive()
    }
}

/// `url` with any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.find("password=") {
        Some(at) => {
            let end = tail[at..].find('&').map(|e| at + e).unwrap_or(tail.len());
            format!("{}password=***{}", &tail[..at], &tail[end..])
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl PgStorage {
    /// Connects to the database at `url` with a pool of at most
    /// `pool_size` connections and applies pending migrations. A database
    /// from a newer server is refused.
    #[tracing::instrument(skip_all, err)]
    pub fn open(url: &str, pool_size: u32) -> Result<PgStorage, StorageError> {
        let storage = PgStorage::connect(url, pool_size)?;
        storage.migrate()?;
        Ok(storage)
    }

    /// Connects without creating anything: for admin commands, so a wrong
    /// URL does not make a new schema. The database must have been made by
    /// `init` (or a server start).
    pub fn open_existing(url: &str, pool_size: u32) -> Result<PgStorage, StorageError> {
        let storage = PgStorage::connect(url, pool_size)?;
        let made: bool = storage
            .conn()?
            .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?
            .get(0);
        if !made {
            return Err(StorageError::NotInitialised(storage.shown.clone()));
        }
        storage.migrate()?;
        Ok(storage)
    }

    fn connect(url: &str, pool_size: u32) -> Result<PgStorage, StorageError> {
        let shown = redact_url(url);
        let config: postgres::Config = url.parse()?;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(PostgresConnectionManager::new(config.clone(), NoTls))?;
        Ok(PgStorage {
            pool: Some(pool),
            shown,
            config,
        })
    }

    fn conn(&self) -> Result<Conn, StorageError> {
        let pool = self.pool.as_ref().expect("the pool is there until drop");
        Ok(pool.get()?)
    }

    fn migrate(&self) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.query_one("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )?;
        let applied: Vec<String> = tx
            .query("SELECT name FROM schema_migrations ORDER BY name", &[])?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let known = MIGRATIONS.len() as i64;
        let unknown = applied
            .iter()
            .any(|a| !MIGRATIONS.iter().any(|(name, _)| name == a));
        if unknown || applied.len() as i64 > known {
            return Err(StorageError::TooNew {
                found: applied.len() as i64,
                known,
            });
        }
        let now = jiff::Timestamp::now().as_millisecond();
        for (name, sql) in &MIGRATIONS[applied.len()..] {
            tracing::info!(migration = name, "applying migration");
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)",
                &[name, &now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn corrupt(what: impl Into<String>) -> StorageError {
    StorageError::Corrupt(what.into())
}

const GRID_COLUMNS: &str = "code, name, level, parent, kind, boundary, centroid";

fn grid_from_row(row: &Row) -> Result<Grid, StorageError> {
    super::grid_from_columns((
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
        row.try_get(6)?,
    ))
}

const USER_COLUMNS: &str = "u.id, u.name, u.phone, u.role, u.grid, u.department";

fn user_from_row(row: &Row) -> Result<User, StorageError> {
    let id: String = row.try_get(0)?;
    let role: String = row.try_get(3)?;
    Ok(User {
        role: parse_role(&role).ok_or_else(|| corrupt(format!("user {id}: role {role}")))?,
        id,
        name: row.try_get(1)?,
        phone: row.try_get(2)?,
        grid: row.try_get(4)?,
        department: row.try_get(5)?,
    })
}

fn hash32(bytes: Vec<u8>) -> Result<[u8; 32], StorageError> {
    bytes
        .try_into()
        .map_err(|_| corrupt("a change hash is not 32 bytes"))
}

/// `NotFound` unless `sql` (with `key` as `$1`) finds a row.
fn must_exist(
    conn: &mut impl GenericClient,
    sql: &str,
    what: &'static str,
    key: &str,
) -> Result<(), StorageError> {
    match conn.query_opt(sql, &[&key])? {
        Some(_) => Ok(()),
        None => Err(StorageError::NotFound {
            what,
            key: key.to_string(),
        }),
    }
}

fn grid_exists(conn: &mut impl GenericClient, code: &str) -> Result<(), StorageError> {
    must_exist(conn, "SELECT 1 FROM grids WHERE code = $1", "grid", code)
}

fn device_exists(conn: &mut impl GenericClient, device_id: &str) -> Result<(), StorageError> {
    must_exist(
        conn,
        "SELECT 1 FROM devices WHERE id = $1",
        "device",
        device_id,
    )
}

fn write_scope(
    conn: &mut impl GenericClient,
    device_id: &str,
    scope: &ServedScope,
) -> Result<(), StorageError> {
    conn.execute(
        "INSERT INTO device_cursors (device_id, epoch, scope_root, grids_version, served_grids)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (device_id) DO UPDATE SET epoch = excluded.epoch,
           scope_root = excluded.scope_root, grids_version = excluded.grids_version,
           served_grids = excluded.served_grids",
        &[
            &device_id,
            &i32::from(scope.epoch),
            &scope.root,
            &scope.grids_version,
            &scope.grids.join(","),
        ],
    )?;
    Ok(())
}

impl Storage for PgStorage {
    fn ping(&self) -> Result<(), StorageError> {
        self.conn()?.query_one("SELECT 1", &[])?;
        Ok(())
    }

    fn analyze(&self) -> Result<(), StorageError> {
        self.conn()?.batch_execute("ANALYZE")?;
        Ok(())
    }

    fn all_grids(&self) -> Result<Vec<Grid>, StorageError> {
        self.conn()?
            .query(
                &format!("SELECT {GRID_COLUMNS} FROM grids ORDER BY path"),
                &[],
            )?
            .iter()
            .map(grid_from_row)
            .collect()
    }

    #[tracing::instrument(skip_all, err, fields(grids = grids.len()))]
    fn put_grids(&self, grids: &[PlacedGrid]) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Parents first (path order), so the foreign key always holds.
        let mut sorted: Vec<&PlacedGrid> = grids.iter().collect();
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
        let upsert = tx.prepare(
            "INSERT INTO grids (code, name, level, parent, kind, boundary, centroid, path)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
               parent = excluded.parent, kind = excluded.kind, boundary = excluded.boundary,
               centroid = excluded.centroid, path = excluded.path",
        )?;
        // Paths are unique: clear the ones that move, then write.
        tx.batch_execute("UPDATE grids SET path = '#' || code")?;
        for p in sorted {
            let g = &p.grid;
            let (boundary, centroid) = super::grid_json_columns(g)?;
            tx.execute(
                &upsert,
                &[
                    &g.code,
                    &g.name,
                    &g.level.as_str(),
                    &g.parent,
                    &g.kind.as_str(),
                    &boundary,
                    &centroid,
                    &p.path,
                ],
            )?;
        }
        let stale: i64 = tx
            .query_one("SELECT count(*) FROM grids WHERE path LIKE '#%'", &[])?
            .get(0);
        if stale > 0 {
            return Err(corrupt("the grid import did not place every stored grid"));
        }
        tx.execute(
            "UPDATE counters SET value = value + 1 WHERE name = 'grids_version'",
            &[],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn grid_path(&self, code: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .conn()?
            .query_opt("SELECT path FROM grids WHERE code = $1", &[&code])?
            .map(|r| r.get(0)))
    }

    fn subtree(&self, path: &str) -> Result<Vec<Grid>, StorageError> {
        let (lo, hi) = subtree_range(path);
        self.conn()?
            .query(
                &format!(
                    "SELECT {GRID_COLUMNS} FROM grids WHERE path >= $1 AND path < $2 ORDER BY path"
                ),
                &[&lo, &hi],
            )?
            .iter()
            .map(grid_from_row)
            .collect()
    }

    fn subtree_codes(&self, path: &str) -> Result<Vec<String>, StorageError> {
        let (lo, hi) = subtree_range(path);
        Ok(self
            .conn()?
            .query(
                "SELECT code FROM grids WHERE path >= $1 AND path < $2 ORDER BY code",
                &[&lo, &hi],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn grids_version(&self) -> Result<i64, StorageError> {
        Ok(self
            .conn()?
            .query_one(
                "SELECT value FROM counters WHERE name = 'grids_version'",
                &[],
            )?
            .get(0))
    }

    #[tracing::instrument(skip_all, err, fields(user = %account.user.id))]
    fn add_user(&self, account: &Account) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        let u = &account.user;
        grid_exists(&mut *conn, &u.grid)?;
        let inserted = conn.execute(
            "INSERT INTO users (id, name, phone, role, grid, department, password_hash, disabled, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
            &[
                &u.id,
                &u.name,
                &u.phone,
                &role_name(u.role),
                &u.grid,
                &u.department,
                &account.password_hash,
                &account.disabled,
                &jiff::Timestamp::now().as_millisecond(),
            ],
        )?;
        if inserted == 0 {
            return Err(StorageError::Exists {
                what: "user",
                key: u.id.clone(),
            });
        }
        Ok(())
    }

    fn account(&self, user_id: &str) -> Result<Option<Account>, StorageError> {
        let row = self.conn()?.query_opt(
            &format!(
                "SELECT {USER_COLUMNS}, u.password_hash, u.disabled FROM users u WHERE u.id = $1"
            ),
            &[&user_id],
        )?;
        row.map(|r| {
            Ok(Account {
                user: user_from_row(&r)?,
                password_hash: r.try_get(6)?,
                disabled: r.try_get(7)?,
            })
        })
        .transpose()
    }

    fn set_password(&self, user_id: &str, password_hash: &str) -> Result<(), StorageError> {
        let changed = self.conn()?.execute(
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            &[&user_id, &password_hash],
        )?;
        if changed == 0 {
            return Err(StorageError::NotFound {
                what: "user",
                key: user_id.to_string(),
            });
        }
        Ok(())
    }

    fn set_user_grid(&self, user_id: &str, grid: &str) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        grid_exists(&mut *conn, grid)?;
        let changed = conn.execute(
            "UPDATE users SET grid = $2 WHERE id = $1",
            &[&user_id, &grid],
        )?;
        if changed == 0 {
            return Err(StorageError::NotFound {
                what: "user",
                key: user_id.to_string(),
            });
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, err, fields(device = %device.id, user = %device.user_id))]
    fn enrol_device(&self, device: &NewDevice) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO devices (id, user_id, name, token_hash, actor, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &device.id,
                &device.user_id,
                &device.name,
                &&device.token_hash[..],
                &device.actor,
                &device.created_at,
            ],
        )?;
        tx.execute(
            "INSERT INTO actors (actor, device_id, user_id) VALUES ($1, $2, $3)",
            &[&device.actor, &device.id, &device.user_id],
        )?;
        write_scope(&mut tx, &device.id, &device.scope)?;
        tx.commit()?;
        Ok(())
    }

    fn token_owner(&self, token_hash: &[u8; 32]) -> Result<Option<TokenOwner>, StorageError> {
        let row = self.conn()?.query_opt(
            &format!(
                "SELECT {USER_COLUMNS}, d.id, d.revoked_at IS NOT NULL, u.disabled,
                        d.lost_at IS NOT NULL, d.wiped_at IS NOT NULL, d.actor
                 FROM devices d JOIN users u ON u.id = d.user_id WHERE d.token_hash = $1"
            ),
            &[&&token_hash[..]],
        )?;
        row.map(|r| {
            Ok(TokenOwner {
                device_id: r.try_get(6)?,
                actor: r.try_get(11)?,
                revoked: r.try_get(7)?,
                account_disabled: r.try_get(8)?,
                lost: r.try_get(9)?,
                wiped: r.try_get(10)?,
                user: user_from_row(&r)?,
            })
        })
        .transpose()
    }

    fn revoke_device(&self, device_id: &str, at: i64) -> Result<bool, StorageError> {
        let mut conn = self.conn()?;
        let changed = conn.execute(
            "UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&device_id, &at],
        )?;
        if changed == 0 {
            device_exists(&mut *conn, device_id)?;
        }
        Ok(changed > 0)
    }

    fn list_devices(&self, user_id: Option<&str>) -> Result<Vec<DeviceInfo>, StorageError> {
        let rows = self.conn()?.query(
            "SELECT d.id, d.user_id, d.name, d.actor, d.created_at, d.revoked_at,
                    COALESCE(c.cursor, 0), c.confirmed_at, d.lost_at, d.wiped_at
             FROM devices d LEFT JOIN device_cursors c ON c.device_id = d.id
             WHERE $1::text IS NULL OR d.user_id = $1
             ORDER BY d.user_id, d.created_at",
            &[&user_id],
        )?;
        rows.iter()
            .map(|r| {
                Ok(DeviceInfo {
                    id: r.try_get(0)?,
                    user_id: r.try_get(1)?,
                    name: r.try_get(2)?,
                    actor: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                    revoked_at: r.try_get(5)?,
                    cursor: r.try_get::<_, i64>(6)? as u64,
                    confirmed_at: r.try_get(7)?,
                    lost_at: r.try_get(8)?,
                    wiped_at: r.try_get(9)?,
                })
            })
            .collect()
    }

    fn mark_device_lost(&self, device_id: &str, at: i64) -> Result<bool, StorageError> {
        let mut conn = self.conn()?;
        device_exists(&mut *conn, device_id)?;
        let changed = conn.execute(
            "UPDATE devices SET lost_at = $2 WHERE id = $1 AND lost_at IS NULL",
            &[&device_id, &at],
        )?;
        Ok(changed > 0)
    }

    fn record_device_wipe(&self, device_id: &str, at: i64) -> Result<bool, StorageError> {
        let mut conn = self.conn()?;
        device_exists(&mut *conn, device_id)?;
        let changed = conn.execute(
            "UPDATE devices SET wiped_at = $2
             WHERE id = $1 AND lost_at IS NOT NULL AND wiped_at IS NULL",
            &[&device_id, &at],
        )?;
        Ok(changed > 0)
    }

    fn hand_out_recovery_secret(
        &self,
        device_id: &str,
        user_id: &str,
        earlier: Option<&str>,
        fresh: &[u8; 32],
    ) -> Result<[u8; 32], StorageError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // As SQLite's (`super::recovery`): only the same user's enrolment
        // in good standing hands its secret on, and the row moves.
        let handed: Option<Vec<u8>> = match earlier {
            Some(earlier) => tx
                .query_opt(
                    "DELETE FROM device_recovery WHERE device_id = (
                         SELECT d.id FROM devices d
                         WHERE d.id = $1 AND d.user_id = $2 AND d.id <> $3
                           AND d.revoked_at IS NULL AND d.lost_at IS NULL
                           AND d.wiped_at IS NULL)
                     RETURNING secret",
                    &[&earlier, &user_id, &device_id],
                )?
                .map(|r| r.try_get(0))
                .transpose()?,
            None => None,
        };
        let secret: [u8; 32] = match handed {
            Some(bytes) => bytes
                .try_into()
                .map_err(|_| StorageError::Corrupt("a recovery secret is not 32 bytes".into()))?,
            None => *fresh,
        };
        tx.execute(
            "INSERT INTO device_recovery (device_id, secret) VALUES ($1, $2)",
            &[&device_id, &&secret[..]],
        )?;
        tx.commit()?;
        Ok(secret)
    }

    fn changes_from_lost_devices(
        &self,
        doc: Uuid,
    ) -> Result<Vec<([u8; 32], String)>, StorageError> {
        let rows = self.conn()?.query(
            "SELECT l.hash, l.device_id FROM log l JOIN devices d ON d.id = l.device_id
             WHERE l.doc = $1 AND d.lost_at IS NOT NULL AND l.received_at >= d.lost_at
             ORDER BY l.seq",
            &[&doc],
        )?;
        rows.iter()
            .map(|r| Ok((hash32(r.try_get(0)?)?, r.try_get(1)?)))
            .collect()
    }

    fn served_scope(&self, device_id: &str) -> Result<Option<ServedScope>, StorageError> {
        let row = self.conn()?.query_opt(
            "SELECT epoch, scope_root, grids_version, served_grids FROM device_cursors
             WHERE device_id = $1",
            &[&device_id],
        )?;
        row.map(|r| {
            let served: String = r.try_get(3)?;
            Ok(ServedScope {
                epoch: u16::try_from(r.try_get::<_, i32>(0)?)
                    .map_err(|_| corrupt("scope epoch"))?,
                root: r.try_get(1)?,
                grids_version: r.try_get(2)?,
                grids: served
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        })
        .transpose()
    }

    fn set_served_scope(&self, device_id: &str, scope: &ServedScope) -> Result<(), StorageError> {
        write_scope(&mut *self.conn()?, device_id, scope)
    }

    fn confirm_cursor(&self, device_id: &str, cursor: u64, at: i64) -> Result<(), StorageError> {
        self.conn()?.execute(
            "UPDATE device_cursors SET cursor = $2, confirmed_at = $3
             WHERE device_id = $1 AND cursor <> $2",
            &[&device_id, &(cursor as i64), &at],
        )?;
        Ok(())
    }

    fn known_changes(&self, hashes: &[[u8; 32]]) -> Result<Vec<[u8; 32]>, StorageError> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let asked: Vec<&[u8]> = hashes.iter().map(|h| &h[..]).collect();
        let found: std::collections::HashSet<Vec<u8>> = self
            .conn()?
            .query("SELECT hash FROM log WHERE hash = ANY($1)", &[&asked])?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        Ok(hashes
            .iter()
            .filter(|h| found.contains(&h[..]))
            .copied()
            .collect())
    }

    fn actor_owners(&self, actors: &[String]) -> Result<Vec<(String, ActorOwner)>, StorageError> {
        if actors.is_empty() {
            return Ok(Vec::new());
        }
        let mut found: std::collections::HashMap<String, ActorOwner> = self
            .conn()?
            .query(
                "SELECT actor, device_id, user_id FROM actors WHERE actor = ANY($1)",
                &[&actors],
            )?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    ActorOwner {
                        device_id: r.try_get(1)?,
                        user_id: r.try_get(2)?,
                    },
                ))
            })
            .collect::<Result<_, StorageError>>()?;
        Ok(actors
            .iter()
            .filter_map(|a| found.remove(a).map(|owner| (a.clone(), owner)))
            .collect())
    }

    fn change_receipts(&self, doc: Uuid) -> Result<Vec<([u8; 32], i64)>, StorageError> {
        let rows = self.conn()?.query(
            "SELECT hash, received_at FROM log WHERE doc = $1 ORDER BY seq",
            &[&doc],
        )?;
        rows.iter()
            .map(|r| Ok((hash32(r.try_get(0)?)?, r.try_get(1)?)))
            .collect()
    }

    fn load_docs(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, StoredDoc)>, StorageError> {
        let rows = self.conn()?.query(
            "SELECT id, kind, grid, snapshot, rev, pi_history FROM docs WHERE id = ANY($1)",
            &[&ids],
        )?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for r in rows {
            let id: Uuid = r.try_get(0)?;
            found.insert(
                id,
                StoredDoc {
                    kind: r.try_get(1)?,
                    grid: r.try_get(2)?,
                    snapshot: r.try_get(3)?,
                    rev: r.try_get(4)?,
                    pi_history: r.try_get(5)?,
                },
            );
        }
        Ok(ids
            .iter()
            .filter_map(|id| found.remove(id).map(|d| (*id, d)))
            .collect())
    }

    fn mark_pi_history(&self, id: Uuid) -> Result<bool, StorageError> {
        let n = self.conn()?.execute(
            "UPDATE docs SET pi_history = TRUE WHERE id = $1 AND NOT pi_history",
            &[&id],
        )?;
        Ok(n > 0)
    }

    fn docs_of_kind(&self, kind: &str) -> Result<Vec<Uuid>, StorageError> {
        let rows = self
            .conn()?
            .query("SELECT id FROM docs WHERE kind = $1 ORDER BY id", &[&kind])?;
        Ok(rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?)
    }

    fn data_migration_done(&self, name: &str) -> Result<bool, StorageError> {
        Ok(self
            .conn()?
            .query_opt("SELECT 1 FROM data_migrations WHERE name = $1", &[&name])?
            .is_some())
    }

    fn data_migration_lock(&self) -> Result<MigrationLock, StorageError> {
        // Outside the pool: the migrations use the pool while this is
        // held, and a pool may have a single connection.
        let mut client = self.config.connect(NoTls)?;
        client.query_one("SELECT pg_advisory_lock($1)", &[&DATA_MIGRATION_LOCK])?;
        Ok(MigrationLock(Some(Box::new(SessionLock(Some(client))))))
    }

    fn mark_data_migration(&self, name: &str, at: i64) -> Result<(), StorageError> {
        self.conn()?.execute(
            "INSERT INTO data_migrations (name, done_at) VALUES ($1, $2)
             ON CONFLICT (name) DO NOTHING",
            &[&name, &at],
        )?;
        Ok(())
    }

    fn doc_ids_after(
        &self,
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<(Uuid, i64)>, StorageError> {
        let rows = self.conn()?.query(
            "SELECT id, updated_at FROM docs
              WHERE ($1::uuid IS NULL OR id > $1) AND grid IN (SELECT code FROM grids)
              ORDER BY id LIMIT $2",
            &[&after, &(limit as i64)],
        )?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    fn doc_heads(&self, scope_path: &str) -> Result<Vec<DocHead>, StorageError> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = self.conn()?.query(
            "SELECT id, kind, grid, rev, updated_at FROM docs
              WHERE grid IN (SELECT code FROM grids WHERE path >= $1 AND path < $2)",
            &[&lo, &hi],
        )?;
        rows.iter()
            .map(|r| {
                Ok(DocHead {
                    id: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    grid: r.try_get(2)?,
                    rev: r.try_get(3)?,
                    updated_at: r.try_get(4)?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all, err, fields(device = %push.device_id, docs = push.docs.len()))]
    fn commit_push(&self, push: &PushCommit) -> Result<CommitOutcome, StorageError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // The log's end, locked until this transaction ends: see the
        // module doc, "Positions in the log".
        let start: i64 = tx
            .query_one(
                "SELECT value FROM counters WHERE name = 'log_seq' FOR UPDATE",
                &[],
            )?
            .get(0);
        let mut seq = start;
        let append = tx.prepare(
            "INSERT INTO log (seq, doc, grid, hash, change, device_id, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hash) DO NOTHING",
        )?;
        let insert_doc = tx.prepare(
            "INSERT INTO docs (id, kind, grid, snapshot, rev, moved_seq, updated_at)
             VALUES ($1, $2, $3, $4, 1, 0, $5) ON CONFLICT (id) DO NOTHING",
        )?;
        let update_doc = tx.prepare(
            "UPDATE docs SET kind = $2, grid = $3, snapshot = $4, rev = rev + 1,
               moved_seq = CASE WHEN $6 THEN $7 ELSE moved_seq END, updated_at = $8
             WHERE id = $1 AND rev = $5",
        )?;
        for doc in &push.docs {
            let mut last_seq = None;
            for change in &doc.changes {
                let next = seq + 1;
                let n = tx.execute(
                    &append,
                    &[
                        &next,
                        &doc.id,
                        &doc.grid,
                        &&change.hash[..],
                        &change.bytes,
                        &change.device_id.as_deref().unwrap_or(&push.device_id),
                        &push.received_at,
                    ],
                )?;
                if n == 0 {
                    // Stored by a concurrent push: our snapshot is stale.
                    return Ok(CommitOutcome::Conflict);
                }
                seq = next;
                last_seq = Some(next);
            }
            let written = match doc.base_rev {
                None => tx.execute(
                    &insert_doc,
                    &[
                        &doc.id,
                        &doc.kind,
                        &doc.grid,
                        &doc.snapshot,
                        &push.received_at,
                    ],
                )?,
                Some(rev) => tx.execute(
                    &update_doc,
                    &[
                        &doc.id,
                        &doc.kind,
                        &doc.grid,
                        &doc.snapshot,
                        &rev,
                        &(doc.moved && last_seq.is_some()),
                        &last_seq.unwrap_or(0),
                        &push.received_at,
                    ],
                )?,
            };
            if written == 0 {
                return Ok(CommitOutcome::Conflict);
            }
            projections::put(&mut tx, &doc.projection, push.received_at)?;
        }
        if seq != start {
            tx.execute(
                "UPDATE counters SET value = $1 WHERE name = 'log_seq'",
                &[&seq],
            )?;
        }
        grants::commit_refs(&mut tx, push)?;
        tx.commit()?;
        Ok(CommitOutcome::Committed)
    }

    #[tracing::instrument(skip_all, err, fields(device = %q.device_id, after = q.after))]
    fn pull(&self, q: &PullQuery) -> Result<PullPage, StorageError> {
        let (lo, hi) = subtree_range(&q.scope_path);
        let mut conn = self.conn()?;
        // One snapshot: the page and the log's end agree.
        let mut tx = conn
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let max_seq: i64 = tx
            .query_one("SELECT COALESCE(MAX(seq), 0) FROM log", &[])?
            .get(0);
        let max_seq = max_seq as u64;
        // A cursor beyond the log (a restored database): start over.
        let after = if q.after > max_seq { 0 } else { q.after } as i64;
        let mut page = PullPage {
            changes: Vec::new(),
            more: false,
            cursor: max_seq,
        };
        // Positions and sizes first (small rows, sorted); the bytes of
        // what fits the budget in a second query.
        let positions = tx.query(
            "SELECT pos, seq, len FROM (
                SELECT CASE WHEN l.seq < d.moved_seq THEN d.moved_seq ELSE l.seq END AS pos,
                       l.seq AS seq, octet_length(l.change) AS len
                FROM log l JOIN docs d ON d.id = l.doc
                WHERE l.seq > $1 AND l.device_id <> $2
                  AND d.grid IN (SELECT code FROM grids WHERE path >= $3 AND path < $4)
              UNION ALL
                SELECT d.moved_seq, l.seq, octet_length(l.change)
                FROM docs d JOIN log l ON l.doc = d.id
                WHERE d.moved_seq > $1 AND d.moved_seq > 0 AND l.seq <= $1
                  AND l.device_id <> $2
                  AND d.grid IN (SELECT code FROM grids WHERE path >= $3 AND path < $4)
             ) p ORDER BY pos, seq",
            &[&after, &q.device_id, &lo, &hi],
        )?;
        let mut bytes = 0usize;
        let mut last_pos: Option<u64> = None;
        let mut wanted: Vec<(u64, i64)> = Vec::new();
        for row in &positions {
            let pos = row.try_get::<_, i64>(0)? as u64;
            let seq: i64 = row.try_get(1)?;
            let len: i32 = row.try_get(2)?;
            if bytes >= q.budget && last_pos != Some(pos) {
                page.more = true;
                break;
            }
            bytes += len.max(0) as usize;
            last_pos = Some(pos);
            wanted.push((pos, seq));
        }
        let seqs: Vec<i64> = wanted.iter().map(|(_, s)| *s).collect();
        let mut fetched: std::collections::HashMap<i64, (Uuid, Vec<u8>)> = tx
            .query(
                "SELECT seq, doc, change FROM log WHERE seq = ANY($1)",
                &[&seqs],
            )?
            .iter()
            .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?))))
            .collect::<Result<_, StorageError>>()?;
        for (pos, seq) in wanted {
            let (doc, bytes) = fetched
                .remove(&seq)
                .ok_or_else(|| corrupt(format!("log entry {seq} vanished during a pull")))?;
            page.changes.push(PulledChange {
                position: pos,
                doc,
                bytes,
            });
        }
        if page.more {
            page.cursor = last_pos.unwrap_or(after as u64);
        }
        tx.commit()?;
        Ok(page)
    }

    fn record_upload(&self, upload: &BlobUpload) -> Result<usize, StorageError> {
        grants::record_upload(&mut *self.conn()?, upload)
    }

    fn has_uploaded(&self, user_id: &str, sha256: &str) -> Result<bool, StorageError> {
        grants::has_uploaded(&mut *self.conn()?, user_id, sha256)
    }

    fn blob_granted(&self, doc: Uuid, sha256: &str) -> Result<bool, StorageError> {
        grants::granted(&mut *self.conn()?, doc, sha256)
    }

    fn blob_grant_docs(&self, sha256: &str, limit: usize) -> Result<Vec<Uuid>, StorageError> {
        grants::grant_docs(&mut *self.conn()?, sha256, limit)
    }

    fn blob_refs_known(&self, doc: Uuid) -> Result<Vec<String>, StorageError> {
        grants::known_refs(&mut *self.conn()?, doc)
    }

    fn append_access(&self, entry: &AccessEntry) -> Result<i64, StorageError> {
        let ids = serde_json::to_string(&entry.record_ids).map_err(|e| corrupt(e.to_string()))?;
        let row = self.conn()?.query_one(
            "INSERT INTO access_log (at, user_id, device_id, action, target, filter, format,
               record_ids, row_count, revealed)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq",
            &[
                &entry.at,
                &entry.user_id,
                &entry.device_id,
                &entry.action,
                &entry.target,
                &entry.filter,
                &entry.format,
                &ids,
                &(entry.row_count as i64),
                &entry.revealed,
            ],
        )?;
        Ok(row.try_get(0)?)
    }

    fn append_device_reveals(
        &self,
        user_id: &str,
        device_id: &str,
        at: i64,
        entries: &[RevealEntry],
    ) -> Result<usize, StorageError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // An entry id already stored (a retried upload) is skipped, never
        // written twice.
        let insert = tx.prepare(
            "INSERT INTO access_log (at, user_id, device_id, action, target, filter,
               format, record_ids, row_count, revealed, entry_id)
             VALUES ($1, $2, $3, 'reveal', $4, $5, NULL, $6, 1, $7, $8)
             ON CONFLICT (entry_id) DO NOTHING",
        )?;
        let mut added = 0;
        for e in entries {
            let (filter, ids) = super::reveal_columns(e);
            let params: [&(dyn ToSql + Sync); 8] = [
                &at,
                &user_id,
                &device_id,
                &e.record_kind.as_str(),
                &filter,
                &ids,
                &e.protection.as_str(),
                &e.id.to_string(),
            ];
            added += tx.execute(&insert, &params)? as usize;
        }
        tx.commit()?;
        Ok(added)
    }

    fn access_log(
        &self,
        user_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AccessEntry>, StorageError> {
        let rows = self.conn()?.query(
            "SELECT seq, at, user_id, device_id, action, target, filter, format, record_ids,
                    row_count, revealed FROM access_log WHERE $1::text IS NULL OR user_id = $1
             ORDER BY seq DESC LIMIT $2",
            &[&user_id, &(limit as i64)],
        )?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get(0)?;
                let ids: String = r.try_get(8)?;
                Ok(AccessEntry {
                    seq,
                    at: r.try_get(1)?,
                    user_id: r.try_get(2)?,
                    device_id: r.try_get(3)?,
                    action: r.try_get(4)?,
                    target: r.try_get(5)?,
                    filter: r.try_get(6)?,
                    format: r.try_get(7)?,
                    record_ids: serde_json::from_str(&ids)
                        .map_err(|e| corrupt(format!("access log {seq}: {e}")))?,
                    row_count: r.try_get::<_, i64>(9)? as usize,
                    revealed: r.try_get(10)?,
                })
            })
            .collect()
    }

    fn update_login_limits(
        &self,
        keys: &[&str],
        now: i64,
        apply: &mut dyn FnMut(&mut [LoginLimitState]),
    ) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        // What has expired goes first, in a statement of its own that
        // skips rows another login holds (never waits on them).
        conn.execute(
            "DELETE FROM login_limits WHERE key IN (
                SELECT key FROM login_limits WHERE expires_at < $1
                LIMIT 1000 FOR UPDATE SKIP LOCKED)",
            &[&now],
        )?;
        let mut tx = conn.transaction()?;
        // Rows are made and locked in key order, so two logins sharing
        // keys wait for each other rather than deadlock.
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by_key(|&i| keys[i]);
        for &i in &order {
            tx.execute(
                "INSERT INTO login_limits (key) VALUES ($1) ON CONFLICT (key) DO NOTHING",
                &[&keys[i]],
            )?;
        }
        let mut states = vec![LoginLimitState::default(); keys.len()];
        for &i in &order {
            let r = tx.query_one(
                "SELECT tat, failures, last_failure, blocked_until, expires_at
                 FROM login_limits WHERE key = $1 FOR UPDATE",
                &[&keys[i]],
            )?;
            states[i] = LoginLimitState {
                tat: r.try_get(0)?,
                failures: r.try_get::<_, i32>(1)?.max(0) as u32,
                last_failure: r.try_get(2)?,
                blocked_until: r.try_get(3)?,
                expires_at: r.try_get(4)?,
            };
        }
        apply(&mut states);
        for (key, s) in keys.iter().zip(&states) {
            tx.execute(
                "UPDATE login_limits SET tat = $2, failures = $3, last_failure = $4,
                   blocked_until = $5, expires_at = $6 WHERE key = $1",
                &[
                    key,
                    &s.tat,
                    &(s.failures.min(i32::MAX as u32) as i32),
                    &s.last_failure,
                    &s.blocked_until,
                    &s.expires_at,
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::testing::test_database_or_skip;
    use super::*;

    #[test]
    fn data_migrations_run_in_one_process_at_a_time() {
        let Some(db) = test_database_or_skip() else {
            return;
        };
        // Two processes' storages, each with a pool of one connection.
        let first = PgStorage::open(db.url(), 1).unwrap();
        let second = PgStorage::open(db.url(), 1).unwrap();
        let held = first.data_migration_lock().unwrap();
        // The holder still has its pool for the migrations themselves.
        first.ping().unwrap();
        let hold = Duration::from_millis(600);
        let waited = std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let asked = std::time::Instant::now();
                let turn = second.data_migration_lock().unwrap();
                let waited = asked.elapsed();
                drop(turn);
                waited
            });
            std::thread::sleep(hold);
            drop(held);
            waiter.join().unwrap()
        });
        assert!(
            waited >= hold - Duration::from_millis(100),
            "the second process ran its migrations after {waited:?}, while the first held them"
        );
        // Released for good: the first takes its turn again at once.
        drop(first.data_migration_lock().unwrap());
    }

    #[test]
    fn a_fresh_database_is_migrated_and_a_newer_one_is_refused() {
        let Some(db) = test_database_or_skip() else {
            return;
        };
        let err = PgStorage::open_existing(db.url(), 2).unwrap_err();
        assert!(err.to_string().contains("init"), "{err}");
        let storage = PgStorage::open(db.url(), 2).unwrap();
        storage.ping().unwrap();
        drop(storage);
        // Reopening is a no-op, and so is a second process at once.
        std::thread::scope(|s| {
            let a = s.spawn(|| PgStorage::open(db.url(), 1).map(|_| ()));
            let b = s.spawn(|| PgStorage::open_existing(db.url(), 1).map(|_| ()));
            a.join().unwrap().unwrap();
            b.join().unwrap().unwrap();
        });
        let mut c = postgres::Client::connect(db.url(), NoTls).unwrap();
        c.batch_execute(
            "INSERT INTO schema_migrations (name, applied_at) VALUES ('29990101000000_future', 0)",
        )
        .unwrap();
        drop(c);
        let err = PgStorage::open(db.url(), 1).unwrap_err();
        assert!(
            matches!(err, StorageError::TooNew { found, .. } if found as usize == MIGRATIONS.len() + 1),
            "{err}"
        );
        assert!(err.to_string().contains("newer gridwork-server"), "{err}");
    }

    /// A demo load ends with fresh planner statistics: right after a
    /// bulk load the planner would otherwise plan for empty tables.
    #[test]
    fn a_demo_load_leaves_the_planner_statistics_of_its_tables() {
        let Some(db) = test_database_or_skip() else {
            return;
        };
        let storage = PgStorage::open(db.url(), 2).unwrap();
        let demo = gridwork_demo::generate(&gridwork_demo::DemoConfig::with_total_records(3, 300));
        crate::admin::load_demo(&storage, &demo, "demo-password-1").unwrap();
        let mut c = postgres::Client::connect(db.url(), NoTls).unwrap();
        // `last_analyze` is an ANALYZE run by hand (autovacuum's is
        // `last_autoanalyze`).
        let mut analyzed: Vec<String> = c
            .query(
                "SELECT relname::text FROM pg_stat_user_tables
                  WHERE relname IN ('projections', 'docs', 'log')
                    AND last_analyze IS NOT NULL",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        analyzed.sort();
        assert_eq!(analyzed, ["docs", "log", "projections"]);
    }

    #[test]
    fn passwords_in_urls_are_never_shown() {
        for (url, shown) in [
            (
                "postgres://gw:s3cret@db:5432/gridwork",
                "postgres://gw:***@db:5432/gridwork",
            ),
            ("postgres://gw@db/gridwork", "postgres://gw@db/gridwork"),
            (
                "postgresql://db/gridwork?user=gw&password=s3cret&sslmode=disable",
                "postgresql://db/gridwork?user=gw&password=***&sslmode=disable",
            ),
        ] {
            assert_eq!(redact_url(url), shown);
        }
        assert_eq!(
            testing::with_database("postgres://postgres@127.0.0.1:55432/postgres?x=1", "t1"),
            "postgres://postgres@127.0.0.1:55432/t1?x=1"
        );
        assert!(is_postgres_url("postgresql://db/x") && !is_postgres_url("sqlite://x"));
    }
}
