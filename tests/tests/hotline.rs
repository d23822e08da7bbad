//! 12345 hotline work orders imported in the console against a real
//! `gridwork-server`: JSON and CSV files, placement by point and by
//! address, unplaceable orders reported, idempotent re-import, the
//! incident reaching the grid worker's tablet, and the subtree guard.

mod console_support;

use anyhow::{Context, Result};
use console_support::{Console, two_communities, user_over, worker_reports};
use gridwork_core::geo::GridTree;
use gridwork_core::model::{Incident, IncidentParties, IncidentSource, Role};
use gridwork_tests::{Server, community};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A demo household point that lies in `grid`.
fn point_in(grid: &str) -> (f64, f64) {
    let tree = GridTree::from_geojson(&community().grid_tree_geojson).expect("demo grids");
    community()
        .households
        .iter()
        .filter_map(|h| h.point.as_ref())
        .find(|p| tree.locate(p.lon, p.lat).is_some_and(|l| l.grid == grid))
        .map(|p| (p.lon, p.lat))
        .expect("a household point inside the grid")
}

async fn import(
    console: &Console,
    server: &Server,
    kind: &str,
    body: String,
) -> Result<(StatusCode, Value)> {
    let response = reqwest::Client::new()
        .post(format!("{}/console/api/hotline/import", server.url()))
        .header(reqwest::header::COOKIE, console.cookie())
        .header("x-gridwork-console", "1")
        .header(reqwest::header::CONTENT_TYPE, kind)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    Ok((status, response.json().await?))
}

fn orders_of<'a>(report: &'a Value, list: &str) -> Vec<&'a str> {
    report[list]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["order_no"].as_str()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn hotline_orders_become_incidents_in_the_right_grid() -> Result<()> {
    let server = Server::start()?;
    let (a, b) = two_communities();
    // Workers of both grids registered a household; b's gives the address.
    let (mut dev_a, _, _) = worker_reports(&server, a).await?;
    let (_dev_b, house_b, _) = worker_reports(&server, b).await?;
    let street = Console::open(&server, &user_over(Role::StreetSupervisor, &a.grid).id).await?;
    let house_b = street.get(&format!("/records/{house_b}")).await?.ok()?;
    let address_b = house_b["summary"]["title"]
        .as_str()
        .context("address")?
        .to_string();
    let (lon, lat) = point_in(&a.grid);

    let json_file = json!([
        {"order_no": "GD2026051700001", "received_at": "2026-05-17 09:30", "caller_name": "张三",
         "caller_phone": "13800138000", "category": "环保", "subcategory": "噪音扰民",
         "description": "楼下饭店夜间噪音扰民", "lon": lon, "lat": lat},
        {"工单编号": "GD2026051700002", "受理时间": "2026-05-17T10:00:00+08:00", "事件类别": "矛盾纠纷",
         "诉求内容": "邻里漏水纠纷", "事发地址": format!("广东省广州市{address_b}")},
        {"order_no": "GD2026051700003", "received_at": "2026-05-17 11:00", "category": "other",
         "description": "无法定位的工单", "address": "火星基地一号楼"},
    ]);
    let (status, report) =
        import(&street, &server, "application/json", json_file.to_string()).await?;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        orders_of(&report, "imported"),
        ["GD2026051700001", "GD2026051700002"],
        "{report}"
    );
    let placed = &report["imported"];
    assert_eq!(
        (placed[0]["grid"].as_str(), placed[0]["placed_by"].as_str()),
        (Some(a.grid.as_str()), Some("point"))
    );
    assert_eq!(
        (placed[1]["grid"].as_str(), placed[1]["placed_by"].as_str()),
        (Some(b.grid.as_str()), Some("address"))
    );
    assert_eq!(orders_of(&report, "unplaced"), ["GD2026051700003"]);
    assert_eq!(report["unplaced"][0]["code"], "address_not_found");
    // A code and params the console translates, no sentence.
    assert!(report["unplaced"][0].get("reason").is_none(), "{report}");
    assert!(
        report["unplaced"][0]["params"]["address"]
            .as_str()
            .is_some_and(|a| !a.is_empty()),
        "{report}"
    );

    // The incident's page: source, order number, caller masked.
    let id_a = placed[0]["id"].as_str().context("id")?.to_string();
    let detail = street.get(&format!("/records/{id_a}")).await?.ok()?;
    assert_eq!(detail["record"]["source"], "hotline12345");
    assert_eq!(detail["record"]["hotline_order"], "GD2026051700001");
    assert_eq!(detail["summary"]["status"], "reported");
    // The caller is a party (来电人) of the incident's parties record,
    // shown on its page masked.
    let caller = &detail["record"]["parties"][0];
    assert_eq!(caller["role"], "来电人", "{detail}");
    assert_eq!(caller["name"], "张*", "the caller's name is masked");
    assert_eq!(
        caller["phone"], "138****8000",
        "the caller's phone is masked"
    );

    // CSV (with a BOM and Chinese headers); a re-imported order is not duplicated.
    let csv = format!(
        "\u{feff}工单编号,受理时间,来电人,来电号码,事件类别,小类,诉求内容,事发地址,经度,纬度\n\
         GD2026051700001,2026-05-17 09:30,张三,13800138000,环保,噪音扰民,楼下饭店夜间噪音扰民,,{lon},{lat}\n\
         GD2026051700004,2026-05-17 12:00,李四,,城市管理,占道经营,路口占道经营,,{lon},{lat}\n\
         GD2026051700005,2026-05-17 12:30,,,治安,,没有位置,,,\n"
    );
    let (status, report) = import(&street, &server, "text/csv", csv).await?;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        orders_of(&report, "imported"),
        ["GD2026051700004"],
        "{report}"
    );
    assert_eq!(orders_of(&report, "already"), ["GD2026051700001"]);
    assert_eq!(report["unplaced"][0]["code"], "no_location", "{report}");
    let incidents = street
        .get("/queue?kind=incident&status=all&limit=500")
        .await?
        .ok()?;
    let hotline_rows = incidents["items"]
        .as_array()
        .context("items")?
        .iter()
        .filter(|i| {
            i["incident"]["number"]
                .as_str()
                .is_some_and(|n| n.starts_with("12345-"))
        })
        .count();
    assert_eq!(
        hotline_rows, 3,
        "three orders, three incidents, nothing twice"
    );

    // The grid worker's tablet receives the incident.
    dev_a.sync().await?;
    let on_tablet: Incident = dev_a
        .store
        .get(id_a.parse()?)?
        .context("the imported incident is on the worker's tablet")?;
    assert_eq!(on_tablet.source, IncidentSource::Hotline12345);
    assert_eq!(on_tablet.hotline_order.as_deref(), Some("GD2026051700001"));
    // ... and the caller in the incident's own parties record.
    let id_a: uuid::Uuid = id_a.parse()?;
    let caller: IncidentParties = dev_a
        .store
        .get(IncidentParties::id_for(id_a))?
        .context("the caller's parties record is on the worker's tablet")?;
    assert_eq!(caller.incident, id_a);
    assert_eq!(
        (
            caller.parties[0].name.as_str(),
            caller.parties[0].phone.as_str()
        ),
        ("张三", "13800138000")
    );
    Ok(())
}

#[tokio::test]
async fn a_community_supervisor_cannot_import_into_another_community() -> Result<()> {
    let server = Server::start()?;
    let (a, b) = two_communities();
    let (_dev_b, house_b, _) = worker_reports(&server, b).await?;
    let street = Console::open(&server, &user_over(Role::StreetSupervisor, &b.grid).id).await?;
    let address_b = street.get(&format!("/records/{house_b}")).await?.ok()?["summary"]["title"]
        .as_str()
        .context("address")?
        .to_string();
    let cs_a = Console::open(&server, &user_over(Role::CommunitySupervisor, &a.grid).id).await?;
    let (lon, lat) = point_in(&b.grid);
    let file = json!([
        {"order_no": "GD-B-1", "received_at": "2026-05-17 09:30", "description": "另一社区的工单", "lon": lon, "lat": lat},
        {"order_no": "GD-B-2", "received_at": "2026-05-17 09:30", "description": "另一社区的地址", "address": address_b},
    ]);
    let (status, report) = import(&cs_a, &server, "application/json", file.to_string()).await?;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert!(orders_of(&report, "imported").is_empty(), "{report}");
    assert_eq!(report["unplaced"][0]["code"], "outside_scope", "{report}");
    assert_eq!(
        report["unplaced"][1]["code"], "address_not_found",
        "{report}"
    );
    assert!(
        street.queue_ids().await?.len() == 2,
        "nothing stored in B beyond the worker's records"
    );

    // A malformed file stores nothing; a grid worker has no console at all.
    let (status, body) = import(
        &cs_a,
        &server,
        "application/json",
        "[{\"order_no\": 1".into(),
    )
    .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "hotline_unreadable", "{body}");
    assert_eq!(body["params"]["format"], "JSON", "{body}");
    assert!(
        body["params"]["detail"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    Ok(())
}

/// The import page and a dispute's mediation panel in a real browser
/// (`ui/e2e/hotline.mjs`); needs the built console, like `console_e2e`.
#[tokio::test]
async fn a_supervisor_imports_orders_and_records_a_mediation_in_the_browser() -> Result<()> {
    let server = Server::start()?;
    let (a, _) = two_communities();
    let (mut tablet, _, _) = worker_reports(&server, a).await?;
    let supervisor = user_over(Role::CommunitySupervisor, &a.grid);
    let (lon, lat) = point_in(&a.grid);
    let orders = json!([
        {"order_no": "GD-E2E-1", "received_at": "2026-05-17 09:30", "category": "矛盾纠纷",
         "subcategory": "邻里纠纷", "description": "楼上漏水，邻里协商不成", "lon": lon, "lat": lat},
        {"order_no": "GD-E2E-2", "received_at": "2026-05-17 09:40", "description": "没有位置"},
    ]);
    let seen = gridwork_tests::run_browser_script(
        "hotline",
        &[
            ("GW_URL", server.url()),
            ("GW_USER", supervisor.id.clone()),
            ("GW_PASSWORD", gridwork_tests::PASSWORD.to_string()),
            ("GW_ORDERS", orders.to_string()),
        ],
    )?;
    assert_eq!(
        (seen["imported"].as_u64(), seen["unplaced"].as_u64()),
        (Some(1), Some(1)),
        "{seen}"
    );
    assert!(
        seen["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("没有坐标也没有地址"),
        "{seen}"
    );
    let shown = seen["mediation"].as_str().unwrap_or_default();
    assert!(
        shown.contains("王调解") && shown.contains("联合调解"),
        "{seen}"
    );
    for shot in ["hotline-import.png", "incident-mediation.png"] {
        anyhow::ensure!(
            gridwork_tests::screenshots_dir().join(shot).exists(),
            "{shot} was saved"
        );
    }

    let console = Console::open(&server, &supervisor.id).await?;
    let queue = console.get("/queue?kind=incident&status=all").await?.ok()?;
    let id = queue["items"]
        .as_array()
        .context("items")?
        .iter()
        .find(|i| i["incident"]["number"] == "12345-GD-E2E-1")
        .and_then(|i| i["id"].as_str())
        .context("the imported dispute is in the queue")?
        .parse()?;
    tablet.sync().await?;
    let on_tablet: Incident = tablet.store.get(id)?.context("the imported dispute")?;
    let m = on_tablet
        .mediation
        .context("its mediation reached the tablet")?;
    assert_eq!((m.mediator.as_str(), m.success), ("王调解", true));
    Ok(())
}
