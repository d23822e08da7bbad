//! What the console stories share: a console client speaking the cookie
//! and CSRF-header protocol, and records made on a worker's tablet.

#![allow(dead_code)] // each story uses its own part

use anyhow::{Context, Result, bail};
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::Author;
use gridwork_core::model::{Household, Incident, Meta, Role, User};
use gridwork_core::workflow::{self, Action, Actor};
use gridwork_tests::{Device, PASSWORD, Server, community};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

pub const NOW: i64 = 1_779_000_000_000;

pub fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 5, 17)
}

/// The first user with `role` whose subtree holds `grid`.
pub fn user_over(role: Role, grid: &str) -> &'static User {
    community()
        .users
        .iter()
        .find(|u| u.role == role && grid.starts_with(&u.grid))
        .expect("the demo has such a user")
}

/// Two grids in different communities, and their workers.
pub fn two_communities() -> (&'static User, &'static User) {
    let workers: Vec<&User> = community()
        .users
        .iter()
        .filter(|u| u.role == Role::GridWorker)
        .collect();
    let a = workers[0];
    let cs_a = user_over(Role::CommunitySupervisor, &a.grid);
    let b = workers
        .iter()
        .find(|w| !w.grid.starts_with(&cs_a.grid))
        .expect("a worker in another community");
    (a, b)
}

/// A new household of `grid` registered by `worker`, not yet reviewed.
pub fn new_household(grid: &str, worker: &str) -> Household {
    let mut h = community()
        .households
        .iter()
        .find(|h| h.meta.grid == grid)
        .expect("a household in the grid")
        .clone();
    h.meta = Meta::new(grid, worker, NOW);
    h.review.clear();
    h
}

/// A new incident of `grid`, reported by `worker`.
pub fn reported_incident(grid: &str, worker: &str) -> Incident {
    let mut i = community()
        .incidents
        .iter()
        .find(|i| i.meta.grid == grid)
        .expect("an incident in the grid")
        .clone();
    i.meta = Meta::new(grid, worker, NOW);
    i.number = format!("SJ-{}", i.meta.id.simple());
    i.log.clear();
    workflow::transition(
        &mut i,
        &WorkCalendar::bundled(),
        Actor {
            user: worker,
            role: Role::GridWorker,
        },
        Action::Report,
        "",
        vec![],
        NOW,
    )
    .expect("a new incident can be reported");
    i
}

/// A worker's tablet registers a household and reports an incident, and
/// syncs them to the server.
pub async fn worker_reports(server: &Server, worker: &User) -> Result<(Device, Uuid, Uuid)> {
    let mut device = Device::enrol(server, &worker.id).await?;
    let h = new_household(&worker.grid, &worker.id);
    let i = reported_incident(&worker.grid, &worker.id);
    let author = Author::new(&worker.id, NOW);
    device.store.insert(h.clone(), &author, today())?;
    device.store.insert(i.clone(), &author, today())?;
    device.sync().await?;
    Ok((device, h.meta.id, i.meta.id))
}

/// A department handler of 城管 for the street of `grid`.
pub fn add_handler(server: &Server, grid: &str) -> Result<String> {
    let street = user_over(Role::StreetSupervisor, grid);
    server.admin(&[
        "add-user",
        "--id",
        "dh-test",
        "--name",
        "城管李明",
        "--role",
        "department_handler",
        "--grid",
        &street.grid,
        "--department",
        "城管",
        "--password",
        PASSWORD,
    ])?;
    Ok("dh-test".into())
}

/// A JPEG camera photo, made here: a gradient so it is not trivial.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .expect("encode a JPEG");
    out
}

/// Uploads one file as an after-photo of `incident`.
pub async fn upload(
    console: &Console,
    server: &Server,
    incident: Uuid,
    bytes: Vec<u8>,
) -> Result<Answer> {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/console/api/incidents/{incident}/photos",
            server.url()
        ))
        .header(reqwest::header::COOKIE, console.cookie())
        .header("x-gridwork-console", "1")
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(bytes)
        .send()
        .await?;
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok(Answer { status, body })
}

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
