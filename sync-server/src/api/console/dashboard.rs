//! The dashboard of the user's subtree, its export, and the map's grid
//! layer (boundaries with each grid's figures).

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::ledgers::{deliver, parse_format, write_tables};
use super::{ConsoleApiError, ConsoleAuth};
use crate::AppState;
use crate::console::actions::{ConsoleError, ConsoleUser};
use crate::console::export::{Export, reveal_for};
use crate::console::overview::{self, Computed};

/// `?grid=&at=&format=`.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(optional_fields)]
pub struct DashQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<String>,
    /// Unix ms the visit cycles are judged at (default: now).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
    #[serde(skip_serializing)]
    pub format: Option<String>,
}

pub use crate::console::overview::DashboardPage;

fn compute(state: &AppState, who: &ConsoleUser, q: &DashQuery) -> Result<Computed, ConsoleError> {
    overview::compute(
        state.storage().as_ref(),
        &state.sync_context().calendar,
        who,
        q.grid.as_deref(),
        q.at,
        jiff::Timestamp::now(),
    )
}

/// The figures of the user's subtree, or of a grid in it
/// ([`overview::page`]).
pub async fn view(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Query(q): Query<DashQuery>,
) -> Result<Json<DashboardPage>, ConsoleApiError> {
    let page = tokio::task::spawn_blocking(move || compute(&state, &who, &q).map(overview::page))
        .await??;
    Ok(Json(page))
}

/// The dashboard as a ledger ([`overview::sheets`]; as GeoJSON, the grids
/// with their figures), logged.
pub async fn export(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Query(q): Query<DashQuery>,
) -> Result<Response, ConsoleApiError> {
    let format = parse_format(q.format.as_deref())?;
    let filter = serde_json::to_string(&q).unwrap_or_default();
    tokio::task::spawn_blocking(move || {
        let c = compute(&state, &who, &q)?;
        let tables = match format {
            crate::console::ledger::Format::GeoJson => vec![overview::grid_layer(&c)],
            _ => overview::sheets(&c),
        };
        let what = Export {
            target: "dashboard",
            filter,
            format,
            // Figures hold no personal data.
            reveal: reveal_for(&who, false),
            tables: tables.len(),
        };
        deliver(state.storage().as_ref(), &who, what, |file| {
            write_tables(file, &tables)
        })
    })
    .await?
}

/// The grids with a boundary and their figures, as GeoJSON for the map.
pub async fn map(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Query(q): Query<DashQuery>,
) -> Result<Response, ConsoleApiError> {
    let (bytes, _) = tokio::task::spawn_blocking(move || -> Result<_, ConsoleApiError> {
        let c = compute(&state, &who, &q)?;
        crate::console::ledger::Format::GeoJson
            .write(&[overview::grid_layer(&c)])
            .map_err(|e| crate::error::ApiError::Internal(e).into())
    })
    .await??;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/geo+json")],
        bytes,
    )
        .into_response())
}
