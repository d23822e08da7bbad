//! The supervisor console's JSON API under `/console/api/`, and the built
//! console itself under `/console/`.
//!
//! Signing in sets an `HttpOnly`, `SameSite=Strict` cookie holding a
//! session token (stored hashed, like a device token: the sign-in is a
//! console enrolment, see [`crate::console`]). Every request that changes
//! something must also carry the header [`CSRF_HEADER`]: a cross-site form
//! cannot set it, and a cross-site script cannot without a CORS preflight
//! this server never answers.
//!
//! | method | path | what |
//! | --- | --- | --- |
//! | POST | `/console/api/login` | `{user, password}` → the user; sets the cookie |
//! | POST | `/console/api/logout` | ends the session |
//! | GET | `/console/api/me` | the user, their grids, the departments, the statuses the lists filter by, the sections the role may open ([`crate::console::sections`]) |
//! | GET | `/console/api/queue` | `?kind=&status=&grid=&limit=&offset=`, oldest first |
//! | GET | `/console/api/records/{id}` | the record (masked), its state, history, timeline, and what the user may do on it (`actions`, `escalate_to`; [`crate::console::actions::offers`]) |
//! | POST | `/console/api/records/{id}/review` | `{decision: accept\|return, comment}` |
//! | POST | `/console/api/records/{id}/reveal` | the record with phone/ID numbers in clear as the role may; logged |
//! | POST | `/console/api/incidents/{id}/transition` | `{action: {type, …}, opinion, photos?}`; `resolve` (report-back) is the dispatched handler's, with photos |
//! | POST | `/console/api/incidents/{id}/photos` | an image file → an after-photo's reference (prepared, kept as blobs) |
//! | POST | `/console/api/incidents/{id}/mediation` | `{mediator, method, outcome, success, mediated_at?}` on a dispute (矛盾纠纷); supervisors |
//! | POST | `/console/api/hotline/import` | a JSON or CSV file of 12345 work orders → incidents; supervisors (see [`crate::console::hotline`]) |
//! | GET | `/console/api/tasks` | the campaigns of the subtree with their completion; community/street supervisors and admins |
//! | POST | `/console/api/tasks` | `{title, description, kind: checklist\|screening, due, grid, items?, filter?}` → one task per grid of the subtree (see [`crate::console::tasks`]) |
//! | GET | `/console/api/tasks/{campaign}` | the campaign grid by grid, every line |
//! | GET | `/console/api/lists/{list}` | a ledger (`queue`, `incidents`, `households`, `residents`), masked |
//! | GET | `/console/api/lists/{list}/export` | `?format=xlsx\|csv\|geojson&reveal=true&…` the whole ledger as a file; logged |
//! | GET | `/console/api/dashboard` | `?grid=&at=` the figures, each with its drill-down list query |
//! | GET | `/console/api/dashboard/export` | `?format=` the figures as a ledger (GeoJSON: the grids); logged |
//! | GET | `/console/api/map/grids` | the grids' boundaries with their figures, GeoJSON |
//! | GET | `/console/api/map/incidents` | the list filters' incidents with a point, masked, GeoJSON |
//! | GET | `/console/api/access-log` | exports and reveals, newest first (admin: everyone's) |
//! | GET | `/console/api/devices` | admin: the tablets and their states; `POST …/devices/{id}/lost`, `…/revoke` (see `devices`) |
//!
//! Any other path under `/console/api` answers a JSON `404 not_found`
//! (never the console's page). The built console is served with a `Range`
//! read as [`crate::api::ByteRange`] says.
//!
//! **Headers.** Every console answer, page or API, carries
//! [`CONTENT_SECURITY_POLICY`] (scripts, styles, fonts and connections from
//! this server only; images also as `data:` and `blob:` URLs, which Leaflet,
//! Vant's icons and photo previews use; no plugins; never framed),
//! `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff` and
//! `Referrer-Policy: same-origin`. The console's browser tests fail on any
//! policy violation, so the policy is the one the built console runs under.

pub mod bindings;
pub mod codes;
mod dashboard;
mod devices;
mod hotline;
mod ledgers;
pub mod paths;
mod records;
mod session;
mod tasks;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use tower_http::services::{ServeDir, ServeFile};

use crate::AppState;
use crate::console::actions::ConsoleError;
use crate::error::ApiError;
use gridwork_core::problem::Params;

pub use session::{COOKIE, ConsoleAuth};

/// The header every state-changing console request must carry.
pub const CSRF_HEADER: &str = "x-gridwork-console";

/// `/console/api/...` and the built console at `/console/`.
pub fn routes(state: &AppState) -> Router<AppState> {
    let api = Router::new()
        .route(paths::LOGIN, post(session::login))
        .route(paths::LOGOUT, post(session::logout))
        .route(paths::ME, get(session::me))
        .route(paths::QUEUE, get(records::queue))
        .route(paths::RECORD, get(records::detail))
        .route(paths::REVIEW, post(records::review))
        .route(paths::REVEAL, post(ledgers::reveal))
        .route(paths::TRANSITION, post(records::transition))
        .route(paths::MEDIATION, post(records::mediation))
        .route(paths::INCIDENT_PHOTOS, post(records::photo))
        .route(paths::RECORD_PHOTO, get(records::photo_file))
        .route(paths::HOTLINE_IMPORT, post(hotline::import))
        .route(paths::TASKS, get(tasks::list).post(tasks::issue))
        .route(paths::CAMPAIGN, get(tasks::detail))
        .route(paths::LIST, get(ledgers::view))
        .route(paths::LIST_EXPORT, get(ledgers::export))
        .route(paths::ACCESS_LOG, get(ledgers::access_log))
        .route(paths::DEVICES, get(devices::list))
        .route(paths::DEVICE_LOST, post(devices::mark_lost))
        .route(paths::DEVICE_REVOKE, post(devices::revoke))
        .route(paths::DASHBOARD, get(dashboard::view))
        .route(paths::DASHBOARD_EXPORT, get(dashboard::export))
        .route(paths::MAP_GRIDS, get(dashboard::map))
        .route(paths::MAP_INCIDENTS, get(ledgers::map_incidents))
        .fallback(|| async { ApiError::NotFound })
        .layer(middleware::from_fn(require_csrf_header));
    let dir = &state.console().dir;
    let files: Router = Router::new()
        .fallback_service(ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html"))))
        .layer(middleware::from_fn(static_files));
    // `/console` and everything below it; the API's routes take precedence.
    Router::new()
        .nest(paths::BASE, api)
        .nest_service("/console", files)
        .layer(middleware::from_fn(security_headers))
}

/// The console's Content-Security-Policy: what the built console (Vue,
/// Vant, Leaflet, bundled by Vite into same-origin files) needs and
/// nothing more.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
    ] {
        h.insert(name, value);
    }
    response
}

/// In front of the built console's files: a path under `/console/api`
/// that no API route took is a JSON 404, not the console's page, and so is
/// a path that tries to step out of the console's folder (see
/// [`steps_out`]); a `Range` header to ignore (see
/// [`crate::api::ByteRange`]) is dropped, so the whole file is answered.
async fn static_files(mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/api" || path.starts_with("/api/") || steps_out(path) {
        return ApiError::NotFound.into_response();
    }
    let ignored = request
        .headers()
        .get(header::RANGE)
        .is_some_and(|v| !crate::api::ByteRange::is_honoured(v.as_bytes()));
    if ignored {
        request.headers_mut().remove(header::RANGE);
    }
    next.run(request).await
}

/// Whether a request path names a dot segment (`..`, `.`, also as
/// `%2e`), an encoded separator (`%2f`, `%5c`) or a backslash: no file of
/// the console is named so, and the client-side routes' fallback page is
/// for plain names, so such a path is answered 404 rather than the page.
fn steps_out(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || lower.contains('\\') {
        return true;
    }
    lower
        .split('/')
        .any(|segment| matches!(segment.replace("%2e", ".").as_str(), "." | ".."))
}

async fn require_csrf_header(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    if !safe && !request.headers().contains_key(CSRF_HEADER) {
        return ConsoleApiError::Csrf.into_response();
    }
    next.run(request).await
}

/// A console API failure: `{code, params}` with a fitting status. The
/// console translates the code (`ui/src/console/i18n`); no sentence for a
/// person is written here.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleApiError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Console(#[from] ConsoleError),
    #[error("the request lacks the console header")]
    Csrf,
    #[error("your role cannot use the console")]
    RoleNotAllowed,
    #[error("the session has expired; sign in again")]
    SessionExpired,
}

impl From<tokio::task::JoinError> for ConsoleApiError {
    fn from(e: tokio::task::JoinError) -> ConsoleApiError {
        ConsoleApiError::Api(e.into())
    }
}

impl From<crate::access::RecordError> for ConsoleApiError {
    fn from(e: crate::access::RecordError) -> ConsoleApiError {
        ConsoleApiError::Console(e.into())
    }
}

impl From<crate::storage::StorageError> for ConsoleApiError {
    fn from(e: crate::storage::StorageError) -> ConsoleApiError {
        ConsoleApiError::Api(e.into())
    }
}

/// The body of a console refusal.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ConsoleRefusal {
    /// The stable code the console translates.
    pub code: String,
    /// What the code's message needs, by name.
    pub params: Params,
}

impl ConsoleApiError {
    /// The stable code the console translates: one of
    /// [`codes::all`], which `ui/src/bindings/console.ts` declares as the
    /// union `ConsoleErrorCode`.
    pub fn code(&self) -> String {
        match self {
            ConsoleApiError::Api(e) => e.code().to_string(),
            ConsoleApiError::Csrf => "csrf".to_string(),
            ConsoleApiError::RoleNotAllowed => "console_role".to_string(),
            ConsoleApiError::SessionExpired => "session_expired".to_string(),
            ConsoleApiError::Console(e) => e.code(),
        }
    }
}

impl IntoResponse for ConsoleApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        let this = match self {
            ConsoleApiError::Api(e) => {
                let body = ConsoleRefusal {
                    code,
                    params: e.params(),
                };
                return e.respond(body);
            }
            other => other,
        };
        let status = match &this {
            ConsoleApiError::Api(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ConsoleApiError::Csrf | ConsoleApiError::RoleNotAllowed => StatusCode::FORBIDDEN,
            ConsoleApiError::SessionExpired => StatusCode::UNAUTHORIZED,
            ConsoleApiError::Console(e) => console_status(e),
        };
        let params = match &this {
            ConsoleApiError::Console(
                e @ (ConsoleError::Storage(_) | ConsoleError::Sync(_) | ConsoleError::Damaged(_)),
            ) => {
                tracing::error!(error = %e, "console request failed");
                Params::new()
            }
            ConsoleApiError::Console(e) => e.params(),
            _ => Params::new(),
        };
        (status, axum::Json(ConsoleRefusal { code, params })).into_response()
    }
}

fn console_status(e: &ConsoleError) -> StatusCode {
    use gridwork_core::workflow::TransitionError as T;
    match e {
        ConsoleError::NotFound => StatusCode::NOT_FOUND,
        ConsoleError::HotlineFile(_) => StatusCode::BAD_REQUEST,
        ConsoleError::RoleNotAllowed | ConsoleError::RevealNotAllowed => StatusCode::FORBIDDEN,
        ConsoleError::Transition(
            T::RoleNotAllowed { .. } | T::NotAssignee { .. } | T::OwnWork { .. },
        ) => StatusCode::FORBIDDEN,
        ConsoleError::Transition(T::WrongStatus { .. }) | ConsoleError::Refused(_) => {
            StatusCode::CONFLICT
        }
        ConsoleError::WrongKind(_)
        | ConsoleError::CommentRequired
        | ConsoleError::ActionNotOffered(_)
        | ConsoleError::NotADispute
        | ConsoleError::MediationField(_)
        | ConsoleError::MediationTooLong
        | ConsoleError::MediationInFuture
        | ConsoleError::PhotoMissing(_)
        | ConsoleError::ReportRequired
        | ConsoleError::TaskField(_)
        | ConsoleError::TaskTooLong
        | ConsoleError::TaskDue(_)
        | ConsoleError::TaskFilter(_)
        | ConsoleError::TaskNoGrids
        | ConsoleError::TaskTooMany(_)
        | ConsoleError::Transition(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ConsoleError::Photo(gridwork_core::media::MediaError::NotAnImage) => {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
        ConsoleError::Photo(gridwork_core::media::MediaError::TooLarge(_)) => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        ConsoleError::Photo(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ConsoleError::Sync(crate::sync::SyncError::Busy) => StatusCode::SERVICE_UNAVAILABLE,
        ConsoleError::Damaged(_) | ConsoleError::Storage(_) | ConsoleError::Sync(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
