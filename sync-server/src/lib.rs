//! Gridwork's sync server, as a library: the HTTP API ([`router`],
//! [`launch`]), storage behind a trait ([`storage`]) and the data
//! migrations run at start ([`migrate`]), users and devices ([`auth`]), who
//! sees what on every channel ([`access`]), the grid tree ([`grids`]), the
//! sync round trip ([`sync`]), layered settings ([`config`]) and what the
//! admin commands do ([`admin`]). The `gridwork-server` binary is glue over these.
//!
//! Tablets keep records as Automerge documents and sync them in one
//! batched round trip: they push their unsent changes and a cursor, the
//! server checks each change against the user's grid subtree, the record's
//! validation and the workflow rules (the same `gridwork_core` code the
//! device runs), stores what passes in an append-only log, and answers
//! with every change the device may see and has not yet seen.
//!
//! ```no_run
//! use std::sync::Arc;
//! use gridwork_server::{AppState, config::Settings, storage::SqliteStorage};
//!
//! # async fn run() -> anyhow::Result<()> {
//! let settings = Settings::default();
//! let storage = Arc::new(SqliteStorage::open(&settings.data_dir)?);
//! let state = AppState::new(storage, &settings);
//! let listener = tokio::net::TcpListener::bind(settings.listen).await?;
//! gridwork_server::launch(listener, state, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await?;
//! # Ok(())
//! # }
//! ```

pub mod access;
pub mod admin;
pub mod api;
pub mod auth;
pub mod blob_grants;
pub mod blobs;
pub mod config;
pub mod console;
pub mod devices;
pub mod enrol;
pub mod error;
pub mod escape;
pub mod grids;
pub mod index;
pub mod limits;
pub mod migrate;
pub mod storage;
pub mod sync;
pub mod tls;

#[cfg(test)]
mod module_graph;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::get;
use gridwork_core::calendar::WorkCalendar;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{LoginLimiter, LoginLimits};
use crate::config::Settings;
use crate::error::ApiError;
use crate::storage::Storage;
use crate::sync::SyncContext;

/// What every handler shares. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    storage: Arc<dyn Storage>,
    sync: SyncContext,
    limiter: LoginLimiter,
    max_body_bytes: usize,
    request_timeout: Duration,
    blobs: Arc<dyn blobs::BlobStore>,
    uploads: blobs::UploadLimits,
    partial_expiry: Duration,
    limits: limits::WorkLimits,
    console: console::ConsoleState,
    /// The server terminates TLS itself ([`Settings::serves_tls`]).
    tls: bool,
}

impl AppState {
    /// State for a server over `storage` with `settings`' limits.
    pub fn new(storage: Arc<dyn Storage>, settings: &Settings) -> AppState {
        AppState(Arc::new(Shared {
            storage,
            sync: SyncContext {
                calendar: WorkCalendar::bundled(),
                budget_default: settings.sync_budget_default,
                budget_max: settings.sync_budget_max,
                places: Default::default(),
            },
            limiter: LoginLimiter::new(LoginLimits {
                per_user_source: settings.login_per_user_per_minute,
                per_source: settings.login_per_ip_per_minute,
                free_failures: settings.login_free_failures,
                backoff_max: Duration::from_secs(settings.login_backoff_max_secs),
            }),
            max_body_bytes: settings.max_body_bytes,
            request_timeout: Duration::from_secs(settings.request_timeout_secs),
            blobs: Arc::new(blobs::FsBlobStore::new(settings.data_dir.join("blobs"))),
            uploads: blobs::UploadLimits {
                max_bytes: settings.max_blob_bytes,
                partial_quota: settings.blob_partial_quota_bytes,
            },
            partial_expiry: Duration::from_secs(settings.blob_partial_expiry_secs),
            limits: limits::WorkLimits::new(
                settings.image_memory_bytes,
                settings.max_concurrent_syncs,
            ),
            console: console::ConsoleState::new(settings),
            tls: settings.serves_tls(),
        }))
    }

    /// The storage backend.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.0.storage
    }

    /// What a sync needs besides storage.
    pub fn sync_context(&self) -> &SyncContext {
        &self.0.sync
    }

    /// The login rate limiter.
    pub fn login_limiter(&self) -> &LoginLimiter {
        &self.0.limiter
    }

    /// The supervisor console's settings and listing cache.
    pub fn console(&self) -> &console::ConsoleState {
        &self.0.console
    }

    /// Largest request body accepted.
    pub fn max_body_bytes(&self) -> usize {
        self.0.max_body_bytes
    }

    /// Where photo blobs live.
    pub fn blobs(&self) -> &Arc<dyn blobs::BlobStore> {
        &self.0.blobs
    }

    /// Largest photo blob accepted.
    pub fn max_blob_bytes(&self) -> u64 {
        self.0.uploads.max_bytes
    }

    /// The limits uploads are received within.
    pub fn upload_limits(&self) -> &blobs::UploadLimits {
        &self.0.uploads
    }

    /// The budgets of memory-heavy work.
    pub fn limits(&self) -> &limits::WorkLimits {
        &self.0.limits
    }
}

/// The whole HTTP API, ready to serve or to drive in tests.
pub fn router(state: AppState) -> Router {
    let app = Router::new()
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .merge(api::v1::routes())
        .merge(api::console::routes(&state))
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::middleware::from_fn(api::refusals::as_json))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api::refusals::declared_length,
        ))
        // Bodies found over the limit while read are refused by the
        // extractor, which the handlers turn into a JSON `too_large`
        // (those declared over it never reach them: `declared_length`).
        .layer(DefaultBodyLimit::max(state.max_body_bytes()))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.0.request_timeout,
        ))
        .layer(TraceLayer::new_for_http());
    let app = if state.0.tls {
        app.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(tls::HSTS),
        ))
    } else {
        app
    };
    app.with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then stops
/// accepting connections and waits for requests in flight (a sync being
/// stored finishes). Plain HTTP: for loopback, tests, or behind a proxy
/// that terminates TLS.
pub async fn launch(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    launch_with(listener, None, state, shutdown).await
}

/// [`launch`], speaking HTTPS with `tls` when given ([`tls::load`]).
pub async fn launch_with(
    listener: tokio::net::TcpListener,
    tls: Option<tls::RustlsConfig>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, tls = tls.is_some(), "gridwork-server listening");
    }
    let sweep = tokio::spawn(blobs::sweep_partials(
        state.blobs().clone(),
        state.0.partial_expiry,
    ));
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(tls) => {
            let handle = axum_server::Handle::new();
            let stop = handle.clone();
            let stopping = tokio::spawn(async move {
                shutdown.await;
                // No grace limit, as axum::serve: requests in flight finish.
                stop.graceful_shutdown(None);
            });
            let served = axum_server::from_tcp_rustls(listener.into_std()?, tls)?
                .handle(handle)
                .serve(app)
                .await;
            stopping.abort();
            served
        }
    };
    sweep.abort();
    served
}
