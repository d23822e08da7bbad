//! What the console stories share: the console client (in the harness,
//! [`gridwork_tests::console`]) and records made on a worker's tablet.

#![allow(dead_code)] // each story uses its own part

use anyhow::Result;
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::Author;
use gridwork_core::model::{Incident, Role, User};
use gridwork_core::workflow::{self, Action, Actor};
pub use gridwork_tests::console::Answer;
pub use gridwork_tests::console::Console;
use gridwork_tests::{Device, PASSWORD, Server, community, new_incident};
pub use gridwork_tests::{NOW, new_household, today, user_over};
use serde_json::Value;
use uuid::Uuid;

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

/// A new incident of `grid`, reported by `worker`.
pub fn reported_incident(grid: &str, worker: &str) -> Incident {
    let mut i = new_incident(grid, worker);
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
