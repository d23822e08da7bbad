//! The PostgreSQL side of the console's projections: the statements of
//! [`super::super::projections`], run with `$N` parameters, and the same
//! rows read back. Types differ from SQLite's (UUID, BOOLEAN, DOUBLE
//! PRECISION), values do not.

use gridwork_core::model::RecordKind;
use postgres::types::ToSql;
use postgres::{GenericClient, Row};

use super::super::StorageError;
use super::super::projections::{
    self, Arg, Columns, IncidentColumns, ListFilter, ListPage, PatrolColumns, ProjectionRow,
    Projections, Statement, StoredProjection, Val,
};
use super::PgStorage;

fn sql(text: &str) -> String {
    projections::numbered(text, '$')
}

/// Stores (inserting or replacing) a record's rows, last changed at
/// `updated_at`. Called inside the transaction that stores the document.
pub(super) fn put(
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
                ],
            )?;
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
                ],
            )?;
        }
    }
    Ok(())
}

/// The [`projections::COLUMNS`] of a row.
fn columns(r: &Row) -> Result<Columns, StorageError> {
    let incident = match r.try_get::<_, Option<uuid::Uuid>>(16)? {
        None => None,
        Some(_) => Some(IncidentColumns {
            number: r.try_get(17)?,
            level: r.try_get(18)?,
            assignee_kind: r.try_get(19)?,
            assignee_id: r.try_get(20)?,
            assignee_name: r.try_get(21)?,
            deadline: r.try_get(22)?,
            escalations: r.try_get(23)?,
            resolved_on_spot: r.try_get(24)?,
            feedback: r.try_get(25)?,
            reported_at: r.try_get(26)?,
            accepted_at: r.try_get(27)?,
            resolved_at: r.try_get(28)?,
            closed_at: r.try_get(29)?,
        }),
    };
    let patrol = match r.try_get::<_, Option<uuid::Uuid>>(32)? {
        None => None,
        Some(_) => Some(PatrolColumns {
            worker: r.try_get(33)?,
            started_at: r.try_get(34)?,
            ended_at: r.try_get(35)?,
            boundary_key: r.try_get(36)?,
            cells_total: r.try_get(37)?,
            cells: r.try_get(38)?,
        }),
    };
    Ok(Columns {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        grid: r.try_get(2)?,
        title: r.try_get(3)?,
        subtitle: r.try_get(4)?,
        status: r.try_get(5)?,
        category: r.try_get(6)?,
        urgency: r.try_get(7)?,
        parent_id: r.try_get(8)?,
        created_at: r.try_get(9)?,
        created_by: r.try_get(10)?,
        updated_at: r.try_get(11)?,
        deleted: r.try_get(12)?,
        return_comment: r.try_get(13)?,
        lon: r.try_get(14)?,
        lat: r.try_get(15)?,
        cycle_days: r.try_get(30)?,
        visit_at: r.try_get(31)?,
        incident,
        patrol,
    })
}

/// The rows of `st`, with its parameters bound.
fn query(conn: &mut impl GenericClient, st: &Statement) -> Result<Vec<Row>, StorageError> {
    let args: Vec<&(dyn ToSql + Sync)> = st
        .args
        .iter()
        .map(|a| match a {
            Arg::Text(s) => s as &(dyn ToSql + Sync),
            Arg::Int(i) => i as &(dyn ToSql + Sync),
        })
        .collect();
    Ok(conn.query(&sql(&st.sql), &args)?)
}

fn stored(rows: &[Row]) -> Result<Vec<StoredProjection>, StorageError> {
    rows.iter().map(|r| columns(r)?.into_stored()).collect()
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
                columns(r)?.listed(r.try_get(flags)?, r.try_get(flags + 1)?)
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

    fn all_projections(&self) -> Result<Vec<StoredProjection>, StorageError> {
        let st = Statement {
            sql: projections::all_statement(),
            args: Vec::new(),
        };
        stored(&query(&mut *self.conn()?, &st)?)
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

    fn replace_projections(&self, rows: &[StoredProjection]) -> Result<(), StorageError> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.batch_execute(
            "DELETE FROM incident_projections; DELETE FROM patrol_projections;
             DELETE FROM projections",
        )?;
        for r in rows {
            put(&mut tx, &r.row, r.updated_at)?;
        }
        tx.commit()?;
        Ok(())
    }
}
