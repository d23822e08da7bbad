//! The real app binary, end to end: Xvfb, tauri-driver and WebKitWebDriver
//! drive the built `gridwork-app` against a real `gridwork-server` process.
//!
//! A grid worker signs in; with the server stopped, registers a household
//! with two residents (a bad ID number first: the message is checked; then
//! a good one: the birth date fills in), reports an incident located on
//! the grid map with a photo of the scene, and walks a patrol (map taps as
//! the track, since Xvfb has no GPS) with a check-in, an incident reported
//! from where it stands, and notes; the server
//! comes back, "sync now" sends everything, and a supervisor's device checks
//! through the server that every record, the photo byte for byte, and the
//! patrol with the same figures, arrived intact. The supervisor returns
//! the incident; after the next sync the app shows it on the home screen
//! and in the incident's timeline. The supervisor also puts a resident
//! under care with a visit overdue: home counts it, the worker records the
//! visit from the due list, and the server gets the visit and the
//! resident's next due date 30 days on. The supervisor issues a checklist
//! task to the grid: home lists it, the worker ticks a line with a note,
//! and the server gets who ticked it. The worker and the supervisor
//! change the household's door detail at once: the app shows the conflict
//! with both values and who wrote them, the worker keeps the supervisor's,
//! and the server ends with that value alone. The grid map then shows the
//! returned (still open) incident, and tapping its marker opens it. Finally
//! the app is started again and its cold start to the home screen is
//! measured and printed (`cold_start_to_home_ms`).
//!
//! Screenshots of the main screens go to `<target>/e2e-screenshots/`.
//! Needs `Xvfb`, `WebKitWebDriver` and `tauri-driver` on the PATH
//! (`scripts/setup` installs them) and the UI built into `ui/dist`.

mod app_support;

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use app_support::{App, id_number, user_with, uuid_in_hash};
use gridwork_core::calendar::{WorkCalendar, shanghai_date};
use gridwork_core::doc::Author;
use gridwork_core::fieldwork::patrols;
use gridwork_core::media;
use gridwork_core::model::{
    CareTag, CareTagKind, CategoryMajor, Gender, Household, Incident, Meta, Patrol, Projection,
    RecordKind, Relation, Resident, Role, Task, TaskItem, TaskKind, Visit, VisitForm,
};
use gridwork_core::store::ListQuery;
use gridwork_core::sync::blobs::{BlobTransport, sync_photos};
use gridwork_core::workflow::{self, Action, Actor, Status};
use gridwork_tests::{Device, PASSWORD, Server, community};
use serde_json::json;

// The figure and where the screenshots are is what a person reads.
#[allow(clippy::print_stdout)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_registers_and_reports_offline_and_a_supervisors_return_comes_back() -> Result<()>
{
    let app = App::launch("")?;
    let mut server = Server::start()?;
    let worker = community()
        .users
        .iter()
        .find(|u| u.role == Role::GridWorker)
        .expect("a grid worker");
    let supervisor = user_with(Role::CommunitySupervisor, &worker.grid);

    // First run: the setup screen, then sign-in.
    let d = app.open().await?;
    d.find("[data-test=setup]").await?;
    d.shot("01-setup").await?;
    d.type_into("[data-test=server-url] input", &server.url())
        .await?;
    d.type_into("[data-test=user] input", &worker.id).await?;
    d.type_into("[data-test=password] input", PASSWORD).await?;
    d.click("[data-test=login]").await?;
    d.choose_pin(app_support::PIN).await?;
    d.find("[data-test=home]").await?;
    d.wait_text("[data-test=greeting]", &worker.name).await?;
    d.wait_text("[data-test=sync-state]", "已连接").await?;
    d.shot("02-home").await?;

    // The network goes away.
    server.kill()?;

    // A household, typed in offline.
    d.click("[data-test=home-new-household]").await?;
    d.find("[data-test=household-form]").await?;
    d.type_into("[data-test=estate] input", "阳光花园").await?;
    d.type_into("[data-test=building] input", "3").await?;
    d.type_into("[data-test=unit] input", "2").await?;
    d.type_into("[data-test=room] input", "501").await?;
    d.select("[data-test=use] select", "rented").await?;
    d.type_into("[data-test=owner-name] input", "张建国")
        .await?;
    d.shot("03-household-form").await?;
    d.click("[data-test=save-household]").await?;
    let hash = d
        .wait_for(
            "household saved",
            || d.hash(),
            |h| uuid_in_hash(h, "#/households/").is_some(),
        )
        .await?;
    let household_id = uuid_in_hash(&hash, "#/households/").context("household id")?;

    // First resident: a bad ID number, then a good one.
    let zhang_id = id_number("440106", "19800101", "001");
    d.click("[data-test=add-resident]").await?;
    d.find("[data-test=resident-form]").await?;
    d.type_into("[data-test=resident-name] input", "张建国")
        .await?;
    let mut bad = zhang_id.clone();
    bad.replace_range(17.., if zhang_id.ends_with('1') { "2" } else { "1" });
    d.type_into("[data-test=id-number] input", &bad).await?;
    d.click("[data-test=save-resident]").await?;
    let message = d.wait_text("[data-test=id-number]", "校验位").await?;
    assert!(message.contains("身份证号码校验位错误"), "{message}");
    d.shot("04-resident-bad-id").await?;
    d.type_into("[data-test=id-number] input", &zhang_id)
        .await?;
    d.click("[data-test=birth-date] input").await?; // leaves the ID field
    d.wait_for(
        "birth date from the ID number",
        || d.value("[data-test=birth-date] input"),
        |v| v == "1980-01-01",
    )
    .await?;
    d.shot("05-resident-good-id").await?;
    d.click("[data-test=save-resident]").await?;
    d.find("[data-test=household-form]").await?;
    d.wait_for(
        "one resident",
        || async { Ok(d.count("[data-test=resident-row]").await?.to_string()) },
        |n| n == "1",
    )
    .await?;

    // Second resident.
    let li_id = id_number("440106", "19820304", "002");
    d.click("[data-test=add-resident]").await?;
    d.find("[data-test=resident-form]").await?;
    d.type_into("[data-test=resident-name] input", "李梅")
        .await?;
    d.select("[data-test=relation] select", "spouse").await?;
    d.type_into("[data-test=id-number] input", &li_id).await?;
    d.type_into("[data-test=phone] input", "13812345678")
        .await?;
    d.click("[data-test=save-resident]").await?;
    d.find("[data-test=household-form]").await?;
    d.wait_for(
        "two residents",
        || async { Ok(d.count("[data-test=resident-row]").await?.to_string()) },
        |n| n == "2",
    )
    .await?;
    d.shot("06-household-with-residents").await?;

    // An incident, located by a tap on the grid map.
    d.click("[data-test=tab-report]").await?;
    d.find("[data-test=incident-form]").await?;
    d.type_into("[data-test=incident-title] input", "3栋楼道堆放杂物")
        .await?;
    d.select("[data-test=incident-category] select", "fire")
        .await?;
    d.type_into(
        "[data-test=incident-description] textarea",
        "楼道堆放纸箱，堵塞消防通道",
    )
    .await?;
    d.type_into("[data-test=incident-address] input", "阳光花园3栋")
        .await?;
    let mapped = d.count("[data-test=grid-map]").await? > 0;
    if mapped {
        d.click("[data-test=grid-map]").await?;
        d.wait_for(
            "point from the map",
            || d.value("[data-test=incident-point] input"),
            |v| v.contains(','),
        )
        .await?;
    }
    // A photo of the scene, from a file (the camera tile takes the same path).
    let original = media::synthetic_photo(1600, 1200, 42);
    let photo_file = app.home.path().join("现场.jpg");
    std::fs::write(&photo_file, &original)?;
    d.attach("[data-test=photo-input]", &photo_file).await?;
    d.wait_for(
        "the photo's thumbnail in the form",
        || async { Ok(d.count("[data-test=photo-thumb]").await?.to_string()) },
        |n| n == "1",
    )
    .await?;
    d.shot("07-incident-form").await?;
    d.click("[data-test=report]").await?;
    d.find("[data-test=incident-detail]").await?;
    d.wait_text("[data-test=incident-status]", "已上报").await?;
    let incident_id = uuid_in_hash(&d.hash().await?, "#/incidents/").context("incident id")?;
    d.wait_for(
        "the photo's thumbnail on the detail page",
        || async { Ok(d.count("[data-test=photo-thumb]").await?.to_string()) },
        |n| n == "1",
    )
    .await?;
    d.shot("08-incident-detail").await?;

    // A patrol, still offline: no GPS under Xvfb, so taps on the grid map
    // are the track.
    d.click("[data-test=tab-patrol]").await?;
    d.find("[data-test=patrol]").await?;
    d.click("[data-test=patrol-start]").await?;
    d.wait_for(
        "a running patrol",
        || d.attr("[data-test=patrol]", "data-running"),
        |r| r == "true",
    )
    .await?;
    let patrol_id = uuid::Uuid::parse_str(&d.attr("[data-test=patrol]", "data-id").await?)?;
    // A few steps along the map, at walking pace: core drops a move faster
    // than 10 m/s as a GPS jump, so taps a moment apart must be close. The
    // map keeps the ground's proportions (a ~420 m grid fills about a third
    // of the map's width), so half a percent of that width is ~6 m.
    for (n, x) in [(1, 0.5), (2, 0.505), (3, 0.51)] {
        if n > 1 {
            tokio::time::sleep(Duration::from_millis(2500)).await;
        }
        d.click_at("[data-test=grid-map]", x, 0.5).await?;
        d.wait_for(
            "a tapped track point",
            || d.attr("[data-test=patrol-points]", "data-count"),
            |c| c == n.to_string(),
        )
        .await?;
    }
    d.type_into("[data-test=check-in-note] input", "消防通道畅通")
        .await?;
    d.click("[data-test=check-in]").await?;
    d.wait_text("[data-test=check-in-row]", "消防通道畅通")
        .await?;
    d.shot("08b-patrol-running").await?;

    // Something found on the way, reported from the patrol where it stands.
    d.click("[data-test=patrol-report]").await?;
    d.find("[data-test=incident-form]").await?;
    d.wait_for(
        "the patrol's position in the form",
        || d.value("[data-test=incident-point] input"),
        |v| v.contains(','),
    )
    .await?;
    d.type_into("[data-test=incident-title] input", "路灯不亮")
        .await?;
    d.type_into(
        "[data-test=incident-description] textarea",
        "3栋前路灯损坏，夜间照明不足",
    )
    .await?;
    d.type_into("[data-test=incident-address] input", "阳光花园3栋前")
        .await?;
    d.click("[data-test=report]").await?;
    d.find("[data-test=incident-detail]").await?;
    let found_id = uuid_in_hash(&d.hash().await?, "#/incidents/").context("found incident id")?;
    d.click("[data-test=tab-patrol]").await?;
    d.wait_for(
        "back on the running patrol",
        || d.attr("[data-test=patrol]", "data-running"),
        |r| r == "true",
    )
    .await?;
    assert_eq!(
        d.attr("[data-test=patrol]", "data-id").await?,
        patrol_id.to_string()
    );

    d.type_into("[data-test=patrol-notes] textarea", "无异常")
        .await?;
    d.click("[data-test=patrol-stop]").await?;
    d.wait_for(
        "the patrol ended",
        || d.attr("[data-test=patrol]", "data-running"),
        |r| r == "false",
    )
    .await?;
    let meters: f64 = d
        .attr("[data-test=patrol-distance]", "data-meters")
        .await?
        .parse()?;
    assert!(meters > 0.0, "the taps were walked: {meters} m");
    d.shot("08c-patrol-summary").await?;
    // Offline: sync now says so in plain words and keeps everything.
    d.click("[data-test=tab-sync]").await?;
    d.find("[data-test=sync]").await?;
    d.click("[data-test=sync-now]").await?;
    d.wait_text("[data-test=sync-error]", "无法连接服务器")
        .await?;
    let pending: u64 = d
        .attr("[data-test=sync-pending]", "data-pending")
        .await?
        .parse()?;
    assert!(pending > 0, "the offline work waits to be sent");
    d.shot("09-sync-offline").await?;

    // The server is back: sync now sends everything.
    server.restart()?;
    d.click("[data-test=sync-now]").await?;
    d.wait_text("[data-test=sync-state]", "已连接").await?;
    d.wait_for(
        "nothing pending",
        || d.attr("[data-test=sync-pending]", "data-pending"),
        |n| n == "0",
    )
    .await?;
    d.wait_for(
        "no photo waiting for upload",
        || async {
            Ok(d.count("[data-test=sync-photos-pending]")
                .await?
                .to_string())
        },
        |n| n == "0",
    )
    .await?;
    assert_eq!(d.count("[data-test=sync-error]").await?, 0);
    d.shot("10-sync-done").await?;

    // Through the server: a supervisor's device finds every record intact.
    let mut sup = Device::enrol(&server, &supervisor.id).await?;
    sup.sync().await?;
    let h: Household = sup
        .store
        .get(household_id)?
        .context("household on the server")?;
    assert_eq!(h.address.one_line(), "阳光花园3栋2单元501室");
    assert_eq!(h.owner_name, "张建国");
    assert_eq!(serde_json::to_value(h.usage)?, json!("rented"));
    assert_eq!(h.meta.created_by, worker.id);
    let rows: Vec<Projection> = sup.store.list(&ListQuery {
        kind: Some(RecordKind::Resident),
        parent_id: Some(household_id),
        ..ListQuery::default()
    })?;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let mut residents: Vec<Resident> = rows
        .iter()
        .map(|r| sup.store.get::<Resident>(r.id).map(Option::unwrap))
        .collect::<Result<_, _>>()?;
    residents.sort_by(|a, b| a.birth_date.cmp(&b.birth_date));
    assert_eq!(residents[0].name, "张建国");
    assert_eq!(residents[0].id_number.as_deref(), Some(zhang_id.as_str()));
    assert_eq!(residents[0].birth_date.as_deref(), Some("1980-01-01"));
    assert_eq!(residents[0].gender, Gender::Male);
    assert_eq!(residents[1].name, "李梅");
    assert_eq!(residents[1].relation, Relation::Spouse);
    assert_eq!(residents[1].id_number.as_deref(), Some(li_id.as_str()));
    assert_eq!(residents[1].birth_date.as_deref(), Some("1982-03-04"));
    assert_eq!(residents[1].gender, Gender::Female);
    assert_eq!(residents[1].phone.as_deref(), Some("13812345678"));
    let incident: Incident = sup
        .store
        .get(incident_id)?
        .context("incident on the server")?;
    assert_eq!(incident.title, "3栋楼道堆放杂物");
    assert_eq!(incident.description, "楼道堆放纸箱，堵塞消防通道");
    assert_eq!(incident.address, "阳光花园3栋");
    assert_eq!(incident.category.major, CategoryMajor::Fire);
    assert_eq!(incident.point.is_some(), mapped);
    // The photo: referenced by the hash of what core makes of the file, and
    // its bytes (and thumbnail's) had from the server, intact.
    let prepared = media::prepare(&original)?;
    assert_eq!(incident.photos.len(), 1, "{:?}", incident.photos);
    let photo = &incident.photos[0];
    assert_eq!(photo.sha256, prepared.photo.sha256);
    assert_eq!(
        photo.thumb_sha256.as_ref(),
        Some(&prepared.thumbnail.sha256)
    );
    let blobs = BlobTransport::new(&server.url(), &sup.login.token)?;
    let down = sync_photos(&mut sup.store, &blobs).await?;
    assert_eq!((down.received, down.unavailable), (2, 0), "{down:?}");
    let bytes = sup.store.photo_bytes(&photo.sha256)?.context("photo")?;
    assert_eq!(media::sha256_hex(&bytes), photo.sha256);
    assert_eq!(bytes, prepared.photo.bytes);
    let thumb = sup
        .store
        .photo_bytes(&prepared.thumbnail.sha256)?
        .context("thumbnail")?;
    assert_eq!(thumb, prepared.thumbnail.bytes);
    let cal = WorkCalendar::bundled();
    assert_eq!(workflow::derive(&incident, &cal).status, Status::Reported);

    // The patrol: the whole of it, and the same figures come out of it.
    let patrol: Patrol = sup.store.get(patrol_id)?.context("patrol on the server")?;
    assert_eq!(patrol.worker, worker.id);
    assert_eq!(patrol.track.len(), 4, "three taps and the check-in");
    assert_eq!(patrol.check_ins.len(), 1);
    assert_eq!(patrol.check_ins[0].note, "消防通道畅通");
    assert_eq!(patrol.notes, "无异常");
    let ended = patrol.ended_at.context("the patrol ended")?;
    assert!(ended >= patrol.started_at);
    assert_eq!(patrol.incident_ids, vec![found_id]);
    let found: Incident = sup
        .store
        .get(found_id)?
        .context("the incident found on patrol")?;
    assert_eq!(found.title, "路灯不亮");
    assert_eq!(found.patrol_id, Some(patrol_id));
    let last = patrol.check_ins[0].point.clone();
    let at = found
        .point
        .clone()
        .context("located where the patrol stood")?;
    assert!((at.lon - last.lon).abs() < 1e-6 && (at.lat - last.lat).abs() < 1e-6);
    let figures = patrols::patrol_view(patrol, &sup.login.grids, ended);
    assert!(
        (figures.metrics.distance_m - meters).abs() < 0.01,
        "{} m on the server, {meters} m on the tablet",
        figures.metrics.distance_m
    );
    assert!(figures.metrics.coverage_share > 0.0, "{figures:?}");
    // The supervisor returns it.
    let reason = "请补充现场照片后重新上报";
    let now = jiff::Timestamp::now().as_millisecond();
    let mut doc = sup.store.load(incident_id)?.context("incident doc")?;
    doc.update::<Incident>(&Author::new(&supervisor.id, now), |i| {
        let actor = Actor {
            user: &supervisor.id,
            role: supervisor.role,
        };
        workflow::transition(i, &cal, actor, Action::Return, reason, vec![], now)
            .expect("a supervisor may return a reported incident");
    })?;
    sup.store.save_doc(&mut doc)?;
    // And puts 李梅 under care (living alone, a visit every 30 days), last
    // due a week ago: she is overdue on the tablet.
    let li = residents[1].meta.id;
    let today = shanghai_date(jiff::Timestamp::now());
    let overdue = today.checked_sub(jiff::Span::new().days(7))?.to_string();
    sup.store
        .update::<Resident>(li, &Author::new(&supervisor.id, now), today, |r| {
            r.care_tags = vec![CareTag {
                tag: CareTagKind::ElderlyLivingAlone,
                visit_cycle_days: 30,
                since: now,
            }];
            r.next_visit_due = Some(overdue.clone());
        })?;
    let progress = sup.sync().await?;
    assert!(progress.rejected.is_empty(), "{:?}", progress.rejected);

    // The app sees the return after its next sync.
    d.click("[data-test=sync-now]").await?;
    d.click("[data-test=tab-home]").await?;
    d.find("[data-test=home]").await?;
    d.wait_text("[data-test=returned]", "3栋楼道堆放杂物")
        .await?;
    d.shot("11-home-returned").await?;
    d.click("[data-test=returned-item]").await?;
    d.wait_text("[data-test=return-reason]", reason).await?;
    d.wait_text("[data-test=timeline]", "退回").await?;
    d.wait_text("[data-test=incident-status]", "退回").await?;
    d.shot("12-incident-returned").await?;

    // The overdue visit shows on home; the worker records it (by phone).
    d.click("[data-test=tab-home]").await?;
    d.wait_text("[data-test=overdue-visits]", "已超期 1 人")
        .await?;
    d.click("[data-test=home-visits-link]").await?;
    d.wait_text("[data-test=due-visit]", "超期 7 天").await?;
    d.shot("14-visits-due").await?;
    d.click("[data-test=due-visit]").await?;
    d.find("[data-test=visit-form]").await?;
    d.select("[data-test=visit-method] select", "phone").await?;
    d.type_into("[data-test=visit-notes] textarea", "电话联系，老人身体良好")
        .await?;
    d.shot("15-visit-form").await?;
    d.click("[data-test=save-visit]").await?;
    d.find("[data-test=visits]").await?;
    d.wait_for(
        "the visit leaves the due list",
        || async {
            d.count("[data-test=due-visit]")
                .await
                .map(|n| n.to_string())
        },
        |n| n == "0",
    )
    .await?;
    d.click("[data-test=tab-sync]").await?;
    d.click("[data-test=sync-now]").await?;
    // On the server: the visit, and 李梅's next visit due in 30 days.
    let due_next = today.checked_add(jiff::Span::new().days(30))?.to_string();
    let mut visit = None;
    for _ in 0..40 {
        sup.sync().await?;
        let rows = sup.store.list(&ListQuery {
            kind: Some(RecordKind::Visit),
            parent_id: Some(li),
            ..ListQuery::default()
        })?;
        if let Some(row) = rows.first() {
            visit = sup.store.get::<Visit>(row.id)?;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let visit = visit.context("the visit reached the server")?;
    assert_eq!(visit.form, VisitForm::Phone);
    assert_eq!(visit.content, "电话联系，老人身体良好");
    assert_eq!(visit.next_due.as_deref(), Some(due_next.as_str()));
    let li_now: Resident = sup.store.get(li)?.context("李梅")?;
    assert_eq!(li_now.next_visit_due.as_deref(), Some(due_next.as_str()));

    // A task from above: the supervisor issues a checklist to the grid; the
    // app lists it on home, the worker ticks a line with a note, and the
    // supervisor sees who ticked it.
    let task = Task {
        meta: Meta::new(&worker.grid, &supervisor.id, now),
        campaign: uuid::Uuid::now_v7(),
        title: "冬季消防安全检查".into(),
        description: "逐户检查电动车充电".into(),
        kind: TaskKind::Checklist,
        due: today.checked_add(jiff::Span::new().days(3))?.to_string(),
        issued_by: supervisor.id.clone(),
        issued_at: now,
        filter: None,
        items: vec![
            TaskItem::open("检查楼道电动车", None),
            TaskItem::open("检查燃气报警器", None),
        ],
    };
    let task_id = task.meta.id;
    sup.store
        .insert(task, &Author::new(&supervisor.id, now), today)?;
    let progress = sup.sync().await?;
    assert!(progress.rejected.is_empty(), "{:?}", progress.rejected);
    d.click("[data-test=tab-sync]").await?;
    d.click("[data-test=sync-now]").await?;
    d.click("[data-test=tab-home]").await?;
    d.wait_text("[data-test=home-tasks]", "冬季消防安全检查")
        .await?;
    d.click("[data-test=home-task]").await?;
    d.wait_text("[data-test=task-progress]", "0/2").await?;
    d.type_into("[data-test=task-note-0] input", "已劝离 3 辆")
        .await?;
    d.click("[data-test=task-tick-0] .van-checkbox__icon")
        .await?;
    d.wait_text("[data-test=task-progress]", "1/2").await?;
    d.shot("17-task").await?;
    d.click("[data-test=tab-sync]").await?;
    d.click("[data-test=sync-now]").await?;
    let mut ticked = None;
    for _ in 0..40 {
        sup.sync().await?;
        let t: Task = sup.store.get(task_id)?.context("the task")?;
        if t.items[0].done {
            ticked = Some(t);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let ticked = ticked.context("the tick reached the server")?;
    assert_eq!(ticked.items[0].done_by.as_deref(), Some(worker.id.as_str()));
    assert_eq!(ticked.items[0].note, "已劝离 3 辆");
    assert!(!ticked.items[1].done);

    // A same-field conflict: the supervisor (not synced) and the worker
    // both change the household's door detail; the worker chooses.
    sup.store.update::<Household>(
        household_id,
        &Author::new(&supervisor.id, now),
        today,
        |h| h.address.detail = "西侧门".into(),
    )?;
    d.script(
        "location.hash = arguments[0]",
        json!([format!("#/households/{household_id}")]),
    )
    .await?;
    d.find("[data-test=household-form]").await?;
    d.type_into("[data-test=detail] input", "东侧门").await?;
    d.click("[data-test=save-household]").await?;
    d.click("[data-test=tab-sync]").await?;
    d.click("[data-test=sync-now]").await?;
    let mut seen = false;
    for _ in 0..40 {
        let progress = sup.sync().await?;
        assert!(progress.rejected.is_empty(), "{:?}", progress.rejected);
        let mut doc = sup.store.load(household_id)?.context("household doc")?;
        if !doc.conflicts().is_empty() {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(seen, "the two edits meet on the server as a conflict");
    d.click("[data-test=sync-now]").await?;
    d.script(
        "location.hash = arguments[0]",
        json!([format!("#/households/{household_id}")]),
    )
    .await?;
    d.find("[data-test=conflict-banner]").await?;
    d.click("[data-test=conflict-banner]").await?;
    d.wait_for(
        "both values shown",
        || async {
            d.count("[data-test=conflict-value]")
                .await
                .map(|n| n.to_string())
        },
        |n| n == "2",
    )
    .await?;
    d.wait_text("[data-test=conflict]", supervisor.id.as_str())
        .await?;
    d.shot("16-conflict").await?;
    d.script(
        "[...document.querySelectorAll('[data-test=conflict-value]')]\
         .find((e) => e.textContent.includes('西侧门'))\
         .querySelector('[data-test=choose]').click()",
        json!([]),
    )
    .await?;
    d.find("[data-test=no-conflicts]").await?;
    d.click("[data-test=tab-sync]").await?;
    d.click("[data-test=sync-now]").await?;
    let mut settled = None;
    for _ in 0..40 {
        sup.sync().await?;
        let mut doc = sup.store.load(household_id)?.context("household doc")?;
        if doc.conflicts().is_empty() {
            settled = Some(doc.read::<Household>()?);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let settled = settled.context("the choice reached the server")?;
    assert_eq!(settled.address.detail, "西侧门");

    // The grid map: the boundary and the returned (still open) incident,
    // whose marker opens it.
    d.click("[data-test=tab-map]").await?;
    d.find("[data-test=map-grid]").await?;
    let marker = format!("[data-test=map-incident][data-id='{incident_id}']");
    d.find(&marker).await?;
    d.wait_text("[data-test=map-incident-count]", "未结事件")
        .await?;
    d.shot("map").await?;
    d.click(&marker).await?;
    d.wait_for(
        "the marker opens its incident",
        || d.hash(),
        |h| *h == format!("#/incidents/{incident_id}"),
    )
    .await?;
    d.find("[data-test=incident-detail]").await?;

    d.quit().await?;

    // Cold start: a signed-in device asks for its PIN (its data is
    // encrypted at rest), then opens on the home screen.
    let started = Instant::now();
    let d = app.open().await?;
    d.find("[data-test=pin]").await?;
    d.press_pin(app_support::PIN).await?;
    d.find("[data-test=home]").await?;
    d.wait_text("[data-test=greeting]", &worker.name).await?;
    let cold = started.elapsed();
    d.shot("13-cold-start-home").await?;
    d.quit().await?;
    println!("cold_start_to_home_ms: {}", cold.as_millis());
    println!("screenshots: {}", app.shots.display());
    Ok(())
}
