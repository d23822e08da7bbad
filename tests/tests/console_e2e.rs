//! The supervisor console in a real browser against a real server: a
//! community supervisor signs in, returns a household with a comment,
//! dispatches and escalates an incident (Debian's Chromium, headless,
//! driven by `ui/e2e/console.mjs` with playwright-core); then the worker's
//! tablet syncs and sees the return and the dispatch.
//!
//! Needs the built console (`npm run build:console` in `ui/`, which
//! `scripts/test` runs first), Node and `/usr/bin/chromium`. Screenshots
//! land in `<target>/e2e-screenshots/` for a person to look at.

mod console_support;

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, ensure};
use console_support::{two_communities, user_over, worker_reports};
use gridwork_core::model::{Household, Incident, ReviewState, Role, review_state};
use gridwork_core::workflow::{Action, AssigneeKind, Level};
use gridwork_tests::{PASSWORD, Server};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn screenshots() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"))
        .join("e2e-screenshots")
}

#[tokio::test]
async fn a_supervisor_returns_dispatches_and_escalates_in_the_browser() -> Result<()> {
    let ui = repo().join("ui");
    ensure!(
        ui.join("dist-console/index.html").exists(),
        "the console is not built: run `npm run build:console` in ui/ (scripts/test does)"
    );
    let server = Server::start()?;
    let (worker, _) = two_communities();
    let (mut tablet, house, incident) = worker_reports(&server, worker).await?;
    let supervisor = user_over(Role::CommunitySupervisor, &worker.grid);

    let out = Command::new("node")
        .arg(ui.join("e2e/console.mjs"))
        .current_dir(&ui)
        .env("GW_URL", server.url())
        .env("GW_USER", &supervisor.id)
        .env("GW_PASSWORD", PASSWORD)
        .env("GW_HOUSEHOLD", house.to_string())
        .env("GW_INCIDENT", incident.to_string())
        .env("GW_SCREENSHOTS", screenshots())
        .output()
        .context("run node ui/e2e/console.mjs")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success(),
        "the browser run failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_str(
        stdout
            .lines()
            .last()
            .context("the script prints what it saw")?,
    )?;
    assert!(
        seen["returnComment"]
            .as_str()
            .unwrap_or_default()
            .contains("门牌照片不清楚"),
        "{seen}"
    );
    assert_eq!(seen["assignee"], "城管", "{seen}");
    assert!(
        seen["incidentState"]
            .as_str()
            .unwrap_or_default()
            .contains("街道"),
        "{seen}"
    );
    assert_eq!(seen["englishBack"], "← Back to the queue", "{seen}");
    for shot in ["queue.png", "incident-dispatched.png"] {
        ensure!(screenshots().join(shot).exists(), "{shot} was saved");
    }

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
