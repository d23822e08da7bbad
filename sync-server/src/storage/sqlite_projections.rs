//! The SQLite side of the console's projections (see
//! [`super::projections`] for what the rows are, when they are written,
//! and the statements, which this file only runs).

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Row, params, params_from_iter};
use uuid::Uuid;

use super::StorageError;
use super::projections::{
    self, Arg, Columns, IncidentColumns, ListFilter, ListPage, PatrolColumns, ProjectionRow,
    Projections, Statement, StoredProjection, Val,
};
use super::sqlite::SqliteStorage;

/// Stores (inserting or replacing) a record's rows, last changed at
/// `updated_at`. Called inside the transaction that stores the document.
pub(super) fn put(
    conn: &Connection,
    row: &ProjectionRow,
    updated_at: i64,
) -> Result<(), StorageError> {
    let c = Columns::of(row, updated_at);
    let id = &c.id.as_bytes()[..];
    conn.prepare_cached(projections::UPSERT)?.execute(params![
        id,
        c.kind,
        c.grid,
        c.title,
        c.subtitle,
        c.status,
        c.category,
        c.urgency,
        c.parent_id.as_ref().map(|p| p.as_bytes().to_vec()),
        c.created_at,
        c.created_by,
        c.updated_at,
        c.deleted,
        c.return_comment,
        c.lon,
        c.lat,
        c.cycle_days,
        c.visit_at,
    ])?;
    match &c.patrol {
        None => {
            conn.prepare_cached(projections::DELETE_PATROL)?
                .execute([id])?;
        }
        Some(p) => {
            conn.prepare_cached(projections::UPSERT_PATROL)?
                .execute(params![
                    id,
                    p.worker,
                    p.started_at,
                    p.ended_at,
                    p.boundary_key,
                    p.cells_total,
                    p.cells,
                ])?;
        }
    }
    match &c.incident {
        None => {
            conn.prepare_cached(projections::DELETE_INCIDENT)?
                .execute([id])?;
        }
        Some(i) => {
            conn.prepare_cached(projections::UPSERT_INCIDENT)?
                .execute(params![
                    id,
                    i.number,
                    i.level,
                    i.assignee_kind,
                    i.assignee_id,
                    i.assignee_name,
                    i.deadline,
                    i.escalations,
                    i.resolved_on_spot,
                    i.feedback,
                    i.reported_at,
                    i.accepted_at,
                    i.resolved_at,
                    i.closed_at,
                ])?;
        }
    }
    Ok(())
}

fn uuid(bytes: Vec<u8>) -> rusqlite::Result<Uuid> {
    Uuid::from_slice(&bytes).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(16, rusqlite::types::Type::Blob, Box::new(e))
    })
}

/// The [`projections::COLUMNS`] of a row.
fn columns(r: &Row<'_>) -> rusqlite::Result<Columns> {
    let incident = match r.get::<_, Option<Vec<u8>>>(16)? {
        None => None,
        Some(_) => Some(IncidentColumns {
            number: r.get(17)?,
            level: r.get(18)?,
            assignee_kind: r.get(19)?,
            assignee_id: r.get(20)?,
            assignee_name: r.get(21)?,
            deadline: r.get(22)?,
            escalations: r.get(23)?,
            resolved_on_spot: r.get(24)?,
            feedback: r.get(25)?,
            reported_at: r.get(26)?,
            accepted_at: r.get(27)?,
            resolved_at: r.get(28)?,
            closed_at: r.get(29)?,
        }),
    };
    let patrol = match r.get::<_, Option<Vec<u8>>>(32)? {
        None => None,
        Some(_) => Some(PatrolColumns {
            worker: r.get(33)?,
            started_at: r.get(34)?,
            ended_at: r.get(35)?,
            boundary_key: r.get(36)?,
            cells_total: r.get(37)?,
            cells: r.get(38)?,
        }),
    };
    Ok(Columns {
        id: uuid(r.get(0)?)?,
        kind: r.get(1)?,
        grid: r.get(2)?,
        title: r.get(3)?,
        subtitle: r.get(4)?,
        status: r.get(5)?,
        category: r.get(6)?,
        urgency: r.get(7)?,
        parent_id: r.get::<_, Option<Vec<u8>>>(8)?.map(uuid).transpose()?,
        created_at: r.get(9)?,
        created_by: r.get(10)?,
        updated_at: r.get(11)?,
        deleted: r.get(12)?,
        return_comment: r.get(13)?,
        lon: r.get(14)?,
        lat: r.get(15)?,
        cycle_days: r.get(30)?,
        visit_at: r.get(31)?,
        incident,
        patrol,
    })
}

fn args(st: &Statement) -> impl Iterator<Item = Value> + '_ {
    st.args.iter().map(|a| match a {
        Arg::Text(s) => Value::from(s.clone()),
        Arg::Int(i) => Value::from(*i),
    })
}

/// The rows `sql` (with `args`) selects, [`projections::COLUMNS`] first.
fn query(conn: &Connection, st: &Statement) -> Result<Vec<StoredProjection>, StorageError> {
    let mut stmt = conn.prepare_cached(&st.sql)?;
    let rows = stmt.query_map(params_from_iter(args(st)), columns)?;
    rows.map(|r| r?.into_stored()).collect()
}

impl Projections for SqliteStorage {
    fn list_projections(
        &self,
        filter: &ListFilter,
        offset: u64,
        limit: Option<u64>,
    ) -> Result<ListPage, StorageError> {
        let (count, page) = projections::list_statements(filter, offset, limit);
        let conn = self.conn();
        let total: i64 = conn
            .prepare_cached(&count.sql)?
            .query_row(params_from_iter(args(&count)), |r| r.get(0))?;
        let mut stmt = conn.prepare_cached(&page.sql)?;
        let rows = stmt.query_map(params_from_iter(args(&page)), |r| {
            let flags = projections::COLUMN_COUNT;
            Ok((
                columns(r)?,
                r.get::<_, bool>(flags)?,
                r.get::<_, bool>(flags + 1)?,
            ))
        })?;
        let rows = rows
            .map(|r| {
                let (c, overdue, due_soon) = r?;
                c.listed(overdue, due_soon)
            })
            .collect::<Result<_, StorageError>>()?;
        Ok(ListPage {
            total: total as u64,
            rows,
        })
    }

    fn projections_in(
        &self,
        scope_path: &str,
        kinds: &[gridwork_core::model::RecordKind],
    ) -> Result<Vec<StoredProjection>, StorageError> {
        query(&self.conn(), &projections::in_statement(scope_path, kinds))
    }

    fn all_projections(&self) -> Result<Vec<StoredProjection>, StorageError> {
        let st = Statement {
            sql: projections::all_statement(),
            args: Vec::new(),
        };
        query(&self.conn(), &st)
    }

    fn projection_count(&self) -> Result<u64, StorageError> {
        let conn = self.conn();
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM projections", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn read_rows(&self, statements: &[Statement]) -> Result<Vec<Vec<Vec<Val>>>, StorageError> {
        // One connection, held throughout: no write comes in between.
        let conn = self.conn();
        statements
            .iter()
            .map(|st| {
                let mut stmt = conn.prepare_cached(&st.sql)?;
                let n = stmt.column_count();
                let rows = stmt.query_map(params_from_iter(args(st)), |r| {
                    (0..n)
                        .map(|k| {
                            Ok(match r.get_ref(k)? {
                                ValueRef::Null => Val::Null,
                                ValueRef::Integer(i) => Val::Int(i),
                                ValueRef::Real(f) => Val::Int(f as i64),
                                ValueRef::Text(t) => {
                                    Val::Text(String::from_utf8_lossy(t).into_owned())
                                }
                                ValueRef::Blob(b) => Val::Bytes(b.to_vec()),
                            })
                        })
                        .collect::<rusqlite::Result<Vec<Val>>>()
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .collect()
    }

    fn replace_projections(&self, rows: &[StoredProjection]) -> Result<(), StorageError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM incident_projections", [])?;
        tx.execute("DELETE FROM patrol_projections", [])?;
        tx.execute("DELETE FROM projections", [])?;
        for r in rows {
            put(&tx, &r.row, r.updated_at)?;
        }
        tx.commit()?;
        Ok(())
    }
}
