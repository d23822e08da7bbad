//! The HTTP API: routes, grouped by version, over the library's modules.
//!
//! Handlers are thin: they authenticate, read the body, run the blocking
//! work (storage, Automerge, argon2) on tokio's blocking pool, and turn the
//! outcome into a response. Unversioned: `/healthz`, `/readyz`. Version 1:
//! `/v1/login`, `/v1/sync`.

pub mod console;
pub mod health;
pub mod refusals;
pub mod v1;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The client's address, when the server was started with connection info
/// (it is, by [`crate::launch`]); unspecified otherwise.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}
