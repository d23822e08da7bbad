//! The review queue, a record's detail, and the decisions taken on it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use gridwork_core::calendar::shanghai_date;
use gridwork_core::fieldwork::incidents::{TimelineEntry, incident_view};
use gridwork_core::model::{AnyRecord, Mediation, PhotoRef};
use gridwork_core::privacy::{self, Reveal};
use gridwork_core::store::photo_hashes;
use gridwork_core::workflow::{Action, Derived};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ledgers::{self, ListQuery};
use super::{ConsoleApiError, ConsoleAuth};
use crate::AppState;
use crate::access;
use crate::blobs::BlobError;
use crate::console::actions::{self, ConsoleError, Decision, Offers};
use crate::console::history::{self, HistoryEntry};
use crate::console::index::{Flags, Summary};
use crate::console::ledger::List;
use crate::console::provenance::{self, ConsoleConflict, Provenance};
use crate::error::ApiError;

/// Longest page of the queue.
const PAGE_MAX: usize = 500;

/// The queue's filters.
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    /// `household`, `resident` or `incident`.
    pub kind: Option<String>,
    /// A review state or incident status; `todo` (the default) is what
    /// waits for a decision, `all` is everything.
    pub status: Option<String>,
    /// A grid code in the user's subtree (its subtree is listed).
    pub grid: Option<String>,
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
        let rows = ledgers::select(&worker, &who, List::Queue, &list)?;
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

/// A record with everything its page shows.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Detail {
    pub summary: Summary,
    #[serde(flatten)]
    pub flags: Flags,
    /// The record as [`gridwork_core::privacy::mask_record`] masks it for
    /// a view that reveals nothing (a reveal shows what the role may see).
    pub record: serde_json::Value,
    /// For incidents: the derived state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Derived>,
    /// For incidents: the transition log, with whether each entry applied
    /// (core's, as the app's detail screen shows it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
    pub history: Vec<HistoryEntry>,
    /// Fields with concurrent values, each with who wrote it and when the
    /// server received it.
    pub conflicts: Vec<ConsoleConflict>,
    /// What the signed-in user may do on the record now: the page shows
    /// these and nothing else.
    #[serde(flatten)]
    pub offers: Offers,
}

/// One record, its history and (for incidents) its timeline.
pub async fn detail(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Path(id): Path<Uuid>,
) -> Result<Json<Detail>, ConsoleApiError> {
    let worker = state.clone();
    let detail = tokio::task::spawn_blocking(move || -> Result<Detail, ConsoleApiError> {
        let storage = worker.storage().as_ref();
        let ctx = worker.sync_context();
        let (loaded, snapshot, _) = access::console_record(storage, &ctx.calendar, &who, id)?;
        let grid_path = storage
            .grid_path(&loaded.record.meta().grid)?
            .unwrap_or_else(|| who.scope_path.clone());
        let updated_at = storage
            .doc_heads(&grid_path)?
            .into_iter()
            .find(|h| h.id == id)
            .map(|h| h.updated_at)
            .unwrap_or_default();
        let summary = Summary::of(&loaded.record, loaded.derived.as_ref(), updated_at);
        let today = shanghai_date(jiff::Timestamp::now());
        let provenance = Provenance::load(storage, id, &snapshot)?;
        let history = history::history(&snapshot, &provenance).map_err(ConsoleError::Damaged)?;
        let conflicts =
            provenance::conflicts(&snapshot, &provenance).map_err(ConsoleError::Damaged)?;
        let user = &who.session.user;
        let history = history::history_shown(user, loaded.record.kind(), history);
        let timeline = match &loaded.record {
            AnyRecord::Incident(i) => incident_view(i.clone(), &ctx.calendar).timeline,
            _ => Vec::new(),
        };
        let offers = actions::offers(user, &loaded.record, loaded.derived.as_ref());
        let record = serde_json::to_value(&loaded.record)
            .map_err(|e| ConsoleError::Damaged(e.to_string()))?;
        let record = access::with_parties(storage, &ctx.calendar, &who, &loaded.record, record)?;
        Ok(Detail {
            flags: summary.flags(today, &ctx.calendar),
            summary,
            record: privacy::mask_record(loaded.record.kind(), &record, Reveal::MASKED),
            state: loaded.derived,
            timeline,
            history,
            conflicts,
            offers,
        })
    })
    .await??;
    Ok(Json(detail))
}

/// A review decision.
#[derive(Debug, Deserialize)]
pub struct ReviewRequest {
    /// `accept` or `return`.
    pub decision: String,
    #[serde(default)]
    pub comment: String,
}

/// A workflow step.
#[derive(Debug, Deserialize)]
pub struct TransitionRequest {
    pub action: Action,
    #[serde(default)]
    pub opinion: String,
    /// After-photos of a report-back (`resolve`), as answered by
    /// `POST /console/api/incidents/{id}/photos`.
    #[serde(default)]
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
/// of a record the user may see, for the record page (a tablet downloads
/// the same blob with its device token). Anything else is not found.
pub async fn photo_file(
    State(state): State<AppState>,
    ConsoleAuth(who): ConsoleAuth,
    Path((id, sha256)): Path<(Uuid, String)>,
) -> Result<Response, ConsoleApiError> {
    let worker = state.clone();
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ConsoleApiError> {
        let (loaded, _, _) = access::console_record(
            worker.storage().as_ref(),
            &worker.sync_context().calendar,
            &who,
            id,
        )?;
        let referenced = photo_hashes(&loaded.record)
            .iter()
            .any(|(h, _)| *h == sha256);
        let missing = || ConsoleApiError::Api(ApiError::NotFound);
        // Referenced, and granted (a hash alone opens nothing).
        if !referenced || !worker.storage().blob_granted(id, &sha256)? {
            return Err(missing());
        }
        let blobs = worker.blobs();
        let internal = |e: BlobError| ConsoleApiError::Api(ApiError::Internal(e.to_string()));
        let Some(total) = blobs.complete(&sha256).map_err(internal)? else {
            return Err(missing());
        };
        blobs.read(&sha256, 0, total).map_err(internal)
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
