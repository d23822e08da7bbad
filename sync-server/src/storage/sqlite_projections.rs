//! The SQLite side of the console's projections (see
//! [`super::projections`] for what the rows are, when they are written,
//! and the statements, which this file only runs).

use std::collections::BTreeSet;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use uuid::Uuid;

use super::StorageError;
use super::projections::{
    self, Arg, ColumnValues, Columns, CycleWriter, IdRange, ListFilter, ListPage, ProjectionRow,
    Projections, Statement, StoredProjection, Val,
};
use super::sqlite::SqliteStorage;

/// Stores (inserting or replacing) a record's rows, last changed at
/// `updated_at`, and keeps the visit cycles they change. Called inside
/// the transaction that stores the document.
pub(super) fn put(
    conn: &Connection,
    row: &ProjectionRow,
    updated_at: i64,
) -> Result<(), StorageError> {
    projections::put_keeping_cycles(&mut Writer(conn), row, |w| put_row(w.0, row, updated_at))
}

/// A connection as [`projections`] keeps visit cycles with it.
struct Writer<'a>(&'a Connection);

impl CycleWriter for Writer<'_> {
    fn ids(&mut self, st: &Statement) -> Result<BTreeSet<Uuid>, StorageError> {
        let mut stmt = self.0.prepare_cached(&st.sql)?;
        let mut rows = stmt.query(params_from_iter(args(st)))?;
        let mut out = BTreeSet::new();
        while let Some(r) = rows.next()? {
            out.extend(r.id(0)?);
            out.extend(r.id(1)?);
        }
        Ok(out)
    }

    fn run(&mut self, st: &Statement) -> Result<(), StorageError> {
        self.0
            .prepare_cached(&st.sql)?
            .execute(params_from_iter(args(st)))?;
        Ok(())
    }
}

/// Stores a record's rows, leaving the visit cycles to the caller.
fn put_row(conn: &Connection, row: &ProjectionRow, updated_at: i64) -> Result<(), StorageError> {
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
                    c.grid,
                    c.status,
                    c.category,
                    c.deleted,
                ])?;
        }
    }
    match &c.ledger {
        None => {
            conn.prepare_cached(projections::DELETE_LEDGER)?
                .execute([id])?;
        }
        Some(json) => {
            conn.prepare_cached(projections::UPSERT_LEDGER)?
                .execute(params![id, json])?;
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
                    c.grid,
                    c.status,
                    c.category,
                    c.deleted,
                ])?;
        }
    }
    Ok(())
}

impl ColumnValues for Row<'_> {
    fn text(&self, i: usize) -> Result<Option<String>, StorageError> {
        Ok(self.get(i)?)
    }
    fn int(&self, i: usize) -> Result<Option<i64>, StorageError> {
        Ok(self.get(i)?)
    }
    fn real(&self, i: usize) -> Result<Option<f64>, StorageError> {
        Ok(self.get(i)?)
    }
    fn flag(&self, i: usize) -> Result<Option<bool>, StorageError> {
        Ok(self.get(i)?)
    }
    /// Ids are stored as their 16 bytes.
    fn id(&self, i: usize) -> Result<Option<Uuid>, StorageError> {
        self.get::<_, Option<Vec<u8>>>(i)?
            .map(|b| Uuid::from_slice(&b))
            .transpose()
            .map_err(|e| StorageError::Corrupt(format!("column {i} is not an id: {e}")))
    }
    fn bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.get(i)?)
    }
}

fn args(st: &Statement) -> impl Iterator<Item = Value> + '_ {
    st.args.iter().map(|a| match a {
        Arg::Text(s) => Value::from(s.clone()),
        Arg::Int(i) => Value::from(*i),
        Arg::Id(id) => Value::from(id.as_bytes().to_vec()),
    })
}

/// The rows `sql` (with `args`) selects, [`projections::COLUMNS`] first.
fn query(conn: &Connection, st: &Statement) -> Result<Vec<StoredProjection>, StorageError> {
    let mut stmt = conn.prepare_cached(&st.sql)?;
    let mut rows = stmt.query(params_from_iter(args(st)))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(Columns::read(r)?.into_stored()?);
    }
    Ok(out)
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
        let mut rows = stmt.query(params_from_iter(args(&page)))?;
        let flags = projections::COLUMN_COUNT;
        let mut listed = Vec::new();
        while let Some(r) = rows.next()? {
            listed.push(Columns::read(r)?.listed(r.get(flags)?, r.get(flags + 1)?)?);
        }
        Ok(ListPage {
            total: total as u64,
            rows: listed,
        })
    }

    fn projections_in(
        &self,
        scope_path: &str,
        kinds: &[gridwork_core::model::RecordKind],
    ) -> Result<Vec<StoredProjection>, StorageError> {
        query(&self.conn(), &projections::in_statement(scope_path, kinds))
    }

    fn projection_range(&self, range: IdRange) -> Result<Vec<StoredProjection>, StorageError> {
        let st = projections::range_statement(range);
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&st.sql)?;
        let mut rows = stmt.query(params_from_iter(args(&st)))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(Columns::read_whole(r)?.into_stored()?);
        }
        Ok(out)
    }

    fn ledger_records(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, StorageError> {
        // One statement per id on one connection, as `load_docs`.
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(projections::LEDGER_RECORD)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let record: Option<String> = stmt
                .query_row([&id.as_bytes()[..]], |r| r.get(0))
                .optional()?;
            out.extend(record.map(|r| (*id, r)));
        }
        Ok(out)
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

    fn put_projections(&self, rows: &[StoredProjection]) -> Result<(), StorageError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for r in rows {
            put(&tx, &r.row, r.updated_at)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn replace_projections(
        &self,
        range: IdRange,
        rows: &[StoredProjection],
    ) -> Result<(), StorageError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        projections::replace_keeping_cycles(&mut Writer(&tx), range, rows, |w, r| {
            put_row(w.0, &r.row, r.updated_at)
        })?;
        tx.commit()?;
        Ok(())
    }

    fn refill_visit_cycles(&self) -> Result<(), StorageError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        projections::refill_cycles(&mut Writer(&tx))?;
        tx.commit()?;
        Ok(())
    }
}
