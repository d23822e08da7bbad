//! Version 1 of the API.

pub mod access_log;
pub mod auth;
pub mod blobs;
pub mod repair;
pub mod sync;
pub mod wiped;

use axum::Router;
use axum::routing::{get, post};
use gridwork_core::sync::api;

use crate::AppState;

/// The `/v1` routes, at the paths core defines for both sides.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(api::LOGIN, post(auth::login))
        .route(api::SYNC, post(sync::sync))
        .route(api::WIPED, post(wiped::report))
        .route(api::ACCESS_LOG, post(access_log::upload))
        .route(api::REPAIR_ROUTE, post(repair::repair))
        .route(
            api::BLOB_ROUTE,
            get(blobs::download)
                .head(blobs::offset)
                .patch(blobs::upload),
        )
}
