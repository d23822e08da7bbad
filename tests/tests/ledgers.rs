//! Ledgers (台账) against a real `gridwork-server`: a supervisor exports
//! the households and incidents of their community as XLSX, CSV and
//! GeoJSON; the files are opened with real readers (calamine, csv,
//! geojson), [PI]/[S] cells are masked unless the role may see them, the
//! scope is the community's, and every export is in the access log.

mod console_support;

use std::io::Cursor;

use anyhow::{Context, Result};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use console_support::{
    Console, NOW, add_handler, new_household, reported_incident, today, two_communities, user_over,
};
use gridwork_core::doc::Author;
use gridwork_core::model::{IncidentParties, Party, Role, User};
use gridwork_tests::{Device, Server, community};
use reqwest::StatusCode;
use uuid::Uuid;

const OWNER: &str = "欧阳·娜娜";
const PHONE: &str = "13812345678";
const ID_NUMBER: &str = "11010119900307803X";

/// A worker registers a household with known personal data (a low-income
/// owner) and reports an incident with a party, and syncs.
async fn register(server: &Server, worker: &User) -> Result<(Uuid, Uuid)> {
    let mut device = Device::enrol(server, &worker.id).await?;
    let mut h = new_household(&worker.grid, &worker.id);
    h.owner_name = OWNER.into();
    h.owner_phone = Some(PHONE.into());
    h.owner_id_number = Some(ID_NUMBER.into());
    h.flags.low_income = true;
    let i = reported_incident(&worker.grid, &worker.id);
    // The incident's parties, in their own record made by its reporter.
    let parties = IncidentParties::of(
        &i,
        vec![Party {
            name: OWNER.into(),
            phone: PHONE.into(),
            id_number: ID_NUMBER.into(),
            role: "申请人".into(),
        }],
        &worker.id,
        NOW,
    );
    let author = Author::new(&worker.id, NOW);
    device.store.insert(h.clone(), &author, today())?;
    device.store.insert(i.clone(), &author, today())?;
    device.store.insert(parties, &author, today())?;
    let progress = device.sync().await?;
    anyhow::ensure!(progress.rejected.is_empty(), "{:?}", progress.rejected);
    Ok((h.meta.id, i.meta.id))
}

/// The sheet's rows as text, headers first.
fn sheet(bytes: &[u8], name: &str) -> Result<Vec<Vec<String>>> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec()))?;
    let range = book.worksheet_range(name)?;
    Ok(range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect())
}

fn column(rows: &[Vec<String>], header: &str) -> Result<usize> {
    rows[0]
        .iter()
        .position(|h| h == header)
        .with_context(|| format!("no column {header} in {:?}", rows[0]))
}

/// The row of `rows` (headers first) whose column `key` is `value`.
fn row_where<'a>(rows: &'a [Vec<String>], key: &str, value: &str) -> Result<&'a Vec<String>> {
    let c = column(rows, key)?;
    rows.iter()
        .skip(1)
        .find(|r| r[c] == value)
        .with_context(|| format!("no row with {key} = {value}"))
}

/// A server where a worker of community A and one of community B have
/// each registered a household and reported an incident, and A's
/// community supervisor signed in to the console.
struct Scene {
    server: Server,
    a: &'static User,
    b: &'static User,
    house_a: Uuid,
    incident_a: Uuid,
    house_b: Uuid,
    cs: &'static User,
    console: Console,
}

async fn scene() -> Result<Scene> {
    let server = Server::start()?;
    let (a, b) = two_communities();
    let (house_a, incident_a) = register(&server, a).await?;
    let (house_b, _) = register(&server, b).await?;
    let cs = user_over(Role::CommunitySupervisor, &a.grid);
    let console = Console::open(&server, &cs.id).await?;
    Ok(Scene {
        server,
        a,
        b,
        house_a,
        incident_a,
        house_b,
        cs,
        console,
    })
}

fn admin() -> Result<&'static User> {
    community()
        .users
        .iter()
        .find(|u| u.role == Role::Admin)
        .context("an admin")
}

#[tokio::test]
async fn ledgers_are_scoped_masked_and_logged() -> Result<()> {
    let Scene {
        server,
        a,
        b,
        house_a,
        incident_a,
        house_b,
        cs,
        console,
    } = scene().await?;

    // XLSX, masked by default: Chinese headers, the community's one
    // household, every personal cell masked.
    let (status, kind, bytes) = console
        .download("/lists/households/export?format=xlsx")
        .await?;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert!(kind.contains("spreadsheetml"), "{kind}");
    let rows = sheet(&bytes, "房屋台账")?;
    assert_eq!(
        rows.len(),
        2,
        "headers and community A's household: {rows:?}"
    );
    let grid = column(&rows, "网格编码")?;
    assert!(rows[1][grid].starts_with(&cs.grid), "{:?}", rows[1]);
    let masked = row_where(&rows, "户主电话", "138****5678")?;
    assert_eq!(masked[column(&rows, "户主姓名")?], "欧****");
    // With the name masked the ID number keeps only its province: the
    // district would say where the owner comes from (gridwork_core::privacy).
    assert_eq!(masked[column(&rows, "户主身份证号")?], "11************803X");
    assert_eq!(masked[column(&rows, "低保")?], "***");
    assert!(
        !rows
            .iter()
            .flatten()
            .any(|c| c.contains(PHONE) || c.contains(ID_NUMBER)),
        "nothing in clear"
    );

    // Revealed, as a community supervisor may: the clear values.
    let (_, _, bytes) = console
        .download("/lists/households/export?format=xlsx&reveal=true")
        .await?;
    let rows = sheet(&bytes, "房屋台账")?;
    let clear = row_where(&rows, "户主电话", PHONE)?;
    assert_eq!(clear[column(&rows, "户主姓名")?], OWNER);
    assert_eq!(clear[column(&rows, "户主身份证号")?], ID_NUMBER);
    assert_eq!(clear[column(&rows, "低保")?], "是");

    // CSV: a UTF-8 BOM, then the same ledger.
    let (status, kind, bytes) = console
        .download("/lists/incidents/export?format=csv")
        .await?;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM first");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader.headers()?.clone();
    assert_eq!(&headers[0], "事件编号");
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
    assert_eq!(records.len(), 1, "community A's one incident");
    let party = headers.iter().position(|h| h == "当事人电话").unwrap();
    assert_eq!(&records[0][party], "138****5678");

    // GeoJSON: the incident at its point.
    let (status, _, bytes) = console
        .download("/lists/incidents/export?format=geojson")
        .await?;
    assert_eq!(status, StatusCode::OK);
    let fc: geojson::FeatureCollection = std::str::from_utf8(&bytes)?.parse()?;
    assert_eq!(fc.features.len(), 1);
    let f = &fc.features[0];
    assert!(matches!(
        f.geometry.as_ref().map(|g| &g.value),
        Some(geojson::GeometryValue::Point { .. })
    ));
    assert_eq!(
        f.property("id").and_then(|v| v.as_str()),
        Some(incident_a.to_string().as_str())
    );

    // Another community's grid is refused, and an unknown format too.
    let (status, _, _) = console
        .download(&format!(
            "/lists/households/export?format=xlsx&grid={}",
            b.grid
        ))
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = console
        .download("/lists/households/export?format=pdf")
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The access log holds each export: who, what, how many rows, which ids.
    let log = console.get("/access-log").await?.ok()?;
    let log = log.as_array().context("a list")?;
    assert_eq!(log.len(), 4, "four exports succeeded: {log:?}");
    assert!(
        log.iter()
            .all(|e| e["user_id"] == cs.id.as_str() && e["action"] == "export")
    );
    let newest_first: Vec<(&str, &str, &str)> = log
        .iter()
        .map(|e| {
            (
                e["target"].as_str().unwrap_or_default(),
                e["format"].as_str().unwrap_or_default(),
                e["revealed"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        newest_first,
        vec![
            ("incidents", "geojson", ""),
            ("incidents", "csv", ""),
            ("households", "xlsx", "pi,s"),
            ("households", "xlsx", ""),
        ]
    );
    assert_eq!(log[3]["row_count"], 1);
    assert_eq!(log[3]["record_ids"][0], house_a.to_string().as_str());

    // The street supervisor exports both communities; an admin asking for
    // clear values still gets them masked.
    let street = Console::open(&server, &user_over(Role::StreetSupervisor, &a.grid).id).await?;
    let (_, _, bytes) = street
        .download("/lists/households/export?format=xlsx&reveal=true")
        .await?;
    assert_eq!(sheet(&bytes, "房屋台账")?.len(), 3);
    let admin = admin()?;
    let admin = Console::open(&server, &admin.id).await?;
    let (status, _, bytes) = admin
        .download("/lists/households/export?format=xlsx&reveal=true")
        .await?;
    assert_eq!(status, StatusCode::OK);
    let rows = sheet(&bytes, "房屋台账")?;
    assert!(rows.len() >= 3);
    assert!(
        !rows
            .iter()
            .flatten()
            .any(|c| c.contains(PHONE) || c == OWNER)
    );
    // The admin sees every export in the log; the supervisor only theirs.
    let all = admin.get("/access-log").await?.ok()?;
    assert_eq!(all.as_array().map(Vec::len), Some(6));
    assert_eq!(all[0]["revealed"], "");
    assert!(
        all[1]["record_ids"]
            .as_array()
            .is_some_and(|ids| ids.iter().any(|i| i == house_b.to_string().as_str())),
        "{}",
        all[1]
    );
    let own = console.get("/access-log").await?.ok()?;
    assert_eq!(own.as_array().map(Vec::len), Some(4));

    // The masked view the console shows has the same headers.
    let view = console.get("/lists/households").await?.ok()?;
    assert_eq!(view["total"], 1);
    assert!(
        view["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h == "户主姓名")
    );
    Ok(())
}

#[tokio::test]
async fn a_department_handler_exports_only_what_is_dispatched_to_them() -> Result<()> {
    let server = Server::start()?;
    let (a, _) = two_communities();
    let (_, incident) = register(&server, a).await?;
    let handler = add_handler(&server, &a.grid)?;
    let dh = Console::open(&server, &handler).await?;
    let (_, _, bytes) = dh.download("/lists/incidents/export?format=xlsx").await?;
    assert_eq!(sheet(&bytes, "事件台账")?.len(), 1, "headers only");
    let (_, _, bytes) = dh.download("/lists/households/export?format=xlsx").await?;
    assert_eq!(
        sheet(&bytes, "房屋台账")?.len(),
        1,
        "handlers see no households"
    );

    let cs = Console::open(&server, &user_over(Role::CommunitySupervisor, &a.grid).id).await?;
    cs.accept_and_dispatch_to_chengguan(incident, "").await?;
    let (_, _, bytes) = dh
        .download("/lists/incidents/export?format=xlsx&reveal=true")
        .await?;
    let rows = sheet(&bytes, "事件台账")?;
    assert_eq!(rows.len(), 2);
    // A handler may have the parties' names and phones, never their ID
    // numbers, not even masked.
    assert_eq!(rows[1][column(&rows, "当事人姓名")?], OWNER);
    assert_eq!(rows[1][column(&rows, "当事人电话")?], PHONE);
    assert_eq!(rows[1][column(&rows, "当事人证件号码")?], "");
    assert_eq!(rows[1][column(&rows, "承办单位/人")?], "城管");
    Ok(())
}

#[tokio::test]
async fn a_reveal_shows_what_the_role_may_see_and_is_logged() -> Result<()> {
    let Scene {
        server,
        a,
        house_a: house,
        incident_a: incident,
        house_b,
        console,
        ..
    } = scene().await?;

    // The detail page is masked; a reveal shows the numbers in clear.
    let detail = console.get(&format!("/records/{house}")).await?.ok()?;
    assert_eq!(detail["record"]["owner_phone"], "138****5678");
    let r = console
        .post_without_header(&format!("/records/{house}/reveal"), serde_json::json!({}))
        .await?;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "csrf"));
    let shown = console
        .post(&format!("/records/{house}/reveal"), serde_json::json!({}))
        .await?
        .ok()?;
    assert_eq!(shown["record"]["owner_phone"], PHONE);
    assert_eq!(shown["record"]["owner_id_number"], ID_NUMBER);
    // Another community's record is not there to reveal.
    let r = console
        .post(&format!("/records/{house_b}/reveal"), serde_json::json!({}))
        .await?;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A department handler sees parties' names and phones, never ID
    // numbers.
    let handler = add_handler(&server, &a.grid)?;
    console
        .accept_and_dispatch_to_chengguan(incident, "")
        .await?;
    let dh = Console::open(&server, &handler).await?;
    let shown = dh
        .post(
            &format!("/records/{incident}/reveal"),
            serde_json::json!({}),
        )
        .await?
        .ok()?;
    assert_eq!(shown["record"]["parties"][0]["name"], OWNER);
    assert_eq!(shown["record"]["parties"][0]["phone"], PHONE);
    assert_eq!(shown["record"]["parties"][0]["id_number"], "");

    // An admin may reveal nothing.
    let admin = admin()?;
    let admin = Console::open(&server, &admin.id).await?;
    let r = admin
        .post(&format!("/records/{house}/reveal"), serde_json::json!({}))
        .await?;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "reveal_not_allowed")
    );

    // The log holds both reveals that happened, and nothing for the refused.
    let log = admin.get("/access-log").await?.ok()?;
    let reveals: Vec<(&str, &str, &str)> = log
        .as_array()
        .context("a list")?
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default(),
                e["record_ids"][0].as_str().unwrap_or_default(),
                e["revealed"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        reveals,
        vec![
            ("reveal", incident.to_string().as_str(), "pi"),
            ("reveal", house.to_string().as_str(), "pi,s"),
        ]
    );
    Ok(())
}

/// A ledger page and an export show a record as its last change left it:
/// what they read is written with every change a device pushes, not only
/// the first, and masked as the record is.
#[tokio::test]
async fn a_ledger_shows_each_record_as_its_last_change_left_it() -> Result<()> {
    let server = Server::start()?;
    let (a, _) = two_communities();
    let mut device = Device::enrol(&server, &a.id).await?;
    let mut h = new_household(&a.grid, &a.id);
    h.owner_name = OWNER.into();
    h.owner_phone = Some(PHONE.into());
    h.address.room = "101".into();
    device
        .store
        .insert(h.clone(), &Author::new(&a.id, NOW), today())?;
    let progress = device.sync().await?;
    anyhow::ensure!(progress.rejected.is_empty(), "{:?}", progress.rejected);
    let cs = user_over(Role::CommunitySupervisor, &a.grid);
    let console = Console::open(&server, &cs.id).await?;

    // The page's cells of the household under `header`.
    let cell = |page: &serde_json::Value, header: &str| -> Result<String> {
        let at = page["headers"]
            .as_array()
            .context("headers")?
            .iter()
            .position(|h| h == header)
            .context("no such header")?;
        let row = page["rows"]
            .as_array()
            .context("rows")?
            .iter()
            .find(|r| r["id"] == h.meta.id.to_string())
            .context("the household's row")?;
        Ok(row["cells"][at].as_str().unwrap_or_default().to_string())
    };
    let page = console.get("/lists/households").await?.ok()?;
    assert_eq!(cell(&page, "户主电话")?, "138****5678");
    assert_eq!(cell(&page, "室")?, "101");

    // Changed on the device, twice: the ledger follows the last change.
    for (n, (phone, room)) in [("13900001111", "202"), ("13700002222", "303")]
        .into_iter()
        .enumerate()
    {
        let later = Author::new(&a.id, NOW + 60_000 * (n as i64 + 1));
        device.store.update::<gridwork_core::model::Household>(
            h.meta.id,
            &later,
            today(),
            |h| {
                h.owner_phone = Some(phone.into());
                h.address.room = room.into();
            },
        )?;
        let progress = device.sync().await?;
        anyhow::ensure!(progress.rejected.is_empty(), "{:?}", progress.rejected);
    }
    let page = console.get("/lists/households").await?.ok()?;
    assert_eq!(cell(&page, "户主电话")?, "137****2222");
    assert_eq!(cell(&page, "室")?, "303");
    let (_, _, bytes) = console
        .download("/lists/households/export?format=xlsx&reveal=true")
        .await?;
    let rows = sheet(&bytes, "房屋台账")?;
    let clear = row_where(&rows, "户主电话", "13700002222")?;
    assert_eq!(clear[column(&rows, "室")?], "303");
    assert!(
        !rows.iter().flatten().any(|c| c.contains("13900001111")),
        "no earlier value"
    );
    Ok(())
}
