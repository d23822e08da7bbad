//! Moving a server from SQLite to PostgreSQL: [`copy`] copies every table
//! of the data directory's SQLite database (documents, the change log,
//! cursors, projections, grids, users, devices, tokens, recovery secrets,
//! photo grants and the access log) into a PostgreSQL database, in one
//! transaction. Photo blobs stay in the data directory's `blobs` folder,
//! which the server on PostgreSQL keeps using.
//!
//! What a device notices: nothing. Every change keeps its position in the
//! log (`log.seq`), so a device's cursor means the same on the new server
//! and its next sync pulls only what is new; its token, actor and served
//! scope are the same rows. The position counter the PostgreSQL backend
//! allocates from (`counters.log_seq`) is set to the last copied position,
//! and the access log's sequence to its last entry, so what is written
//! next follows them.
//!
//! **Every table or none.** The copy refuses a target that already holds
//! users or documents (a second run, or the wrong database), and it names
//! each table it copies: a table in the PostgreSQL schema that the copy
//! does not know fails the copy before anything is committed, so a table
//! added later cannot be silently left behind. Row counts are compared
//! table by table before the commit.
//!
//! The source is read as it stands: stop the SQLite server first (`serve`
//! holds no lock that would stop a copy, but writes made during it would
//! not be copied).

use std::path::Path;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use rusqlite::OpenFlags;
use rusqlite::types::ValueRef;
use uuid::Uuid;

use super::StorageError;
use super::postgres::PgStorage;
use super::sqlite::{DB_FILE, SqliteStorage};

/// The tables copied, parents before children (foreign keys), each with
/// the order its rows are read in (a grid's parent before the grid).
const TABLES: &[(&str, &str)] = &[
    ("grids", "length(path), path"),
    ("users", "id"),
    ("devices", "id"),
    ("actors", "actor"),
    ("docs", "id"),
    ("log", "seq"),
    ("device_cursors", "device_id"),
    ("device_recovery", "device_id"),
    ("access_log", "seq"),
    ("data_migrations", "name"),
    ("blob_uploads", "sha256, device_id"),
    ("blob_grants", "doc, sha256"),
    ("blob_claims", "doc, sha256, user_id"),
    ("projections", "id"),
    ("incident_projections", "id"),
    ("patrol_projections", "id"),
    ("ledger_records", "id"),
    ("visit_cycles", "id"),
];

/// Tables that are not copied row by row: the counters are merged (the
/// target's migrations made some), the migration record is the target's
/// own, and the login limits' counts are minutes of state the moved
/// server starts without, as a restarted one does.
const NOT_COPIED: &[&str] = &["counters", "schema_migrations", "login_limits"];

/// Why a copy stopped; nothing was committed to PostgreSQL.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(
        "the PostgreSQL database already holds {users} users and {docs} records: copy into a new, empty database; nothing was copied"
    )]
    NotEmpty { users: i64, docs: i64 },
    #[error(
        "table {0} is in the PostgreSQL schema but this build does not copy it; nothing was copied"
    )]
    UnknownTable(String),
    #[error("column {table}.{column}: {why}; nothing was copied")]
    Column {
        table: String,
        column: String,
        why: String,
    },
    #[error("table {table}: {read} rows read but {written} in PostgreSQL; nothing was copied")]
    Count {
        table: String,
        read: u64,
        written: i64,
    },
}

impl From<rusqlite::Error> for CopyError {
    fn from(e: rusqlite::Error) -> CopyError {
        CopyError::Storage(e.into())
    }
}

impl From<postgres::Error> for CopyError {
    fn from(e: postgres::Error) -> CopyError {
        CopyError::Storage(e.into())
    }
}

/// Rows written per table, in copy order.
#[derive(Debug, Default)]
pub struct Copied {
    pub tables: Vec<(String, u64)>,
}

/// Copies the SQLite database in `data_dir` into the PostgreSQL database
/// at `url` (made and migrated if needed; it must hold no users and no
/// documents). Both schemas are migrated to this build's first.
pub fn copy(data_dir: &Path, url: &str) -> Result<Copied, CopyError> {
    // Opening migrates each side to this build's schema, so the columns
    // match; then both are read and written directly.
    drop(SqliteStorage::open_existing(data_dir)?);
    drop(PgStorage::open(url, 1)?);
    let config: postgres::Config = url.parse().map_err(StorageError::from)?;
    // The synchronous client refuses to run on an async worker thread.
    std::thread::scope(|s| {
        s.spawn(|| {
            let source = rusqlite::Connection::open_with_flags(
                data_dir.join(DB_FILE),
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            let mut target = config.connect(postgres::NoTls)?;
            copy_into(&source, &mut target)
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

fn copy_into(
    source: &rusqlite::Connection,
    target: &mut postgres::Client,
) -> Result<Copied, CopyError> {
    let mut tx = target.transaction()?;
    let held = tx.query_one(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM docs)",
        &[],
    )?;
    let (users, docs): (i64, i64) = (held.get(0), held.get(1));
    if users > 0 || docs > 0 {
        return Err(CopyError::NotEmpty { users, docs });
    }
    let known: Vec<&str> = TABLES
        .iter()
        .map(|(t, _)| *t)
        .chain(NOT_COPIED.iter().copied())
        .collect();
    for row in tx.query(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        &[],
    )? {
        let table: String = row.get(0);
        if !known.contains(&table.as_str()) {
            return Err(CopyError::UnknownTable(table));
        }
    }

    // What the source's data migrations have done is what counts: the
    // target's schema migrations may have marked some done on its empty
    // tables.
    tx.execute("DELETE FROM data_migrations", &[])?;
    let mut copied = Copied::default();
    for (table, order) in TABLES {
        let n = copy_table(source, &mut tx, table, order)?;
        let in_target: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])?
            .get(0);
        if in_target != n as i64 {
            return Err(CopyError::Count {
                table: table.to_string(),
                read: n,
                written: in_target,
            });
        }
        copied.tables.push((table.to_string(), n));
    }

    // The counters: the source's values over the target's, then the
    // position the next change is given, after the last copied one.
    let mut counters = source.prepare("SELECT name, value FROM counters")?;
    let rows = counters.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (name, value) = row?;
        tx.execute(
            "INSERT INTO counters (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            &[&name, &value],
        )?;
    }
    tx.execute(
        "UPDATE counters SET value = (SELECT coalesce(max(seq), 0) FROM log) WHERE name = 'log_seq'",
        &[],
    )?;
    tx.query_one(
        "SELECT setval(pg_get_serial_sequence('access_log', 'seq'),
                       (SELECT coalesce(max(seq), 0) + 1 FROM access_log), false)",
        &[],
    )?;
    tx.commit()?;
    // The planner's statistics of the copied tables (see Storage::analyze),
    // and their visibility maps: without them no count is an index-only
    // scan until autovacuum comes by (a street's count at a million records
    // read 200 ms of table instead of 20 ms of index).
    target.batch_execute("VACUUM ANALYZE")?;
    Ok(copied)
}

/// A column of the target table: its name and PostgreSQL type.
struct Column {
    name: String,
    ty: Type,
}

fn columns(tx: &mut postgres::Transaction<'_>, table: &str) -> Result<Vec<Column>, CopyError> {
    let rows = tx.query(
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1
         ORDER BY ordinal_position",
        &[&table],
    )?;
    rows.iter()
        .map(|r| {
            let name: String = r.get(0);
            let data_type: String = r.get(1);
            let ty = match data_type.as_str() {
                "uuid" => Type::UUID,
                "bytea" => Type::BYTEA,
                "boolean" => Type::BOOL,
                "bigint" => Type::INT8,
                "integer" => Type::INT4,
                "double precision" => Type::FLOAT8,
                "text" => Type::TEXT,
                other => {
                    return Err(CopyError::Column {
                        table: table.to_string(),
                        column: name,
                        why: format!("type {other} is not one the copy converts"),
                    });
                }
            };
            Ok(Column { name, ty })
        })
        .collect()
}

/// Copies one table through PostgreSQL's binary `COPY`; the rows copied.
fn copy_table(
    source: &rusqlite::Connection,
    tx: &mut postgres::Transaction<'_>,
    table: &str,
    order: &str,
) -> Result<u64, CopyError> {
    let columns = columns(tx, table)?;
    let names = columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut select = source.prepare(&format!("SELECT {names} FROM {table} ORDER BY {order}"))?;
    let types: Vec<Type> = columns.iter().map(|c| c.ty.clone()).collect();
    let sink = tx.copy_in(&format!("COPY {table} ({names}) FROM STDIN BINARY"))?;
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    let mut rows = select.query([])?;
    let mut n = 0u64;
    while let Some(row) = rows.next()? {
        let mut values: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(columns.len());
        for (i, column) in columns.iter().enumerate() {
            let value = row.get_ref(i)?;
            values.push(convert(value, &column.ty).map_err(|why| CopyError::Column {
                table: table.to_string(),
                column: column.name.clone(),
                why,
            })?);
        }
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
        writer.write(&refs)?;
        n += 1;
    }
    writer.finish()?;
    Ok(n)
}

/// A SQLite value as the PostgreSQL column's type takes it.
fn convert(value: ValueRef<'_>, ty: &Type) -> Result<Box<dyn ToSql + Sync>, String> {
    let wrong = |v: ValueRef<'_>| format!("a {:?} value where {ty} was expected", v.data_type());
    Ok(match *ty {
        Type::UUID => Box::new(match value {
            ValueRef::Null => None,
            ValueRef::Blob(b) => Some(Uuid::from_slice(b).map_err(|e| e.to_string())?),
            ValueRef::Text(t) => Some(Uuid::try_parse_ascii(t).map_err(|e| e.to_string())?),
            v => return Err(wrong(v)),
        }),
        Type::BYTEA => Box::new(match value {
            ValueRef::Null => None,
            ValueRef::Blob(b) => Some(b.to_vec()),
            v => return Err(wrong(v)),
        }),
        Type::BOOL => Box::new(match value {
            ValueRef::Null => None,
            ValueRef::Integer(i) => Some(i != 0),
            v => return Err(wrong(v)),
        }),
        Type::INT8 => Box::new(match value {
            ValueRef::Null => None,
            ValueRef::Integer(i) => Some(i),
            v => return Err(wrong(v)),
        }),
        Type::INT4 => Box::new(match value {
            ValueRef::Null => None,
            ValueRef::Integer(i) => Some(i32::try_from(i).map_err(|e| e.to_string())?),
            v => return Err(wrong(v)),
        }),
        Type::FLOAT8 => Box::new(match value {
            ValueRef::Null => None,
            ValueRef::Real(f) => Some(f),
            ValueRef::Integer(i) => Some(i as f64),
            v => return Err(wrong(v)),
        }),
        _ => Box::new(match value {
            ValueRef::Null => None,
            ValueRef::Text(t) => Some(String::from_utf8(t.to_vec()).map_err(|e| e.to_string())?),
            v => return Err(wrong(v)),
        }),
    })
}
