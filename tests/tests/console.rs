//! The supervisor console against a real `gridwork-server` process: who
//! may sign in, what each role sees and may do in which subtree, the CSRF
//! guard, and that decisions go through the sync checks and reach the
//! worker's tablet.

mod console_support;

use anyhow::Result;
use console_support::{Console, add_handler, two_communities, user_over, worker_reports};
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::model::{Household, Incident, ReviewDecision, ReviewState, Role, review_state};
use gridwork_core::workflow::{self, Level, Status};
use gridwork_tests::Server;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn roles_see_and_act_only_in_their_subtree() -> Result<()> {
    let server = Server::start()?;
    let (a, b) = two_communities();
    let (_dev_a, house_a, incident_a) = worker_reports(&server, a).await?;
    let (_dev_b, house_b, incident_b) = worker_reports(&server, b).await?;
    let handler = add_handler(&server, &a.grid)?;

    // Grid workers have no console.
    let refused = Console::login(&server, &a.id)
        .await?
        .expect_err("a grid worker");
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "console_role");

    // A community supervisor sees their community and nothing else.
    let cs_a = Console::open(&server, &user_over(Role::CommunitySupervisor, &a.grid).id).await?;
    let seen = cs_a.queue_ids().await?;
    for id in [house_a, incident_a] {
        assert!(
            seen.contains(&id.to_string()),
            "{id} is in community A's queue"
        );
    }
    for id in [house_b, incident_b] {
        assert!(
            !seen.contains(&id.to_string()),
            "{id} is not in community A's queue"
        );
        let detail = cs_a.get(&format!("/records/{id}")).await?;
        assert_eq!(detail.status, StatusCode::NOT_FOUND, "{}", detail.body);
    }
    let r = cs_a.review(house_b, "return", "不在本社区").await?;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = cs_a
        .transition(incident_b, json!({"type": "accept"}), "")
        .await?;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = cs_a.get(&format!("/queue?grid={}", b.grid)).await?;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a grid filter outside the subtree"
    );

    // The street supervisor sees both communities.
    let street = Console::open(&server, &user_over(Role::StreetSupervisor, &a.grid).id).await?;
    let seen = street.queue_ids().await?;
    for id in [house_a, incident_a, house_b, incident_b] {
        assert!(
            seen.contains(&id.to_string()),
            "{id} is in the street's queue"
        );
    }

    // A department handler sees nothing until an incident is dispatched to them.
    let dh = Console::open(&server, &handler).await?;
    assert!(dh.queue_ids().await?.is_empty(), "nothing dispatched yet");
    let r = dh.get(&format!("/records/{incident_a}")).await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = dh
        .transition(incident_a, json!({"type": "accept"}), "")
        .await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    cs_a.transition(incident_a, json!({"type": "accept"}), "")
        .await?
        .ok()?;
    let dispatched = cs_a
        .transition(
            incident_a,
            json!({"type": "dispatch", "to": {"kind": "department", "id": "城管", "name": "城管"}, "deadline_days": 3}),
            "请三日内处理",
        )
        .await?
        .ok()?;
    assert_eq!(dispatched["summary"]["status"], "dispatched");
    assert!(dispatched["state"]["deadline"].is_string(), "{dispatched}");
    street
        .transition(incident_b, json!({"type": "accept"}), "")
        .await?
        .ok()?;
    street
        .transition(
            incident_b,
            json!({"type": "dispatch", "to": {"kind": "department", "id": "环保", "name": "环保"}, "deadline_days": 3}),
            "",
        )
        .await?
        .ok()?;
    let seen = dh.queue_ids().await?;
    assert_eq!(seen, vec![incident_a.to_string()], "only what went to 城管");
    let r = dh.get(&format!("/records/{incident_b}")).await?;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "dispatched to 环保, not to them"
    );
    let r = dh.get(&format!("/records/{house_a}")).await?;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "handlers see no households"
    );
    // The handler may start work on their incident but not decide as a supervisor.
    dh.transition(incident_a, json!({"type": "start"}), "已到场")
        .await?
        .ok()?;
    let r = dh
        .transition(incident_a, json!({"type": "escalate", "to": "street"}), "")
        .await?;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "role_not_allowed")
    );
    Ok(())
}

#[tokio::test]
async fn reviews_and_escalations_follow_the_rules_and_reach_the_tablet() -> Result<()> {
    let server = Server::start()?;
    let (a, _) = two_communities();
    let (mut tablet, house, incident) = worker_reports(&server, a).await?;
    let cs = Console::open(&server, &user_over(Role::CommunitySupervisor, &a.grid).id).await?;

    // No session, no header: refused before anything is read.
    let r = cs
        .post_without_header(
            &format!("/records/{house}/review"),
            json!({"decision": "accept"}),
        )
        .await?;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "csrf"));
    let anonymous = reqwest::get(format!("{}/console/api/queue", server.url())).await?;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // A return needs a comment.
    let r = cs.review(house, "return", "  ").await?;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "comment_required")
    );
    let returned = cs
        .review(house, "return", "门牌照片不清楚，请重拍")
        .await?
        .ok()?;
    assert_eq!(returned["summary"]["status"], "returned");
    assert_eq!(
        returned["summary"]["return_comment"],
        "门牌照片不清楚，请重拍"
    );
    let history = returned["history"].as_array().unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        last["user"],
        user_over(Role::CommunitySupervisor, &a.grid).id.as_str()
    );
    assert!(
        last["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["after"] == "门牌照片不清楚，请重拍"),
        "the history names the comment field: {last}"
    );

    // Escalation: skipping a level needs a reason; one level up does not.
    let r = cs
        .transition(incident, json!({"type": "escalate", "to": "district"}), "")
        .await?;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "reason_required")
    );
    let up = cs
        .transition(
            incident,
            json!({"type": "escalate", "to": "street"}),
            "需街道协调",
        )
        .await?
        .ok()?;
    assert_eq!(up["state"]["level"], "street");
    assert_eq!(up["summary"]["status"], "reported");
    // A status the rules do not allow is refused with the rule's code.
    let r = cs
        .transition(incident, json!({"type": "verify"}), "")
        .await?;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "wrong_status"));

    // The worker's tablet sees the return and the escalation at its next sync.
    tablet.sync().await?;
    let h: Household = tablet.store.get(house)?.expect("the household");
    assert_eq!(review_state(&h.review), ReviewState::Returned);
    assert_eq!(
        h.review.last().map(|e| e.decision),
        Some(ReviewDecision::Return)
    );
    let i: Incident = tablet.store.get(incident)?.expect("the incident");
    let state = workflow::derive(&i, &WorkCalendar::bundled());
    assert_eq!(state.level, Level::Street);
    assert_eq!(state.status, Status::Reported);

    // Signing out ends the session.
    cs.post("/logout", json!({})).await?;
    let r = cs.get("/queue").await?;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    Ok(())
}
