//! `POST /v1/sync`: one round trip of the batched sync protocol.
//!
//! The body is a framed [`SyncRequest`] (`gridwork_core::sync::wire`), the
//! answer a framed [`SyncResponse`] with content type
//! `application/x-gridwork-sync`, or, to a device that asks for pages
//! while more are waiting, the pages streamed
//! (`application/x-gridwork-sync-pages`, [`pages`]). A body that cannot
//! be read is answered 400 or 413 with the wire error's code, and nothing
//! is stored.
//!
//! A body may decompress and decode to at most `max_body_bytes` (413
//! `expands_too_large` past it), and sync and repair requests run on
//! `max_concurrent_syncs` threads of their own ([`crate::limits`]): a
//! flood of small bodies that expand cannot take the server's memory.
//!
//! **Content type.** A body sent as anything but
//! `application/x-gridwork-sync` (or with none) is refused with 400
//! `bad_request` before it is read, however well-formed: the app always
//! labels its bodies, so anything else is a client confused about what it
//! sends. 400 and not 415, as for the JSON endpoints, whose extractor's
//! refusal the handlers answer as `bad_request` too.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use gridwork_core::sync::api::PAGES_CONTENT_TYPE;
use gridwork_core::sync::pages;
use gridwork_core::sync::wire::{self, Answer, AnswerWriter, SyncRequest, SyncResponse};
use tokio::sync::OwnedSemaphorePermit;

use crate::AppState;
use crate::auth::SyncSession;
use crate::error::ApiError;
use crate::sync::{Page, SyncError};

/// The content type of sync bodies.
pub use gridwork_core::sync::api::CONTENT_TYPE;

/// Stores the device's changes and answers with what it has not seen: one
/// page as a single frame, or, when the device asked for more
/// ([`SyncRequest::pages`]) and more is waiting, the pages streamed
/// ([`pages`]). Each later page is built on a sync thread while the one
/// before it travels, for the session the token opens by then: a device
/// revoked or reported lost meanwhile gets no further page.
pub async fn sync(
    State(state): State<AppState>,
    SyncSession {
        session,
        lost,
        token_hash,
    }: SyncSession,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    labelled(&headers)?;
    let (frame, next) = answered(&state, body, move |worker, request: SyncRequest| {
        // A lost device's push is kept; the answer tells it to wipe, and
        // says no `more`, so it never streams.
        let run = if lost {
            crate::sync::run_lost
        } else {
            crate::sync::run
        };
        let page = Page::of(&request);
        let pages = request.answer_pages();
        let response = run(
            worker.storage().as_ref(),
            worker.sync_context(),
            &session,
            request,
            jiff::Timestamp::now(),
        )
        .map_err(internal)?;
        if pages < 2 || !response.more {
            return Ok((response.frame(), None));
        }
        let leave = worker.limits().continued_answer(page.format);
        let mut writer = AnswerWriter::new(leave.is_some());
        let frame = writer.frame(&response);
        let next = Later {
            page: page.after(&response, pages > 2),
            left: pages - 1,
            writer,
            _leave: leave,
        };
        Ok((frame, Some(next)))
    })
    .await?;
    let Some(next) = next else {
        return Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], frame).into_response());
    };
    let first = futures_util::stream::once(std::future::ready(pages::page(&frame)));
    let later = futures_util::stream::unfold(Some(next), move |later| {
        let state = state.clone();
        async move {
            let later = later?;
            match later.build(&state, token_hash).await {
                Ok((frame, next)) => Some((pages::page(&frame), next)),
                Err(e) => {
                    tracing::info!(error = %e, "a streamed answer ends early");
                    None
                }
            }
        }
    });
    let body = first
        .chain(later)
        .map(|page| Ok::<_, Infallible>(Bytes::from(page)));
    Ok((
        [(header::CONTENT_TYPE, PAGES_CONTENT_TYPE)],
        Body::from_stream(body),
    )
        .into_response())
}

/// A page still to stream, how many the answer may still carry, and how
/// its pages are framed (with the leave to continue one xz stream, if the
/// answer has it: `crate::limits::CONTINUED_ANSWERS`).
#[derive(Debug)]
struct Later {
    page: Page,
    left: u8,
    writer: AnswerWriter,
    _leave: Option<OwnedSemaphorePermit>,
}

impl Later {
    /// The page's frame, built on a sync thread, and the page after it
    /// if the answer goes on.
    async fn build(
        self,
        state: &AppState,
        token_hash: [u8; 32],
    ) -> Result<(Vec<u8>, Option<Later>), ApiError> {
        let worker = state.clone();
        state
            .limits()
            .sync(move || {
                let storage = worker.storage().as_ref();
                let now = SyncSession::of_token(storage, token_hash)?;
                if now.lost {
                    return Err(ApiError::DeviceLost);
                }
                let response: SyncResponse = crate::sync::next_page(
                    storage,
                    worker.sync_context(),
                    &now.session,
                    &self.page,
                )
                .map_err(internal)?;
                let mut later = self;
                let frame = later.writer.frame(&response);
                let next = (response.more && later.left > 1).then(|| Later {
                    page: later.page.after(&response, later.left > 2),
                    left: later.left - 1,
                    ..later
                });
                Ok((frame, next))
            })
            .await?
    }
}

/// A sync's failure as the API answers it.
fn internal(e: SyncError) -> ApiError {
    match e {
        SyncError::Busy => ApiError::Busy,
        other => ApiError::Internal(other.to_string()),
    }
}

/// Reads the body, and on a sync thread ([`crate::limits`]) decodes it
/// within the server's limit and has `handle` answer it.
async fn answered<Req, R>(
    state: &AppState,
    body: Result<Bytes, BytesRejection>,
    handle: impl FnOnce(&AppState, Req) -> Result<R, ApiError> + Send + 'static,
) -> Result<R, ApiError>
where
    Req: serde::de::DeserializeOwned,
    R: Send + 'static,
{
    let body = read_body(state, body)?;
    let worker = state.clone();
    state
        .limits()
        .sync(move || -> Result<R, ApiError> {
            let request: Req = wire::decode_within(&body, worker.max_body_bytes())?;
            handle(&worker, request)
        })
        .await?
}

/// One repair round trip: [`answered`], the answer as a wire frame.
pub(super) async fn round_trip<Req, Resp>(
    state: &AppState,
    body: Result<Bytes, BytesRejection>,
    handle: impl FnOnce(&AppState, Req) -> Result<Resp, ApiError> + Send + 'static,
) -> Result<Response, ApiError>
where
    Req: serde::de::DeserializeOwned,
    Resp: wire::Answer,
{
    let answer = answered(state, body, move |worker, request| {
        Ok(handle(worker, request)?.frame())
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], answer).into_response())
}

/// Refuses a body not labelled as a sync frame.
pub(super) fn labelled(headers: &HeaderMap) -> Result<(), ApiError> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    match kind {
        Some(k) if k.eq_ignore_ascii_case(CONTENT_TYPE) => Ok(()),
        other => Err(ApiError::BadRequest(format!(
            "the body must be {CONTENT_TYPE}, not {}",
            other.unwrap_or("unlabelled")
        ))),
    }
}

/// The request body, or the error that says why it could not be read.
fn read_body(state: &AppState, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge {
                limit: state.max_body_bytes(),
            }
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use gridwork_core::model::Role;
    use gridwork_core::sync::wire::{self, SyncResponse};

    use super::*;
    use crate::admin;
    use crate::config::Settings;
    use crate::storage::{SqliteStorage, Storage};

    /// A small demo in a real SQLite data directory, a grid worker's
    /// tablet enrolled in it, and the server's state over it.
    fn served() -> (tempfile::TempDir, AppState, Arc<dyn Storage>, [u8; 32]) {
        let dir = tempfile::tempdir().unwrap();
        let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(dir.path()).unwrap());
        let demo = gridwork_demo::generate(&admin::demo_config(3, Some(60)));
        admin::load_demo(storage.as_ref(), &demo, "demo password 8").unwrap();
        let worker = demo
            .users
            .iter()
            .find(|u| u.role == Role::GridWorker)
            .unwrap();
        let enrolment = crate::enrol::enrol(
            storage.as_ref(),
            worker,
            "tablet".into(),
            "王芳的平板".into(),
            jiff::Timestamp::now(),
        )
        .unwrap();
        let settings = Settings {
            data_dir: dir.path().to_path_buf(),
            ..Settings::default()
        };
        let state = AppState::new(storage.clone(), &settings);
        (dir, state, storage, enrolment.device.token_hash)
    }

    /// The second page of a pull from the start, one record a page.
    fn second_page() -> Later {
        Later {
            page: Page {
                cursor: 1,
                budget: Some(1),
                format: Some(2),
                first: false,
                followed: true,
            },
            left: 4,
            writer: AnswerWriter::new(false),
            _leave: None,
        }
    }

    #[tokio::test]
    async fn a_later_page_goes_only_to_a_device_in_good_standing_when_it_is_built() {
        let (_dir, state, storage, token_hash) = served();
        let (frame, next) = second_page().build(&state, token_hash).await.unwrap();
        let page: SyncResponse = wire::decode(&frame).unwrap();
        assert!(page.more && !page.packed.is_empty(), "{page:?}");
        let next = next.expect("the answer goes on");
        assert_eq!((next.page.cursor, next.left), (page.cursor, 3));

        // Reported lost meanwhile: it may push and wipe, but gets no page.
        storage.mark_device_lost("tablet", 1).unwrap();
        let lost = second_page().build(&state, token_hash).await;
        assert!(matches!(lost, Err(ApiError::DeviceLost)), "{lost:?}");

        // Revoked: no page either.
        let (_dir, state, storage, token_hash) = served();
        storage.revoke_device("tablet", 1).unwrap();
        let revoked = second_page().build(&state, token_hash).await;
        assert!(
            matches!(revoked, Err(ApiError::TokenRevoked)),
            "{revoked:?}"
        );
    }
}
