//! HTTP, the thin transport under sync: login and `POST /v1/sync`.

use std::time::Duration;

use serde::Deserialize;

use super::api::{self, LoginRequest};
use super::client::{Transport, TransportError};

pub use super::api::{CONTENT_TYPE, Login, LoginUser};

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
}

pub(super) fn client() -> Result<reqwest::Client, TransportError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| TransportError::Unreachable(e.to_string()))
}

pub(super) async fn failure(response: reqwest::Response) -> TransportError {
    let status = response.status().as_u16();
    match response.json::<ErrorBody>().await {
        Ok(body) => TransportError::Server {
            status,
            code: body.code,
            message: body.message,
        },
        Err(_) => TransportError::Server {
            status,
            code: "http_error".into(),
            message: format!("HTTP {status}"),
        },
    }
}

pub(super) fn unreachable(e: reqwest::Error) -> TransportError {
    TransportError::Unreachable(e.to_string())
}

/// Signs in with a password and enrols this device.
pub async fn login(
    base_url: &str,
    user: &str,
    password: &str,
    device_name: &str,
) -> Result<Login, TransportError> {
    json_answer(
        client()?
            .post(format!("{}{}", base_url.trim_end_matches('/'), api::LOGIN))
            .json(&LoginRequest {
                user: user.to_string(),
                password: password.to_string(),
                device_name: device_name.to_string(),
            }),
    )
    .await
}

/// Sends a request whose successful answer is JSON.
async fn json_answer<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> Result<T, TransportError> {
    let response = request.send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(failure(response).await);
    }
    response.json().await.map_err(unreachable)
}

/// Sync over HTTP with a device token.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl HttpTransport {
    /// A transport to the server at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: &str, token: &str) -> Result<HttpTransport, TransportError> {
        Ok(HttpTransport {
            client: client()?,
            base: base_url.trim_end_matches('/').to_string(),
            token: token.to_string(),
        })
    }
}

impl HttpTransport {
    async fn post(&self, path: &str, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(body)
            .send()
            .await
            .map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(failure(response).await);
        }
        Ok(response.bytes().await.map_err(unreachable)?.to_vec())
    }
}

impl HttpTransport {
    /// Posts `body` as JSON to `path` with the device token; the answer is
    /// JSON too.
    pub async fn post_json<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, TransportError> {
        json_answer(
            self.client
                .post(format!("{}{path}", self.base))
                .bearer_auth(&self.token)
                .json(body),
        )
        .await
    }
}

impl Transport for HttpTransport {
    async fn exchange(&self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        self.post(api::SYNC, body).await
    }

    async fn repair(&self, doc: uuid::Uuid, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        self.post(&api::repair_path(doc), body).await
    }
}
