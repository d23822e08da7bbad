//! The PostgreSQL side of the console's projections: the statements of
//! [`super::super::projections`], run with `$N` parameters, and the same
//! rows read back. Types differ from SQLite's (UUID, BOOLEAN, DOUBLE
//! PRECISION), values do not.

use std::collections::BTreeSet;

use gridwork_core::model::RecordKind;
use postgres::types::ToSql;
use postgres::{GenericClient, Row};

use super::super::StorageError;
use super::super::projections::{
    self, Arg, ColumnValues, Columns, CycleWriter, IdRange, ListFilter, ListPage, ProjectionRow,
    Projections, Statement, StoredProjection, Val,
};
use super::PgStorage;

fn sql(text: &str) -> String {
    projections::numbered(text, '$')
}

/// Stores (inserting or replacing) a record's rows, last changed at
/// `updated_at`, and keeps the visit cycles they change. Called inside
/// the transaction that stores the document.
pub(super) fn put(
    conn: &mut impl GenericClient,
    row: &ProjectionRow,
    updated_at: i64,
) -> Result<(), StorageError> {
    projections::put_keeping_cycles(&mut Writer(conn), row, |w| put_row(w.0, row, updated_at))
}

/// A connection as [`projections`] keeps visit cycles with it.
struct Writer<'a, C>(&'a mut C);

impl<C: GenericClient> CycleWriter for Writer<'_, C> {
    fn ids(&mut self, st: &Statement) -> Result<BTreeSet<uuid::Uuid>, StorageError> {
        let mut out = BTreeSet::new();
        for r in query(self.0, st)? {
            out.extend(r.id(0)?);
            out.extend(r.id(1)?);
        }
        Ok(out)
    }

    fn run(&mut self, st: &Statement) -> Result<(), StorageError> {
        execute(self.0, st)?;
        Ok(())
    }
}

/// Stores a record's rows, leaving the visit cycles to the caller.
fn put_row(
    conn: &mut impl GenericClient,
    row: &ProjectionRow,
    updated_at: i64,
) -> Result<(), StorageError> {
    let c = Columns::of(row, updated_at);
    conn.execute(
        &sql(projections::UPSERT),
        &[
            &c.id,
            &c.kind,
            &c.grid,
            &c.title,
            &c.subtitle,
            &c.status,
            &c.category,
            &c.urgency,
            &c.parent_id,
            &c.created_at,
            &c.created_by,
            &c.updated_at,
            &c.deleted,
            &c.return_comment,
            &c.lon,
            &c.lat,
            &c.cycle_days,
            &c.visit_at,
        ],
    )?;
    match &c.patrol {
        None => {
            conn.execute(&sql(projections::DELETE_PATROL), &[&c.id])?;
        }
        Some(p) => {
            conn.execute(
                &sql(projections::UPSERT_PATROL),
                &[
                    &c.id,
                    &p.worker,
                    &p.started_at,
                    &p.ended_at,
                    &p.boundary_key,
                    &p.cells_total,
                    &p.cells,
                    &c.grid,
                    &c.status,
                    &c.category,
                    &c.deleted,
                ],
            )?;
        }
    }
    match &c.ledger {
        None => {
            conn.execute(&sql(projections::DELETE_LEDGER), &[&c.id])?;
        }
        Some(json) => {
            conn.execute(&sql(projections::UPSERT_LEDGER), &[&c.id, json])?;
        }
    }
    match &c.incident {
        None => {
            conn.execute(&sql(projections::DELETE_INCIDENT), &[&c.id])?;
        }
        Some(i) => {
            conn.execute(
                &sql(projections::UPSERT_INCIDENT),
                &[
                    &c.id,
                    &i.number,
                    &i.level,
                    &i.assignee_kind,
                    &i.assignee_id,
                    &i.assignee_name,
                    &i.deadline,
                    &i.escalations,
                    &i.resolved_on_spot,
                    &i.feedback,
                    &i.reported_at,
                    &i.accepted_at,
                    &i.resolved_at,
                    &i.closed_at,
                    &c.grid,
                    &c.status,
                    &c.category,
                    &c.deleted,
                ],
            )?;
        }
    }
    Ok(())
}

impl ColumnValues for Row {
    fn text(&self, i: usize) -> Result<Option<String>, StorageError> {
        Ok(self.try_get(i)?)
    }
    fn int(&self, i: usize) -> Result<Option<i64>, StorageError> {
        Ok(self.try_get(i)?)
    }
    fn real(&self, i: usize) -> Result<Option<f64>, StorageError> {
        Ok(self.try_get(i)?)
    }
    fn flag(&self, i: usize) -> Result<Option<bool>, StorageError> {
        Ok(self.try_get(i)?)
    }
    fn id(&self, i: usize) -> Result<Option<uuid::Uuid>, StorageError> {
        Ok(self.try_get(i)?)
    }
    fn bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.try_get(i)?)
    }
}

/// `st`'s parameters, as the client binds them.
fn bound(st: &Statement) -> Vec<&(dyn ToSql + Sync)> {
    st.args
        .iter()
        .map(|a| match a {
            Arg::Text(s) => s as &(dyn ToSql + Sync),
            Arg::Int(i) => i as &(dyn ToSql + Sync),
            Arg::Id(id) => id as &(dyn ToSql + Sync),
        })
        .collect()
}

/// The rows of `st`, with its parameters bound.
fn query(conn: &mut impl GenericClient, st: &Statement) -> Result<Vec<Row>, StorageError> {
    Ok(conn.query(&sql(&st.sql), &bound(st))?)
}

/// Runs `st`, with its parameters bound.
fn execute(conn: &mut impl GenericClient, st: &Statement) -> Result<u64, StorageError> {
    Ok(conn.execute(&sql(&st.sql), &bound(st))?)
}

fn stored(rows: &[Row]) -> Result<Vec<StoredProjection>, StorageError> {
    rows.iter()
        .map(|r| Columns::read(r)?.into_stored())
        .collect()
}

impl Projections for PgStorage {
    fn list_projections(
        &self,
        filter: &ListFilter,
        offset: u64,
        limit: Option<u64>,
    ) -> Result<ListPage, StorageError> {
        let (count, page) = projections::list_statements(filter, offset, limit);
        let mut conn = self.conn()?;
        // One snapshot: the count and the page agree.
        let mut tx = conn
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let total: i64 = query(&mut tx, &count)?
            .first()
            .map(|r| r.try_get(0))
            .transpose()?
            .unwrap_or(0);
        let rows = query(&mut tx, &page)?
            .iter()
            .map(|r| {
                let flags = projections::COLUMN_COUNT;
                Columns::read(r)?.listed(r.try_get(flags)?, r.try_get(flags + 1)?)
            })
            .collect::<Result<_, StorageError>>()?;
        tx.commit()?;
        Ok(ListPage {
            total: total as u64,
            rows,
        })
    }

    fn projections_in(
        &self,
        scope_path: &str,
        kinds: &[RecordKind],
    ) -> Result<Vec<StoredProjection>, StorageError> {
        let st = projections::in_statement(scope_path, kinds);
        stored(&query(&mut *self.conn()?, &st)?)
    }

    fn projection_range(&self, range: IdRange) -> Result<Vec<StoredProjection>, StorageError> {
        query(&mut *self.conn()?, &projections::range_statement(range))?
            .iter()
            .map(|r| Columns::read_whole(r)?.into_stored())
            .collect()
    }

    fn ledger_records(
        &self,
        ids: &[uuid::Uuid],
    ) -> Result<Vec<(uuid::Uuid, String)>, StorageError> {
        let rows = self
            .conn()?
            .query(projections::LEDGER_RECORDS_ANY, &[&ids])?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for r in rows {
            found.insert(r.try_get::<_, uuid::Uuid>(0)?, r.try_get::<_, String>(1)?);
        }
        Ok(ids
            .iter()
            .filter_map(|id| found.remove(id).map(|j| (*id, j)))
            .collect())
    }

    fn projection_count(&self) -> Result<u64, StorageError> {
        let n: i64 = self
            .conn()?
            .query_one("SELECT COUNT(*) FROM projections", &[])?
            .try_get(0)?;
        Ok(n as u64)
    }

    fn read_rows(&self, statements: &[Statement]) -> Result<Vec<Vec<Vec<Val>>>, StorageError> {
        use postgres::types::Type;
        let mut conn = self.conn()?;
        // One snapshot: the figures agree with each other.
        let mut tx = conn
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let mut out = Vec::with_capacity(statements.len());
        for st in statements {
            let rows = query(&mut tx, st)?;
            let read = rows
                .iter()
                .map(|r| {
                    r.columns()
                        .iter()
                        .enumerate()
                        .map(|(k, c)| {
                            let t = c.type_();
                            Ok(if *t == Type::INT8 {
                                r.try_get::<_, Option<i64>>(k)?.map_or(Val::Null, Val::Int)
                            } else if *t == Type::INT4 {
                                r.try_get::<_, Option<i32>>(k)?
                                    .map_or(Val::Null, |i| Val::Int(i64::from(i)))
                            } else if *t == Type::INT2 {
                                r.try_get::<_, Option<i16>>(k)?
                                    .map_or(Val::Null, |i| Val::Int(i64::from(i)))
                            } else if *t == Type::BOOL {
                                r.try_get::<_, Option<bool>>(k)?
                                    .map_or(Val::Null, |b| Val::Int(i64::from(b)))
                            } else if *t == Type::UUID {
                                r.try_get::<_, Option<uuid::Uuid>>(k)?
                                    .map_or(Val::Null, |u| Val::Bytes(u.as_bytes().to_vec()))
                            } else if *t == Type::BYTEA {
                                r.try_get::<_, Option<Vec<u8>>>(k)?
                                    .map_or(Val::Null, Val::Bytes)
                            } else {
                                r.try_get::<_, Option<String>>(k)?
                                    .map_or(Val::Null, Val::Text)
                            })
                        })
                        .collect::<Result<Vec<Val>, StorageError>>()
                })
                .collect::<Result<Vec<_>, StorageError>>()?;
            out.push(read);
        }
        tx.commit()?;
        Ok(out)
    }

    fn put_projections(&self, rows: &[StoredProjection]) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        for r in rows {
            put(&mut tx, &r.row, r.updated_at)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn replace_projections(
        &self,
        range: IdRange,
        rows: &[StoredProjection],
    ) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        projections::replace_keeping_cycles(&mut Writer(&mut tx), range, rows, |w, r| {
            put_row(w.0, &r.row, r.updated_at)
        })?;
        tx.commit()?;
        Ok(())
    }

    fn refill_visit_cycles(&self) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        projections::refill_cycles(&mut Writer(&mut tx))?;
        tx.commit()?;
        Ok(())
    }
}
