//! `POST /console/api/hotline/import`: 12345 work orders become incidents
//! (see [`crate::console::hotline`] for the format and the placement).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;

use super::{ConsoleApiError, ConsoleAuth};
use crate::AppState;
use crate::console::actions::ConsoleError;
use crate::console::hotline::{self, FileError, ImportReport};
use crate::console::sections::{self, Section};

/// Imports a JSON (`application/json`) or CSV (`text/csv`) file of work
/// orders; a file that cannot be read stores nothing.
pub async fn import(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportReport>, ConsoleApiError> {
    // A role that may not import is told so before anything about its file.
    sections::require(&who, Section::Hotline)?;
    let kind = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let text = std::str::from_utf8(&body).map_err(|_| ConsoleError::from(FileError::NotText))?;
    let orders = if kind.starts_with("text/csv") {
        hotline::parse_csv(text)
    } else if kind.starts_with("application/json") {
        hotline::parse_json(text)
    } else {
        Err(FileError::UnknownFormat)
    }
    .map_err(ConsoleError::from)?;
    let worker = state.clone();
    let report = tokio::task::spawn_blocking(move || {
        hotline::import(
            worker.storage().as_ref(),
            worker.sync_context(),
            &who,
            &orders,
            jiff::Timestamp::now(),
        )
    })
    .await??;
    Ok(Json(report))
}
