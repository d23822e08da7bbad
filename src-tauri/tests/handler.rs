//! The real app binary as a department handler, end to end (Xvfb,
//! tauri-driver, WebKitWebDriver, a real `gridwork-server` process), its
//! connection running through the fault proxy (`gridwork_tests::proxy`).
//!
//! A grid worker reports an incident with two photos; the worker and their
//! supervisor change its address at once (a conflict in its history). The
//! handler (城管) signs in on their tablet and syncs: nothing is theirs
//! yet, and their cursor moves past all of it. The supervisor accepts the
//! incident and dispatches it to 城管 from the console. On the handler's
//! next sync only the console's changes are
//! new to the handler's cursor: the app parks them for their missing
//! history and fetches the rest through the repair path, whose first
//! answer the proxy loses. The sync screen shows the retry, the next try
//! goes through, and the incident arrives whole: its photos shown on its
//! page, its timeline of three steps, its conflict with both values on the
//! conflicts screen, and in the app's store the same history as the
//! server's and the photos byte for byte.
//!
//! Screenshots go to `<target>/e2e-screenshots/handler/`. Needs what
//! `e2e.rs` needs (`scripts/setup` installs it) and the UI built into
//! `ui/dist`.

mod app_support;

use anyhow::{Context, Result};
use app_support::{App, user_with};
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::Author;
use gridwork_core::media::synthetic_photo;
use gridwork_core::model::{Incident, Meta, PhotoRole, Role};
use gridwork_core::sync::blobs::{BlobTransport, sync_photos};
use gridwork_core::workflow::{self, Action, Actor};
use gridwork_tests::console::Console;
use gridwork_tests::proxy::{Faults, Proxy};
use gridwork_tests::{Device, Server, community};
use serde_json::json;

const EAST: &str = "阳光花园3栋东门";
const WEST: &str = "阳光花园3栋西门";
const OPINION: &str = "请三日内清理";

// Where the screenshots are is what a person reads.
#[allow(clippy::print_stdout)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_dispatched_after_the_handlers_first_sync_arrives_whole_through_a_cut()
-> Result<()> {
    let app = App::launch("handler")?;
    let server = Server::start()?;
    let worker = community()
        .users
        .iter()
        .find(|u| u.role == Role::GridWorker)
        .expect("a grid worker");
    let supervisor = user_with(Role::CommunitySupervisor, &worker.grid);
    let handler = community()
        .users
        .iter()
        .find(|u| {
            u.role == Role::DepartmentHandler
                && u.department.as_deref() == Some("城管")
                && worker.grid.starts_with(&u.grid)
        })
        .expect("a 城管 handler over the worker's grid");
    let upstream = server.url().trim_start_matches("http://").parse()?;
    let proxy = Proxy::start(upstream, Faults::default(), 0x5eed_0012).await?;

    // The grid worker reports an incident with two photos of the scene.
    let now = jiff::Timestamp::now().as_millisecond();
    let today = gridwork_core::calendar::shanghai_date(jiff::Timestamp::now());
    let cal = WorkCalendar::bundled();
    let mut tablet = Device::enrol(&server, &worker.id).await?;
    let originals = [synthetic_photo(1200, 900, 7), synthetic_photo(900, 1200, 8)];
    let mut incident = community()
        .incidents
        .iter()
        .find(|i| i.meta.grid == worker.grid)
        .expect("an incident in the worker's grid")
        .clone();
    incident.meta = Meta::new(&worker.grid, &worker.id, now);
    incident.number = format!("SJ-{}", incident.meta.id.simple());
    incident.title = "3栋门口垃圾堆积".into();
    incident.address = "阳光花园3栋".into();
    incident.log.clear();
    incident.photos.clear();
    for original in &originals {
        let photo = tablet
            .store
            .add_photo(original, PhotoRole::Before, Some(now))?;
        incident.photos.push(photo);
    }
    let photos = incident.photos.clone();
    let worker_actor = Actor {
        user: &worker.id,
        role: worker.role,
    };
    workflow::transition(
        &mut incident,
        &cal,
        worker_actor,
        Action::Report,
        "",
        vec![],
        now,
    )
    .expect("a new incident can be reported");
    let id = incident.meta.id;
    tablet
        .store
        .insert(incident, &Author::new(&worker.id, now), today)?;
    let pushed = tablet.sync().await?;
    assert!(pushed.rejected.is_empty(), "{:?}", pushed.rejected);
    let blobs = BlobTransport::new(&server.url(), &tablet.login.token)?;
    let up = sync_photos(&mut tablet.store, &blobs).await?;
    assert!(
        up.sent >= 2 && up.pending == 0 && up.refused.is_empty(),
        "both photos on the server: {up:?}"
    );

    // The worker and the supervisor's desk change the address at once.
    let mut desk = Device::enrol(&server, &supervisor.id).await?;
    desk.sync().await?;
    tablet
        .store
        .update::<Incident>(id, &Author::new(&worker.id, now + 1_000), today, |i| {
            i.address = EAST.into()
        })?;
    desk.store
        .update::<Incident>(id, &Author::new(&supervisor.id, now + 1_000), today, |i| {
            i.address = WEST.into()
        })?;
    for device in [&mut tablet, &mut desk] {
        let progress = device.sync().await?;
        assert!(progress.rejected.is_empty(), "{:?}", progress.rejected);
    }
    tablet.sync().await?;
    let mut doc = tablet.store.load(id)?.context("the incident")?;
    assert_eq!(doc.conflicts().len(), 1, "the two edits meet as a conflict");

    // The handler signs in through the proxy; the first sync moves their
    // cursor past all of that, and brings nothing of it: it is not theirs.
    let d = app.open().await?;
    d.sign_in(&proxy.url(), &handler.id).await?;
    d.wait_text("[data-test=greeting]", &handler.name).await?;
    d.wait_text("[data-test=sync-state]", "已连接").await?;
    d.shot("01-handler-home").await?;

    // The supervisor accepts it and dispatches it to 城管 from the console.
    let console = Console::open(&server, &supervisor.id).await?;
    console
        .accept_and_dispatch_to_chengguan(id, OPINION)
        .await?;

    // The handler syncs: the server does the repair, its answer is lost.
    proxy.set_faults(Faults {
        lose_answer_to: Some("/v1/repair/".into()),
        ..Faults::default()
    });
    d.click("[data-test=tab-sync]").await?;
    d.find("[data-test=sync]").await?;
    d.click("[data-test=sync-now]").await?;
    d.wait_text("[data-test=sync-retry]", "第 1 次同步未成功")
        .await?;
    d.shot("02-sync-retry").await?;
    // The retry goes through.
    d.wait_count("[data-test=sync-retry]", 0).await?;
    d.wait_text("[data-test=sync-state]", "已连接").await?;
    d.wait_for(
        "the sync ends",
        || d.attr("[data-test=sync-now]", "class"),
        |class| !class.contains("van-button--loading"),
    )
    .await?;
    assert_eq!(d.count("[data-test=sync-error]").await?, 0);
    assert_eq!(proxy.cuts(), 1, "the repair's answer was lost once");
    d.shot("03-sync-done").await?;

    // The incident page: dispatched, its photos, its three steps.
    d.script(
        "location.hash = arguments[0]",
        json!([format!("#/incidents/{id}")]),
    )
    .await?;
    d.find("[data-test=incident-detail]").await?;
    d.wait_text("[data-test=incident-heading]", "3栋门口垃圾堆积")
        .await?;
    d.wait_text("[data-test=incident-status]", "已分派").await?;
    d.wait_for(
        "both photos shown",
        || async {
            let shown = d
                .script(
                    "return [...document.querySelectorAll('[data-test=photo-thumb]')]\
                     .filter((img) => img.complete && img.naturalWidth > 0).length;",
                    json!([]),
                )
                .await?;
            Ok(shown.to_string())
        },
        |n| n == "2",
    )
    .await?;
    d.wait_count("[data-test=timeline-entry]", 3).await?;
    let timeline = d.text("[data-test=timeline]").await?;
    for step in ["上报", "受理", "分派", OPINION] {
        assert!(timeline.contains(step), "{step} in {timeline}");
    }
    d.shot("04-incident").await?;

    // Its conflict, with both values and who wrote them.
    d.click("[data-test=conflict-banner]").await?;
    d.wait_count("[data-test=conflict-value]", 2).await?;
    let conflict = d.text("[data-test=conflict]").await?;
    for value in [EAST, WEST] {
        assert!(conflict.contains(value), "{value} in {conflict}");
    }
    d.shot("05-conflict").await?;

    // Nothing lost: the app's store holds the server's whole history of the
    // incident and both photos byte for byte.
    desk.sync().await?;
    let store = app_support::open_store(&app.home.path().join("gridwork"), app_support::PIN)?;
    assert_eq!(
        store.heads(id)?,
        desk.store.heads(id)?,
        "the same history as the server's"
    );
    for photo in &photos {
        let kept = store.photo_bytes(&photo.sha256)?.context("the photo")?;
        assert_eq!(Some(kept), tablet.store.photo_bytes(&photo.sha256)?);
    }
    d.quit().await?;
    println!("screenshots: {}", app.shots.display());
    Ok(())
}
