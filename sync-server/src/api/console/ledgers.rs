//! The console's lists (queue, incidents, households, residents) as
//! ledgers (台账): shown as JSON, exported as XLSX, CSV or GeoJSON. Every
//! export is written to the access log before its bytes leave.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gridwork_core::model::RecordKind;
use serde::{Deserialize, Serialize};

use super::{ConsoleApiError, ConsoleAuth};
use crate::AppState;
use crate::access::{self, Channel};
use crate::console::actions::ConsoleUser;
use crate::console::dashboard;
use crate::console::export::{self, Export, ExportError, ExportWriter, reveal_for};
use crate::console::index::{Entry, Flags};
use crate::console::ledger::{Format, List, Parties, Reveal, Table, incident_markers};
use crate::console::page::{self, Revealed};
use crate::console::queue;
use crate::error::ApiError;
use crate::storage::projections::ListFilter;
use crate::storage::{AccessEntry, Storage};

/// A list's filters, shared by the view and the export.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(optional_fields)]
pub struct ListQuery {
    /// For the queue: `household`, `resident` or `incident`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A review state or incident status; the queue's default is `todo`,
    /// the other lists' `all`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A grid code in the user's subtree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<String>,
    #[serde(skip_serializing)]
    pub limit: Option<usize>,
    #[serde(skip_serializing)]
    pub offset: Option<usize>,
    /// A dashboard figure whose records to list (its drill-down), e.g.
    /// `overdue`, `resolved`, `status:closed`, `visited_in_cycle`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub figure: Option<String>,
    /// Unix ms the visit cycles are judged at (default: now).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
    /// Export only: `xlsx`, `csv` or `geojson`.
    #[serde(skip_serializing)]
    pub format: Option<String>,
    /// Export only: ask for [PI]/[S] in clear, as far as the role may.
    #[serde(skip_serializing)]
    pub reveal: Option<bool>,
}

/// A page of a ledger as the console shows it (always masked).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct LedgerPage {
    pub title: String,
    pub headers: Vec<String>,
    pub total: usize,
    /// Each row's record id and its cells, as `Table::json_rows` writes them.
    #[ts(type = "Array<{ id: string, cells: Array<string | number | null> }>")]
    pub rows: Vec<serde_json::Value>,
}

fn parse_list(name: &str) -> Result<List, ConsoleApiError> {
    List::parse(name).ok_or_else(|| ApiError::BadRequest(format!("unknown list {name}")).into())
}

/// The queue's kind filter: `None` when not given, a bad request when
/// not a kind.
pub fn queue_kind(kind: Option<&str>) -> Result<Option<RecordKind>, ConsoleApiError> {
    match kind.filter(|k| !k.is_empty()) {
        Some(k) => {
            Ok(Some(RecordKind::parse(k).ok_or_else(|| {
                ApiError::BadRequest(format!("unknown kind {k}"))
            })?))
        }
        None => Ok(None),
    }
}

/// The records of a list the user may see, from `offset`, at most
/// `limit`, and how many the whole list holds: filtered (a figure's
/// drill-down too) and paged in the database ([`queue::list_filter`]);
/// only the page's records are read, no document decoded
/// ([`queue::entries`]).
pub fn select(
    state: &AppState,
    who: &ConsoleUser,
    list: List,
    q: &ListQuery,
    offset: usize,
    limit: Option<usize>,
) -> Result<(usize, queue::Listed), ConsoleApiError> {
    let query = list_query(state, who, list, q)?;
    let storage = state.storage().as_ref();
    let page = storage.list_projections(&query, offset as u64, limit.map(|l| l as u64))?;
    Ok((
        page.total as usize,
        queue::entries(storage, &state.sync_context().calendar, page.rows)?,
    ))
}

/// The database query of a list's filters ([`queue::list_filter`]); a
/// bad request for an unknown kind or figure.
fn list_query(
    state: &AppState,
    who: &ConsoleUser,
    list: List,
    q: &ListQuery,
) -> Result<ListFilter, ConsoleApiError> {
    let kind = match list {
        List::Queue => queue_kind(q.kind.as_deref())?,
        _ => None,
    };
    let figure = q.figure.as_deref().filter(|f| !f.is_empty());
    if let Some(f) = figure
        && !dashboard::known(f)
    {
        return Err(ApiError::BadRequest(format!("unknown figure {f}")).into());
    }
    let filter = queue::Filter {
        kind,
        status: q.status.as_deref(),
        grid: q.grid.as_deref(),
        figure,
        at: q.at,
        from_lost_device: false,
    };
    Ok(queue::list_filter(
        state.storage().as_ref(),
        &state.sync_context().calendar,
        who,
        list,
        &filter,
        jiff::Timestamp::now(),
    )?)
}

/// The parties of the incidents among `rows`, as the user gets them on
/// `channel` (only the incidents ledger has parties columns).
fn parties_of(
    state: &AppState,
    who: &ConsoleUser,
    list: List,
    q: &ListQuery,
    rows: &[(Arc<Entry>, Flags)],
    channel: Channel,
) -> Result<Parties, ConsoleApiError> {
    if list != List::Incidents {
        return Ok(Parties::new());
    }
    let storage = state.storage().as_ref();
    let scope = queue::scope_of(storage, who, q.grid.as_deref())?;
    let incidents: Vec<uuid::Uuid> = rows.iter().map(|(e, _)| e.summary.id).collect();
    Ok(access::ledger_parties(
        storage,
        &state.sync_context().calendar,
        &who.session.user,
        &scope,
        &incidents,
        channel,
    )?)
}

/// A list, masked, a page at a time.
pub async fn view(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Path(name): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Json<LedgerPage>, ConsoleApiError> {
    let list = parse_list(&name)?;
    let page = tokio::task::spawn_blocking(move || -> Result<LedgerPage, ConsoleApiError> {
        let limit = q.limit.unwrap_or(100).min(500);
        let (total, rows) = select(&state, &who, list, &q, q.offset.unwrap_or(0), Some(limit))?;
        let parties = parties_of(&state, &who, list, &q, &rows, Channel::ConsoleList)?;
        let page = rows.iter().map(|(e, f)| (e.as_ref(), *f));
        let table = list.table(page, Reveal::MASKED, &parties);
        Ok(LedgerPage {
            rows: table.json_rows(),
            title: table.title,
            headers: table.headers,
            total,
        })
    })
    .await??;
    Ok(Json(page))
}

/// Exports a whole list (every page) as a file, and logs it.
pub async fn export(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Path(name): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ConsoleApiError> {
    let list = parse_list(&name)?;
    let format = parse_format(q.format.as_deref())?;
    let filter = serde_json::to_string(&q).unwrap_or_default();
    tokio::task::spawn_blocking(move || {
        let reveal = reveal_for(&who, q.reveal.unwrap_or(false));
        let what = Export {
            target: list.as_str(),
            filter,
            format,
            reveal,
            tables: 1,
        };
        deliver(state.storage().as_ref(), &who, what, |file| {
            export_rows(&state, &who, list, &q, reveal, file)
        })
    })
    .await?
}

/// How many of a list's records an export reads at a time.
const EXPORT_CHUNK: usize = 500;

/// A whole list written to an export's file: the list's rows read once
/// from the projection table (one snapshot, no document), then their
/// records read from the ledger records kept with them
/// ([`queue::entries`], no document decoded), made table rows and written
/// [`EXPORT_CHUNK`] at a time, so an export never holds more than a chunk
/// of records (and their parties) or of table rows, however long the
/// list. Reading
/// the rows once, not page by page, keeps a record changed during the
/// export from shifting the pages.
fn export_rows(
    state: &AppState,
    who: &ConsoleUser,
    list: List,
    q: &ListQuery,
    reveal: Reveal,
    file: &mut ExportWriter,
) -> Result<(), ConsoleApiError> {
    let query = list_query(state, who, list, q)?;
    let storage = state.storage().as_ref();
    let listed = storage.list_projections(&query, 0, None)?.rows;
    let empty = list.table(std::iter::empty(), reveal, &Parties::new());
    file.table(&empty.title, &empty.headers)
        .map_err(ExportError::Write)?;
    let mut rows = listed.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(EXPORT_CHUNK).collect();
        let entries = queue::entries(storage, &state.sync_context().calendar, chunk)?;
        let parties = parties_of(state, who, list, q, &entries, Channel::Export)?;
        let page = entries.iter().map(|(e, f)| (e.as_ref(), *f));
        file.rows(&list.table(page, reveal, &parties).rows)
            .map_err(ExportError::Write)?;
    }
    Ok(())
}

/// Writes whole tables to an export's file (the dashboard's sheets).
pub fn write_tables(file: &mut ExportWriter, tables: &[Table]) -> Result<(), ConsoleApiError> {
    for t in tables {
        file.table(&t.title, &t.headers)
            .map_err(ExportError::Write)?;
        file.rows(&t.rows).map_err(ExportError::Write)?;
    }
    Ok(())
}

pub fn parse_format(f: Option<&str>) -> Result<Format, ConsoleApiError> {
    let f = f.unwrap_or("xlsx");
    Format::parse(f).ok_or_else(|| {
        ApiError::BadRequest(format!("unknown export format {f}: xlsx, csv or geojson")).into()
    })
}

impl From<ExportError> for ConsoleApiError {
    fn from(e: ExportError) -> ConsoleApiError {
        match e {
            ExportError::Write(e) => ApiError::Internal(e).into(),
            ExportError::Storage(e) => e.into(),
        }
    }
}

/// Writes the file with `write` and logs the export
/// ([`export::export`]), and answers with the file as an attachment,
/// streamed from its temporary file. Nothing is sent if the log cannot be
/// written.
pub fn deliver(
    storage: &dyn Storage,
    who: &ConsoleUser,
    what: Export<'_>,
    write: impl FnOnce(&mut ExportWriter) -> Result<(), ConsoleApiError>,
) -> Result<Response, ConsoleApiError> {
    let target = what.target.to_string();
    let file = export::export(storage, who, what, jiff::Timestamp::now(), write)?;
    let disposition = format!(
        "attachment; filename=\"{}.{}\"; filename*=UTF-8''{}",
        target,
        file.format.as_str(),
        percent_encode(&file.file_name)
    );
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(
        tokio::fs::File::from_std(file.file),
    ));
    Ok((
        [
            (header::CONTENT_TYPE, file.format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::CONTENT_LENGTH, file.len.to_string()),
        ],
        body,
    )
        .into_response())
}

/// RFC 5987 encoding of a file name.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `?limit=`.
#[derive(Debug, Deserialize)]
pub struct LogQuery {
    pub limit: Option<usize>,
}

/// The access log, newest first: an admin sees everyone's, other users
/// their own.
pub async fn access_log(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Query(q): Query<LogQuery>,
) -> Result<Json<Vec<AccessEntry>>, ConsoleApiError> {
    let user = access::access_log_of(&who.session.user).map(str::to_string);
    let limit = q.limit.unwrap_or(100).min(1000);
    let rows =
        tokio::task::spawn_blocking(move || state.storage().access_log(user.as_deref(), limit))
            .await??;
    Ok(Json(rows))
}

/// The incidents of the list's filters that have a point, masked, as
/// GeoJSON for the map's markers (a view, not an export: not logged).
pub async fn map_incidents(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Query(q): Query<ListQuery>,
) -> Result<Response, ConsoleApiError> {
    let bytes = tokio::task::spawn_blocking(move || -> Result<_, ConsoleApiError> {
        // The incidents list's query, read as projection rows: no
        // document is decoded for a marker.
        let query = list_query(&state, &who, List::Incidents, &q)?;
        let page = state.storage().list_projections(&query, 0, None)?;
        let (bytes, _) = Format::GeoJson
            .write(&[incident_markers(&page.rows)])
            .map_err(ApiError::Internal)?;
        Ok(bytes)
    })
    .await??;
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], bytes).into_response())
}

/// A record with its [PI] and [S] fields in clear as far as the role may
/// see them; written to the access log first ([`page::reveal`]).
pub async fn reveal(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Path(id): Path<uuid::Uuid>,
) -> Result<Json<Revealed>, ConsoleApiError> {
    let body = tokio::task::spawn_blocking(move || {
        page::reveal(
            state.storage().as_ref(),
            &state.sync_context().calendar,
            &who,
            id,
            jiff::Timestamp::now(),
        )
    })
    .await??;
    Ok(Json(body))
}
