//! The embedded default: SQLite in the data directory.
//!
//! One connection behind a mutex. SQLite has one writer at a time anyway,
//! every call here is short, and the CPU-heavy work (Automerge, argon2)
//! happens outside the lock; a pool of readers can come when a benchmark
//! asks for it.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use gridwork_core::model::{Role, User};
use gridwork_core::store::RevealEntry;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{
    AccessEntry, Account, ActorOwner, BlobUpload, CommitOutcome, DeviceInfo, DocHead,
    LoginLimitState, NewDevice, PullPage, PullQuery, PulledChange, PushCommit, ServedScope,
    Storage, StorageError, StoredDoc, TokenOwner,
};

use crate::grids::{Grid, PlacedGrid, subtree_range};

/// Migrations in order, never edited once shipped. `PRAGMA user_version`
/// holds how many have been applied.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "20260501120000_initial",
        include_str!("migrations/20260501120000_initial.sql"),
    ),
    (
        "20260520120000_grid_centroid",
        include_str!("migrations/20260520120000_grid_centroid.sql"),
    ),
    (
        "20261129010000_access_log",
        include_str!("migrations/20261129010000_access_log.sql"),
    ),
    (
        "20261129050000_device_reveals",
        include_str!("migrations/20261129050000_device_reveals.sql"),
    ),
    (
        "20261204100000_docs_pi_history",
        include_str!("migrations/20261204100000_docs_pi_history.sql"),
    ),
    (
        "20261204120000_blob_grants",
        include_str!("migrations/20261204120000_blob_grants.sql"),
    ),
    (
        "20261205120000_device_states",
        include_str!("migrations/20261205120000_device_states.sql"),
    ),
    (
        "20261205130000_device_recovery",
        include_str!("migrations/20261205130000_device_recovery.sql"),
    ),
    (
        "20261205150000_projections",
        include_str!("migrations/20261205150000_projections.sql"),
    ),
    (
        "20261206010000_dashboard_facts",
        include_str!("migrations/20261206010000_dashboard_facts.sql"),
    ),
    (
        "20261206050000_login_limits",
        include_str!("migrations/20261206050000_login_limits.sql"),
    ),
    (
        "20261206090000_ledger_records",
        include_str!("migrations/20261206090000_ledger_records.sql"),
    ),
    (
        "20261206120000_list_counts",
        include_str!("migrations/20261206120000_list_counts.sql"),
    ),
    (
        "20261206140000_list_pages",
        include_str!("migrations/20261206140000_list_pages.sql"),
    ),
    (
        "20261206210000_visit_cycles",
        include_str!("migrations/20261206210000_visit_cycles.sql"),
    ),
    (
        "20261207000000_index_only_reads",
        include_str!("migrations/20261207000000_index_only_reads.sql"),
    ),
];

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> StorageError {
        StorageError::Database(Box::new(e))
    }
}

/// The database file inside the data directory.
pub const DB_FILE: &str = "gridwork.sqlite";
/// The content-addressed blob folder inside the data directory.
pub const BLOB_DIR: &str = "blobs";

/// SQLite storage in a data directory.
pub struct SqliteStorage {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStorage {
    /// Opens (creating if needed) the data directory and its database, and
    /// applies pending migrations. A database from a newer server is
    /// refused.
    #[tracing::instrument(skip_all, err, fields(data = %data_dir.display()))]
    pub fn open(data_dir: &Path) -> Result<SqliteStorage, StorageError> {
        std::fs::create_dir_all(data_dir.join(BLOB_DIR))?;
        let path = data_dir.join(DB_FILE);
        let mut conn = Connection::open(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        super::grants::backfill(&mut conn)?;
        Ok(SqliteStorage {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// Opens an existing data directory without creating anything: for
    /// admin commands, so a typo in `--data` does not make a new database.
    pub fn open_existing(data_dir: &Path) -> Result<SqliteStorage, StorageError> {
        let path = data_dir.join(DB_FILE);
        if !path.exists() {
            return Err(StorageError::NotInitialised(path.display().to_string()));
        }
        SqliteStorage::open(data_dir)
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written
        // (transactions roll back on drop), so a poisoned lock is usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StorageError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > known {
        return Err(StorageError::TooNew { found, known });
    }
    if found == known {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    for (name, sql) in &MIGRATIONS[found as usize..] {
        tracing::info!(migration = name, "applying migration");
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", known)?;
    tx.commit()?;
    Ok(())
}

pub(crate) fn role_name(role: Role) -> &'static str {
    match role {
        Role::GridWorker => "grid_worker",
        Role::GridLeader => "grid_leader",
        Role::CommunitySupervisor => "community_supervisor",
        Role::StreetSupervisor => "street_supervisor",
        Role::DepartmentHandler => "department_handler",
        Role::Admin => "admin",
    }
}

/// Parses a stored role name.
pub(crate) fn parse_role(s: &str) -> Option<Role> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn corrupt(what: impl Into<String>) -> StorageError {
    StorageError::Corrupt(what.into())
}

fn grid_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<super::GridRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

const GRID_COLUMNS: &str = "code, name, level, parent, kind, boundary, centroid";

fn user_from_row(row: &rusqlite::Row<'_>, offset: usize) -> rusqlite::Result<(User, String)> {
    let role: String = row.get(offset + 3)?;
    Ok((
        User {
            id: row.get(offset)?,
            name: row.get(offset + 1)?,
            phone: row.get(offset + 2)?,
            // Checked below; a placeholder keeps the row readable here.
            role: parse_role(&role).unwrap_or(Role::GridWorker),
            grid: row.get(offset + 4)?,
            department: row.get(offset + 5)?,
        },
        role,
    ))
}

const USER_COLUMNS: &str = "u.id, u.name, u.phone, u.role, u.grid, u.department";

fn checked_user((user, role): (User, String)) -> Result<User, StorageError> {
    if parse_role(&role).is_none() {
        return Err(corrupt(format!("user {}: role {role}", user.id)));
    }
    Ok(user)
}

impl Storage for SqliteStorage {
    fn ping(&self) -> Result<(), StorageError> {
        self.conn().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    fn analyze(&self) -> Result<(), StorageError> {
        self.conn().execute_batch("ANALYZE")?;
        Ok(())
    }

    fn all_grids(&self) -> Result<Vec<Grid>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {GRID_COLUMNS} FROM grids ORDER BY path"))?;
        let rows = stmt.query_map([], grid_from_row)?;
        rows.map(|r| super::grid_from_columns(r?)).collect()
    }

    #[tracing::instrument(skip_all, err, fields(grids = grids.len()))]
    fn put_grids(&self, grids: &[PlacedGrid]) -> Result<(), StorageError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            // Parents first (path order), so the foreign key always holds.
            let mut sorted: Vec<&PlacedGrid> = grids.iter().collect();
            sorted.sort_by(|a, b| a.path.cmp(&b.path));
            let mut stmt = tx.prepare(
                "INSERT INTO grids (code, name, level, parent, kind, boundary, centroid, path)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
                   parent = excluded.parent, kind = excluded.kind, boundary = excluded.boundary,
                   centroid = excluded.centroid, path = excluded.path",
            )?;
            // Paths are unique: clear the ones that move, then write.
            tx.execute_batch("UPDATE grids SET path = '#' || code")?;
            for p in sorted {
                let g = &p.grid;
                let (boundary, centroid) = super::grid_json_columns(g)?;
                stmt.execute(params![
                    g.code,
                    g.name,
                    g.level.as_str(),
                    g.parent,
                    g.kind.as_str(),
                    boundary,
                    centroid,
                    p.path,
                ])?;
            }
            let stale: i64 =
                tx.query_row("SELECT count(*) FROM grids WHERE path LIKE '#%'", [], |r| {
                    r.get(0)
                })?;
            if stale > 0 {
                return Err(corrupt("the grid import did not place every stored grid"));
            }
            tx.execute(
                "UPDATE counters SET value = value + 1 WHERE name = 'grids_version'",
                [],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn grid_path(&self, code: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .conn()
            .query_row("SELECT path FROM grids WHERE code = ?1", [code], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn subtree(&self, path: &str) -> Result<Vec<Grid>, StorageError> {
        let (lo, hi) = subtree_range(path);
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {GRID_COLUMNS} FROM grids WHERE path >= ?1 AND path < ?2 ORDER BY path"
        ))?;
        let rows = stmt.query_map([lo, hi], grid_from_row)?;
        rows.map(|r| super::grid_from_columns(r?)).collect()
    }

    fn subtree_codes(&self, path: &str) -> Result<Vec<String>, StorageError> {
        let (lo, hi) = subtree_range(path);
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT code FROM grids WHERE path >= ?1 AND path < ?2 ORDER BY code",
        )?;
        let rows = stmt.query_map([lo, hi], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn grids_version(&self) -> Result<i64, StorageError> {
        Ok(self.conn().query_row(
            "SELECT value FROM counters WHERE name = 'grids_version'",
            [],
            |r| r.get(0),
        )?)
    }

    #[tracing::instrument(skip_all, err, fields(user = %account.user.id))]
    fn add_user(&self, account: &Account) -> Result<(), StorageError> {
        let conn = self.conn();
        let u = &account.user;
        if conn
            .query_row("SELECT 1 FROM grids WHERE code = ?1", [&u.grid], |_| Ok(()))
            .optional()?
            .is_none()
        {
            return Err(StorageError::NotFound {
                what: "grid",
                key: u.grid.clone(),
            });
        }
        let inserted = conn.execute(
            "INSERT INTO users (id, name, phone, role, grid, department, password_hash, disabled, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (id) DO NOTHING",
            params![
                u.id,
                u.name,
                u.phone,
                role_name(u.role),
                u.grid,
                u.department,
                account.password_hash,
                account.disabled,
                jiff::Timestamp::now().as_millisecond(),
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
        let conn = self.conn();
        let row = conn
            .query_row(
                &format!("SELECT {USER_COLUMNS}, u.password_hash, u.disabled FROM users u WHERE u.id = ?1"),
                [user_id],
                |r| Ok((user_from_row(r, 0)?, r.get::<_, String>(6)?, r.get::<_, bool>(7)?)),
            )
            .optional()?;
        row.map(|(user, password_hash, disabled)| {
            Ok(Account {
                user: checked_user(user)?,
                password_hash,
                disabled,
            })
        })
        .transpose()
    }

    fn set_password(&self, user_id: &str, password_hash: &str) -> Result<(), StorageError> {
        let changed = self.conn().execute(
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            params![user_id, password_hash],
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
        let conn = self.conn();
        if conn
            .query_row("SELECT 1 FROM grids WHERE code = ?1", [grid], |_| Ok(()))
            .optional()?
            .is_none()
        {
            return Err(StorageError::NotFound {
                what: "grid",
                key: grid.to_string(),
            });
        }
        let changed = conn.execute(
            "UPDATE users SET grid = ?2 WHERE id = ?1",
            params![user_id, grid],
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
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO devices (id, user_id, name, token_hash, actor, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                device.id,
                device.user_id,
                device.name,
                &device.token_hash[..],
                device.actor,
                device.created_at
            ],
        )?;
        tx.execute(
            "INSERT INTO actors (actor, device_id, user_id) VALUES (?1, ?2, ?3)",
            params![device.actor, device.id, device.user_id],
        )?;
        write_scope(&tx, &device.id, &device.scope)?;
        tx.commit()?;
        Ok(())
    }

    fn token_owner(&self, token_hash: &[u8; 32]) -> Result<Option<TokenOwner>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {USER_COLUMNS}, d.id, d.revoked_at IS NOT NULL, u.disabled,
                    d.lost_at IS NOT NULL, d.wiped_at IS NOT NULL, d.actor
             FROM devices d JOIN users u ON u.id = d.user_id WHERE d.token_hash = ?1"
        ))?;
        let row = stmt
            .query_row([&token_hash[..]], |r| {
                Ok((
                    user_from_row(r, 0)?,
                    (r.get::<_, String>(6)?, r.get::<_, String>(11)?),
                    r.get::<_, bool>(7)?,
                    r.get::<_, bool>(8)?,
                    (r.get::<_, bool>(9)?, r.get::<_, bool>(10)?),
                ))
            })
            .optional()?;
        row.map(
            |(user, (device_id, actor), revoked, account_disabled, (lost, wiped))| {
                Ok(TokenOwner {
                    device_id,
                    actor,
                    revoked,
                    lost,
                    wiped,
                    account_disabled,
                    user: checked_user(user)?,
                })
            },
        )
        .transpose()
    }

    fn append_access(&self, entry: &AccessEntry) -> Result<i64, StorageError> {
        let ids = serde_json::to_string(&entry.record_ids).map_err(|e| corrupt(e.to_string()))?;
        let conn = self.conn();
        conn.execute(
            "INSERT INTO access_log (at, user_id, device_id, action, target, filter, format, \
             record_ids, row_count, revealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                entry.at,
                entry.user_id,
                entry.device_id,
                entry.action,
                entry.target,
                entry.filter,
                entry.format,
                ids,
                entry.row_count as i64,
                entry.revealed,
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    fn append_device_reveals(
        &self,
        user_id: &str,
        device_id: &str,
        at: i64,
        entries: &[RevealEntry],
    ) -> Result<usize, StorageError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut added = 0;
        {
            // OR IGNORE: an entry id already stored (a retried upload) is
            // skipped, never written twice.
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO access_log (at, user_id, device_id, action, target, filter, \
                 format, record_ids, row_count, revealed, entry_id) \
                 VALUES (?1, ?2, ?3, 'reveal', ?4, ?5, NULL, ?6, 1, ?7, ?8)",
            )?;
            for e in entries {
                let (filter, ids) = super::reveal_columns(e);
                added += insert.execute(params![
                    at,
                    user_id,
                    device_id,
                    e.record_kind.as_str(),
                    filter,
                    ids,
                    e.protection.as_str(),
                    e.id.to_string(),
                ])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    fn access_log(
        &self,
        user_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AccessEntry>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT seq, at, user_id, device_id, action, target, filter, format, record_ids, \
             row_count, revealed FROM access_log WHERE ?1 IS NULL OR user_id = ?1 \
             ORDER BY seq DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![user_id, limit as i64], |r| {
            Ok((
                AccessEntry {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    user_id: r.get(2)?,
                    device_id: r.get(3)?,
                    action: r.get(4)?,
                    target: r.get(5)?,
                    filter: r.get(6)?,
                    format: r.get(7)?,
                    record_ids: Vec::new(),
                    row_count: r.get::<_, i64>(9)? as usize,
                    revealed: r.get(10)?,
                },
                r.get::<_, String>(8)?,
            ))
        })?;
        rows.map(|row| {
            let (mut entry, ids) = row?;
            entry.record_ids = serde_json::from_str(&ids)
                .map_err(|e| corrupt(format!("access log {}: {e}", entry.seq)))?;
            Ok(entry)
        })
        .collect()
    }

    fn update_login_limits(
        &self,
        keys: &[&str],
        now: i64,
        apply: &mut dyn FnMut(&mut [LoginLimitState]),
    ) -> Result<(), StorageError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM login_limits WHERE expires_at < ?1", [now])?;
        let mut states = Vec::with_capacity(keys.len());
        for key in keys {
            let state = tx
                .query_row(
                    "SELECT tat, failures, last_failure, blocked_until, expires_at
                     FROM login_limits WHERE key = ?1",
                    [key],
                    |r| {
                        Ok(LoginLimitState {
                            tat: r.get(0)?,
                            failures: r.get(1)?,
                            last_failure: r.get(2)?,
                            blocked_until: r.get(3)?,
                            expires_at: r.get(4)?,
                        })
                    },
                )
                .optional()?;
            states.push(state.unwrap_or_default());
        }
        apply(&mut states);
        for (key, s) in keys.iter().zip(&states) {
            tx.execute(
                "INSERT INTO login_limits (key, tat, failures, last_failure, blocked_until, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (key) DO UPDATE SET tat = excluded.tat, failures = excluded.failures,
                   last_failure = excluded.last_failure, blocked_until = excluded.blocked_until,
                   expires_at = excluded.expires_at",
                params![key, s.tat, s.failures, s.last_failure, s.blocked_until, s.expires_at],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn revoke_device(&self, device_id: &str, at: i64) -> Result<bool, StorageError> {
        let conn = self.conn();
        let changed = conn.execute(
            "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![device_id, at],
        )?;
        if changed == 0
            && conn
                .query_row("SELECT 1 FROM devices WHERE id = ?1", [device_id], |_| {
                    Ok(())
                })
                .optional()?
                .is_none()
        {
            return Err(StorageError::NotFound {
                what: "device",
                key: device_id.to_string(),
            });
        }
        Ok(changed > 0)
    }

    fn list_devices(&self, user_id: Option<&str>) -> Result<Vec<DeviceInfo>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT d.id, d.user_id, d.name, d.actor, d.created_at, d.revoked_at,
                    COALESCE(c.cursor, 0), c.confirmed_at, d.lost_at, d.wiped_at
             FROM devices d LEFT JOIN device_cursors c ON c.device_id = d.id
             WHERE ?1 IS NULL OR d.user_id = ?1
             ORDER BY d.user_id, d.created_at",
        )?;
        let rows = stmt.query_map([user_id], |r| {
            Ok(DeviceInfo {
                id: r.get(0)?,
                user_id: r.get(1)?,
                name: r.get(2)?,
                actor: r.get(3)?,
                created_at: r.get(4)?,
                revoked_at: r.get(5)?,
                lost_at: r.get(8)?,
                wiped_at: r.get(9)?,
                cursor: r.get::<_, i64>(6)? as u64,
                confirmed_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn mark_device_lost(&self, device_id: &str, at: i64) -> Result<bool, StorageError> {
        super::device_states::mark_lost(&self.conn(), device_id, at)
    }

    fn record_device_wipe(&self, device_id: &str, at: i64) -> Result<bool, StorageError> {
        super::device_states::record_wipe(&self.conn(), device_id, at)
    }

    fn hand_out_recovery_secret(
        &self,
        device_id: &str,
        user_id: &str,
        earlier: Option<&str>,
        fresh: &[u8; 32],
    ) -> Result<[u8; 32], StorageError> {
        super::recovery::hand_out(&mut self.conn(), device_id, user_id, earlier, fresh)
    }

    fn changes_from_lost_devices(
        &self,
        doc: Uuid,
    ) -> Result<Vec<([u8; 32], String)>, StorageError> {
        super::device_states::changes_from_lost(&self.conn(), doc)
    }

    fn served_scope(&self, device_id: &str) -> Result<Option<ServedScope>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT epoch, scope_root, grids_version, served_grids FROM device_cursors WHERE device_id = ?1",
        )?;
        let row = stmt
            .query_row([device_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .optional()?;
        row.map(|(epoch, root, grids_version, served)| {
            Ok(ServedScope {
                epoch: u16::try_from(epoch).map_err(|_| corrupt("scope epoch"))?,
                root,
                grids_version,
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
        let conn = self.conn();
        write_scope(&conn, device_id, scope)
    }

    fn confirm_cursor(&self, device_id: &str, cursor: u64, at: i64) -> Result<(), StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "UPDATE device_cursors SET cursor = ?2, confirmed_at = ?3
             WHERE device_id = ?1 AND cursor <> ?2",
        )?;
        stmt.execute(params![device_id, cursor as i64, at])?;
        Ok(())
    }

    fn known_changes(&self, hashes: &[[u8; 32]]) -> Result<Vec<[u8; 32]>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT 1 FROM log WHERE hash = ?1")?;
        let mut known = Vec::new();
        for h in hashes {
            if stmt.exists([&h[..]])? {
                known.push(*h);
            }
        }
        Ok(known)
    }

    fn actor_owners(&self, actors: &[String]) -> Result<Vec<(String, ActorOwner)>, StorageError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT device_id, user_id FROM actors WHERE actor = ?1")?;
        let mut found = Vec::new();
        for a in actors {
            let owner = stmt
                .query_row([a], |r| {
                    Ok(ActorOwner {
                        device_id: r.get(0)?,
                        user_id: r.get(1)?,
                    })
                })
                .optional()?;
            if let Some(owner) = owner {
                found.push((a.clone(), owner));
            }
        }
        Ok(found)
    }

    fn change_receipts(&self, doc: Uuid) -> Result<Vec<([u8; 32], i64)>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT hash, received_at FROM log WHERE doc = ?1")?;
        let rows = stmt.query_map([&doc.as_bytes()[..]], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
        })?;
        rows.map(|row| {
            let (hash, at) = row?;
            let hash: [u8; 32] = hash
                .try_into()
                .map_err(|_| corrupt("a change hash is not 32 bytes"))?;
            Ok((hash, at))
        })
        .collect()
    }

    fn record_upload(&self, upload: &BlobUpload) -> Result<usize, StorageError> {
        super::grants::record_upload(&mut self.conn(), upload)
    }

    fn has_uploaded(&self, user_id: &str, sha256: &str) -> Result<bool, StorageError> {
        super::grants::has_uploaded(&self.conn(), user_id, sha256)
    }

    fn blob_granted(&self, doc: Uuid, sha256: &str) -> Result<bool, StorageError> {
        super::grants::granted(&self.conn(), doc, sha256)
    }

    fn blob_grant_docs(&self, sha256: &str, limit: usize) -> Result<Vec<Uuid>, StorageError> {
        super::grants::grant_docs(&self.conn(), sha256, limit)
    }

    fn blob_refs_known(&self, doc: Uuid) -> Result<Vec<String>, StorageError> {
        super::grants::known_refs(&self.conn(), doc)
    }

    fn load_docs(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, StoredDoc)>, StorageError> {
        // One statement per id on one connection: SQLite has no round
        // trip to save, only the connection to take once.
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT kind, grid, snapshot, rev, pi_history FROM docs WHERE id = ?1",
        )?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let doc = stmt
                .query_row([&id.as_bytes()[..]], |r| {
                    Ok(StoredDoc {
                        kind: r.get(0)?,
                        grid: r.get(1)?,
                        snapshot: r.get(2)?,
                        rev: r.get(3)?,
                        pi_history: r.get(4)?,
                    })
                })
                .optional()?;
            out.extend(doc.map(|d| (*id, d)));
        }
        Ok(out)
    }

    fn mark_pi_history(&self, id: Uuid) -> Result<bool, StorageError> {
        let conn = self.conn();
        let n = conn.execute(
            "UPDATE docs SET pi_history = 1 WHERE id = ?1 AND pi_history = 0",
            [&id.as_bytes()[..]],
        )?;
        Ok(n > 0)
    }

    fn data_migration_done(&self, name: &str) -> Result<bool, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT 1 FROM data_migrations WHERE name = ?1")?;
        Ok(stmt.exists([name])?)
    }

    fn mark_data_migration(&self, name: &str, at: i64) -> Result<(), StorageError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO data_migrations (name, done_at) VALUES (?1, ?2)
             ON CONFLICT (name) DO NOTHING",
            params![name, at],
        )?;
        Ok(())
    }

    fn docs_of_kind(&self, kind: &str) -> Result<Vec<Uuid>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id FROM docs WHERE kind = ?1 ORDER BY id")?;
        let rows = stmt.query_map([kind], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|row| Uuid::from_slice(&row?).map_err(|_| corrupt("a document id is not a UUID")))
            .collect()
    }

    fn doc_ids_after(
        &self,
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<(Uuid, i64)>, StorageError> {
        let conn = self.conn();
        // Every id sorts after the empty BLOB.
        let after = after.map(|id| id.as_bytes().to_vec()).unwrap_or_default();
        let mut stmt = conn.prepare_cached(
            "SELECT id, updated_at FROM docs
              WHERE id > ?1 AND grid IN (SELECT code FROM grids)
              ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit as i64], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
        })?;
        rows.map(|row| {
            let (id, updated_at) = row?;
            let id = Uuid::from_slice(&id).map_err(|_| corrupt("a document id is not a UUID"))?;
            Ok((id, updated_at))
        })
        .collect()
    }

    fn doc_heads(&self, scope_path: &str) -> Result<Vec<DocHead>, StorageError> {
        let (lo, hi) = subtree_range(scope_path);
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, kind, grid, rev, updated_at FROM docs
              WHERE grid IN (SELECT code FROM grids WHERE path >= ?1 AND path < ?2)",
        )?;
        let rows = stmt.query_map([lo, hi], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                DocHead {
                    id: Uuid::nil(),
                    kind: r.get(1)?,
                    grid: r.get(2)?,
                    rev: r.get(3)?,
                    updated_at: r.get(4)?,
                },
            ))
        })?;
        rows.map(|row| {
            let (id, head) = row?;
            let id = Uuid::from_slice(&id).map_err(|_| corrupt("a document id is not a UUID"))?;
            Ok(DocHead { id, ..head })
        })
        .collect()
    }

    #[tracing::instrument(skip_all, err, fields(device = %push.device_id, docs = push.docs.len()))]
    fn commit_push(&self, push: &PushCommit) -> Result<CommitOutcome, StorageError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut append = tx.prepare_cached(
                "INSERT INTO log (doc, grid, hash, change, device_id, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (hash) DO NOTHING",
            )?;
            let mut insert_doc = tx.prepare_cached(
                "INSERT INTO docs (id, kind, grid, snapshot, rev, moved_seq, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 1, 0, ?5) ON CONFLICT (id) DO NOTHING",
            )?;
            let mut update_doc = tx.prepare_cached(
                "UPDATE docs SET kind = ?2, grid = ?3, snapshot = ?4, rev = rev + 1,
                   moved_seq = CASE WHEN ?6 THEN ?7 ELSE moved_seq END, updated_at = ?8
                 WHERE id = ?1 AND rev = ?5",
            )?;
            for doc in &push.docs {
                let id = &doc.id.as_bytes()[..];
                let mut last_seq = None;
                for change in &doc.changes {
                    let n = append.execute(params![
                        id,
                        doc.grid,
                        &change.hash[..],
                        change.bytes,
                        change.device_id.as_deref().unwrap_or(&push.device_id),
                        push.received_at
                    ])?;
                    if n == 0 {
                        // Stored by a concurrent push: our snapshot is stale.
                        return Ok(CommitOutcome::Conflict);
                    }
                    last_seq = Some(tx.last_insert_rowid());
                }
                let written = match doc.base_rev {
                    None => insert_doc.execute(params![
                        id,
                        doc.kind,
                        doc.grid,
                        doc.snapshot,
                        push.received_at
                    ])?,
                    Some(rev) => update_doc.execute(params![
                        id,
                        doc.kind,
                        doc.grid,
                        doc.snapshot,
                        rev,
                        doc.moved && last_seq.is_some(),
                        last_seq.unwrap_or(0),
                        push.received_at
                    ])?,
                };
                if written == 0 {
                    return Ok(CommitOutcome::Conflict);
                }
                super::sqlite_projections::put(&tx, &doc.projection, push.received_at)?;
            }
            super::grants::commit_refs(&tx, push)?;
        }
        tx.commit()?;
        Ok(CommitOutcome::Committed)
    }

    #[tracing::instrument(skip_all, err, fields(device = %q.device_id, after = q.after))]
    fn pull(&self, q: &PullQuery) -> Result<PullPage, StorageError> {
        let (lo, hi) = subtree_range(&q.scope_path);
        let mut conn = self.conn();
        // One read transaction: the page and the maximum come from the same
        // snapshot of the log.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let max_seq: i64 =
            tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM log", [], |r| r.get(0))?;
        let max_seq = max_seq as u64;
        // A cursor beyond the log (a restored database): start over.
        let after = if q.after > max_seq { 0 } else { q.after } as i64;
        let mut page = PullPage {
            changes: Vec::new(),
            more: false,
            cursor: max_seq,
        };
        {
            // Positions first (small rows, sorted), change bytes fetched
            // only for what fits the budget.
            let from_log = pull_from_log(&tx, after as u64, max_seq, &lo, &hi)?;
            let mut positions = tx.prepare_cached(if from_log {
                PULL_FROM_LOG
            } else {
                PULL_FROM_SCOPE
            })?;
            let mut fetch = tx.prepare_cached("SELECT doc, change FROM log WHERE seq = ?1")?;
            let mut rows = positions.query(params![after, q.device_id, lo, hi])?;
            let mut bytes = 0usize;
            let mut last_pos: Option<u64> = None;
            while let Some(row) = rows.next()? {
                let pos = row.get::<_, i64>(0)? as u64;
                let seq: i64 = row.get(1)?;
                if bytes >= q.budget && last_pos != Some(pos) {
                    page.more = true;
                    break;
                }
                let (doc, change): (Vec<u8>, Vec<u8>) =
                    fetch.query_row([seq], |r| Ok((r.get(0)?, r.get(1)?)))?;
                bytes += change.len();
                last_pos = Some(pos);
                page.changes.push(PulledChange {
                    position: pos,
                    doc: Uuid::from_slice(&doc).map_err(|_| corrupt("a doc id is not a UUID"))?,
                    bytes: change,
                });
            }
            if page.more {
                page.cursor = last_pos.unwrap_or(after as u64);
            }
        }
        tx.commit()?;
        Ok(page)
    }
}

/// A pull's positions and their log entries (`?1` the cursor, `?2` the
/// asking device, `?3`/`?4` the scope's path range), walked from what is
/// new: log entries after the cursor and documents moved after it, the
/// grid checked per row. CROSS JOIN fixes that order and `+d.grid` keeps
/// the planner off the grid index: left to itself it walks every document
/// of the scope and probes the log for each, so an idle sync would cost as
/// much as the scope is large.
const PULL_FROM_LOG: &str = "SELECT pos, seq FROM (
        SELECT CASE WHEN l.seq < d.moved_seq THEN d.moved_seq ELSE l.seq END AS pos,
               l.seq AS seq
        FROM log l CROSS JOIN docs d ON d.id = l.doc
        WHERE l.seq > ?1 AND l.device_id <> ?2
          AND +d.grid IN (SELECT code FROM grids WHERE path >= ?3 AND path < ?4)
      UNION ALL
        SELECT d.moved_seq, l.seq
        FROM docs d CROSS JOIN log l ON l.doc = d.id
        WHERE d.moved_seq > ?1 AND d.moved_seq > 0 AND l.seq <= ?1
          AND l.device_id <> ?2
          AND +d.grid IN (SELECT code FROM grids WHERE path >= ?3 AND path < ?4)
     ) ORDER BY pos, seq";

/// The same positions as [`PULL_FROM_LOG`], walked from the scope's
/// documents (the grid index) and each one's log entries: for a device far
/// behind a large log (a new tablet of one grid on a district's server),
/// walking the log from its cursor would read every record of every
/// other grid. An entry is sent when it is new, or when its document
/// moved into the scope after the cursor; either way at the later of the
/// two.
const PULL_FROM_SCOPE: &str = "SELECT pos, seq FROM (
        SELECT CASE WHEN l.seq < d.moved_seq THEN d.moved_seq ELSE l.seq END AS pos,
               l.seq AS seq
        FROM docs d CROSS JOIN log l ON l.doc = d.id
        WHERE d.grid IN (SELECT code FROM grids WHERE path >= ?3 AND path < ?4)
          AND (l.seq > ?1 OR d.moved_seq > ?1)
          AND l.device_id <> ?2
     ) ORDER BY pos, seq";

/// Whether a pull after `after` (the log ending at `max_seq`) walks the
/// log ([`PULL_FROM_LOG`]) rather than the scope ([`PULL_FROM_SCOPE`]):
/// when fewer entries are new than the scope holds documents. Counting
/// stops at the number of new entries, so a small scope or a large one
/// costs no more than the walk it saves.
fn pull_from_log(
    conn: &Connection,
    after: u64,
    max_seq: u64,
    lo: &str,
    hi: &str,
) -> Result<bool, StorageError> {
    let new = max_seq.saturating_sub(after) as i64;
    let docs: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM (SELECT 1 FROM docs
              WHERE grid IN (SELECT code FROM grids WHERE path >= ?1 AND path < ?2) LIMIT ?3)",
        )?
        .query_row(params![lo, hi, new + 1], |r| r.get(0))?;
    Ok(new < docs)
}

fn write_scope(
    conn: &Connection,
    device_id: &str,
    scope: &ServedScope,
) -> Result<(), StorageError> {
    conn.execute(
        "INSERT INTO device_cursors (device_id, epoch, scope_root, grids_version, served_grids)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (device_id) DO UPDATE SET epoch = excluded.epoch,
           scope_root = excluded.scope_root, grids_version = excluded.grids_version,
           served_grids = excluded.served_grids",
        params![
            device_id,
            scope.epoch,
            scope.root,
            scope.grids_version,
            scope.grids.join(",")
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both ways of walking a pull find the same positions, whatever the
    /// cursor, scope and device, moved documents included.
    #[test]
    fn a_pull_finds_the_same_changes_from_the_log_and_from_the_scope() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        let demo = gridwork_demo::generate(&gridwork_demo::DemoConfig {
            communities: 2,
            grids_per_community: 2,
            households_per_grid: 6,
            incidents_per_grid: 4,
            ..gridwork_demo::DemoConfig::default()
        });
        crate::admin::load_demo(&storage, &demo, "demo-password-1").unwrap();
        let conn = storage.conn();
        let max: i64 = conn
            .query_row("SELECT MAX(seq) FROM log", [], |r| r.get(0))
            .unwrap();
        // Some documents moved to another grid later in the log.
        let grids: Vec<(String, String)> = conn
            .prepare(
                "SELECT DISTINCT g.code, g.path FROM docs d JOIN grids g ON g.code = d.grid
                  ORDER BY g.code",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(grids.len() > 1, "several grids");
        conn.execute(
            "UPDATE docs SET grid = ?1, moved_seq = ?2
              WHERE id IN (SELECT id FROM docs WHERE grid = ?3 ORDER BY id LIMIT 5)",
            params![grids[1].0, max - 3, grids[0].0],
        )
        .unwrap();
        let device: String = conn
            .query_row("SELECT device_id FROM log ORDER BY seq LIMIT 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        let positions = |sql: &str, after: i64, device: &str, path: &str| {
            let (lo, hi) = subtree_range(path);
            conn.prepare(sql)
                .unwrap()
                .query_map(params![after, device, lo, hi], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap()
        };
        let community = grids[1].1.rsplitn(3, '/').nth(2).unwrap().to_string() + "/";
        for path in [grids[0].1.as_str(), grids[1].1.as_str(), &community, "/"] {
            for after in [0, max / 2, max - 4, max - 3, max] {
                for device in [device.as_str(), "another"] {
                    let from_log = positions(PULL_FROM_LOG, after, device, path);
                    assert_eq!(
                        positions(PULL_FROM_SCOPE, after, device, path),
                        from_log,
                        "{path} after {after} for {device}"
                    );
                    if after == 0 && device == "another" {
                        assert!(!from_log.is_empty(), "{path} holds changes");
                    }
                }
            }
        }
    }

    #[test]
    fn a_fresh_database_is_migrated_and_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        storage.ping().unwrap();
        assert!(dir.path().join(BLOB_DIR).is_dir());
        drop(storage);
        // Reopening is a no-op.
        SqliteStorage::open(dir.path()).unwrap();
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = SqliteStorage::open(dir.path()).unwrap_err();
        assert!(matches!(err, StorageError::TooNew { found: 99, .. }));
        assert!(err.to_string().contains("newer gridwork-server"), "{err}");
    }

    #[test]
    fn admin_commands_do_not_create_a_database_by_accident() {
        let dir = tempfile::tempdir().unwrap();
        let err = SqliteStorage::open_existing(&dir.path().join("typo")).unwrap_err();
        assert!(err.to_string().contains("init"), "{err}");
    }
}
