//! The review queue, a record's detail, and the decisions taken on it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gridwork_core::model::{Mediation, PhotoRef};
use gridwork_core::workflow::Action;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ledgers::{self, ListQuery};
use super::{ConsoleApiError, ConsoleAuth};
use crate::AppState;
use crate::console::actions::{self, Decision};
use crate::console::index::{Flags, Summary};
use crate::console::ledger::List;
use crate::console::page;
use crate::error::ApiError;

/// Longest page of the queue.
const PAGE_MAX: usize = 500;

/// The queue's filters.
#[derive(Debug, Default, Deserialize, ts_rs::TS)]
#[ts(optional_fields)]
pub struct QueueQuery {
    /// `household`, `resident` or `incident`.
    pub kind: Option<String>,
    /// A review state or incident status; `todo` (the default) is what
    /// waits for a decision, `all` is everything.
    pub status: Option<String>,
    /// A grid code in the user's subtree (its subtree is listed).
    pub grid: Option<String>,
    /// Only records with changes from a device reported lost
    /// (`crate::devices::records_from_lost_devices`).
    pub from_lost_device: Option<bool>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// One line of the queue.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct QueueItem {
    #[serde(flatten)]
    pub summary: Summary,
    #[serde(flatten)]
    pub flags: Flags,
}

/// A page of the queue.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct QueuePage {
    pub total: usize,
    pub items: Vec<QueueItem>,
}

/// The queue: records of the user's subtree, oldest change first.
pub async fn queue(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Query(q): Query<QueueQuery>,
) -> Result<Json<QueuePage>, ConsoleApiError> {
    let worker = state.clone();
    let page = tokio::task::spawn_blocking(move || -> Result<QueuePage, ConsoleApiError> {
        let list = ListQuery {
            kind: q.kind,
            status: q.status,
            grid: q.grid,
            ..ListQuery::default()
        };
        let mut rows = ledgers::select(&worker, &who, List::Queue, &list)?;
        if q.from_lost_device == Some(true) {
            let lost = crate::devices::records_from_lost_devices(worker.storage().as_ref())?;
            rows.retain(|(e, _)| lost.contains(&e.summary.id));
        }
        let total = rows.len();
        let limit = q.limit.unwrap_or(100).min(PAGE_MAX);
        let items = rows
            .into_iter()
            .skip(q.offset.unwrap_or(0))
            .take(limit)
            .map(|(e, flags)| QueueItem {
                flags,
                summary: e.summary.clone(),
            })
            .collect();
        Ok(QueuePage { total, items })
    })
    .await??;
    Ok(Json(page))
}

pub use crate::console::page::Detail;

/// One record, its history and (for incidents) its timeline
/// ([`page::detail`]).
pub async fn detail(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Path(id): Path<Uuid>,
) -> Result<Json<Detail>, ConsoleApiError> {
    let detail = tokio::task::spawn_blocking(move || {
        page::detail(
            state.storage().as_ref(),
            &state.sync_context().calendar,
            &who,
            id,
            jiff::Timestamp::now(),
        )
    })
    .await??;
    Ok(Json(detail))
}

/// A review decision.
#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct ReviewRequest {
    /// `accept` or `return`.
    pub decision: String,
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub comment: String,
}

/// A workflow step.
#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct TransitionRequest {
    pub action: Action,
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub opinion: String,
    /// After-photos of a report-back (`resolve`), as answered by
    /// `POST /console/api/incidents/{id}/photos`.
    #[serde(default)]
    #[ts(as = "Option<Vec<PhotoRef>>", optional)]
    pub photos: Vec<PhotoRef>,
}

/// Accepts or returns a household or resident.
pub async fn review(
    state: State<AppState>,
    auth: ConsoleAuth,
    Path(id): Path<Uuid>,
    body: Result<Json<ReviewRequest>, JsonRejection>,
) -> Result<Json<Detail>, ConsoleApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let accept = match req.decision.as_str() {
        "accept" => true,
        "return" => false,
        other => {
            return Err(ApiError::BadRequest(format!("unknown decision {other}")).into());
        }
    };
    decide(
        state,
        auth,
        id,
        Decision::Review {
            accept,
            comment: req.comment,
        },
    )
    .await
}

/// Takes a workflow step on an incident.
pub async fn transition(
    state: State<AppState>,
    auth: ConsoleAuth,
    Path(id): Path<Uuid>,
    body: Result<Json<TransitionRequest>, JsonRejection>,
) -> Result<Json<Detail>, ConsoleApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    decide(
        state,
        auth,
        id,
        Decision::Transition {
            action: req.action,
            opinion: req.opinion,
            photos: req.photos,
        },
    )
    .await
}

/// Records the mediation of a dispute incident.
pub async fn mediation(
    state: State<AppState>,
    auth: ConsoleAuth,
    Path(id): Path<Uuid>,
    body: Result<Json<Mediation>, JsonRejection>,
) -> Result<Json<Detail>, ConsoleApiError> {
    let Json(m) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    decide(state, auth, id, Decision::Mediation(m)).await
}

async fn decide(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    id: Uuid,
    decision: Decision,
) -> Result<Json<Detail>, ConsoleApiError> {
    let worker = state.clone();
    let acting = who.clone();
    tokio::task::spawn_blocking(move || {
        actions::act(
            worker.storage().as_ref(),
            worker.blobs().as_ref(),
            worker.sync_context(),
            &acting,
            id,
            decision,
            jiff::Timestamp::now(),
        )
    })
    .await??;
    detail(State(state), ConsoleAuth(who), Path(id)).await
}

/// Takes one after-photo for a report-back: the body is the image file
/// (JPEG, PNG or WebP). Answers the photo's reference.
pub async fn photo(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Path(id): Path<Uuid>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PhotoRef>, ConsoleApiError> {
    let body = body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge {
                limit: state.max_body_bytes(),
            }
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })?;
    // Decoding waits for its share of the image budget (the header says
    // how much it will hold).
    let header = body.clone();
    let cost = tokio::task::spawn_blocking(move || {
        gridwork_core::media::prepare_cost(&header).unwrap_or(0)
    })
    .await?;
    let worker = state.clone();
    let photo = state
        .limits()
        .image(cost, move || {
            actions::store_photo(
                worker.storage().as_ref(),
                worker.blobs().as_ref(),
                worker.upload_limits(),
                worker.sync_context(),
                &who,
                id,
                &body,
            )
        })
        .await
        .map_err(ApiError::from)??;
    Ok(Json(photo))
}

/// `GET /console/api/records/{id}/photos/{sha256}`: a photo or thumbnail
/// of a record the user may see, for the record page ([`page::photo`]; a
/// tablet downloads the same blob with its device token).
pub async fn photo_file(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Path((id, sha256)): Path<(Uuid, String)>,
) -> Result<Response, ConsoleApiError> {
    let bytes = tokio::task::spawn_blocking(move || {
        page::photo(
            state.storage().as_ref(),
            state.blobs().as_ref(),
            &state.sync_context().calendar,
            &who,
            id,
            &sha256,
        )
    })
    .await??;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable",
            ),
        ],
        bytes,
    )
        .into_response())
}
