//! The SQLite statements of the console's projections (see
//! [`super::projections`] for what the rows are and when they are
//! written).

use gridwork_core::model::RecordKind;
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params, params_from_iter};
use uuid::Uuid;

use super::StorageError;
use super::projections::{
    DeadlineWindow, IncidentRow, ListFilter, ListPage, ListedRow, ProjectionRow, Projections,
    StoredProjection,
};
use super::sqlite::SqliteStorage;
use crate::grids::subtree_range;

/// Stores (inserting or replacing) a record's rows, last changed at
/// `updated_at`. Called inside the transaction that stores the document.
pub(super) fn put(
    conn: &Connection,
    row: &ProjectionRow,
    updated_at: i64,
) -> Result<(), StorageError> {
    let id = &row.id.as_bytes()[..];
    conn.prepare_cached(
        "INSERT INTO projections (id, kind, grid, title, subtitle, status, category, urgency,
            parent_id, created_at, created_by, updated_at, deleted, return_comment, lon, lat)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, grid = excluded.grid,
            title = excluded.title, subtitle = excluded.subtitle, status = excluded.status,
            category = excluded.category, urgency = excluded.urgency,
            parent_id = excluded.parent_id, created_at = excluded.created_at,
            created_by = excluded.created_by, updated_at = excluded.updated_at,
            deleted = excluded.deleted, return_comment = excluded.return_comment,
            lon = excluded.lon, lat = excluded.lat",
    )?
    .execute(params![
        id,
        row.kind.as_str(),
        row.grid,
        row.title,
        row.subtitle,
        row.status,
        row.category,
        row.urgency,
        row.parent_id.as_ref().map(|p| p.as_bytes().to_vec()),
        row.created_at,
        row.created_by,
        updated_at,
        row.deleted,
        row.return_comment,
        row.point.map(|p| p.0),
        row.point.map(|p| p.1),
    ])?;
    match &row.incident {
        None => {
            conn.prepare_cached("DELETE FROM incident_projections WHERE id = ?1")?
                .execute([id])?;
        }
        Some(i) => {
            let (akind, aid, aname) = match &i.assignee {
                Some((k, id, name)) => (Some(k), Some(id), Some(name)),
                None => (None, None, None),
            };
            conn.prepare_cached(
                "INSERT OR REPLACE INTO incident_projections (id, number, level, assignee_kind,
                    assignee_id, assignee_name, deadline, escalations, resolved_on_spot, feedback,
                    reported_at, accepted_at, resolved_at, closed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                id,
                i.number,
                i.level,
                akind,
                aid,
                aname,
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

/// The columns [`from_row`] reads, `p` the projections and `i` the
/// incident rows (left-joined).
const COLUMNS: &str = "p.id, p.kind, p.grid, p.title, p.subtitle, p.status, p.category,
    p.urgency, p.parent_id, p.created_at, p.created_by, p.updated_at, p.deleted,
    p.return_comment, p.lon, p.lat, i.id, i.number, i.level, i.assignee_kind, i.assignee_id,
    i.assignee_name, i.deadline, i.escalations, i.resolved_on_spot, i.feedback, i.reported_at,
    i.accepted_at, i.resolved_at, i.closed_at";

fn uuid(bytes: Vec<u8>) -> rusqlite::Result<Uuid> {
    Uuid::from_slice(&bytes).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(16, rusqlite::types::Type::Blob, Box::new(e))
    })
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<StoredProjection> {
    let kind: String = r.get(1)?;
    let kind = RecordKind::parse(&kind).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            1,
            rusqlite::types::Type::Text,
            format!("unknown record kind {kind}").into(),
        )
    })?;
    let lon: Option<f64> = r.get(14)?;
    let lat: Option<f64> = r.get(15)?;
    let incident = match r.get::<_, Option<Vec<u8>>>(16)? {
        None => None,
        Some(_) => {
            let akind: Option<String> = r.get(19)?;
            Some(IncidentRow {
                number: r.get(17)?,
                level: r.get(18)?,
                assignee: match akind {
                    Some(k) => Some((k, r.get(20)?, r.get(21)?)),
                    None => None,
                },
                deadline: r.get(22)?,
                escalations: r.get(23)?,
                resolved_on_spot: r.get(24)?,
                feedback: r.get(25)?,
                reported_at: r.get(26)?,
                accepted_at: r.get(27)?,
                resolved_at: r.get(28)?,
                closed_at: r.get(29)?,
            })
        }
    };
    Ok(StoredProjection {
        row: ProjectionRow {
            id: uuid(r.get(0)?)?,
            kind,
            grid: r.get(2)?,
            title: r.get(3)?,
            subtitle: r.get(4)?,
            status: r.get(5)?,
            category: r.get(6)?,
            urgency: r.get(7)?,
            parent_id: r.get::<_, Option<Vec<u8>>>(8)?.map(uuid).transpose()?,
            created_at: r.get(9)?,
            created_by: r.get(10)?,
            deleted: r.get(12)?,
            return_comment: r.get(13)?,
            point: lon.zip(lat),
            incident,
        },
        updated_at: r.get(11)?,
    })
}

/// `kinds` as a SQL list of quoted names (the names are core's own, never
/// user input).
fn kind_list(kinds: &[RecordKind]) -> String {
    kinds
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The `WHERE` clause of `filter` (over `p` and `i`) and its parameters.
fn list_where(filter: &ListFilter) -> (String, Vec<Value>) {
    let (lo, hi) = subtree_range(&filter.scope_path);
    let mut sql = format!(
        "p.kind IN ({}) AND p.grid IN (SELECT code FROM grids WHERE path >= ? AND path < ?)",
        kind_list(&filter.kinds)
    );
    let mut args: Vec<Value> = vec![lo.into(), hi.into()];
    if filter.live {
        sql.push_str(" AND p.deleted = 0");
    }
    if let Some(statuses) = &filter.statuses {
        if statuses.is_empty() {
            sql.push_str(" AND 0");
        } else {
            let pairs = vec!["(p.kind = ? AND p.status = ?)"; statuses.len()].join(" OR ");
            sql.push_str(&format!(" AND ({pairs})"));
            for (kind, status) in statuses {
                args.push(kind.as_str().to_string().into());
                args.push(status.clone().into());
            }
        }
    }
    if filter.from_lost_device {
        sql.push_str(&format!(
            " AND p.id IN ({})",
            super::device_states::DOCS_FROM_LOST
        ));
    }
    if let Some(d) = &filter.dispatched_to {
        sql.push_str(
            " AND ((i.assignee_kind = 'person' AND i.assignee_id = ?)
               OR (i.assignee_kind = 'department' AND ? <> ''
                   AND (i.assignee_id = ? OR i.assignee_name = ?)))",
        );
        args.push(d.user_id.clone().into());
        for _ in 0..3 {
            args.push(d.department.clone().into());
        }
    }
    (sql, args)
}

/// The deadline flags of `w` as two SQL expressions (over `p` and `i`),
/// with their parameters: overdue, due soon.
fn flag_columns(w: &DeadlineWindow) -> (String, Vec<Value>) {
    let open = vec!["?"; w.open.len()].join(",");
    let sql = format!(
        "(i.deadline IS NOT NULL AND p.status IN ({open}) AND i.deadline < ?),
         (i.deadline IS NOT NULL AND p.status IN ({open}) AND i.deadline >= ? AND i.deadline <= ?)"
    );
    let mut args: Vec<Value> = Vec::new();
    for v in [vec![w.today.clone()], vec![w.today.clone(), w.soon.clone()]] {
        args.extend(w.open.iter().cloned().map(Value::from));
        args.extend(v.into_iter().map(Value::from));
    }
    (sql, args)
}

impl Projections for SqliteStorage {
    fn list_projections(
        &self,
        filter: &ListFilter,
        offset: u64,
        limit: Option<u64>,
    ) -> Result<ListPage, StorageError> {
        let (cond, cond_args) = list_where(filter);
        let (flags, flag_args) = flag_columns(&filter.window);
        let from = "FROM projections p LEFT JOIN incident_projections i ON i.id = p.id";
        let conn = self.conn();
        let total: i64 = conn
            .prepare_cached(&format!("SELECT COUNT(*) {from} WHERE {cond}"))?
            .query_row(params_from_iter(&cond_args), |r| r.get(0))?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS}, {flags} {from} WHERE {cond}
              ORDER BY p.updated_at, p.id LIMIT ? OFFSET ?"
        ))?;
        let limit = limit.map_or(-1, |l| l.min(i64::MAX as u64) as i64);
        let args = flag_args
            .into_iter()
            .chain(cond_args)
            .chain([Value::from(limit), Value::from(offset as i64)]);
        let rows = stmt.query_map(params_from_iter(args), |r| {
            Ok(ListedRow {
                projection: from_row(r)?,
                overdue: r.get(30)?,
                due_soon: r.get(31)?,
            })
        })?;
        Ok(ListPage {
            total: total as u64,
            rows: rows.collect::<Result<_, _>>()?,
        })
    }

    fn projections_in(
        &self,
        scope_path: &str,
        kinds: &[RecordKind],
    ) -> Result<Vec<StoredProjection>, StorageError> {
        let (lo, hi) = subtree_range(scope_path);
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM projections p
               LEFT JOIN incident_projections i ON i.id = p.id
              WHERE p.kind IN ({})
                AND p.grid IN (SELECT code FROM grids WHERE path >= ?1 AND path < ?2)
              ORDER BY p.updated_at, p.id",
            kind_list(kinds)
        ))?;
        let rows = stmt.query_map([lo, hi], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn all_projections(&self) -> Result<Vec<StoredProjection>, StorageError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM projections p
               LEFT JOIN incident_projections i ON i.id = p.id
              ORDER BY p.id"
        ))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn projection_count(&self) -> Result<u64, StorageError> {
        let conn = self.conn();
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM projections", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn replace_projections(&self, rows: &[StoredProjection]) -> Result<(), StorageError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM incident_projections", [])?;
        tx.execute("DELETE FROM projections", [])?;
        for r in rows {
            put(&tx, &r.row, r.updated_at)?;
        }
        tx.commit()?;
        Ok(())
    }
}
