//! Tasks from above against a real `gridwork-server` process: a
//! supervisor issues a checklist or a screening campaign (专项排查) to a
//! subtree, each grid receives one task document, a worker's tablet syncs
//! it and ticks lines, and the console's completion follows; what a worker
//! may not change is undone, and who may issue and see tasks is checked.

mod console_support;

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use console_support::{
    Console, add_handler, new_household, two_communities, user_over, worker_reports,
};
use gridwork_core::calendar::shanghai_date;
use gridwork_core::doc::Author;
use gridwork_core::fieldwork::tasks::tick_task;
use gridwork_core::model::{
    CareTag, CareTagKind, Meta, RecordKind, Role, Task, TaskItem, TaskKind, User,
};
use gridwork_core::store::ListQuery;
use gridwork_tests::{Device, Server, community};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

fn today() -> jiff::civil::Date {
    shanghai_date(jiff::Timestamp::now())
}

fn due_in(days: i64) -> String {
    today()
        .checked_add(jiff::Span::new().days(days))
        .expect("a date")
        .to_string()
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// The grids of `root`'s subtree that have a grid worker.
fn worker_grids(root: &str) -> BTreeSet<String> {
    community()
        .users
        .iter()
        .filter(|u| u.role == Role::GridWorker && u.grid.starts_with(root))
        .map(|u| u.grid.clone())
        .collect()
}

fn checklist(grid: &str) -> Value {
    json!({
        "title": "冬季消防安全检查",
        "description": "逐户检查电动车充电和燃气",
        "kind": "checklist",
        "due": due_in(3),
        "grid": grid,
        "items": ["检查楼道电动车", "检查燃气报警器", "  "],
    })
}

fn screening(grid: &str, filter: &str) -> Value {
    json!({
        "title": "独居老人专项排查",
        "kind": "screening",
        "due": due_in(5),
        "grid": grid,
        "filter": filter,
    })
}

fn tasks_on(device: &Device) -> Result<Vec<Task>> {
    let rows = device.store.list(&ListQuery {
        kind: Some(RecordKind::Task),
        ..ListQuery::default()
    })?;
    rows.iter()
        .map(|p| {
            device
                .store
                .get::<Task>(p.id)?
                .context("a listed task can be read")
        })
        .collect()
}

fn campaign_of<'a>(list: &'a Value, campaign: &str) -> Result<&'a Value> {
    list.as_array()
        .context("a list of campaigns")?
        .iter()
        .find(|c| c["campaign"] == campaign)
        .context("the campaign is listed")
}

#[tokio::test]
async fn a_campaign_reaches_every_grid_and_its_completion_is_tracked() -> Result<()> {
    let server = Server::start()?;
    let (a, b) = two_communities();
    let cs = user_over(Role::CommunitySupervisor, &a.grid);

    // The worker's register: one household where an elderly person lives
    // alone, one where nobody does.
    let mut device = Device::enrol(&server, &a.id).await?;
    let author = Author::new(&a.id, now_ms());
    let mut alone = new_household(&a.grid, &a.id);
    alone.flags.living_alone = true;
    let mut family = new_household(&a.grid, &a.id);
    family.flags.living_alone = false;
    device.store.insert(alone.clone(), &author, today())?;
    device.store.insert(family.clone(), &author, today())?;
    device.sync().await?;

    let console = Console::open(&server, &cs.id).await?;
    let issued = console.post("/tasks", checklist(&cs.grid)).await?.ok()?;
    let campaign = issued["campaign"]
        .as_str()
        .context("a campaign id")?
        .to_string();
    let grids: BTreeSet<String> = issued["tasks"]
        .as_array()
        .context("tasks")?
        .iter()
        .map(|t| t["grid"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        grids.len(),
        issued["tasks"].as_array().map_or(0, Vec::len),
        "one document per grid"
    );
    for g in worker_grids(&cs.grid) {
        assert!(grids.contains(&g), "worker grid {g} receives the task");
    }
    assert!(
        grids.iter().all(|g| g.starts_with(&cs.grid)),
        "only the community's grids: {grids:?}"
    );
    assert!(
        !grids.contains(&b.grid),
        "another community's grid does not"
    );

    let screening = console
        .post("/tasks", screening(&a.grid, "household:living_alone"))
        .await?
        .ok()?;
    assert_eq!(screening["tasks"].as_array().map_or(0, Vec::len), 1);
    assert_eq!(screening["tasks"][0]["items"], 1, "{screening}");

    // The worker's tablet receives both; the other community's does not.
    device.sync().await?;
    let tasks = tasks_on(&device)?;
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    let check = tasks
        .iter()
        .find(|t| t.kind == TaskKind::Checklist)
        .context("the checklist")?
        .clone();
    assert_eq!(check.meta.grid, a.grid);
    assert_eq!(check.items.len(), 2, "blank lines are dropped");
    let screen = tasks
        .iter()
        .find(|t| t.kind == TaskKind::Screening)
        .context("the screening")?;
    let target = screen.items[0].target.as_ref().context("a target")?;
    assert_eq!(target.id, alone.meta.id);
    assert_eq!(screen.items[0].text, alone.address.one_line());
    let mut other = Device::enrol(&server, &b.id).await?;
    other.sync().await?;
    assert!(tasks_on(&other)?.is_empty(), "another community gets none");

    // The worker ticks a line offline and syncs; the console counts it.
    let author = Author::new(&a.id, now_ms());
    device
        .store
        .update::<Task>(check.meta.id, &author, today(), |t| {
            // The app's own rule for a tick.
            tick_task(t, 0, true, "3 辆电动车已劝离", &a.id, now_ms()).expect("line 0 exists");
        })?;
    let progress = device.sync().await?;
    assert!(progress.rejected.is_empty(), "{:?}", progress.rejected);
    assert!(progress.notices.is_empty(), "{:?}", progress.notices);
    let list = console.get("/tasks").await?.ok()?;
    let c = campaign_of(&list, &campaign)?;
    assert_eq!(c["items_done"], 1, "{c}");
    assert_eq!(c["items"].as_u64(), Some(2 * grids.len() as u64));
    assert_eq!(c["grids_done"], 0);
    assert_eq!(c["overdue"], false);
    let detail = console.get(&format!("/tasks/{campaign}")).await?.ok()?;
    let mine = detail["tasks"]
        .as_array()
        .context("tasks")?
        .iter()
        .find(|t| t["grid"] == a.grid.as_str())
        .context("the worker's grid")?;
    assert_eq!(mine["done"], 1);
    assert_eq!(mine["items"][0]["done_by"], a.id.as_str());
    assert_eq!(mine["items"][0]["note"], "3 辆电动车已劝离");

    // Ticking the last line finishes the grid.
    device
        .store
        .update::<Task>(check.meta.id, &author, today(), |t| {
            t.items[1].done = true;
            t.items[1].done_by = Some(a.id.clone());
        })?;
    device.sync().await?;
    let list = console.get("/tasks").await?.ok()?;
    assert_eq!(campaign_of(&list, &campaign)?["grids_done"], 1);

    // Retitling, moving the due date or adding a line is undone by the
    // server, and the worker is told why.
    device
        .store
        .update::<Task>(check.meta.id, &author, today(), |t| {
            t.title = "不用查了".into();
            t.due = due_in(60);
            t.items.push(TaskItem::open("自己加的一条", None));
        })?;
    let progress = device.sync().await?;
    let told = progress
        .notices
        .iter()
        .find(|n| n.doc == check.meta.id)
        .context("a notice about the task")?;
    assert_eq!(told.code, "field_not_allowed");
    assert!(told.compensated);
    let back: Task = device.store.get(check.meta.id)?.context("the task")?;
    assert_eq!(
        back.title, check.title,
        "the title is restored on the tablet"
    );
    assert_eq!(back.due, check.due);
    assert_eq!(back.items.len(), 2);
    assert!(back.items.iter().all(|i| i.done), "the ticks stay");
    let detail = console.get(&format!("/tasks/{campaign}")).await?.ok()?;
    assert_eq!(detail["title"], "冬季消防安全检查");
    assert_eq!(detail["due"], check.due.as_str());
    Ok(())
}

#[tokio::test]
async fn only_supervisors_issue_tasks_in_their_subtree_and_handlers_get_none() -> Result<()> {
    let server = Server::start()?;
    let (a, b) = two_communities();
    let cs = user_over(Role::CommunitySupervisor, &a.grid);
    let console = Console::open(&server, &cs.id).await?;

    // Another community's grid is not there for this supervisor.
    let r = console.post("/tasks", checklist(&b.grid)).await?;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));

    // Bad input says what is wrong and stores nothing.
    let mut no_title = checklist(&cs.grid);
    no_title["title"] = json!("  ");
    let mut past = checklist(&cs.grid);
    past["due"] = json!(due_in(-1));
    let mut no_lines = checklist(&cs.grid);
    no_lines["items"] = json!([" "]);
    let mut restricted = checklist(&cs.grid);
    restricted["kind"] = json!("screening");
    restricted["filter"] = json!("resident:released_prisoner");
    for (form, code) in [
        (no_title, "task_required"),
        (past, "task_due"),
        (no_lines, "task_required"),
        (restricted, "task_filter"),
    ] {
        let r = console.post("/tasks", form).await?;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "{}",
            r.body
        );
        assert!(r.body["params"].is_object(), "{}", r.body);
    }
    assert_eq!(console.get("/tasks").await?.ok()?, json!([]));
    let r = console
        .post_without_header("/tasks", checklist(&cs.grid))
        .await?;
    assert_eq!(r.code(), "csrf");

    // A department handler neither sees nor issues tasks, in the console
    // or on a tablet.
    let handler = add_handler(&server, &a.grid)?;
    let street = user_over(Role::StreetSupervisor, &a.grid);
    let street_console = Console::open(&server, &street.id).await?;
    street_console
        .post("/tasks", checklist(&street.grid))
        .await?
        .ok()?;
    let dh = Console::open(&server, &handler).await?;
    let r = dh.get("/tasks").await?;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "role_not_allowed")
    );
    let r = dh.post("/tasks", checklist(&a.grid)).await?;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "role_not_allowed")
    );
    let mut dh_device = Device::enrol(&server, &handler).await?;
    dh_device.sync().await?;
    assert!(
        tasks_on(&dh_device)?.is_empty(),
        "a handler's tablet gets no tasks"
    );

    // The community supervisor sees the street's campaign over their own
    // grids only; the worker's tablet has it.
    let list = console.get("/tasks").await?.ok()?;
    assert_eq!(list.as_array().map_or(0, Vec::len), 1);
    assert_eq!(
        list[0]["grids"].as_u64(),
        Some(worker_grids(&cs.grid).len() as u64)
    );

    // A worker cannot issue a task from a tablet.
    let mut device = Device::enrol(&server, &a.id).await?;
    let forged = forged_task(a);
    device
        .store
        .insert(forged.clone(), &Author::new(&a.id, now_ms()), today())?;
    let progress = device.sync().await?;
    let refused = progress
        .rejected
        .iter()
        .find(|r| r.doc == forged.meta.id)
        .context("the worker's own task is refused")?;
    assert_eq!(refused.code, "role_not_allowed");
    assert_eq!(
        tasks_on(&device)?.len(),
        2,
        "the street's task and the forged one"
    );
    Ok(())
}

fn forged_task(worker: &User) -> Task {
    Task {
        meta: Meta::new(&worker.grid, &worker.id, now_ms()),
        campaign: Uuid::now_v7(),
        title: "自己给自己派的任务".into(),
        description: String::new(),
        kind: TaskKind::Checklist,
        due: due_in(1),
        issued_by: worker.id.clone(),
        issued_at: now_ms(),
        filter: None,
        items: vec![TaskItem::open("随便", None)],
    }
}

/// The Tasks page in a real browser (`ui/e2e/tasks.mjs`): a community
/// supervisor issues a checklist to the community; a worker's tablet
/// receives it and ticks a line; the console counts it. Needs the built
/// console (`npm run build:console` in `ui/`), like `console_e2e`.
#[tokio::test]
async fn a_supervisor_issues_a_checklist_in_the_browser_and_a_tablet_ticks_it() -> Result<()> {
    let server = Server::start()?;
    let (a, _) = two_communities();
    let cs = user_over(Role::CommunitySupervisor, &a.grid);
    let grids = worker_grids(&cs.grid);
    // Something in the queue, where the console opens.
    let (mut tablet, _, _) = worker_reports(&server, a).await?;
    let seen = gridwork_tests::run_browser_script(
        "tasks",
        &[
            ("GW_URL", server.url()),
            ("GW_USER", cs.id.clone()),
            ("GW_PASSWORD", gridwork_tests::PASSWORD.to_string()),
            ("GW_DUE", due_in(4)),
        ],
    )?;
    assert!(
        seen["problems"]
            .as_str()
            .is_some_and(|p| p.contains("请填写任务名称") && p.contains("任务事项")),
        "{seen}"
    );
    let issued = seen["issued"].as_str().unwrap_or_default();
    assert!(
        issued.contains("已向") && issued.contains("个网格下发"),
        "{seen}"
    );
    assert_eq!(seen["campaigns"], 1, "{seen}");
    assert_eq!(seen["completion"], format!("0/{} (0%)", 2 * grids.len()));
    assert!(
        seen["gridRows"].as_u64() >= Some(grids.len() as u64),
        "{seen}"
    );
    assert_eq!(seen["englishHeading"], "Issue a task", "{seen}");
    for shot in ["tasks.png", "task-campaign.png"] {
        anyhow::ensure!(
            gridwork_tests::screenshots_dir().join(shot).exists(),
            "{shot} was saved"
        );
    }

    tablet.sync().await?;
    let tasks = tasks_on(&tablet)?;
    let task = tasks.first().context("the task reached the tablet")?;
    assert_eq!(task.title, "冬季消防安全检查");
    assert_eq!(task.due, due_in(4));
    assert_eq!(
        task.items
            .iter()
            .map(|i| i.text.as_str())
            .collect::<Vec<_>>(),
        ["检查楼道电动车", "检查燃气报警器"]
    );
    tablet
        .store
        .update::<Task>(task.meta.id, &Author::new(&a.id, now_ms()), today(), |t| {
            tick_task(t, 1, true, "", &a.id, now_ms()).expect("line 1 exists");
        })?;
    tablet.sync().await?;
    let console = Console::open(&server, &cs.id).await?;
    let list = console.get("/tasks").await?.ok()?;
    assert_eq!(list[0]["items_done"], 1, "{list}");
    Ok(())
}

#[tokio::test]
async fn a_resident_screening_labels_each_resident_with_their_households_address() -> Result<()> {
    let server = Server::start()?;
    let (a, _) = two_communities();
    let cs = user_over(Role::CommunitySupervisor, &a.grid);

    // One household; an elderly person living alone there, and a resident
    // without the tag.
    let mut device = Device::enrol(&server, &a.id).await?;
    let author = Author::new(&a.id, now_ms());
    let home = new_household(&a.grid, &a.id);
    let mut elder = community().residents[0].clone();
    elder.meta = Meta::new(&a.grid, &a.id, now_ms());
    elder.household_id = Some(home.meta.id);
    elder.review.clear();
    elder.care_tags = vec![CareTag {
        tag: CareTagKind::ElderlyLivingAlone,
        visit_cycle_days: 7,
        since: now_ms(),
    }];
    let mut untagged = elder.clone();
    untagged.meta = Meta::new(&a.grid, &a.id, now_ms());
    untagged.care_tags.clear();
    device.store.insert(home.clone(), &author, today())?;
    device.store.insert(elder.clone(), &author, today())?;
    device.store.insert(untagged, &author, today())?;
    device.sync().await?;

    let console = Console::open(&server, &cs.id).await?;
    let issued = console
        .post(
            "/tasks",
            screening(&a.grid, "resident:elderly_living_alone"),
        )
        .await?
        .ok()?;
    assert_eq!(issued["tasks"].as_array().map_or(0, Vec::len), 1);
    assert_eq!(issued["tasks"][0]["items"], 1, "{issued}");

    device.sync().await?;
    let tasks = tasks_on(&device)?;
    let screen = tasks.first().context("the screening")?;
    let target = screen.items[0].target.as_ref().context("a target")?;
    assert_eq!(target.id, elder.meta.id);
    assert_eq!(
        screen.items[0].text,
        format!(
            "{} · {}",
            gridwork_core::privacy::mask_name(&elder.name),
            home.address.one_line()
        ),
        "the masked name, then the household's address"
    );
    Ok(())
}
