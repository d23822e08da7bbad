//! `/console/api/tasks`: issuing a checklist or a screening campaign
//! (专项排查) to the grids of a subtree, and its completion (see
//! [`crate::console::tasks`]).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use uuid::Uuid;

use super::{ConsoleApiError, ConsoleAuth};
use crate::AppState;
use crate::console::tasks::{self, CampaignDetail, CampaignSummary, IssueForm, Issued};
use crate::error::ApiError;

/// The campaigns of the user's subtree, newest first.
pub async fn list(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
) -> Result<Json<Vec<CampaignSummary>>, ConsoleApiError> {
    let worker = state.clone();
    let list = tokio::task::spawn_blocking(move || {
        tasks::campaigns(worker.storage().as_ref(), &who, jiff::Timestamp::now())
    })
    .await??;
    Ok(Json(list))
}

/// Issues a task to every grid of a subtree; a bad form stores nothing.
pub async fn issue(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    body: Result<Json<IssueForm>, JsonRejection>,
) -> Result<Json<Issued>, ConsoleApiError> {
    let Json(form) =
        body.map_err(|e| ApiError::BadRequest(format!("the task form is malformed: {e}")))?;
    let worker = state.clone();
    let issued = tokio::task::spawn_blocking(move || {
        tasks::issue(
            worker.storage().as_ref(),
            worker.sync_context(),
            &who,
            form,
            jiff::Timestamp::now(),
        )
    })
    .await??;
    Ok(Json(issued))
}

/// One campaign, grid by grid.
pub async fn detail(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Path(campaign): Path<Uuid>,
) -> Result<Json<CampaignDetail>, ConsoleApiError> {
    let worker = state.clone();
    let detail = tokio::task::spawn_blocking(move || {
        tasks::campaign(
            worker.storage().as_ref(),
            &who,
            campaign,
            jiff::Timestamp::now(),
        )
    })
    .await??;
    Ok(Json(detail))
}
