//! Version 1 of the API.

pub mod access_log;
pub mod auth;
pub mod blobs;
pub mod repair;
pub mod sync;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

/// The `/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", post(auth::login))
        .route("/sync", post(sync::sync))
        .route("/access-log", post(access_log::upload))
        .route("/repair/{doc}", post(repair::repair))
        .route(
            "/blobs/{sha256}",
            get(blobs::download)
                .head(blobs::offset)
                .patch(blobs::upload),
        )
}
