//! HTTP, the thin transport under sync: login and `POST /v1/sync`.

use std::time::Duration;

use serde::Deserialize;

use super::api::{self, LoginRequest};
use super::client::{Frames, SyncError, Transport, TransportError};
use super::pages::PageReader;
use super::trust::{self, Trust};

pub use super::api::{CONTENT_TYPE, Login, LoginUser};

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
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

/// Signs in with a password and enrols this device, trusting the server
/// as [`Trust::default`] does (system roots; plain HTTP to loopback only).
pub async fn login(
    base_url: &str,
    user: &str,
    password: &str,
    device_name: &str,
) -> Result<Login, TransportError> {
    login_trusting(
        base_url,
        &Trust::default(),
        user,
        password,
        device_name,
        None,
    )
    .await
}

/// [`login`] under the trust the device was set up with, naming the
/// earlier enrolment whose recovery secret the device's key file holds
/// (see [`LoginRequest::recovery_device`]).
pub async fn login_trusting(
    base_url: &str,
    trust: &Trust,
    user: &str,
    password: &str,
    device_name: &str,
    recovery_device: Option<&str>,
) -> Result<Login, TransportError> {
    let base = trust::server_address(base_url, trust)?;
    json_answer(
        trust::client(trust)?
            .post(format!("{base}{}", api::LOGIN))
            .json(&LoginRequest {
                user: user.to_string(),
                password: password.to_string(),
                device_name: device_name.to_string(),
                recovery_device: recovery_device.map(str::to_string),
            }),
    )
    .await
}

/// Sends a request whose successful answer is JSON.
async fn json_answer<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> Result<T, TransportError> {
    let response = request.send().await.map_err(trust::failed)?;
    if !response.status().is_success() {
        return Err(failure(response).await);
    }
    response.json().await.map_err(trust::failed)
}

/// Sync over HTTP with a device token.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl HttpTransport {
    /// A transport to the server at `base_url` (e.g. `http://127.0.0.1:8080`),
    /// trusting it as [`Trust::default`] does.
    pub fn new(base_url: &str, token: &str) -> Result<HttpTransport, TransportError> {
        HttpTransport::trusting(base_url, &Trust::default(), token)
    }

    /// A transport to the server at `base_url` under `trust`.
    pub fn trusting(
        base_url: &str,
        trust: &Trust,
        token: &str,
    ) -> Result<HttpTransport, TransportError> {
        Ok(HttpTransport {
            client: trust::client(trust)?,
            base: trust::server_address(base_url, trust)?,
            token: token.to_string(),
        })
    }
}

impl HttpTransport {
    async fn post(&self, path: &str, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        let response = self
            .request(path, body)
            .send()
            .await
            .map_err(trust::failed)?;
        let response = succeeded(response).await?;
        Ok(response.bytes().await.map_err(trust::failed)?.to_vec())
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

/// How long a streamed answer may take in all: 16 pages at 2G's pace (a
/// quarter of a megabyte a page on the bench's grid, about 5 minutes),
/// with room. It must begin within [`trust::ANSWER_WITHIN`], as any answer
/// must, and is given up once it brings nothing for [`STALLED`].
const STREAMED_WITHIN: Duration = Duration::from_secs(30 * 60);
/// A streamed answer that brings no byte for this long has stalled.
const STALLED: Duration = Duration::from_secs(60);

impl HttpTransport {
    /// A POST of the frame `body` to `path` with the device token.
    fn request(&self, path: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(body)
    }
}

/// `response`, if its status says it succeeded; else the server's error.
async fn succeeded(response: reqwest::Response) -> Result<reqwest::Response, TransportError> {
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(failure(response).await)
    }
}

/// The body of a streamed answer ([`super::pages`]), read as it arrives.
#[derive(Debug)]
pub(super) struct StreamedBody {
    response: reqwest::Response,
    reader: PageReader,
}

impl StreamedBody {
    /// The next whole frame; `None` at the end of the answer.
    pub(super) async fn next(&mut self) -> Option<Result<Vec<u8>, SyncError>> {
        loop {
            match self.reader.next_frame() {
                Ok(Some(frame)) => return Some(Ok(frame)),
                Ok(None) => {}
                Err(e) => return Some(Err(e.into())),
            }
            let Ok(chunk) = tokio::time::timeout(STALLED, self.response.chunk()).await else {
                let stalled = format!("the answer stalled for {} s", STALLED.as_secs());
                return Some(Err(TransportError::Unreachable(stalled).into()));
            };
            match chunk {
                Ok(Some(bytes)) => self.reader.push(&bytes),
                Ok(None) => return self.reader.finish().err().map(|e| Err(e.into())),
                Err(e) => return Some(Err(trust::failed(e).into())),
            }
        }
    }
}

impl Transport for HttpTransport {
    async fn exchange(&self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        self.post(api::SYNC, body).await
    }

    /// A streamed answer is told apart by its content type
    /// ([`api::PAGES_CONTENT_TYPE`]); a server that does not stream
    /// answers one frame.
    async fn exchange_pages(&self, body: Vec<u8>) -> Result<Frames, TransportError> {
        let sent = self
            .request(api::SYNC, body)
            .timeout(STREAMED_WITHIN)
            .send();
        let response = tokio::time::timeout(trust::ANSWER_WITHIN, sent)
            .await
            .map_err(|_| {
                let late = trust::ANSWER_WITHIN.as_secs();
                TransportError::Unreachable(format!("no answer within {late} s"))
            })?
            .map_err(trust::failed)?;
        let response = succeeded(response).await?;
        let streamed = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case(api::PAGES_CONTENT_TYPE));
        if streamed {
            return Ok(Frames::streamed(StreamedBody {
                response,
                reader: PageReader::default(),
            }));
        }
        let frame = response.bytes().await.map_err(trust::failed)?.to_vec();
        Ok(Frames::of(vec![Ok(frame)]))
    }

    async fn repair(&self, doc: uuid::Uuid, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        self.post(&api::repair_path(doc), body).await
    }
}
