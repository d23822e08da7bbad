//! Writes the committed seed corpus, `fuzz/corpus/<target>/`: real inputs
//! made by the code that makes them in the product (a tablet's sync
//! bodies and changes against the fuzz fixture's server, the demo's grid
//! GeoJSON, hotline files naming the demo's grids and addresses, small
//! JPEG, PNG and WebP files encoded here). Deterministic: running it again
//! rewrites the same files.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds` (or
//! `scripts/fuzz --seeds`).

use std::path::Path;

use anyhow::{Context, Result};
use automerge::sync::{State, SyncDoc};
use gridwork_core::doc::{Author, RecordDoc};
use gridwork_core::geo::GridTree;
use gridwork_core::media::synthetic_photo;
use gridwork_core::model::grid::GridLevel;
use gridwork_core::model::{AnyRecord, Household, Incident, IncidentParties, Meta, Party};
use gridwork_core::sync::wire::{
    self, DocChanges, PROTOCOL_VERSION, RepairRequest, SyncRequest, SyncResponse,
};
use gridwork_core::workflow::Action;
use gridwork_demo::{DemoConfig, generate};
use gridwork_fuzz::fixture::{
    OWN_HOUSEHOLD, OWN_INCIDENT, SUPERVISOR_INCIDENT, act, demo, own_parties,
};
use gridwork_fuzz::{Fixture, PushMode, fixture};
use gridwork_server::storage::Storage;
use image::ImageEncoder;
use serde::Serialize;
use uuid::Uuid;

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let f = fixture();
    let mut seeds = Seeds::default();
    sync_seeds(f, &mut seeds)?;
    grid_seeds(&mut seeds)?;
    hotline_seeds(f, &mut seeds)?;
    photo_seeds(&mut seeds)?;
    let mut total = 0;
    for (target, name, bytes) in &seeds.0 {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)?;
        total += bytes.len();
    }
    eprintln!(
        "wrote {} seeds, {total} bytes, under {}",
        seeds.0.len(),
        root.display()
    );
    let _ = std::fs::remove_dir_all(&f.dir);
    Ok(())
}

#[derive(Default)]
struct Seeds(Vec<(&'static str, String, Vec<u8>)>);

impl Seeds {
    fn add(&mut self, target: &'static str, name: &str, bytes: Vec<u8>) {
        self.0.push((target, name.to_string(), bytes));
    }
}

/// A message framed without compression, so mutations hit its CBOR
/// directly (the app compresses bodies over 96 bytes).
fn plain<T: Serialize>(message: &T) -> Vec<u8> {
    let mut out = vec![b'G', b'W', PROTOCOL_VERSION, 0];
    ciborium::into_writer(message, &mut out).expect("CBOR");
    out
}

/// A `sync_push` input: `rest` in `mode` on device `device`.
fn with(mode: PushMode, device: usize, rest: &[u8]) -> Vec<u8> {
    let mut input = vec![mode.header(device)];
    input.extend_from_slice(rest);
    input
}

fn raw(changes: &[automerge::Change]) -> Vec<Vec<u8>> {
    changes.iter().map(|c| c.raw_bytes().to_vec()).collect()
}

fn fresh_id(n: u128) -> Uuid {
    Uuid::from_u128(0x0192_f00d_0000_7000_8000_0000_0001_0000 + n)
}

/// A party as a tablet's form records one.
fn party(name: &str, role: &str) -> Party {
    Party {
        name: name.into(),
        phone: "13700137000".into(),
        id_number: "44010319800101001X".into(),
        role: role.into(),
    }
}

/// New records of every kind in the worker's grid, as the worker's tablet
/// would make them (the incident's parties in their own record, linked to
/// the new incident).
fn new_records(f: &Fixture, first_id: u128) -> Result<Vec<AnyRecord>> {
    let demo = demo();
    let worker = &f.devices[0].session.user;
    let now = f.now.as_millisecond();
    let in_grid =
        |r: &AnyRecord| r.meta().grid == worker.grid && !matches!(r, AnyRecord::IncidentParties(_));
    let mut out = Vec::new();
    for (n, record) in demo
        .records()
        .filter(in_grid)
        .fold(Vec::<AnyRecord>::new(), |mut one_each, r| {
            if !one_each.iter().any(|o| o.kind() == r.kind()) {
                one_each.push(r);
            }
            one_each
        })
        .into_iter()
        .enumerate()
    {
        let mut meta = Meta::new(&worker.grid, &worker.id, now);
        meta.id = fresh_id(first_id + n as u128);
        let record = match record {
            AnyRecord::Household(mut h) => {
                h.meta = meta;
                h.review.clear();
                AnyRecord::Household(h)
            }
            AnyRecord::Resident(mut r) => {
                r.meta = meta;
                r.review.clear();
                AnyRecord::Resident(r)
            }
            AnyRecord::Incident(mut i) => {
                i.meta = meta;
                i.log.clear();
                act(&mut i, worker, Action::Report, &f.ctx.calendar, f.now)?;
                AnyRecord::Incident(i)
            }
            AnyRecord::Patrol(mut p) => {
                p.meta = meta;
                AnyRecord::Patrol(p)
            }
            AnyRecord::Visit(mut v) => {
                v.meta = meta;
                v.review.clear();
                AnyRecord::Visit(v)
            }
            AnyRecord::Task(mut t) => {
                t.meta = meta;
                AnyRecord::Task(t)
            }
            AnyRecord::IncidentParties(_) => unreachable!("left out above"),
        };
        if let AnyRecord::Incident(i) = &record {
            let parties = IncidentParties::of(i, vec![party("陈某", "申请人")], &worker.id, now);
            out.push(record.clone());
            out.push(AnyRecord::IncidentParties(parties));
            continue;
        }
        out.push(record);
    }
    Ok(out)
}

fn sync_seeds(f: &Fixture, seeds: &mut Seeds) -> Result<()> {
    let worker = &f.devices[0];
    let author = Author::new(&worker.session.user.id, f.now.as_millisecond());
    let stored = |id: Uuid| -> Result<RecordDoc> {
        let doc = f.storage.load_doc(id)?.context("a fixture document")?;
        Ok(RecordDoc::load(&doc.snapshot, worker.actor.clone())?)
    };

    // A tablet's pushes: new records of each kind, and an edit of its own
    // household.
    // Different ids for the bodies and the records, so that neither seed
    // finds the other's documents stored when both run in one process.
    let records = new_records(f, 100)?;
    let mut push = Vec::new();
    for record in &records {
        let mut doc = RecordDoc::create_any(record, worker.actor.clone(), &author)?;
        push.push(DocChanges {
            doc: record.meta().id,
            changes: raw(&doc.changes_since(&[])),
        });
    }
    let mut own = stored(OWN_HOUSEHOLD)?;
    let heads = own.heads();
    own.update::<Household>(&author, |h| {
        h.owner_phone = Some("13912345678".into());
        h.address.room = "302".into();
    })?;
    let edit = raw(&own.changes_since(&heads));
    let request = SyncRequest::new(0, push.clone(), Some(8192));
    let edit_request = SyncRequest {
        cursor: 7,
        push: vec![DocChanges {
            doc: OWN_HOUSEHOLD,
            changes: edit.clone(),
        }],
        budget: None,
        ..SyncRequest::default()
    };
    let idle = SyncRequest {
        cursor: 42,
        ..SyncRequest::default()
    };

    // The server's answers to them, from a throwaway copy of nothing: a
    // real pull of the worker's grid, small budget.
    let pull = |reads| {
        gridwork_server::sync::run(
            &f.storage,
            &f.ctx,
            &f.devices[1].session,
            SyncRequest {
                cursor: 0,
                budget: Some(1500),
                packed: reads > 0,
                reads,
                ..SyncRequest::default()
            },
            f.now,
        )
    };
    let answer = pull(0)?;
    let packed = pull(1)?;
    let packed_hex = pull(2)?;
    let packed_3 = pull(3)?;
    let refused = SyncResponse {
        rejected: vec![wire::Rejection::new(
            OWN_HOUSEHOLD,
            wire::RejectionCode::OutsideScope,
            gridwork_core::problem::params([("grid", "g-1".into())]),
        )],
        notices: vec![wire::Notice::new(
            OWN_HOUSEHOLD,
            wire::NoticeCode::FieldNotAllowed,
            gridwork_core::problem::params([("kind", "incident".into())]),
        )],
        ..answer.clone()
    };

    // A repair round for the worker's own household.
    let mut copy = stored(OWN_HOUSEHOLD)?;
    let message = copy
        .automerge()
        .sync()
        .generate_sync_message(&mut State::new())
        .context("a first sync message")?
        .encode();
    let repair = gridwork_server::sync::repair(
        &f.storage,
        &f.ctx,
        &worker.session,
        OWN_HOUSEHOLD,
        RepairRequest {
            message: message.clone(),
        },
    )?;

    let w = "wire_decode";
    seeds.add(w, "idle_request", wire::encode(&idle));
    seeds.add(w, "push_request_zstd", wire::encode(&request));
    seeds.add(w, "push_request_plain", plain(&request));
    seeds.add(w, "edit_request", wire::encode(&edit_request));
    seeds.add(w, "pull_response_zstd", wire::encode(&answer));
    seeds.add(w, "pull_response_packed", plain(&packed));
    seeds.add(w, "pull_response_packed_2", plain(&packed_hex));
    seeds.add(w, "pull_response_packed_3", plain(&packed_3));
    seeds.add(w, "pull_response_xz", wire::encode_xz(&packed_hex));
    let streamed = [plain(&packed_hex), wire::encode_xz(&packed_hex)]
        .iter()
        .flat_map(|frame| gridwork_core::sync::pages::page(frame))
        .collect();
    seeds.add(w, "pull_response_streamed", streamed);
    seeds.add(w, "refusal_response_plain", plain(&refused));
    seeds.add(
        w,
        "repair_request",
        wire::encode(&RepairRequest {
            message: message.clone(),
        }),
    );
    seeds.add(w, "repair_response", plain(&repair));
    let mut newer = wire::encode(&idle);
    newer[2] = PROTOCOL_VERSION + 1;
    seeds.add(w, "newer_version", newer);
    let zstd = wire::encode(&request);
    seeds.add(w, "truncated_zstd", zstd[..zstd.len() / 2].to_vec());

    let s = "sync_push";
    seeds.add(
        s,
        "body_new_records",
        with(PushMode::Body, 0, &plain(&request)),
    );
    seeds.add(
        s,
        "body_edit",
        with(PushMode::Body, 0, &plain(&edit_request)),
    );
    seeds.add(
        s,
        "body_idle_handler",
        with(PushMode::Body, 2, &wire::encode(&idle)),
    );
    let mut rest = vec![0u8];
    rest.extend_from_slice(&edit[0]);
    seeds.add(
        s,
        "change_edit_own_household",
        with(PushMode::Change, 0, &rest),
    );
    // An edit of the worker's own incident: a field, and a step of the
    // workflow the worker may not take (verifying their own report).
    let mut incident = stored(OWN_INCIDENT)?;
    let heads = incident.heads();
    incident.update::<gridwork_core::model::Incident>(&author, |i| {
        i.address.push_str("（东门）");
    })?;
    let mut rest = vec![1u8];
    rest.extend_from_slice(&raw(&incident.changes_since(&heads))[0]);
    seeds.add(s, "change_edit_incident", with(PushMode::Change, 0, &rest));
    for record in &new_records(f, 200)? {
        let json = serde_json::to_vec(record)?;
        let name = format!("record_new_{}", record.kind().as_str());
        seeds.add(s, &name, with(PushMode::Record, 0, &json));
    }
    let mut own_record = stored(OWN_HOUSEHOLD)?.read::<Household>()?;
    own_record.owner_name = "李四".into();
    seeds.add(
        s,
        "record_edit_own_household",
        with(
            PushMode::Record,
            0,
            &serde_json::to_vec(&AnyRecord::Household(own_record.clone()))?,
        ),
    );
    own_record.meta.deleted = true;
    seeds.add(
        s,
        "record_delete_own_household",
        with(
            PushMode::Record,
            0,
            &serde_json::to_vec(&AnyRecord::Household(own_record))?,
        ),
    );
    // The supervisor accepts the worker's report; the handler (to whom
    // nothing is dispatched) rewrites its description; the worker
    // verifies their own report.
    let reported = stored(OWN_INCIDENT)?.read::<gridwork_core::model::Incident>()?;
    let worker_user = &worker.session.user;
    let supervisor = &f.devices[1].session.user;
    let mut accepted = reported.clone();
    act(
        &mut accepted,
        supervisor,
        Action::Accept,
        &f.ctx.calendar,
        f.now,
    )?;
    seeds.add(
        s,
        "record_incident_accepted_by_supervisor",
        with(
            PushMode::Record,
            1,
            &serde_json::to_vec(&AnyRecord::Incident(accepted))?,
        ),
    );
    let mut rewritten = reported;
    rewritten.description = "城管改写的描述".into();
    seeds.add(
        s,
        "record_incident_rewritten_by_handler",
        with(
            PushMode::Record,
            2,
            &serde_json::to_vec(&AnyRecord::Incident(rewritten))?,
        ),
    );
    // A new report the worker verifies at once (its own document, so no
    // other seed's edit stands in its way).
    let mut verified = new_records(f, 300)?
        .into_iter()
        .find_map(|r| match r {
            AnyRecord::Incident(i) => Some(i),
            _ => None,
        })
        .context("a new incident")?;
    act(
        &mut verified,
        worker_user,
        Action::Verify,
        &f.ctx.calendar,
        f.now,
    )
    .ok();
    if verified.log.len() < 2 {
        // The rules refuse it on the device: write the step anyway, as a
        // hostile app would.
        let step = gridwork_core::workflow::Transition {
            action: Action::Verify,
            ..verified.log[0].clone()
        };
        verified.log.push(step);
    }
    seeds.add(
        s,
        "record_incident_verified_by_reporter",
        with(
            PushMode::Record,
            0,
            &serde_json::to_vec(&AnyRecord::Incident(verified))?,
        ),
    );
    parties_seeds(f, seeds)?;
    // What the target found (see the trust suite's item19 tests): a change
    // with an object counter over 32 bits, on which Automerge panics.
    let mut rest = vec![0u8];
    rest.extend(
        (0..COUNTER_OVER_U32.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&COUNTER_OVER_U32[i..i + 2], 16).expect("hex")),
    );
    seeds.add(
        s,
        "found_object_counter_over_u32",
        with(PushMode::Change, 0, &rest),
    );
    let mut rest = vec![0u8];
    rest.extend_from_slice(&message);
    seeds.add(s, "repair_own_household", with(PushMode::Repair, 0, &rest));
    Ok(())
}

/// Pushes of incident parties records: the worker adds a party to their
/// own incident's (as a raw change and as a record), the handler rewrites
/// it, the worker creates one for the supervisor's incident, and the
/// supervisor creates a second one for the worker's.
fn parties_seeds(f: &Fixture, seeds: &mut Seeds) -> Result<()> {
    let s = "sync_push";
    let worker = &f.devices[0];
    let author = Author::new(&worker.session.user.id, f.now.as_millisecond());
    let stored = f
        .storage
        .load_doc(own_parties())?
        .context("the worker's parties record")?;
    let mut doc = RecordDoc::load(&stored.snapshot, worker.actor.clone())?;
    let heads = doc.heads();
    doc.update::<IncidentParties>(&author, |p| {
        p.parties.push(party("张伟", "当事人"));
        p.parties[0].phone = "13911112222".into();
    })?;
    let mut rest = vec![2u8];
    rest.extend_from_slice(&raw(&doc.changes_since(&heads))[0]);
    seeds.add(s, "change_add_own_party", with(PushMode::Change, 0, &rest));

    let mut own = doc.read::<IncidentParties>()?;
    own.parties.remove(0);
    seeds.add(
        s,
        "record_remove_own_party",
        with(
            PushMode::Record,
            0,
            &serde_json::to_vec(&AnyRecord::IncidentParties(own.clone()))?,
        ),
    );
    own.parties[0].id_number = "110101199003070011".into();
    seeds.add(
        s,
        "record_parties_rewritten_by_handler",
        with(
            PushMode::Record,
            2,
            &serde_json::to_vec(&AnyRecord::IncidentParties(own))?,
        ),
    );
    // The worker makes the parties record of the incident the supervisor
    // reported: only its reporter may.
    let others = f
        .storage
        .load_doc(SUPERVISOR_INCIDENT)?
        .context("the supervisor's incident")?;
    let others = RecordDoc::load(&others.snapshot, worker.actor.clone())?.read::<Incident>()?;
    let theirs = IncidentParties::of(
        &others,
        vec![party("冒名者", "当事人")],
        &worker.session.user.id,
        f.now.as_millisecond(),
    );
    seeds.add(
        s,
        "record_parties_of_anothers_incident",
        with(
            PushMode::Record,
            0,
            &serde_json::to_vec(&AnyRecord::IncidentParties(theirs))?,
        ),
    );
    // The supervisor makes a second parties record of the worker's
    // incident, as a new document: two lists at one key.
    let supervisor = &f.devices[1];
    let own_incident = RecordDoc::load(
        &f.storage
            .load_doc(OWN_INCIDENT)?
            .context("the worker's incident")?
            .snapshot,
        supervisor.actor.clone(),
    )?
    .read::<Incident>()?;
    let second = IncidentParties::of(
        &own_incident,
        vec![party("另一份名单", "当事人")],
        &supervisor.session.user.id,
        f.now.as_millisecond(),
    );
    let mut doc = RecordDoc::create_any(
        &AnyRecord::IncidentParties(second),
        supervisor.actor.clone(),
        &Author::new(&supervisor.session.user.id, f.now.as_millisecond()),
    )?;
    let mut rest = vec![2u8];
    rest.extend_from_slice(&raw(&doc.changes_since(&[]))[0]);
    seeds.add(
        s,
        "change_second_parties_list",
        with(PushMode::Change, 1, &rest),
    );
    Ok(())
}

/// The smallest form of the change the `sync_push` target found
/// Automerge panicking on (`gridwork_server::sync::contain`).
const COUNTER_OVER_U32: &str = "856f4a8304c07d5401430010010101010101010101010101010101010101000000080104020815053401420356035701700200017f0000017f80808080107e016d016b027e00017e0014010200";

fn grid_seeds(seeds: &mut Seeds) -> Result<()> {
    let g = "grid_import";
    let small = &demo().grid_tree_geojson;
    seeds.add(g, "demo_small_street", small.clone().into_bytes());
    let full = generate(&DemoConfig {
        households_per_grid: 1,
        residents_per_household: 1.0,
        incidents_per_grid: 0,
        patrols_per_grid: 0,
        visits_per_grid: 0,
        ..DemoConfig::default()
    });
    seeds.add(g, "demo_street", full.grid_tree_geojson.into_bytes());
    // One stored grid renamed and a new one under it: the server's merge.
    let tree = GridTree::from_geojson(small)?;
    let grid = tree
        .grids()
        .iter()
        .find(|g| g.level == GridLevel::Grid && g.boundary.is_some())
        .context("a grid with a boundary")?;
    let value: serde_json::Value = serde_json::from_str(&tree.to_geojson())?;
    let mut feature = value["features"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|x| x["properties"]["code"] == grid.code.as_str())
        })
        .context("the grid's feature")?
        .clone();
    feature["properties"]["name"] = "改名网格".into();
    let mut micro = feature.clone();
    micro["properties"]["code"] = format!("{}001", grid.code).into();
    micro["properties"]["level"] = "micro_grid".into();
    micro["properties"]["parent"] = grid.code.clone().into();
    micro["properties"]["name"] = "第1微网格".into();
    let merge = serde_json::json!({"type": "FeatureCollection", "features": [feature, micro]});
    seeds.add(
        g,
        "merge_rename_and_micro_grid",
        merge.to_string().into_bytes(),
    );
    Ok(())
}

fn hotline_seeds(f: &Fixture, seeds: &mut Seeds) -> Result<()> {
    let demo = demo();
    let scope = &f.console.session.user.grid;
    let tree = GridTree::from_geojson(&demo.grid_tree_geojson)?;
    let grids: Vec<_> = tree
        .grids()
        .iter()
        .filter(|g| g.parent.as_deref() == Some(scope.as_str()))
        .collect();
    let first = grids.first().context("a grid under the supervisor")?;
    let [lon, lat] = first.centroid.context("a centroid")?;
    let address = demo
        .households
        .iter()
        .find(|h| grids.iter().any(|g| g.code == h.meta.grid))
        .context("a household under the supervisor")?
        .address
        .one_line();
    let orders = serde_json::json!([
        {"order_no": "GD2026051700001", "received_at": "2026-05-15 09:30",
         "caller_name": "张三", "caller_phone": "13800138000", "category": "矛盾纠纷",
         "subcategory": "邻里纠纷", "description": "楼上漏水到楼下，协商不成", "lon": lon, "lat": lat},
        {"order_no": "GD2026051700002", "received_at": "2026-05-15T10:00:00+08:00",
         "category": "environment", "description": "小区门口垃圾堆放", "address": address},
        {"order_no": "GD2026051700003", "received_at": "2026-05-15 11:00:00",
         "description": "路灯不亮", "address": format!("{}附近", first.name)},
    ]);
    seeds.add(
        "hotline_json",
        "three_orders",
        orders.to_string().into_bytes(),
    );
    let wrapped = serde_json::json!({"orders": [
        {"工单编号": "GD2026051700004", "受理时间": "2026-05-15 12:00", "事件类别": "安全隐患",
         "诉求内容": "电动车楼道充电", "经度": lon.to_string(), "纬度": lat.to_string()},
        {"order_no": "GD2026051700005", "received_at": "昨天", "category": "unknown",
         "description": "时间不对", "lon": lon},
    ]});
    seeds.add(
        "hotline_json",
        "wrapped_chinese_and_bad",
        wrapped.to_string().into_bytes(),
    );

    let csv = format!(
        "order_no,received_at,caller_name,caller_phone,category,subcategory,description,address,lon,lat\n\
         GD2026051700011,2026-05-15 09:30,王五,13700137000,dispute,噪音,夜间装修噪音扰民,,{lon},{lat}\n\
         GD2026051700012,2026-05-15 10:30,,,,,\"井盖缺失, 有安全隐患\",\"{address}\",,\n"
    );
    seeds.add("hotline_csv", "english_header", csv.into_bytes());
    let chinese = format!(
        "\u{feff}工单编号,受理时间,来电人,来电号码,事件类别,小类,诉求内容,事发地址,经度,纬度\n\
         GD2026051700013,2026-05-15 14:00,赵六,,矛盾纠纷,,停车位纠纷,{},,\n\
         GD2026051700013,2026-05-15 14:00,赵六,,矛盾纠纷,,重复的工单,,{lon},{lat}\n",
        first.name
    );
    seeds.add("hotline_csv", "chinese_header_bom", chinese.into_bytes());
    Ok(())
}

fn photo_seeds(seeds: &mut Seeds) -> Result<()> {
    let p = "photo_prepare";
    let jpeg = synthetic_photo(48, 32, 1);
    seeds.add(p, "small.jpg", jpeg.clone());
    seeds.add(p, "rotated_exif.jpg", with_orientation(&jpeg, 6));
    let rgb = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 90]));
    seeds.add(
        p,
        "rgb.png",
        png(rgb.as_raw(), 40, 30, image::ExtendedColorType::Rgb8)?,
    );
    let rgba = image::RgbaImage::from_fn(12, 12, |x, y| {
        image::Rgba([200, x as u8 * 20, 30, y as u8 * 20])
    });
    seeds.add(
        p,
        "rgba.png",
        png(rgba.as_raw(), 12, 12, image::ExtendedColorType::Rgba8)?,
    );
    let gray: Vec<u8> = (0..8 * 8 * 2).map(|i| i as u8).collect();
    seeds.add(
        p,
        "gray16.png",
        png(&gray, 8, 8, image::ExtendedColorType::L16)?,
    );
    // Wider than the photo's long side: the scaling path.
    let wide = image::RgbImage::from_fn(1700, 3, |x, _| image::Rgb([(x % 256) as u8, 0, 0]));
    seeds.add(
        p,
        "wide.png",
        png(wide.as_raw(), 1700, 3, image::ExtendedColorType::Rgb8)?,
    );
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp).write_image(
        rgb.as_raw(),
        40,
        30,
        image::ExtendedColorType::Rgb8,
    )?;
    seeds.add(p, "lossless.webp", webp);
    Ok(())
}

fn png(pixels: &[u8], w: u32, h: u32, color: image::ExtendedColorType) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(pixels, w, h, color)?;
    Ok(out)
}

/// A JPEG with an EXIF block (APP1) holding only an orientation tag.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian, IFD at 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}
