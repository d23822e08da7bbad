//! Items 5 and 15–18: the reveal-log upload, the grid import, client text
//! in the log and the terminal, login limits, the console's answers.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::Author;
use gridwork_core::media::synthetic_photo;
use gridwork_core::model::{Incident, Meta, PhotoRole, Role};
use gridwork_core::sync::blobs::{BlobTransport, sync_photos};
use gridwork_core::workflow::{self, Action, Actor};
use gridwork_tests::{Device, PASSWORD};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Answer, Raw, Trial, demo, user, workers};

/// A reveal-log entry as a tablet would send it, claiming `claimed_user`.
fn reveal(record: Uuid, kind: &str, claimed_user: &str) -> Value {
    json!({
        "id": Uuid::now_v7(),
        "at": 0,
        "user_id": claimed_user,
        "record_kind": kind,
        "record_id": record,
        "field": "id_number",
        "protection": "s",
    })
}

/// Item 5: an upload naming a record the device may not hold (another
/// grid's, one its role does not receive, or none at all), with a body
/// claiming another user, is refused entry by entry and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item05_reveals_of_records_outside_the_devices_scope_are_refused() -> Result<()> {
    let trial = Trial::start().await?;
    let worker = workers()[1];
    let raw = trial.login(&worker.id).await?;
    let handler = trial.login(&user(Role::DepartmentHandler).id).await?;
    let supervisor = user(Role::StreetSupervisor);
    let elsewhere = demo()
        .residents
        .iter()
        .find(|r| r.meta.grid != worker.grid)
        .context("a resident of another grid")?
        .meta
        .id;
    let household = demo()
        .households
        .iter()
        .find(|h| h.meta.grid == worker.grid)
        .context("a household of the worker's grid")?
        .meta
        .id;

    let before = trial.digest()?;
    for (who, record) in [
        (&raw, elsewhere),
        (&raw, Uuid::now_v7()),
        // A handler's grids cover the street, but not its register.
        (&handler, household),
    ] {
        let entry = reveal(record, "resident", &supervisor.id);
        let answer = who
            .post_json("/v1/access-log", &json!({ "entries": [entry] }))
            .await?;
        ensure!(answer.status == 200, "{}", answer.text());
        let body = answer.json();
        ensure!(
            body["stored"] == json!([])
                && body["added"] == 0
                && body["refused"][0]["id"] == entry["id"]
                && body["refused"][0]["code"] == "outside_scope",
            "{body}"
        );
    }
    trial.unchanged(&before)?;
    trial.finish().await
}

/// Item 5: of an entry the server stores, it takes the user, device, time
/// and record kind it knows, not the body's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item05_a_stored_reveal_carries_the_servers_user_time_and_kind() -> Result<()> {
    let trial = Trial::start().await?;
    let worker = workers()[1];
    let raw = trial.login(&worker.id).await?;
    let supervisor = user(Role::StreetSupervisor);
    let household = demo()
        .households
        .iter()
        .find(|h| h.meta.grid == worker.grid)
        .context("a household of the worker's grid")?
        .meta
        .id;
    let started = jiff::Timestamp::now().as_millisecond();

    let before = trial.digest()?;
    let entry = reveal(household, "resident", &supervisor.id);
    let answer = raw
        .post_json("/v1/access-log", &json!({ "entries": [entry] }))
        .await?;
    ensure!(answer.status == 200, "{}", answer.text());
    ensure!(
        answer.json()["stored"] == json!([entry["id"]]),
        "{}",
        answer.text()
    );
    // Only the access log grew.
    trial
        .digest()?
        .without(&["access_log"])
        .same_as(&before.without(&["access_log"]))?;

    let admin = trial.console(&user(Role::Admin).id).await?;
    let log = admin.get("/console/api/access-log?limit=1000").await?;
    let rows = log.json();
    let row = rows
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["record_ids"][0] == household.to_string().as_str())
        })
        .with_context(|| format!("the reveal is logged: {rows}"))?;
    ensure!(row["user_id"] == worker.id.as_str(), "{row}");
    ensure!(row["device_id"] == raw.device_id.as_str(), "{row}");
    ensure!(row["target"] == "household", "{row}");
    ensure!(row["at"].as_i64().is_some_and(|at| at >= started), "{row}");
    let filter = row["filter"].as_str().unwrap_or_default();
    ensure!(
        !filter.contains(&supervisor.id) && filter.contains("\"device_at\":0"),
        "{row}"
    );
    trial.finish().await
}

/// The demo's grid tree, one grid feature edited by `edit`, written to a
/// file for `import-grids`; and that grid's code.
fn edited_tree(trial: &Trial, name: &str, edit: impl FnOnce(&mut Value)) -> Result<PathBuf> {
    let mut tree: Value = serde_json::from_str(&demo().grid_tree_geojson)?;
    let features = tree["features"]
        .as_array_mut()
        .context("the demo tree's features")?;
    let grid = features
        .iter_mut()
        .find(|f| f["properties"]["code"] == workers()[1].grid.as_str())
        .context("the second worker's grid")?;
    edit(grid);
    let path = trial.server.data_dir().join(format!("{name}.geojson"));
    std::fs::write(&path, tree.to_string())?;
    Ok(path)
}

/// A closed ring of `n` vertices around `[lon, lat]`, about 100 m across.
fn circle(lon: f64, lat: f64, n: usize) -> Value {
    let mut ring: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let a = i as f64 / n as f64 * std::f64::consts::TAU;
            [lon + 0.001 * a.cos(), lat + 0.001 * a.sin()]
        })
        .collect();
    ring.push(ring[0]);
    json!({"type": "Polygon", "coordinates": [ring]})
}

/// The size of a supervisor's login answer (every grid of the subtree,
/// with boundaries).
async fn login_bytes(trial: &Trial) -> Result<usize> {
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/login", trial.url()))
        .json(&json!({"user": user(Role::StreetSupervisor).id, "password": PASSWORD, "device_name": "size"}))
        .send()
        .await?;
    ensure!(answer.status().is_success(), "{}", answer.status());
    Ok(answer.bytes().await?.len())
}

/// Item 15: `import-grids` refuses a self-intersecting polygon, a polygon
/// of 1,000,000 vertices and a code holding `/`, naming the feature and
/// why, and stores nothing: a supervisor's login answers as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item15_import_grids_refuses_bad_geometry_naming_the_feature() -> Result<()> {
    let trial = Trial::start().await?;
    let grid = workers()[1].grid.clone();
    let community = demo()
        .supervisor_of(&grid)
        .context("the grid's community")?
        .grid
        .clone();
    let [lon, lat] = demo()
        .households
        .iter()
        .filter(|h| h.meta.grid == grid)
        .find_map(|h| h.point.as_ref().map(|p| [p.lon, p.lat]))
        .context("a point in the grid")?;

    let bow_tie = edited_tree(&trial, "bow-tie", |f| {
        f["geometry"] = json!({"type": "Polygon", "coordinates": [[
            [lon, lat], [lon + 0.001, lat + 0.001], [lon + 0.001, lat], [lon, lat + 0.001], [lon, lat]
        ]]});
    })?;
    let huge = edited_tree(&trial, "huge", |f| {
        f["geometry"] = circle(lon, lat, 1_000_000);
    })?;
    let slash = edited_tree(&trial, "slash", |f| {
        f["properties"]["code"] = format!("{community}/999").into();
    })?;

    let login_before = login_bytes(&trial).await?;
    let before = trial.digest()?;
    for (file, named, why) in [
        (&bow_tie, grid.as_str(), "self-intersection"),
        (&huge, grid.as_str(), "1000001 vertices, at most 10000"),
        (&slash, "/999", "may hold only the digits"),
    ] {
        let refused = trial
            .server
            .admin(&["import-grids", file.to_str().unwrap_or_default()]);
        let message = match refused {
            Ok(out) => anyhow::bail!("{} was imported: {out}", file.display()),
            Err(e) => e.to_string(),
        };
        ensure!(
            message.contains(named) && message.contains(why),
            "{}: {message}",
            file.display()
        );
    }
    trial.unchanged(&before)?;
    let login_after = login_bytes(&trial).await?;
    ensure!(
        login_after == login_before,
        "a supervisor's login answer went from {login_before} to {login_after} bytes"
    );
    trial.finish().await
}

/// Item 16: a user name with a newline cannot forge a line of the server's
/// log, and a device name with escape sequences is refused at login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item16_client_text_cannot_forge_a_log_line_or_drive_a_terminal() -> Result<()> {
    let trial = Trial::start().await?;
    let forged = "2026-12-04T08:00:00.000000Z  WARN gridwork_server: admin approved";
    let http = reqwest::Client::new();
    let login = |body: Value| {
        let http = http.clone();
        let url = format!("{}/v1/login", trial.url());
        async move {
            let response = http.post(url).json(&body).send().await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await?.to_vec();
            anyhow::Ok(Answer {
                status,
                headers,
                body,
            })
        }
    };

    let before = trial.digest()?;
    login(json!({"user": format!("mallory\n{forged}"), "password": "x", "device_name": "t"}))
        .await?
        .refused(401, "bad_credentials")?;
    login(json!({
        "user": workers()[1].id,
        "password": PASSWORD,
        "device_name": "平板\u{1b}[2J\u{1b}]0;owned\u{7}\u{202e}",
    }))
    .await?
    .refused(400, "bad_request")?;
    trial.unchanged(&before)?;

    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = trial.server.log();
    // Logged on one line, escaped (and cut at 64 characters).
    ensure!(
        log.lines()
            .any(|l| l.contains("login failed") && l.contains("user=mallory\\n2026-12-04T08:00")),
        "the failed login is logged, escaped:\n{log}"
    );
    ensure!(
        !log.lines().any(|l| l.starts_with(forged)),
        "a forged line reached the log:\n{log}"
    );

    // A device enrolled with such a name by an older server is listed
    // escaped.
    let raw = trial.login(&workers()[1].id).await?;
    let name = "平板\u{1b}[2J\u{9b}31m\u{202e}";
    rusqlite::Connection::open(trial.server.data_dir().join("gridwork.sqlite"))?.execute(
        "UPDATE devices SET name = ?1 WHERE id = ?2",
        [name, raw.device_id.as_str()],
    )?;
    let listed = trial
        .server
        .admin(&["list-devices", "--user", &workers()[1].id])?;
    ensure!(
        listed.contains("平板\\u{1b}[2J\\u{9b}31m\\u{202e}")
            && !listed.contains('\u{1b}')
            && !listed.contains('\u{9b}'),
        "{listed:?}"
    );
    trial.finish().await
}

/// A login from a client bound to `source` (any 127.x address reaches the
/// server on loopback).
async fn login_from(
    trial: &Trial,
    source: IpAddr,
    path: &str,
    user: &str,
    password: &str,
) -> Result<Answer> {
    let http = reqwest::Client::builder().local_address(source).build()?;
    let response = http
        .post(format!("{}{path}", trial.url()))
        .header("x-gridwork-console", "1")
        .json(&json!({"user": user, "password": password, "device_name": "trial"}))
        .send()
        .await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await?.to_vec();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Item 17: ten wrong passwords from one address do not lock the user out:
/// the right one from another address works, on the device login and on
/// the console's. The address that guessed waits, and the failures and
/// the waits are logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item17_wrong_passwords_from_one_address_do_not_lock_the_user_out() -> Result<()> {
    let trial = Trial::start().await?;
    let guesser: IpAddr = "127.0.0.1".parse()?;
    let owner: IpAddr = "127.0.0.2".parse()?;

    for (path, victim) in [
        ("/v1/login", user(Role::CommunitySupervisor)),
        ("/console/api/login", user(Role::StreetSupervisor)),
    ] {
        let before = trial.digest()?;
        let mut statuses = Vec::new();
        for _ in 0..10 {
            let answer = login_from(&trial, guesser, path, &victim.id, "wrong password").await?;
            ensure!(
                [(401, "bad_credentials"), (429, "rate_limited")]
                    .contains(&(answer.status, answer.code().as_str())),
                "{path}: {} {}",
                answer.status,
                answer.text()
            );
            statuses.push(answer.status);
        }
        ensure!(
            statuses[..5] == [401; 5] && statuses.contains(&429),
            "{path}: {statuses:?}"
        );
        // One more failure starts a wait: the guessing address is held
        // back even with the right password.
        while login_from(&trial, guesser, path, &victim.id, "wrong password")
            .await?
            .status
            != 401
        {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let held = login_from(&trial, guesser, path, &victim.id, PASSWORD).await?;
        held.refused(429, "rate_limited")?;
        ensure!(held.header("retry-after").is_some(), "{:?}", held.headers);
        trial.unchanged(&before)?;

        // The user, from their own desk, signs in.
        let own = login_from(&trial, owner, path, &victim.id, PASSWORD).await?;
        ensure!(own.status == 200, "{path}: {} {}", own.status, own.text());
    }

    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = trial.server.log();
    for (channel, victim) in [
        ("device", user(Role::CommunitySupervisor)),
        ("console", user(Role::StreetSupervisor)),
    ] {
        let lines = |message: &str, reason: &str| {
            log.lines()
                .filter(|l| {
                    l.contains(message)
                        && l.contains(&format!("channel=\"{channel}\""))
                        && l.contains(&format!("user={}", victim.id))
                        && l.contains("source=127.0.0.1")
                        && l.contains(reason)
                })
                .count()
        };
        ensure!(
            lines("login failed", "reason=\"wrong_password\"") >= 6,
            "{channel}: failed logins are logged:\n{log}"
        );
        ensure!(
            lines("login refused", "reason=\"rate_limited\"") >= 1,
            "{channel}: rate-limit hits are logged:\n{log}"
        );
    }
    ensure!(
        !log.contains("wrong password") && !log.contains(PASSWORD),
        "a password reached the log:\n{log}"
    );
    trial.finish().await
}

/// Item 18: an unknown console API path answers a JSON 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item18_unknown_console_api_paths_answer_a_json_404() -> Result<()> {
    let trial = Trial::start().await?;
    let console = trial.console(&user(Role::CommunitySupervisor).id).await?;
    let before = trial.digest()?;
    for client in [console.clone(), console.anonymous()] {
        for path in [
            "/console/api",
            "/console/api/",
            "/console/api/nope",
            "/console/api/records/x/y/z",
        ] {
            let answer = client.get(path).await?;
            answer.refused(404, "not_found")?;
            ensure!(
                answer
                    .header("content-type")
                    .is_some_and(|t| t.starts_with("application/json")),
                "{path}: {:?}",
                answer.headers
            );
        }
    }
    trial.unchanged(&before)?;
    trial.finish().await
}

/// Item 18: a `Range` header is read as RFC 9110 says, on the console's
/// files and on a blob: one to ignore gets the whole file with 200, one
/// past the end 416, a good one 206.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item18_ranges_are_answered_as_rfc_9110_says() -> Result<()> {
    let trial = Trial::start().await?;
    let worker = workers()[1];

    // A photo of a reported incident, uploaded by the worker's tablet.
    let mut tablet = Device::enrol(&trial.server, &worker.id).await?;
    let photo = tablet
        .store
        .add_photo(&synthetic_photo(800, 600, 7), PhotoRole::Before, None)?;
    let now = jiff::Timestamp::now().as_millisecond();
    let mut incident: Incident = demo()
        .incidents
        .iter()
        .find(|i| i.meta.grid == worker.grid)
        .context("an incident of the grid")?
        .clone();
    incident.meta = Meta::new(&worker.grid, &worker.id, now);
    incident.number = format!("SJ-{}", incident.meta.id.simple());
    incident.log.clear();
    incident.photos = vec![photo.clone()];
    let actor = Actor {
        user: &worker.id,
        role: Role::GridWorker,
    };
    let calendar = WorkCalendar::bundled();
    workflow::transition(
        &mut incident,
        &calendar,
        actor,
        Action::Report,
        "",
        vec![],
        now,
    )?;
    let id = incident.meta.id;
    tablet.store.insert(
        incident,
        &Author::new(&worker.id, now),
        gridwork_core::calendar::shanghai_date(jiff::Timestamp::now()),
    )?;
    tablet.sync().await?;
    let up = sync_photos(
        &mut tablet.store,
        &BlobTransport::new(&trial.url(), &tablet.login.token)?,
    )
    .await?;
    ensure!(up.pending == 0, "{up:?}");
    let photo_len = tablet
        .store
        .photo_bytes(&photo.sha256)?
        .context("the photo")?
        .len();

    let raw = trial.login(&worker.id).await?;
    let console = trial.console(&user(Role::CommunitySupervisor).id).await?;
    let page_len = console.get("/console/").await?.ok()?.body.len();
    let blob = format!("/v1/blobs/{}?doc={id}", photo.sha256);

    let before = trial.digest()?;
    let cases: [(&Raw, &str, usize); 2] = [
        (&console, "/console/", page_len),
        (&raw, blob.as_str(), photo_len),
    ];
    for (client, path, len) in cases {
        let with = |range: &'static str| async move {
            client
                .send(reqwest::Method::GET, path, &[("range", range)], None)
                .await
        };
        for ignored in ["bytes=abc", "items=0-9", "bytes=0-1,5-6", "bytes=9-3"] {
            let answer = with(ignored).await?;
            ensure!(
                answer.status == 200 && answer.body.len() == len,
                "{path} {ignored}: {} with {} of {len} bytes",
                answer.status,
                answer.body.len()
            );
        }
        let part = with("bytes=0-9").await?;
        ensure!(
            part.status == 206
                && part.body.len() == 10
                && part.header("content-range") == Some(format!("bytes 0-9/{len}")),
            "{path}: {} {:?}",
            part.status,
            part.headers
        );
        let past = with("bytes=99999999-").await?;
        ensure!(past.status == 416, "{path}: {}", past.status);
    }
    trial.unchanged(&before)?;
    trial.finish().await
}

/// Item 18: the console is sent with a Content-Security-Policy, framing
/// refused and sniffing off, page and API alike. (That the built console
/// runs under this policy is what its browser tests check: they fail on
/// any violation.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item18_the_console_is_sent_with_security_headers() -> Result<()> {
    let trial = Trial::start().await?;
    let console = trial.console(&user(Role::CommunitySupervisor).id).await?;
    let before = trial.digest()?;
    for path in [
        "/console/",
        "/console/queue",
        "/console/api/me",
        "/console/api/nope",
    ] {
        let answer = console.get(path).await?;
        let csp = answer.header("content-security-policy").unwrap_or_default();
        ensure!(
            csp.contains("default-src 'self'")
                && csp.contains("script-src 'self'")
                && csp.contains("frame-ancestors 'none'")
                && csp.contains("object-src 'none'")
                && !csp.contains("unsafe"),
            "{path}: {csp:?}"
        );
        for (name, value) in [
            ("x-frame-options", "DENY"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "same-origin"),
        ] {
            ensure!(
                answer.header(name).as_deref() == Some(value),
                "{path}: {name} is {:?}",
                answer.header(name)
            );
        }
    }
    trial.unchanged(&before)?;
    trial.finish().await
}
