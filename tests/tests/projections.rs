//! The console's projection rows against a real `gridwork-server`: after a
//! demo load and a real sync of new records, edits and decisions, the rows
//! the server wrote with each change are exactly the rows rebuilt from the
//! documents (`rebuild-projections --check` compares them), and the
//! rebuild itself leaves them so.

mod console_support;

use anyhow::{Context, Result, ensure};
use console_support::Console;
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::Author;
use gridwork_core::model::{Household, Meta, Role};
use gridwork_core::workflow::{self, Action, Actor};
use gridwork_demo::{DemoConfig, generate};
use gridwork_tests::{Device, Server};
use serde_json::json;

const SEED: u64 = 23;
const RECORDS: usize = 800;

/// What `rebuild-projections --check` prints (an error when rows differ).
fn check(server: &Server) -> Result<String> {
    server.admin(&["rebuild-projections", "--check"])
}

#[tokio::test]
async fn rows_written_with_each_change_are_the_rows_rebuilt_from_the_documents() -> Result<()> {
    let server = Server::start_with_demo(SEED, RECORDS)?;
    let demo = generate(&DemoConfig::with_total_records(SEED, RECORDS));
    ensure!(
        check(&server)?.contains("0 projection rows differ"),
        "the demo load wrote its rows"
    );

    let worker = demo.first_user(Role::GridWorker).context("a worker")?;
    let supervisor = demo
        .supervisor_of(&worker.grid)
        .context("the worker's supervisor")?;
    let now = jiff::Timestamp::now().as_millisecond();
    let today = gridwork_core::calendar::shanghai_date(jiff::Timestamp::now());
    let author = Author::new(&worker.id, now);
    let mut tablet = Device::enrol(&server, &worker.id).await?;
    tablet.sync().await?;

    // New records from the tablet: a household to review, an incident to
    // take through the loop.
    let mut household = demo
        .households
        .iter()
        .find(|h| h.meta.grid == worker.grid)
        .context("a household in the worker's grid")?
        .clone();
    household.meta = Meta::new(&worker.grid, &worker.id, now);
    household.review.clear();
    let household_id = household.meta.id;
    tablet.store.insert(household, &author, today)?;
    let mut incident = demo
        .incidents
        .iter()
        .find(|i| i.meta.grid == worker.grid)
        .context("an incident in the worker's grid")?
        .clone();
    incident.meta = Meta::new(&worker.grid, &worker.id, now);
    incident.number = format!("SJ-{}", incident.meta.id.simple());
    incident.log.clear();
    workflow::transition(
        &mut incident,
        &WorkCalendar::bundled(),
        Actor {
            user: &worker.id,
            role: Role::GridWorker,
        },
        Action::Report,
        "",
        vec![],
        now,
    )?;
    let incident_id = incident.meta.id;
    tablet.store.insert(incident, &author, today)?;
    // An edit of a loaded record.
    let loaded = demo
        .households
        .iter()
        .find(|h| h.meta.grid == worker.grid && !h.meta.deleted)
        .context("a loaded household")?
        .meta
        .id;
    tablet
        .store
        .update::<Household>(loaded, &author, today, |h| {
            h.address.room = "1203".into();
            h.flags.living_alone = !h.flags.living_alone;
        })?;
    tablet.sync().await?;

    // Decisions in the console: the server writes them as changes.
    let console = Console::open(&server, &supervisor.id).await?;
    console
        .review(household_id, "return", "门牌号不清楚")
        .await?
        .ok()?;
    console
        .accept_and_dispatch_to_chengguan(incident_id, "请尽快处理")
        .await?;
    if let Some(id) = loaded_incident(&demo, &worker.grid) {
        console
            .transition(id, json!({"type": "accept"}), "")
            .await?
            .ok()?;
    }
    tablet.sync().await?;
    // And the tablet's answer to the return.
    tablet
        .store
        .update::<Household>(household_id, &author, today, |h| {
            h.address.room = "502".into();
        })?;
    tablet.sync().await?;

    let checked = check(&server)?;
    ensure!(
        checked.contains("0 projection rows differ"),
        "rows written at push time differ from the rebuilt ones:\n{checked}"
    );
    let rebuilt = server.admin(&["rebuild-projections"])?;
    ensure!(rebuilt.contains("projection rows rebuilt"), "{rebuilt}");
    ensure!(check(&server)?.contains("0 projection rows differ"));

    // The console lists from those rows: the returned household is there,
    // returned, with its comment.
    let page = console
        .get("/queue?kind=household&status=returned&limit=500")
        .await?
        .ok()?;
    let item = page["items"]
        .as_array()
        .context("items")?
        .iter()
        .find(|i| i["id"] == household_id.to_string())
        .context("the returned household is listed")?;
    ensure!(item["return_comment"] == "门牌号不清楚", "{item}");
    Ok(())
}

/// A reported incident of the demo in `grid` (the supervisor accepts it).
fn loaded_incident(demo: &gridwork_demo::Demo, grid: &str) -> Option<uuid::Uuid> {
    let cal = WorkCalendar::bundled();
    demo.incidents
        .iter()
        .find(|i| {
            i.meta.grid == grid
                && !i.meta.deleted
                && workflow::derive(i, &cal).status == workflow::Status::Reported
        })
        .map(|i| i.meta.id)
}
