//! Version 1 of the API.

pub mod auth;
pub mod sync;

use axum::Router;
use axum::routing::post;

use crate::AppState;

/// The `/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", post(auth::login))
        .route("/sync", post(sync::sync))
}
