//! A client of the web console's API, as the browser speaks it: the
//! session cookie from sign-in and the CSRF header on every write. Used by
//! the console stories and by the app's end-to-end tests, where a
//! supervisor acts from the console while a tablet syncs.

use anyhow::{Context, Result, bail};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{PASSWORD, Server};

/// A console session: the cookie the server set at sign-in.
#[derive(Debug)]
pub struct Console {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

/// A console answer: its status and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// The error code of a refusal.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn ok(self) -> Result<Value> {
        if !self.status.is_success() {
            bail!("console answered {}: {}", self.status, self.body);
        }
        Ok(self.body)
    }
}

impl Console {
    /// Signs `user` in; the answer when it is refused.
    pub async fn login(
        server: &Server,
        user: &str,
    ) -> Result<std::result::Result<Console, Answer>> {
        let http = reqwest::Client::new();
        let base = format!("{}/console/api", server.url());
        let response = http
            .post(format!("{base}/login"))
            .header("x-gridwork-console", "1")
            .json(&json!({"user": user, "password": PASSWORD}))
            .send()
            .await?;
        let cookie = response
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let answer = to_answer(response).await?;
        match cookie {
            Some(c) if answer.status.is_success() => {
                assert!(
                    c.contains("HttpOnly") && c.contains("SameSite=Strict"),
                    "{c}"
                );
                let pair = c.split(';').next().context("a cookie pair")?.to_string();
                Ok(Ok(Console {
                    http,
                    base,
                    cookie: pair,
                }))
            }
            _ => Ok(Err(answer)),
        }
    }

    /// Signs `user` in, which must succeed.
    pub async fn open(server: &Server, user: &str) -> Result<Console> {
        match Console::login(server, user).await? {
            Ok(c) => Ok(c),
            Err(a) => bail!("{user} cannot sign in: {} {}", a.status, a.body),
        }
    }

    /// The same session (the same cookie) talking to another process of
    /// the server, as a load balancer without sticky sessions would send
    /// the browser's next request there.
    pub fn on(&self, server: &Server) -> Console {
        Console {
            http: reqwest::Client::new(),
            base: format!("{}/console/api", server.url()),
            cookie: self.cookie.clone(),
        }
    }

    /// The `name=value` cookie pair, for requests this helper does not make.
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    async fn get_raw(&self, path: &str) -> Result<reqwest::Response> {
        Ok(self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await?)
    }

    pub async fn get(&self, path: &str) -> Result<Answer> {
        to_answer(self.get_raw(path).await?).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Result<Answer> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .header("x-gridwork-console", "1")
            .json(&body)
            .send()
            .await?;
        to_answer(response).await
    }

    /// A GET whose answer is a file: status, content type and bytes.
    pub async fn download(&self, path: &str) -> Result<(StatusCode, String, Vec<u8>)> {
        let response = self.get_raw(path).await?;
        let status = response.status();
        let kind = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok((status, kind, response.bytes().await?.to_vec()))
    }

    /// A POST without the console header, as a cross-site form would send.
    pub async fn post_without_header(&self, path: &str, body: Value) -> Result<Answer> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .json(&body)
            .send()
            .await?;
        to_answer(response).await
    }

    /// Every record id in the user's queue (any status).
    pub async fn queue_ids(&self) -> Result<Vec<String>> {
        let page = self.get("/queue?status=all&limit=500").await?.ok()?;
        Ok(page["items"]
            .as_array()
            .context("items")?
            .iter()
            .filter_map(|i| i["id"].as_str().map(str::to_string))
            .collect())
    }

    pub async fn review(&self, id: Uuid, decision: &str, comment: &str) -> Result<Answer> {
        self.post(
            &format!("/records/{id}/review"),
            json!({"decision": decision, "comment": comment}),
        )
        .await
    }

    pub async fn transition(&self, id: Uuid, action: Value, opinion: &str) -> Result<Answer> {
        self.post(
            &format!("/incidents/{id}/transition"),
            json!({"action": action, "opinion": opinion}),
        )
        .await
    }

    /// Accepts a reported incident and dispatches it to 城管 with three
    /// working days, both of which must succeed.
    pub async fn accept_and_dispatch_to_chengguan(&self, id: Uuid, opinion: &str) -> Result<()> {
        self.transition(id, json!({"type": "accept"}), "")
            .await?
            .ok()?;
        self.transition(
            id,
            json!({"type": "dispatch", "to": {"kind": "department", "id": "城管", "name": "城管"}, "deadline_days": 3}),
            opinion,
        )
        .await?
        .ok()?;
        Ok(())
    }
}

async fn to_answer(response: reqwest::Response) -> Result<Answer> {
    let status = response.status();
    let text = response.text().await?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Answer { status, body })
}
