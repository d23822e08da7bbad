//! The console's record page offers what the server accepts, and nothing
//! else, against a real `gridwork-server` process: for every role that
//! signs in to the console and every status an incident can be in, each
//! action the page offers (`actions`, `escalate_to`) is accepted when
//! posted with the input it asks for, and each one it does not offer is
//! refused and changes nothing. The same for the review of a household.

mod console_support;

use std::collections::BTreeSet;

use anyhow::{Context, Result, ensure};
use console_support::{
    Answer, Console, NOW, add_handler, jpeg, new_household, reported_incident, today,
    two_communities, upload, user_over,
};
use gridwork_core::doc::Author;
use gridwork_core::model::{CategoryMajor, Role, User};
use gridwork_tests::{Device, Server};
use serde_json::{Value, json};
use uuid::Uuid;

/// Every status an incident reaches on the server.
const STATUSES: [&str; 10] = [
    "reported",
    "returned",
    "accepted",
    "dispatched",
    "in_progress",
    "resolved",
    "verified",
    "feedback_given",
    "closed",
    "suspended",
];

/// Every decision the console can post on an incident; an escalation
/// once per level.
const INCIDENT_ACTIONS: [&str; 16] = [
    "report",
    "accept",
    "return",
    "dispatch",
    "start",
    "resolve",
    "resolve_on_spot",
    "verify",
    "feedback",
    "close",
    "suspend",
    "resume",
    "escalate:street",
    "escalate:district",
    "escalate:city",
    "mediation",
];

/// A street with a worker's tablet, the community supervisor and the
/// 城管 handler who walk incidents to a status, and the console of the
/// role under test.
struct Scene {
    server: Server,
    worker: &'static User,
    tablet: Device,
    supervisor: Console,
    handler: Console,
    who: Console,
}

impl Scene {
    async fn new(role: Role) -> Result<Scene> {
        let server = Server::start()?;
        let (worker, _) = two_communities();
        let tablet = Device::enrol(&server, &worker.id).await?;
        let handler_id = add_handler(&server, &worker.grid)?;
        let supervisor = Console::open(
            &server,
            &user_over(Role::CommunitySupervisor, &worker.grid).id,
        )
        .await?;
        let handler = Console::open(&server, &handler_id).await?;
        let who = match role {
            Role::DepartmentHandler => Console::open(&server, &handler_id).await?,
            _ => Console::open(&server, &user_over(role, &worker.grid).id).await?,
        };
        Ok(Scene {
            server,
            worker,
            tablet,
            supervisor,
            handler,
            who,
        })
    }

    /// A dispute (so its mediation can be recorded) the worker reports
    /// from the tablet, brought to `status` by the supervisor and the
    /// handler it is dispatched to.
    async fn incident_in(&mut self, status: &str) -> Result<Uuid> {
        let mut incident = reported_incident(&self.worker.grid, &self.worker.id);
        incident.category.major = CategoryMajor::Dispute;
        let id = incident.meta.id;
        self.tablet
            .store
            .insert(incident, &Author::new(&self.worker.id, NOW), today())?;
        self.tablet.sync().await?;
        let sup = |action: &str, opinion: &str| (true, action.to_string(), opinion.to_string());
        let dh = |action: &str| (false, action.to_string(), "已到现场处理".to_string());
        let dispatched = vec![sup("accept", ""), sup("dispatch", "")];
        let steps = match status {
            "reported" => vec![],
            "returned" => vec![sup("return", "地址不详")],
            "accepted" => vec![sup("accept", "")],
            "dispatched" => dispatched,
            "suspended" => [dispatched, vec![sup("suspend", "等待业主回国")]].concat(),
            "in_progress" => [dispatched, vec![dh("start")]].concat(),
            done => {
                let mut steps = [dispatched, vec![dh("start"), dh("resolve")]].concat();
                let after: &[&str] = match done {
                    "resolved" => &[],
                    "verified" => &["verify"],
                    "feedback_given" => &["verify", "feedback"],
                    "closed" => &["verify", "feedback", "close"],
                    other => anyhow::bail!("no way to {other}"),
                };
                steps.extend(after.iter().map(|a| sup(a, "")));
                steps
            }
        };
        for (by_supervisor, action, opinion) in steps {
            let console = if by_supervisor {
                &self.supervisor
            } else {
                &self.handler
            };
            let answer = take(console, &self.server, id, &action, &opinion).await?;
            answer
                .ok()
                .with_context(|| format!("{action} on the way to {status}"))?;
        }
        let status_now =
            self.supervisor.get(&format!("/records/{id}")).await?.ok()?["summary"]["status"]
                .clone();
        ensure!(status_now == status, "{status_now} is not {status}");
        Ok(id)
    }

    /// A household the worker registers, pending review.
    async fn household(&mut self) -> Result<Uuid> {
        let h = new_household(&self.worker.grid, &self.worker.id);
        let id = h.meta.id;
        self.tablet
            .store
            .insert(h, &Author::new(&self.worker.id, NOW), today())?;
        self.tablet.sync().await?;
        Ok(id)
    }
}

/// What the record page offers `console` on `id`, as the names posted
/// here (`escalate:LEVEL` for each level offered); nothing when the page
/// is not theirs to see.
async fn offered(console: &Console, id: Uuid) -> Result<BTreeSet<String>> {
    let page = console.get(&format!("/records/{id}")).await?;
    if page.status == reqwest::StatusCode::NOT_FOUND {
        return Ok(BTreeSet::new());
    }
    let page = page.ok()?;
    let names = |key: &str| -> Result<Vec<String>> {
        Ok(page[key]
            .as_array()
            .with_context(|| format!("the page has {key}: {page}"))?
            .iter()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect())
    };
    let levels = names("escalate_to")?;
    let actions = names("actions")?;
    ensure!(
        actions.contains(&"escalate".to_string()) != levels.is_empty(),
        "escalation is offered with its levels: {page}"
    );
    Ok(actions
        .into_iter()
        .filter(|a| a != "escalate")
        .chain(levels.into_iter().map(|l| format!("escalate:{l}")))
        .collect())
}

/// An after-photo of `id` uploaded by `console`, or (where the upload is
/// refused) a reference to a photo nobody uploaded.
async fn after_photo(console: &Console, server: &Server, id: Uuid) -> Result<Value> {
    let answer = upload(console, server, id, jpeg(64, 48)).await?;
    if answer.status.is_success() {
        return Ok(answer.body);
    }
    Ok(
        json!({"sha256": "0".repeat(64), "thumb_sha256": null, "role": "after",
        "bytes": 1, "width": 1, "height": 1, "taken_at": null}),
    )
}

/// Posts decision `name` on incident `id` with the input it asks for.
async fn take(
    console: &Console,
    server: &Server,
    id: Uuid,
    name: &str,
    opinion: &str,
) -> Result<Answer> {
    let reason = if opinion.is_empty() {
        "需要说明的情况"
    } else {
        opinion
    };
    let simple = |t: &str| json!({"type": t});
    let (action, opinion, photos) = match name {
        "mediation" => {
            let record = json!({"mediator": "王调解", "method": "on_site",
                "outcome": "双方达成协议", "success": true});
            return console
                .post(&format!("/incidents/{id}/mediation"), record)
                .await;
        }
        "dispatch" => (
            json!({"type": "dispatch", "to": {"kind": "department", "id": "城管", "name": "城管"}, "deadline_days": 3}),
            opinion,
            vec![],
        ),
        "feedback" => (
            json!({"type": "feedback", "satisfaction": "satisfied"}),
            opinion,
            vec![],
        ),
        "return" | "suspend" => (simple(name), reason, vec![]),
        "resolve" | "resolve_on_spot" => (
            simple(name),
            reason,
            vec![after_photo(console, server, id).await?],
        ),
        escalate if escalate.starts_with("escalate:") => (
            json!({"type": "escalate", "to": &escalate["escalate:".len()..]}),
            reason,
            vec![],
        ),
        other => (simple(other), opinion, vec![]),
    };
    console
        .post(
            &format!("/incidents/{id}/transition"),
            json!({"action": action, "opinion": opinion, "photos": photos}),
        )
        .await
}

/// What the supervisor's page shows of a record: everything a refused
/// decision must leave as it was.
async fn as_stored(scene: &Scene, id: Uuid) -> Result<Value> {
    let page = scene
        .supervisor
        .get(&format!("/records/{id}"))
        .await?
        .ok()?;
    Ok(json!([
        page["record"],
        page["timeline"],
        page["summary"]["status"]
    ]))
}

/// For every status: what `role`'s page offers is accepted when posted
/// (each on an incident of its own in that status), and everything else
/// is refused and changes nothing. Then the same for a household's review.
async fn offers_are_what_the_server_accepts(role: Role) -> Result<()> {
    let mut scene = Scene::new(role).await?;
    let mut offered_anything = false;
    for status in STATUSES {
        let id = scene.incident_in(status).await?;
        let offers = offered(&scene.who, id).await?;
        offered_anything |= !offers.is_empty();
        let before = as_stored(&scene, id).await?;
        for name in INCIDENT_ACTIONS.iter().filter(|a| !offers.contains(**a)) {
            let answer = take(&scene.who, &scene.server, id, name, "").await?;
            ensure!(
                answer.status.is_client_error(),
                "{role:?} was not offered {name} on a {status} incident, yet the server answered {} {}",
                answer.status,
                answer.body
            );
        }
        ensure!(
            as_stored(&scene, id).await? == before,
            "refused decisions changed a {status} incident"
        );
        for name in &offers {
            ensure!(
                INCIDENT_ACTIONS.contains(&name.as_str()),
                "{role:?} is offered {name}, which the console cannot post"
            );
            let fresh = scene.incident_in(status).await?;
            let answer = take(&scene.who, &scene.server, fresh, name, "").await?;
            ensure!(
                answer.status.is_success(),
                "{role:?} was offered {name} on a {status} incident, yet the server answered {} {}",
                answer.status,
                answer.body
            );
        }
    }
    ensure!(offered_anything, "{role:?} is offered something somewhere");

    let house = scene.household().await?;
    let offers = offered(&scene.who, house).await?;
    for decision in ["accept", "return"] {
        let id = if offers.contains(decision) {
            scene.household().await?
        } else {
            house
        };
        let answer = scene.who.review(id, decision, "门牌号有误").await?;
        ensure!(
            answer.status.is_success() == offers.contains(decision),
            "{role:?}: review {decision} offered {}, answered {} {}",
            offers.contains(decision),
            answer.status,
            answer.body
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_community_supervisor_is_offered_what_the_server_accepts() -> Result<()> {
    offers_are_what_the_server_accepts(Role::CommunitySupervisor).await
}

#[tokio::test]
async fn a_street_supervisor_is_offered_what_the_server_accepts() -> Result<()> {
    offers_are_what_the_server_accepts(Role::StreetSupervisor).await
}

#[tokio::test]
async fn a_department_handler_is_offered_what_the_server_accepts() -> Result<()> {
    offers_are_what_the_server_accepts(Role::DepartmentHandler).await
}

#[tokio::test]
async fn an_admin_is_offered_what_the_server_accepts() -> Result<()> {
    offers_are_what_the_server_accepts(Role::Admin).await
}

/// The console's menu is the server's: for every role that signs in, each
/// section `/me` lists opens, and each one it leaves out is refused by the
/// API (so the browser, which renders `sections` and nothing else, never
/// shows a section its user cannot open).
#[tokio::test]
async fn each_role_is_shown_the_sections_it_may_open_and_no_other() -> Result<()> {
    let server = Server::start()?;
    let (worker, _) = two_communities();
    let handler_id = add_handler(&server, &worker.grid)?;
    for role in [
        Role::CommunitySupervisor,
        Role::StreetSupervisor,
        Role::DepartmentHandler,
        Role::Admin,
    ] {
        let user = match role {
            Role::DepartmentHandler => handler_id.clone(),
            _ => user_over(role, &worker.grid).id.clone(),
        };
        let console = Console::open(&server, &user).await?;
        let me = console.get("/me").await?.ok()?;
        let shown: BTreeSet<String> = me["sections"]
            .as_array()
            .context("sections in /me")?
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect();
        ensure!(shown.contains("queue"), "{role:?}: {me}");
        for section in [
            "queue",
            "dashboard",
            "ledgers",
            "map",
            "hotline",
            "tasks",
            "access_log",
            "devices",
        ] {
            let answer = match section {
                "queue" => console.get("/queue").await?,
                "dashboard" => console.get("/dashboard").await?,
                "ledgers" => console.get("/lists/incidents").await?,
                "map" => console.get("/map/grids").await?,
                "hotline" => console.post("/hotline/import", json!([])).await?,
                "tasks" => console.get("/tasks").await?,
                "devices" => console.get("/devices").await?,
                _ => console.get("/access-log").await?,
            };
            let refused = answer.status == reqwest::StatusCode::FORBIDDEN;
            ensure!(
                refused != shown.contains(section),
                "{role:?}: {section} shown {}, answered {} {}",
                shown.contains(section),
                answer.status,
                answer.body
            );
        }
    }
    let handler = Console::open(&server, &handler_id).await?;
    let me = handler.get("/me").await?.ok()?;
    ensure!(
        !me["sections"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s == "hotline" || s == "tasks")),
        "a department handler is shown neither the hotline nor tasks: {me}"
    );
    Ok(())
}
