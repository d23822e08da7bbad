//! Items 1 and 2: no role receives, on any channel, a field it may not see
//! in clear, and one rule decides what every channel carries
//! (`sync-server/src/access.rs`).
//!
//! The searches look for the demo's party ID numbers in the raw bytes of
//! each answer and, where the bytes are compressed (a sync body, an
//! Automerge change, an XLSX file), in what they decode to; each search is
//! first shown to find the numbers where a role may have them, so a search
//! that finds nothing proves something.

use std::collections::{BTreeSet, HashMap};
use std::io::Cursor;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use automerge::sync::{Message, State, SyncDoc};
use automerge::{AutoCommit, Change};
use calamine::{Reader, Xlsx, open_workbook_from_rs};
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::model::{
    AnyRecord, Incident, IncidentParties, IncidentWithParties, RecordKind, Role, User,
};
use gridwork_core::privacy::mask_id_number;
use gridwork_core::sync::http::CONTENT_TYPE;
use gridwork_core::sync::wire::{self, RepairRequest, RepairResponse, SyncRequest, SyncResponse};
use gridwork_core::workflow;
use gridwork_tests::{Device, Server};
use uuid::Uuid;

use crate::harness::{RECORDS, Raw, SEED, Trial, demo, user, workers};

// ---------------------------------------------------------------- helpers

/// Every party ID number of the demo, and each one's masked forms: a
/// handler may not have them even masked.
fn id_numbers() -> Vec<String> {
    let ids: BTreeSet<String> = demo()
        .incident_parties
        .iter()
        .flat_map(|p| p.parties.iter())
        .map(|p| p.id_number.clone())
        .filter(|n| !n.is_empty())
        .flat_map(|n| {
            [
                mask_id_number(&n, true),
                mask_id_number(&n, false),
                format!("{}*", &n[..6]),
                n,
            ]
        })
        .collect();
    ids.into_iter().collect()
}

/// The ID numbers found in `text`.
fn found_in(text: &str, ids: &[String]) -> Vec<String> {
    ids.iter()
        .filter(|n| text.contains(n.as_str()))
        .cloned()
        .collect()
}

/// The ID numbers in raw bytes, or in what the bytes decode to as
/// Automerge changes (whose columns may be deflated).
fn found_in_bytes(bytes: &[u8], ids: &[String]) -> Vec<String> {
    found_in(&String::from_utf8_lossy(bytes), ids)
}

/// An Automerge change's operations, values in clear.
fn change_text(bytes: &[u8]) -> String {
    Change::from_bytes(bytes.to_vec())
        .map(|c| format!("{:?}", c.decode()))
        .unwrap_or_default()
}

/// Everything a sync answer carries, decoded: the raw body and each
/// change's operations.
fn sync_text(body: &[u8], response: &SyncResponse) -> String {
    let mut text = String::from_utf8_lossy(body).into_owned();
    for doc in &response.pull {
        for change in &doc.changes {
            text.push_str(&change_text(change));
        }
    }
    text
}

/// The department handler of 城管.
fn chengguan() -> &'static User {
    demo()
        .users
        .iter()
        .find(|u| u.department.as_deref() == Some("城管"))
        .expect("the demo's 城管 handler")
}

/// Whether an incident is dispatched to 城管.
fn to_chengguan(incident: &Incident, cal: &WorkCalendar) -> bool {
    workflow::derive(incident, cal)
        .assignee
        .is_some_and(|a| a.id == "城管" || a.name == "城管")
}

/// The demo incidents with parties that are dispatched to 城管.
fn dispatched_with_parties(cal: &WorkCalendar) -> Vec<Uuid> {
    let with_parties: BTreeSet<Uuid> = demo().incident_parties.iter().map(|p| p.incident).collect();
    demo()
        .incidents
        .iter()
        .filter(|i| with_parties.contains(&i.meta.id) && to_chengguan(i, cal))
        .map(|i| i.meta.id)
        .collect()
}

/// Dispatches to 城管, as the supervisor signed in to `console`, a demo
/// incident waiting for a decision whose parties have an ID number (the
/// demo routes its disputes elsewhere); returns it.
async fn dispatch_one_with_ids(console: &Raw) -> Result<Uuid> {
    let cal = WorkCalendar::bundled();
    let with_ids: BTreeSet<Uuid> = demo()
        .incident_parties
        .iter()
        .filter(|p| p.parties.iter().any(|p| !p.id_number.is_empty()))
        .map(|p| p.incident)
        .collect();
    let (id, status) = demo()
        .incidents
        .iter()
        .filter(|i| with_ids.contains(&i.meta.id))
        .find_map(|i| {
            let status = workflow::derive(i, &cal).status.as_str();
            matches!(status, "reported" | "accepted").then_some((i.meta.id, status))
        })
        .context("a demo incident with ID numbers waiting for a decision")?;
    let path = format!("/console/api/incidents/{id}/transition");
    if status == "reported" {
        let body = serde_json::json!({"action": {"type": "accept"}, "opinion": ""});
        console.post_json(&path, &body).await?.ok()?;
    }
    let body = serde_json::json!({
        "action": {
            "type": "dispatch",
            "to": {"kind": "department", "id": "城管", "name": "城管"},
            "deadline_days": 3,
        },
        "opinion": "",
    });
    console.post_json(&path, &body).await?.ok()?;
    Ok(id)
}

/// One repair round for `doc` from a device that holds nothing of it:
/// the raw answer and the text of every change it carries.
async fn repair(raw: &Raw, doc: Uuid) -> Result<(u16, String)> {
    let mut state = State::new();
    let message = AutoCommit::new()
        .sync()
        .generate_sync_message(&mut state)
        .context("a first sync message")?;
    let body = wire::encode(&RepairRequest {
        message: message.encode(),
    });
    let answer = raw
        .post(&format!("/v1/repair/{doc}"), CONTENT_TYPE, body)
        .await?;
    let mut text = answer.text();
    if answer.status == 200 {
        let response: RepairResponse = wire::decode(&answer.body)?;
        if let Some(m) = response.message {
            let m = Message::decode(&m)?;
            let mut copy = AutoCommit::new();
            for chunk in m.changes.iter() {
                copy.load_incremental(chunk)?;
            }
            for change in copy.get_changes(&[]) {
                text.push_str(&change_text(change.raw_bytes()));
            }
        }
    }
    Ok((answer.status, text))
}

/// The cells of every sheet of an XLSX file, as text.
fn xlsx_text(bytes: &[u8]) -> Result<String> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec()))?;
    let mut text = String::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name)?;
        for row in range.rows() {
            for cell in row {
                text.push_str(&cell.to_string());
                text.push('|');
            }
        }
    }
    Ok(text)
}

/// What the console's ledgers, exports, record pages, reveals and
/// histories give `console` about `incidents`, as one text.
async fn console_text(console: &Raw, incidents: &[Uuid]) -> Result<String> {
    let mut text = String::new();
    for path in [
        "/console/api/lists/incidents?status=all&limit=500",
        "/console/api/lists/incidents/export?format=csv&reveal=true",
        "/console/api/lists/incidents/export?format=geojson&reveal=true",
        "/console/api/map/incidents",
    ] {
        let answer = console.get(path).await?;
        answer.ok()?;
        text.push_str(&answer.text());
    }
    let xlsx = console
        .get("/console/api/lists/incidents/export?format=xlsx&reveal=true")
        .await?;
    text.push_str(&xlsx_text(&xlsx.ok()?.body)?);
    for id in incidents {
        // The page holds the record and its field history.
        let page = console.get(&format!("/console/api/records/{id}")).await?;
        page.ok()?;
        text.push_str(&page.text());
        let revealed = console
            .post_json(
                &format!("/console/api/records/{id}/reveal"),
                &serde_json::json!({}),
            )
            .await?;
        text.push_str(&revealed.text());
    }
    Ok(text)
}

/// Fails unless `handler`'s pull (from a new device), repair of each of
/// `incidents` and of its parties record, and console views of them
/// (ledger, exports revealed as far as the role may, pages with their
/// histories, reveals) carry none of `ids`. Returns the device, the
/// console and the documents pulled.
async fn handler_sees_no_id(
    base: &str,
    handler: &User,
    incidents: &[Uuid],
    ids: &[String],
) -> Result<(Raw, Raw, BTreeSet<Uuid>)> {
    let device = Raw::login(base, &handler.id).await?;
    let pulls = device.pull_all().await?;
    let text: String = pulls.iter().map(|(body, r)| sync_text(body, r)).collect();
    let leaked = found_in(&text, ids);
    ensure!(leaked.is_empty(), "the handler's pull carried {leaked:?}");
    for id in incidents {
        for doc in [*id, IncidentParties::id_for(*id)] {
            let (status, text) = repair(&device, doc).await?;
            ensure!(status == 200, "repair {doc}: {status}");
            let leaked = found_in(&text, ids);
            ensure!(leaked.is_empty(), "repairing {doc} carried {leaked:?}");
        }
    }
    let console = Raw::console(base, &handler.id).await?;
    let text = console_text(&console, incidents).await?;
    let leaked = found_in(&text, ids);
    ensure!(
        leaked.is_empty(),
        "the handler's console carried {leaked:?}"
    );
    let pulled = pulls
        .iter()
        .flat_map(|(_, r)| r.pull.iter().map(|d| d.doc))
        .collect();
    Ok((device, console, pulled))
}

// ---------------------------------------------------------------- item 1

/// An admin cannot sign in on a device (403 `role_not_allowed`, said in
/// Chinese first), and a token issued to an admin's device before that
/// rule gets nothing from a pull, the repair path or a blob download.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item01_admin_pulls_nothing_over_device_sync() -> Result<()> {
    let trial = Trial::start().await?;
    let admin = user(Role::Admin);
    let before = trial.digest()?;
    let refused = Raw::login(&trial.url(), &admin.id).await;
    let message = refused
        .expect_err("an admin's device login is refused")
        .to_string();
    ensure!(
        message.contains("403") && message.contains("role_not_allowed"),
        "{message}"
    );
    // The app says why in the worker's language from the code
    // (`console_only_account`, src-tauri/src/errors.rs); the server's text
    // is for logs.
    trial.unchanged(&before)?;

    // A token from before: an admin's device enrolled as the old login did.
    let token = format!("admin-token-{}", Uuid::now_v7());
    let device = format!("admin-tablet-{}", Uuid::now_v7());
    {
        let conn = rusqlite::Connection::open(trial.server.data_dir().join("gridwork.sqlite"))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let hash: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()).into();
        conn.execute(
            "INSERT INTO devices (id, user_id, name, token_hash, actor, created_at)
             VALUES (?1, ?2, '管理员的平板', ?3, ?4, 0)",
            rusqlite::params![
                device,
                admin.id,
                &hash[..],
                hex::encode(Uuid::now_v7().as_bytes())
            ],
        )?;
    }
    let http = reqwest::Client::new();
    let bearer = format!("Bearer {token}");
    let post = |path: String, body: Vec<u8>| {
        http.post(format!("{}{path}", trial.url()))
            .header("authorization", &bearer)
            .header("content-type", CONTENT_TYPE)
            .body(body)
            .send()
    };
    let answer = post("/v1/sync".into(), wire::encode(&SyncRequest::default())).await?;
    ensure!(answer.status().is_success(), "{}", answer.status());
    let response: SyncResponse = wire::decode(&answer.bytes().await?)?;
    ensure!(
        response.pull.is_empty() && !response.more,
        "an admin token pulled {} documents",
        response.pull.len()
    );

    // A record with a photo in the admin's district: repair and download.
    let (record, sha) = demo()
        .records()
        .find_map(|r| match &r {
            AnyRecord::Incident(i) => i.photos.first().map(|p| (i.meta.id, p.sha256.clone())),
            _ => None,
        })
        .context("a demo incident with a photo")?;
    let mut state = State::new();
    let first = AutoCommit::new()
        .sync()
        .generate_sync_message(&mut state)
        .context("a sync message")?;
    let answer = post(
        format!("/v1/repair/{record}"),
        wire::encode(&RepairRequest {
            message: first.encode(),
        }),
    )
    .await?;
    ensure!(answer.status().is_success(), "{}", answer.status());
    let repaired: RepairResponse = wire::decode(&answer.bytes().await?)?;
    ensure!(
        repaired.heads.is_empty() && repaired.message.is_none(),
        "the repair path answered an admin token: {repaired:?}"
    );
    let answer = http
        .get(format!("{}/v1/blobs/{sha}?doc={record}", trial.url()))
        .header("authorization", &bearer)
        .send()
        .await?;
    let status = answer.status().as_u16();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    ensure!(
        (status, body["code"].as_str()) == (403, Some("blob_forbidden")),
        "an admin token's blob download: {status} {body}"
    );
    // The same download by the grid's worker is not forbidden (the demo's
    // photos have no files, so it is not found): the refusal is the role's.
    let grid = demo()
        .incidents
        .iter()
        .find(|i| i.meta.id == record)
        .map(|i| i.meta.grid.clone())
        .context("the record")?;
    let worker = workers()
        .into_iter()
        .find(|w| grid.starts_with(&w.grid))
        .context("the grid's worker")?;
    let raw = trial.login(&worker.id).await?;
    let answer = raw.get(&format!("/v1/blobs/{sha}?doc={record}")).await?;
    ensure!(answer.code() != "blob_forbidden", "{}", answer.text());
    trial.finish().await
}

/// A department handler's device pull, repair, blob downloads, console
/// ledger, exports, record pages, reveals and histories carry no party ID
/// number, while the street supervisor's carry them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item01_a_handler_never_receives_a_party_id_number() -> Result<()> {
    let trial = Trial::start().await?;
    let ids = id_numbers();
    let handler = chengguan();
    let street = user(Role::StreetSupervisor);
    let sup_console = trial.console(&street.id).await?;
    // The demo's incidents dispatched to 城管 have callers and reporters
    // as parties; a dispute with ID numbers is dispatched there first.
    let with_ids = dispatch_one_with_ids(&sup_console).await?;
    let mut dispatched = vec![with_ids];
    dispatched.extend(dispatched_with_parties(&WorkCalendar::bundled()));
    let before = trial.digest()?;

    // Device sync: the supervisor's pull holds ID numbers, the handler's none.
    let sup_device = trial.login(&street.id).await?;
    let sup_pull: String = sup_device
        .pull_all()
        .await?
        .iter()
        .map(|(body, r)| sync_text(body, r))
        .collect();
    ensure!(
        !found_in(&sup_pull, &ids).is_empty(),
        "the search finds the ID numbers in a supervisor's pull"
    );
    let (_, control) = repair(&sup_device, IncidentParties::id_for(with_ids)).await?;
    ensure!(
        !found_in(&control, &ids).is_empty(),
        "the search finds the ID numbers in a supervisor's repair"
    );
    let control = console_text(&sup_console, &dispatched[..1]).await?;
    ensure!(
        !found_in(&control, &ids).is_empty(),
        "the search finds the ID numbers in a supervisor's revealed export"
    );

    // The handler: pull, repair, console.
    let (device, console, pulled) =
        handler_sees_no_id(&trial.url(), handler, &dispatched, &ids).await?;
    for id in &dispatched {
        ensure!(pulled.contains(id), "the handler receives incident {id}");
    }

    // Blob downloads of the dispatched incidents' photos.
    for id in &dispatched {
        let incident = demo()
            .incidents
            .iter()
            .find(|i| i.meta.id == *id)
            .context("the incident")?;
        for photo in &incident.photos {
            for doc in [*id, IncidentParties::id_for(*id)] {
                let answer = device
                    .get(&format!("/v1/blobs/{}?doc={doc}", photo.sha256))
                    .await?;
                let leaked = found_in_bytes(&answer.body, &ids);
                ensure!(leaked.is_empty(), "a blob answer carried {leaked:?}");
            }
        }
    }

    // The console shows the parties, as far as the handler may.
    let page = console
        .post_json(
            &format!("/console/api/records/{}/reveal", dispatched[0]),
            &serde_json::json!({}),
        )
        .await?;
    let shown = page.json();
    let held = &demo()
        .incident_parties
        .iter()
        .find(|p| p.incident == dispatched[0])
        .context("its parties")?
        .parties;
    ensure!(
        shown["record"]["parties"][0]["name"] == held[0].name.as_str(),
        "the handler sees the parties' names on reveal: {shown}"
    );

    // Reading stored nothing but the access log's reveals and exports (and
    // the logins' enrolments: devices, their actors, their recovery
    // secrets).
    let enrolments = ["access_log", "devices", "actors", "device_recovery"];
    let after = trial.digest()?.without(&enrolments);
    after.same_as(&before.without(&enrolments))?;
    trial.finish().await
}

/// A device that still writes an incident's parties into the incident
/// (an app from before the split, or a tampered one) is refused
/// `invalid_record`, told to update the app, and nothing is stored: a
/// handler would receive that incident.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item01_an_incident_carrying_its_parties_is_refused() -> Result<()> {
    let trial = Trial::start().await?;
    let worker = workers()[1];
    let raw = trial.login(&worker.id).await?;
    let mut incident = demo()
        .incidents
        .iter()
        .find(|i| i.meta.grid == worker.grid)
        .context("an incident of the grid")?
        .clone();
    let now = jiff::Timestamp::now().as_millisecond();
    incident.meta = gridwork_core::model::Meta::new(&worker.grid, &worker.id, now);
    incident.log.clear();
    let parties = demo()
        .incident_parties
        .iter()
        .find(|p| !p.parties.is_empty())
        .context("some parties")?
        .parties
        .clone();
    let old = IncidentWithParties {
        incident: incident.clone(),
        parties,
    };
    let actor = automerge::ActorId::from(hex::decode(&raw.actor_id)?);
    let mut doc = RecordDoc::create(&old, actor, &Author::new(&worker.id, now))?;
    let changes = doc
        .changes_since(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let before = trial.digest()?;
    let response = raw
        .sync(&SyncRequest {
            cursor: 0,
            push: vec![wire::DocChanges {
                doc: incident.meta.id,
                changes,
            }],
            budget: Some(1),
            ..SyncRequest::default()
        })
        .await?
        .sync_response()?;
    let refusal = response
        .rejected
        .iter()
        .find(|r| r.doc == incident.meta.id)
        .context("the incident is refused")?;
    // Said as "update the app" by the app's own message files.
    ensure!(refusal.code == "parties_in_incident", "{refusal:?}");
    trial.unchanged(&before)?;
    trial.finish().await
}

/// Incidents stored with their parties inside (as the code before the
/// split stored them) are migrated when the new server starts: each gets
/// its parties record and a server change clearing its own list, every
/// device receives both, a supervisor's device and console still see
/// every party, and a handler's device, repair and console no longer
/// carry an ID number. Nothing else changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item01_stored_parties_are_migrated_out_of_their_incidents() -> Result<()> {
    let cal = WorkCalendar::bundled();
    let ids = id_numbers();
    let mut server = Server::start_with_demo(SEED, RECORDS)?;
    let db = server.data_dir().join("gridwork.sqlite");

    // Today's layout: every incident that has parties holds them itself,
    // in a document made as the demo load made it (the server's actor, in
    // the creator's name, one change), and there are no parties records.
    server.kill()?;
    let old: HashMap<Uuid, (Incident, IncidentParties)> = demo()
        .incident_parties
        .iter()
        .filter_map(|p| {
            let i = demo().incidents.iter().find(|i| i.meta.id == p.incident)?;
            Some((i.meta.id, (i.clone(), p.clone())))
        })
        .collect();
    {
        let conn = rusqlite::Connection::open(&db)?;
        let actor: String =
            conn.query_row("SELECT actor FROM devices WHERE id = 'server'", [], |r| {
                r.get(0)
            })?;
        let actor = automerge::ActorId::from(hex::decode(actor)?);
        let tx = conn.unchecked_transaction()?;
        for (id, (incident, parties)) in &old {
            let mut doc = RecordDoc::create(
                &IncidentWithParties {
                    incident: incident.clone(),
                    parties: parties.parties.clone(),
                },
                actor.clone(),
                &Author::new(&incident.meta.created_by, incident.meta.created_at),
            )?;
            let change = doc.changes_since(&[]).remove(0);
            for gone in [*id, parties.meta.id] {
                // The console's projection row references the document
                // (a database of that age had none).
                tx.execute(
                    "DELETE FROM projections WHERE id = ?1",
                    [&gone.as_bytes()[..]],
                )?;
                tx.execute("DELETE FROM log WHERE doc = ?1", [&gone.as_bytes()[..]])?;
                tx.execute("DELETE FROM docs WHERE id = ?1", [&gone.as_bytes()[..]])?;
            }
            tx.execute(
                "INSERT INTO docs (id, kind, grid, snapshot, rev, moved_seq, updated_at)
                 VALUES (?1, 'incident', ?2, ?3, 1, 0, 0)",
                rusqlite::params![&id.as_bytes()[..], incident.meta.grid, doc.save()],
            )?;
            tx.execute(
                "INSERT INTO log (doc, grid, hash, change, device_id, received_at)
                 VALUES (?1, ?2, ?3, ?4, 'server', 0)",
                rusqlite::params![
                    &id.as_bytes()[..],
                    incident.meta.grid,
                    &change.hash().0[..],
                    change.raw_bytes()
                ],
            )?;
        }
        tx.commit()?;
    }
    // Served as it is (the migration ran already at the first start): a
    // supervisor's and a handler's tablets take the old layout.
    server.restart()?;
    let street = user(Role::StreetSupervisor);
    let handler = chengguan();
    // A dispute with ID numbers goes to 城管, as today's console did it.
    let sup_console = Raw::console(&server.url(), &street.id).await?;
    let with_ids = dispatch_one_with_ids(&sup_console).await?;
    let mut sup_tablet = Device::enrol(&server, &street.id).await?;
    sup_tablet.sync().await?;
    let mut handler_tablet = Device::enrol(&server, &handler.id).await?;
    handler_tablet.sync().await?;
    let migrated: Vec<Uuid> = old.keys().copied().collect();
    let held_before = |tablet: &Device, id: Uuid| -> Result<bool> {
        Ok(tablet
            .store
            .load(id)?
            .is_some_and(|d| d.to_json().get("parties").is_some()))
    };
    ensure!(
        held_before(&sup_tablet, migrated[0])?,
        "the supervisor's tablet took an incident with its parties inside"
    );

    // The new version starts on that data directory.
    server.kill()?;
    let (docs_before, log_before) = {
        let conn = rusqlite::Connection::open(&db)?;
        conn.execute("DELETE FROM data_migrations", [])?;
        let docs = snapshots(&conn)?;
        let log: i64 = conn.query_row("SELECT COUNT(*) FROM log", [], |r| r.get(0))?;
        (docs, log)
    };
    server.restart()?;

    // Nothing else changed; the incidents lost only their party lists.
    let conn = rusqlite::Connection::open(&db)?;
    let docs_after = snapshots(&conn)?;
    for (id, snapshot) in &docs_before {
        if old.contains_key(id) {
            let read = |bytes: &[u8]| RecordDoc::load(bytes, automerge::ActorId::random());
            let doc = read(&docs_after[id])?;
            ensure!(
                doc.to_json().get("parties").is_none(),
                "{id} still holds parties"
            );
            let was: Incident = read(snapshot)?.read()?;
            let is: Incident = doc.read()?;
            ensure!(is == was, "incident {id} changed beyond its parties");
        } else {
            ensure!(
                docs_after.get(id) == Some(snapshot),
                "document {id} changed"
            );
        }
    }
    let log_after: i64 = conn.query_row("SELECT COUNT(*) FROM log", [], |r| r.get(0))?;
    ensure!(
        log_after == log_before + 2 * old.len() as i64,
        "one clearing change and one parties record per incident: {log_before} → {log_after}"
    );
    let marked: i64 =
        conn.query_row("SELECT COUNT(*) FROM docs WHERE pi_history = 1", [], |r| {
            r.get(0)
        })?;
    ensure!(marked == old.len() as i64, "{marked} incidents marked");

    // The supervisor's tablet receives both changes: every party is there.
    sup_tablet.sync().await?;
    for (id, (_, parties)) in &old {
        ensure!(
            !held_before(&sup_tablet, *id)?,
            "{id} cleared on the tablet"
        );
        let linked: IncidentParties = sup_tablet
            .store
            .get(parties.meta.id)?
            .with_context(|| format!("the parties of {id} on the supervisor's tablet"))?;
        ensure!(linked.parties == parties.parties, "the parties of {id}");
    }
    // ... and the console shows them, ID numbers on reveal.
    let sup_console = Raw::console(&server.url(), &street.id).await?;
    let some = (with_ids, old[&with_ids].1.parties.clone());
    let shown = sup_console
        .post_json(
            &format!("/console/api/records/{}/reveal", some.0),
            &serde_json::json!({}),
        )
        .await?
        .json();
    for (n, party) in some.1.iter().enumerate() {
        ensure!(
            shown["record"]["parties"][n]["id_number"] == party.id_number.as_str(),
            "the supervisor reveals party {n}: {shown}"
        );
    }

    // The handler: no ID number on any channel, no further change of a
    // migrated incident on the old tablet.
    let handler_progress = handler_tablet.sync().await?;
    for id in &migrated {
        ensure!(
            !handler_progress.changed.contains(id),
            "the handler's tablet was sent more of {id}"
        );
    }
    let mut dispatched = vec![with_ids];
    dispatched.extend(dispatched_with_parties(&cal));
    let (_, console, pulled) =
        handler_sees_no_id(&server.url(), handler, &dispatched, &ids).await?;
    ensure!(
        !pulled.contains(&with_ids),
        "a migrated incident is no longer sent to a handler's device"
    );
    let page = console
        .get(&format!("/console/api/records/{}", dispatched[0]))
        .await?
        .json();
    let party_paths = page["history"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["fields"].as_array().into_iter().flatten())
        .filter(|f| f["path"].as_str().is_some_and(|p| p.starts_with("parties")))
        .count();
    ensure!(party_paths == 0, "the handler's history lists party fields");
    Ok(())
}

/// Every document's snapshot by id.
fn snapshots(conn: &rusqlite::Connection) -> Result<HashMap<Uuid, Vec<u8>>> {
    let mut stmt = conn.prepare("SELECT id, snapshot FROM docs")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, snapshot) = row?;
        out.insert(Uuid::from_slice(&id)?, snapshot);
    }
    Ok(out)
}

// ---------------------------------------------------------------- item 2

/// The kinds the console's ledgers list.
const LEDGERS: [(&str, RecordKind); 4] = [
    ("incidents", RecordKind::Incident),
    ("households", RecordKind::Household),
    ("residents", RecordKind::Resident),
    ("patrols", RecordKind::Patrol),
];

/// What one rule says `user` may see of the demo: the records of their
/// subtree, and of those only the incidents dispatched to a department
/// handler.
fn by_the_rule(user: &User, cal: &WorkCalendar) -> BTreeSet<Uuid> {
    demo()
        .records()
        .filter(|r| r.meta().grid.starts_with(&user.grid))
        .filter(|r| match (user.role, r) {
            (Role::DepartmentHandler, AnyRecord::Incident(i)) => to_chengguan(i, cal),
            (Role::DepartmentHandler, _) => false,
            _ => true,
        })
        .map(|r| r.meta().id)
        .collect()
}

/// The demo records of `kinds` among `ids`.
fn of_kinds(ids: &BTreeSet<Uuid>, kinds: &[RecordKind]) -> BTreeSet<Uuid> {
    let kind_of: HashMap<Uuid, RecordKind> =
        demo().records().map(|r| (r.meta().id, r.kind())).collect();
    ids.iter()
        .filter(|id| kind_of.get(id).is_some_and(|k| kinds.contains(k)))
        .copied()
        .collect()
}

/// Every row id of a console ledger, page after page.
async fn ledger_ids(console: &Raw, list: &str) -> Result<BTreeSet<Uuid>> {
    let mut ids = BTreeSet::new();
    let mut offset = 0;
    loop {
        let page = console
            .get(&format!(
                "/console/api/lists/{list}?status=all&limit=500&offset={offset}"
            ))
            .await?;
        let json = page.ok()?.json();
        let rows = json["rows"].as_array().context("rows")?;
        for row in rows {
            ids.insert(row["id"].as_str().context("an id")?.parse()?);
        }
        offset += rows.len();
        if rows.is_empty() || offset >= json["total"].as_u64().unwrap_or(0) as usize {
            return Ok(ids);
        }
    }
}

/// For every role, what the device channel sends and what the console
/// lists are the same records, and those the rule names: the records of
/// the user's subtree that their role needs. Roles without a tablet
/// (admins) or without the console (grid staff) are refused there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item02_device_sync_and_the_console_list_what_one_rule_names() -> Result<()> {
    let trial = Trial::start().await?;
    let cal = WorkCalendar::bundled();
    let demo_ids: BTreeSet<Uuid> = demo().records().map(|r| r.meta().id).collect();
    let community = demo()
        .users
        .iter()
        .find(|u| u.role == Role::CommunitySupervisor)
        .context("a community supervisor")?;
    let cast: [&User; 5] = [
        workers()[1],
        community,
        user(Role::StreetSupervisor),
        chengguan(),
        user(Role::Admin),
    ];
    let ledger_kinds: Vec<RecordKind> = LEDGERS.iter().map(|(_, k)| *k).collect();
    for who in cast {
        let rule = by_the_rule(who, &cal);
        ensure!(!rule.is_empty(), "{}: the rule names some records", who.id);

        let device: Option<BTreeSet<Uuid>> = match Raw::login(&trial.url(), &who.id).await {
            Ok(raw) => Some(
                raw.pull_all()
                    .await?
                    .iter()
                    .flat_map(|(_, r)| r.pull.iter().map(|d| d.doc))
                    .filter(|id| demo_ids.contains(id))
                    .collect(),
            ),
            Err(e) => {
                ensure!(
                    who.role == Role::Admin && e.to_string().contains("role_not_allowed"),
                    "{}: {e}",
                    who.id
                );
                None
            }
        };
        let console: Option<BTreeSet<Uuid>> = match Raw::console(&trial.url(), &who.id).await {
            Ok(raw) => {
                let mut ids = BTreeSet::new();
                for (list, _) in LEDGERS {
                    ids.extend(ledger_ids(&raw, list).await?);
                }
                Some(ids.intersection(&demo_ids).copied().collect())
            }
            Err(e) => {
                ensure!(
                    matches!(who.role, Role::GridWorker | Role::GridLeader)
                        && e.to_string().contains("console_role"),
                    "{}: {e}",
                    who.id
                );
                None
            }
        };
        if let Some(device) = &device {
            ensure!(
                *device == rule,
                "{} ({:?}) device sync: {} records, the rule {}; extra {:?}, missing {:?}",
                who.id,
                who.role,
                device.len(),
                rule.len(),
                device.difference(&rule).take(3).collect::<Vec<_>>(),
                rule.difference(device).take(3).collect::<Vec<_>>()
            );
        }
        if let Some(console) = &console {
            let listed_by_rule = of_kinds(&rule, &ledger_kinds);
            ensure!(
                *console == listed_by_rule,
                "{} ({:?}) console lists: {} records, the rule {}",
                who.id,
                who.role,
                console.len(),
                listed_by_rule.len()
            );
        }
        if let (Some(device), Some(console)) = (&device, &console) {
            ensure!(
                of_kinds(device, &ledger_kinds) == *console,
                "{}: the device and the console disagree",
                who.id
            );
        }
        ensure!(
            device.is_some() || console.is_some(),
            "{} reaches no channel at all",
            who.id
        );
    }
    trial.finish().await
}
