//! The supervisor console in a real browser against a real server: a
//! community supervisor signs in, returns a household with a comment,
//! dispatches and escalates an incident (Debian's Chromium, headless,
//! driven by `ui/e2e/console.mjs` with playwright-core); then the worker's
//! tablet syncs and sees the return and the dispatch. The supervisor also
//! opens the dashboard and the map and downloads the household ledger as
//! XLSX, which the test reads back with calamine.
//!
//! Needs the built console (`npm run build:console` in `ui/`, which
//! `scripts/test` runs first), Node and `/usr/bin/chromium`. Screenshots
//! land in `<target>/e2e-screenshots/` for a person to look at.

mod console_support;

use anyhow::{Context, Result, ensure};
use calamine::{Data, Reader, Xlsx, open_workbook};
use console_support::{Console, two_communities, user_over, worker_reports};
use gridwork_core::model::{Household, Incident, ReviewState, Role, review_state};
use gridwork_core::workflow::{Action, AssigneeKind, Level};
use gridwork_tests::{PASSWORD, Server, run_browser_script, screenshots_dir};

#[tokio::test]
async fn a_supervisor_returns_dispatches_and_escalates_in_the_browser() -> Result<()> {
    let server = Server::start()?;
    let (worker, _) = two_communities();
    let (mut tablet, house, incident) = worker_reports(&server, worker).await?;
    let supervisor = user_over(Role::CommunitySupervisor, &worker.grid);

    let seen = run_browser_script(
        "console",
        &[
            ("GW_URL", server.url()),
            ("GW_USER", supervisor.id.clone()),
            ("GW_PASSWORD", PASSWORD.to_string()),
            ("GW_HOUSEHOLD", house.to_string()),
            ("GW_INCIDENT", incident.to_string()),
        ],
    )?;
    assert!(
        seen["returnComment"]
            .as_str()
            .unwrap_or_default()
            .contains("门牌照片不清楚"),
        "{seen}"
    );
    // The record page shows the buttons of what the server offers: on the
    // reported incident, accepting, but not verifying or dispatching
    // (which the server does not offer there); once it is accepted, the
    // accept button is gone.
    let listed = |key: &str| -> Vec<String> {
        seen[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (offered, buttons) = (listed("offeredOnReported"), listed("buttonsOnReported"));
    ensure!(
        offered.iter().any(|a| a == "accept") && buttons.iter().any(|b| b == "incident-accept"),
        "accept is offered and shown: {seen}"
    );
    ensure!(
        !offered.iter().any(|a| a == "verify" || a == "dispatch")
            && !buttons
                .iter()
                .any(|b| b == "verify" || b == "dispatch-form"),
        "verify and dispatch are neither offered nor shown on a reported incident: {seen}"
    );
    assert_eq!(seen["acceptButtonsOnceAccepted"], 0, "{seen}");
    assert_eq!(seen["assignee"], "城管", "{seen}");
    assert!(
        seen["incidentState"]
            .as_str()
            .unwrap_or_default()
            .contains("街道"),
        "{seen}"
    );
    assert_eq!(seen["englishBack"], "← Back to the queue", "{seen}");
    // The menu is the sections the server lists for the role, in its
    // order, and no other (`console_offers` proves the API refuses the
    // sections it leaves out).
    let menu: Vec<String> = listed("sections")
        .iter()
        .map(|s| format!("nav-{}", s.replace('_', "-")))
        .collect();
    ensure!(
        !menu.is_empty() && listed("menu") == menu,
        "the menu renders the server's sections: {seen}"
    );
    // The newest line of the access log page is that export, as XLSX.
    let logged = seen["accessLogFirst"].as_str().unwrap_or_default();
    assert!(
        logged.contains("导出 (XLSX)") && logged.contains("households"),
        "{seen}"
    );
    for shot in [
        "access-log.png",
        "queue.png",
        "incident-dispatched.png",
        "dashboard.png",
        "ledger.png",
        "map.png",
    ] {
        ensure!(screenshots_dir().join(shot).exists(), "{shot} was saved");
    }

    // The dashboard counted the one incident and drilled down to it; the
    // map drew the grids and the incident.
    assert_eq!(seen["dashboardIncidents"], "1", "{seen}");
    assert_eq!(seen["drillRows"], 1, "{seen}");
    assert!(seen["mapShapes"].as_u64() >= Some(2), "{seen}");

    // The XLSX the browser downloaded: the community's one household, as
    // returned, with the owner's phone masked.
    assert!(
        seen["xlsxName"]
            .as_str()
            .is_some_and(|n| n.starts_with("房屋台账") && n.ends_with(".xlsx")),
        "{seen}"
    );
    let path = seen["xlsx"].as_str().context("the saved download")?;
    let mut book: Xlsx<_> = open_workbook(path)?;
    let range = book.worksheet_range("房屋台账")?;
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 2, "headers and one household: {rows:?}");
    let col = |h: &str| rows[0].iter().position(|x| x == h).expect(h);
    assert_eq!(rows[1][col("网格编码")], worker.grid);
    assert_eq!(rows[1][col("审核状态")], "已退回");
    let phone = &rows[1][col("户主电话")];
    assert!(
        phone.is_empty() || phone.contains("****"),
        "masked: {phone}"
    );
    let name = &rows[1][col("户主姓名")];
    assert!(name.chars().skip(1).all(|c| c == '*'), "masked: {name}");
    // … and the export is in the access log.
    let console = Console::open(&server, &supervisor.id).await?;
    let log = console.get("/access-log").await?.ok()?;
    assert_eq!(log[0]["target"], "households", "{log}");
    assert_eq!(log[0]["format"], "xlsx");
    assert_eq!(log[0]["record_ids"][0], house.to_string().as_str());
    assert!(
        log.as_array().is_some_and(|l| l
            .iter()
            .any(|e| e["action"] == "reveal" && e["record_ids"][0] == house.to_string().as_str())),
        "the reveal of the household is logged: {log}"
    );

    // The tablet sees the supervisor's decisions at its next sync.
    tablet.sync().await?;
    let h: Household = tablet.store.get(house)?.context("the household")?;
    assert_eq!(review_state(&h.review), ReviewState::Returned);
    assert_eq!(
        h.review.last().map(|e| (e.by.as_str(), e.comment.as_str())),
        Some((supervisor.id.as_str(), "门牌照片不清楚，请重拍"))
    );
    let i: Incident = tablet.store.get(incident)?.context("the incident")?;
    let dispatch = i
        .log
        .iter()
        .find_map(|t| match &t.action {
            Action::Dispatch { to, deadline_days } => {
                Some((to.clone(), *deadline_days, t.actor.clone()))
            }
            _ => None,
        })
        .context("the dispatch reached the tablet")?;
    assert_eq!(dispatch.0.kind, AssigneeKind::Department);
    assert_eq!(dispatch.0.id, "城管");
    assert_eq!(dispatch.1, 3);
    assert_eq!(dispatch.2, supervisor.id);
    assert!(
        i.log
            .iter()
            .any(|t| t.action == Action::Escalate { to: Level::Street }),
        "the escalation reached the tablet"
    );
    Ok(())
}
