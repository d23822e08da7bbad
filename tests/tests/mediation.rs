//! A dispute's mediation record (调解记录), taken in the console against a
//! real `gridwork-server`: only on dispute incidents, with its required
//! fields, by a supervisor of the subtree, and synced to the tablet.

mod console_support;

use anyhow::Result;
use console_support::{Console, NOW, reported_incident, today, two_communities, user_over};
use gridwork_core::doc::Author;
use gridwork_core::model::{CategoryMajor, Incident, MediationMethod, Role};
use gridwork_tests::{Device, Server};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_supervisor_records_the_mediation_of_a_dispute() -> Result<()> {
    let server = Server::start()?;
    let (a, b) = two_communities();
    let mut tablet = Device::enrol(&server, &a.id).await?;
    let mut dispute = reported_incident(&a.grid, &a.id);
    dispute.category.major = CategoryMajor::Dispute;
    dispute.category.minor = "邻里纠纷".into();
    let mut other = reported_incident(&a.grid, &a.id);
    other.category.major = CategoryMajor::Environment;
    let author = Author::new(&a.id, NOW);
    tablet.store.insert(dispute.clone(), &author, today())?;
    tablet.store.insert(other.clone(), &author, today())?;
    tablet.sync().await?;
    let (dispute, other) = (dispute.meta.id, other.meta.id);

    let cs = Console::open(&server, &user_over(Role::CommunitySupervisor, &a.grid).id).await?;
    let record = json!({"mediator": "王调解", "method": "peoples_mediation_committee",
        "outcome": "双方达成赔偿协议，楼上修复防水", "success": true});

    // Not a dispute; missing fields; someone else's community.
    let r = cs
        .post(&format!("/incidents/{other}/mediation"), record.clone())
        .await?;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "not_a_dispute"),
        "{}",
        r.body
    );
    // A code and params, no sentence: the console translates the code.
    assert_eq!(r.body, json!({"code": "not_a_dispute", "params": {}}));
    let r = cs
        .post(
            &format!("/incidents/{dispute}/mediation"),
            json!({"mediator": " ", "method": "on_site", "outcome": "和解", "success": true}),
        )
        .await?;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "mediation_required"),
        "{}",
        r.body
    );
    assert_eq!(r.body["params"], json!({"field": "mediator"}), "{}", r.body);
    let r = cs
        .post(
            &format!("/incidents/{dispute}/mediation"),
            json!({"mediator": "王调解", "method": "on_site", "success": true}),
        )
        .await?;
    assert_eq!(
        r.code(),
        "mediation_required",
        "an outcome is required: {}",
        r.body
    );
    let r = cs
        .post(
            &format!("/incidents/{dispute}/mediation"),
            json!({"mediator": "王调解", "method": "by_phone", "outcome": "和解", "success": true}),
        )
        .await?;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "an unknown method: {}",
        r.body
    );
    let cs_b = Console::open(&server, &user_over(Role::CommunitySupervisor, &b.grid).id).await?;
    let r = cs_b
        .post(&format!("/incidents/{dispute}/mediation"), record.clone())
        .await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let page = cs.get(&format!("/records/{dispute}")).await?.ok()?;
    assert!(
        page["record"]["mediation"].is_null(),
        "refusals stored nothing: {page}"
    );

    // Recorded, shown on the incident's page, in its history by the supervisor.
    let page = cs
        .post(&format!("/incidents/{dispute}/mediation"), record)
        .await?
        .ok()?;
    let m = &page["record"]["mediation"];
    assert_eq!(
        (m["mediator"].as_str(), m["success"].as_bool()),
        (Some("王调解"), Some(true)),
        "{page}"
    );
    assert!(m["mediated_at"].is_i64(), "{page}");
    let last = page["history"]
        .as_array()
        .and_then(|h| h.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        last["user"],
        user_over(Role::CommunitySupervisor, &a.grid).id.as_str(),
        "{last}"
    );

    // The worker's tablet receives it.
    tablet.sync().await?;
    let on_tablet: Incident = tablet
        .store
        .get(dispute)?
        .expect("the dispute is on the tablet");
    let m = on_tablet
        .mediation
        .expect("the mediation reached the tablet");
    assert_eq!(m.method, MediationMethod::PeoplesMediationCommittee);
    assert_eq!(m.outcome, "双方达成赔偿协议，楼上修复防水");
    Ok(())
}
