//! 12345 hotline work orders (工单) imported as incidents.
//!
//! A file of orders (JSON or CSV, see [`HotlineOrder`] for the fields)
//! becomes one incident per order in the grid where it happened: by its
//! WGS-84 point when it has one, else by its address matched against the
//! addresses of the households and the names of the grids in the
//! importer's subtree. An order that cannot be placed, or lands outside the
//! importer's subtree, is answered with a reason and stores nothing.
//!
//! Reasons leave here as a code and params ([`UnplacedCode`], and
//! [`FileError::code`] for a file that cannot be read at all), never as a
//! sentence: the console says them in the user's language
//! (`hotline.reasons` and `errors` in `ui/src/console/i18n`), typed by the
//! codes generated from these enums, so a code without a message fails the
//! UI's type check.
//!
//! Each incident's id is derived from the order number, so importing the
//! same order again finds the incident already there and stores nothing:
//! the import is idempotent, even across two people importing one file.
//! The incident is a new Automerge document written by the console
//! enrolment's actor and pushed through [`crate::sync::run`], the same
//! checks and log as a tablet's report; it reaches the grid worker's tablet
//! at their next sync. The caller (来电人), when the order names one, is a
//! party in the incident's own parties record
//! ([`gridwork_core::model::IncidentParties`]), made by the same importer
//! right after the incident, so department handlers never receive them.

use std::collections::{BTreeSet, HashMap, HashSet};

use gridwork_core::doc::Author;
use gridwork_core::geo::GridTree;
use gridwork_core::model::grid::GridLevel;
use gridwork_core::model::{
    Category, CategoryMajor, GeoPoint, Incident, IncidentParties, IncidentSource, Meta, Party,
    Record, RecordKind, Urgency, ValidateCtx,
};
use gridwork_core::problem::{Params, params};
use gridwork_core::sync::wire::DocChanges;
use gridwork_core::workflow::{self, Action, Actor};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::actions::{ConsoleError, ConsoleUser, created, push};
use super::sections::{self, Section};
use crate::access;
use crate::storage::Storage;
use crate::sync::SyncContext;

/// Most orders one import may carry.
pub const MAX_ORDERS: usize = 5_000;

/// One hotline work order, as the file gives it. JSON: an array of these
/// objects (or `{"orders": [...]}`); CSV: a header row naming the same
/// fields (the Chinese header names in brackets are accepted too).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, ts_rs::TS)]
pub struct HotlineOrder {
    /// The hotline's work order number (工单编号); required, unique.
    #[serde(alias = "工单编号")]
    pub order_no: String,
    /// When the hotline received the call (受理时间): RFC 3339
    /// (`2026-05-17T09:30:00+08:00`) or `YYYY-MM-DD HH:MM[:SS]` in Beijing
    /// time.
    #[serde(alias = "受理时间")]
    pub received_at: String,
    /// The caller's name (来电人) [PI].
    #[serde(default, alias = "来电人")]
    pub caller_name: String,
    /// The caller's mobile number (来电号码) [PI], masked in the console.
    #[serde(default, alias = "来电号码")]
    pub caller_phone: String,
    /// The major category (事件类别): a code such as `dispute` or its
    /// Chinese name such as `矛盾纠纷`; `other` when empty.
    #[serde(default, alias = "事件类别")]
    pub category: String,
    /// The second level (小类), free text.
    #[serde(default, alias = "小类")]
    pub subcategory: String,
    /// What the caller reported (诉求内容); required.
    #[serde(alias = "诉求内容")]
    pub description: String,
    /// Where (事发地址).
    #[serde(default, alias = "事发地址")]
    pub address: String,
    /// WGS-84 longitude (经度), with `lat`.
    #[serde(default, alias = "经度", deserialize_with = "number_or_blank")]
    pub lon: Option<f64>,
    /// WGS-84 latitude (纬度).
    #[serde(default, alias = "纬度", deserialize_with = "number_or_blank")]
    pub lat: Option<f64>,
}

/// CSV cells are text; an empty cell is no coordinate.
fn number_or_blank<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Cell {
        Number(f64),
        Text(String),
    }
    match Option::<Cell>::deserialize(d)? {
        None => Ok(None),
        Some(Cell::Number(n)) => Ok(Some(n)),
        Some(Cell::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(Cell::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            // Quoted as the file's detail (`hotline_unreadable`).
            .map_err(|_| serde::de::Error::custom(format!("a coordinate is not a number: {t}"))),
    }
}

/// Why a file could not be read at all (nothing stored).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the file is not UTF-8 text")]
    NotText,
    #[error("send a JSON (application/json) or CSV (text/csv) file")]
    UnknownFormat,
    #[error("the file is not valid {format}: {detail}")]
    Unreadable {
        format: &'static str,
        /// The parser's own words (English), quoted to the user.
        detail: String,
    },
    #[error("the file holds no work orders")]
    Empty,
    #[error("at most {MAX_ORDERS} orders per import")]
    TooMany,
}

impl FileError {
    /// The stable code the console translates (one of
    /// `crate::api::console::codes::all`).
    pub fn code(&self) -> &'static str {
        match self {
            FileError::NotText => "hotline_not_text",
            FileError::UnknownFormat => "hotline_format",
            FileError::Unreadable { .. } => "hotline_unreadable",
            FileError::Empty => "hotline_empty",
            FileError::TooMany => "hotline_too_many",
        }
    }

    /// The params of the code's message.
    pub fn params(&self) -> Params {
        match self {
            FileError::Unreadable { format, detail } => params([
                ("format", (*format).into()),
                ("detail", detail.as_str().into()),
            ]),
            FileError::TooMany => params([("max", MAX_ORDERS.into())]),
            _ => Params::new(),
        }
    }
}

/// Reads a JSON file: an array of orders, or `{"orders": [...]}`.
pub fn parse_json(text: &str) -> Result<Vec<HotlineOrder>, FileError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum File {
        List(Vec<HotlineOrder>),
        Wrapped { orders: Vec<HotlineOrder> },
    }
    let unreadable = |e: serde_json::Error| FileError::Unreadable {
        format: "JSON",
        detail: e.to_string(),
    };
    // Parse twice so an error names the line: untagged enums lose it.
    let value: serde_json::Value = serde_json::from_str(text).map_err(unreadable)?;
    let orders = match value {
        serde_json::Value::Array(_) => serde_json::from_value::<Vec<HotlineOrder>>(value),
        other => serde_json::from_value::<File>(other).map(|f| match f {
            File::List(l) | File::Wrapped { orders: l } => l,
        }),
    }
    .map_err(unreadable)?;
    checked_count(orders)
}

/// Reads a CSV file (UTF-8, an optional BOM, a header row).
pub fn parse_csv(text: &str) -> Result<Vec<HotlineOrder>, FileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut orders = Vec::new();
    for row in reader.deserialize::<HotlineOrder>() {
        orders.push(row.map_err(|e| FileError::Unreadable {
            format: "CSV",
            detail: e.to_string(),
        })?);
    }
    checked_count(orders)
}

fn checked_count(orders: Vec<HotlineOrder>) -> Result<Vec<HotlineOrder>, FileError> {
    match orders.len() {
        0 => Err(FileError::Empty),
        n if n > MAX_ORDERS => Err(FileError::TooMany),
        _ => Ok(orders),
    }
}

/// How an order was placed in its grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PlacedBy {
    Point,
    Address,
}

/// An order that became an incident, or was one already.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Placed {
    pub order_no: String,
    pub id: Uuid,
    pub grid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placed_by: Option<PlacedBy>,
}

/// Why an order stored nothing, with the params its message takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum UnplacedCode {
    /// The order has no number.
    OrderNoRequired,
    /// The order has no description (诉求内容).
    DescriptionRequired,
    /// `first`: the row that has the same order number.
    DuplicateInFile,
    /// Imported before, by someone whose grids are not the user's.
    ImportedElsewhere,
    /// `lon`, `lat`: not a WGS-84 coordinate.
    BadPoint,
    /// A longitude without a latitude, or the other way round.
    PointIncomplete,
    /// `lon`, `lat`: in no grid.
    NoGridAtPoint,
    /// `grid`: the point's grid, outside the user's.
    OutsideScope,
    /// Neither a point nor an address.
    NoLocation,
    /// `address`, `grids` (joined with 、): several grids match.
    AmbiguousAddress,
    /// `address`: no household or grid of the user's matches.
    AddressNotFound,
    /// `value`: the received time as given.
    BadTime,
    /// `value`: the category as given.
    BadCategory,
    /// `field`, `error` (a field error code, as in the app's forms) and
    /// that error's params.
    InvalidOrder,
    /// `error` (a workflow refusal code) and its params.
    Transition,
    /// `reason`: the code the sync push refused the incident with
    /// (`docs/protocol.md`, section 11).
    Refused,
}

/// An order that stored nothing, and why.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Unplaced {
    /// 1-based position in the file.
    pub row: usize,
    pub order_no: String,
    pub code: UnplacedCode,
    /// What the code's message needs, by name (see [`UnplacedCode`]).
    pub params: Params,
}

/// Why an order cannot be placed or made: a code and its params.
type Why = (UnplacedCode, Params);

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, ts_rs::TS)]
pub struct ImportReport {
    pub imported: Vec<Placed>,
    /// Orders imported before (by anyone): nothing new stored.
    pub already: Vec<Placed>,
    pub unplaced: Vec<Unplaced>,
}

/// The incident id of a hotline order number: the same order always gets
/// the same document.
pub fn incident_id(order_no: &str) -> Uuid {
    let digest = Sha256::digest(format!("gridwork:hotline12345:{}", order_no.trim()));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Where an order's grid is looked for: the grid tree, and the subtree's
/// household addresses and grid names.
struct Places {
    tree: GridTree,
    /// Grid-level grids of the subtree.
    grids: HashSet<String>,
    /// (normalized name, grid code) of the subtree's grid-level grids.
    grid_names: Vec<(String, String)>,
    /// (normalized address, grid code) of the subtree's households.
    addresses: Vec<(String, String)>,
}

fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ',' | '，' | '-' | '－' | '—'))
        .collect()
}

impl Places {
    fn new(storage: &dyn Storage, scope_path: &str) -> Result<Places, ConsoleError> {
        let tree = GridTree::from_grids(storage.all_grids()?)
            .map_err(|e| ConsoleError::Damaged(e.to_string()))?;
        let subtree = storage.subtree(scope_path)?;
        let grid_names: Vec<(String, String)> = subtree
            .iter()
            .filter(|g| g.level == GridLevel::Grid)
            .map(|g| (normalize(&g.name), g.code.clone()))
            .filter(|(n, _)| !n.is_empty())
            .collect();
        let grids = grid_names.iter().map(|(_, c)| c.clone()).collect();
        let addresses = household_addresses(storage, scope_path)?;
        Ok(Places {
            tree,
            grids,
            grid_names,
            addresses,
        })
    }

    /// The grid of an order, or why there is none.
    fn place(&self, order: &HotlineOrder) -> Result<(String, PlacedBy), Why> {
        if let (Some(lon), Some(lat)) = (order.lon, order.lat) {
            let point = || params([("lon", lon.into()), ("lat", lat.into())]);
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err((UnplacedCode::BadPoint, point()));
            }
            let Some(at) = self.tree.locate(lon, lat) else {
                return Err((UnplacedCode::NoGridAtPoint, point()));
            };
            if !self.grids.contains(&at.grid) {
                return Err((
                    UnplacedCode::OutsideScope,
                    params([("grid", at.grid.into())]),
                ));
            }
            return Ok((at.grid, PlacedBy::Point));
        }
        if order.lon.is_some() != order.lat.is_some() {
            return Err((UnplacedCode::PointIncomplete, Params::new()));
        }
        let address = normalize(&order.address);
        if address.is_empty() {
            return Err((UnplacedCode::NoLocation, Params::new()));
        }
        // The longest household address the order's address contains (or,
        // for a long enough order address, that contains it), then the
        // longest grid name it contains.
        let by_household = best(&self.addresses, |known| {
            address.contains(known) || (address.chars().count() >= 6 && known.contains(&address))
        });
        let found = by_household.or_else(|| best(&self.grid_names, |name| address.contains(name)));
        match found {
            Some(grids) if grids.len() == 1 => Ok((
                grids.into_iter().next().expect("one grid"),
                PlacedBy::Address,
            )),
            Some(grids) => Err((
                UnplacedCode::AmbiguousAddress,
                params([
                    ("address", order.address.trim().into()),
                    (
                        "grids",
                        grids.into_iter().collect::<Vec<_>>().join("、").into(),
                    ),
                ]),
            )),
            None => Err((
                UnplacedCode::AddressNotFound,
                params([("address", order.address.trim().into())]),
            )),
        }
    }
}

/// The grids of the longest entries `matches` accepts, or `None`.
fn best(entries: &[(String, String)], matches: impl Fn(&str) -> bool) -> Option<BTreeSet<String>> {
    let mut longest = 0;
    let mut grids = BTreeSet::new();
    for (text, grid) in entries.iter().filter(|(t, _)| matches(t)) {
        let len = text.chars().count();
        if len > longest {
            longest = len;
            grids.clear();
        }
        if len == longest {
            grids.insert(grid.clone());
        }
    }
    (!grids.is_empty()).then_some(grids)
}

/// The subtree's household addresses, from the projection rows (a
/// household's row title is its one-line address): no document decoded.
fn household_addresses(
    storage: &dyn Storage,
    scope_path: &str,
) -> Result<Vec<(String, String)>, ConsoleError> {
    Ok(storage
        .projections_in(scope_path, &[RecordKind::Household])?
        .into_iter()
        .map(|p| p.row)
        .filter(|r| !r.deleted)
        .map(|r| (normalize(&r.title), r.grid))
        .filter(|(a, _)| !a.is_empty())
        .collect())
}

/// The Unix milliseconds of a received time, or why not (English, for the
/// log: the user is told [`UnplacedCode::BadTime`]).
fn parse_received(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    let civil = text
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| text.parse::<jiff::civil::Date>().map(|d| d.at(0, 0, 0, 0)));
    match civil {
        Ok(dt) => jiff::tz::Offset::constant(8)
            .to_timestamp(dt)
            .map(|t| t.as_millisecond())
            .map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "received_at {text:?} is neither YYYY-MM-DD HH:MM[:SS] nor RFC 3339"
        )),
    }
}

fn parse_category(text: &str) -> Option<CategoryMajor> {
    let text = text.trim();
    if text.is_empty() {
        return Some(CategoryMajor::Other);
    }
    CategoryMajor::ALL.into_iter().find(|c| {
        c.label_zh() == text
            || serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(|s| s == text))
                .unwrap_or(false)
    })
}

/// The incident an order becomes, with its caller as a party (来电人) in
/// the incident's parties record, or why it cannot.
fn incident_of(
    order: &HotlineOrder,
    grid: &str,
    who: &ConsoleUser,
    ctx: &SyncContext,
    now_ms: i64,
) -> Result<(Incident, Option<IncidentParties>), Why> {
    let happened_at = parse_received(&order.received_at).map_err(|_| {
        (
            UnplacedCode::BadTime,
            params([("value", order.received_at.trim().into())]),
        )
    })?;
    let major = parse_category(&order.category).ok_or_else(|| {
        (
            UnplacedCode::BadCategory,
            params([("value", order.category.trim().into())]),
        )
    })?;
    let description = order.description.trim().to_string();
    let title_source = if order.subcategory.trim().is_empty() {
        description.as_str()
    } else {
        order.subcategory.trim()
    };
    let title: String = format!(
        "12345：{}",
        title_source.chars().take(60).collect::<String>()
    );
    let user = &who.session.user;
    let mut meta = Meta::new(grid, user.id.clone(), now_ms);
    meta.id = incident_id(&order.order_no);
    let parties = if order.caller_name.trim().is_empty() && order.caller_phone.trim().is_empty() {
        Vec::new()
    } else {
        vec![Party {
            name: order.caller_name.trim().to_string(),
            phone: order.caller_phone.trim().to_string(),
            id_number: String::new(),
            role: "来电人".into(),
        }]
    };
    let mut incident = Incident {
        meta,
        number: format!("12345-{}", order.order_no.trim()),
        title,
        description,
        category: Category {
            major,
            minor: order.subcategory.trim().to_string(),
        },
        source: IncidentSource::Hotline12345,
        urgency: Urgency::Medium,
        point: match (order.lon, order.lat) {
            (Some(lon), Some(lat)) => Some(GeoPoint::wgs84(lon, lat)),
            _ => None,
        },
        address: order.address.trim().to_string(),
        happened_at,
        photos: Vec::new(),
        hotline_order: Some(order.order_no.trim().to_string()),
        patrol_id: None,
        mediation: None,
        log: Vec::new(),
    };
    let today = gridwork_core::calendar::shanghai_date(
        jiff::Timestamp::from_millisecond(now_ms).unwrap_or_else(|_| jiff::Timestamp::now()),
    );
    // The first field at fault, said as the app's forms say it.
    let invalid = |errors: gridwork_core::validate::ValidationErrors| {
        let mut why = Params::new();
        if let Some(e) = errors.0.first() {
            why = e.params();
            why.insert("field".into(), e.field.as_str().into());
            why.insert("error".into(), e.code.as_str().into());
        }
        (UnplacedCode::InvalidOrder, why)
    };
    let ctx_v = ValidateCtx { today };
    incident.validate_state(&ctx_v).map_err(invalid)?;
    let parties = if parties.is_empty() {
        None
    } else {
        let mut p = IncidentParties::of(&incident, parties, user.id.clone(), now_ms);
        p.validate_state(&ctx_v).map_err(invalid)?;
        Some(p)
    };
    // The importer reports it, so it waits in the queue to be accepted.
    workflow::transition(
        &mut incident,
        &ctx.calendar,
        Actor {
            user: &user.id,
            role: user.role,
        },
        Action::Report,
        "12345热线工单导入",
        Vec::new(),
        now_ms,
    )
    .map_err(|e| {
        let mut why = e.params();
        why.insert("error".into(), e.code().into());
        (UnplacedCode::Transition, why)
    })?;
    if let Some(entry) = incident.log.last_mut() {
        entry.received_at = Some(now_ms);
    }
    Ok((incident, parties))
}

/// Imports `orders` as incidents of the user's subtree.
pub fn import(
    storage: &dyn Storage,
    ctx: &SyncContext,
    who: &ConsoleUser,
    orders: &[HotlineOrder],
    now: jiff::Timestamp,
) -> Result<ImportReport, ConsoleError> {
    sections::require(who, Section::Hotline)?;
    let places = Places::new(storage, &who.scope_path)?;
    let now_ms = now.as_millisecond();
    let author = Author::new(who.session.user.id.clone(), now_ms);
    let mut report = ImportReport::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut pending: Vec<(Placed, DocChanges, Option<DocChanges>)> = Vec::new();
    for (i, order) in orders.iter().enumerate() {
        let row = i + 1;
        let order_no = order.order_no.trim().to_string();
        let refuse = |(code, params): Why| Unplaced {
            row,
            order_no: order_no.clone(),
            code,
            params,
        };
        if order_no.is_empty() {
            report
                .unplaced
                .push(refuse((UnplacedCode::OrderNoRequired, Params::new())));
            continue;
        }
        if order.description.trim().is_empty() {
            report
                .unplaced
                .push(refuse((UnplacedCode::DescriptionRequired, Params::new())));
            continue;
        }
        if let Some(first) = seen.insert(order_no.clone(), row) {
            report.unplaced.push(refuse((
                UnplacedCode::DuplicateInFile,
                params([("first", first.into())]),
            )));
            continue;
        }
        let id = incident_id(&order_no);
        if let Some(stored) = storage.load_doc(id)? {
            let in_scope = access::grid_within(storage, &stored.grid, &who.scope_path)?;
            if in_scope {
                report.already.push(Placed {
                    order_no,
                    id,
                    grid: stored.grid,
                    placed_by: None,
                });
            } else {
                report
                    .unplaced
                    .push(refuse((UnplacedCode::ImportedElsewhere, Params::new())));
            }
            continue;
        }
        let (grid, placed_by) = match places.place(order) {
            Ok(p) => p,
            Err(why) => {
                report.unplaced.push(refuse(why));
                continue;
            }
        };
        let (incident, parties) = match incident_of(order, &grid, who, ctx, now_ms) {
            Ok(i) => i,
            Err(why) => {
                report.unplaced.push(refuse(why));
                continue;
            }
        };
        let changes = created(&incident, who, &author)?;
        let parties = parties.map(|p| created(&p, who, &author)).transpose()?;
        pending.push((
            Placed {
                order_no,
                id,
                grid,
                placed_by: Some(placed_by),
            },
            changes,
            parties,
        ));
    }
    for chunk in pending.chunks(100) {
        let rejected = push(
            storage,
            ctx,
            who,
            chunk.iter().map(|(_, d, _)| d.clone()).collect(),
            now,
        )?;
        // The callers' parties records of the incidents stored, once those
        // are: the push checks that their creator made the incident. They
        // were validated with their incident; a refusal here is the
        // server's fault, logged, and the incident stays imported.
        let parties: Vec<DocChanges> = chunk
            .iter()
            .filter(|(placed, _, _)| rejected.iter().all(|r| r.doc != placed.id))
            .filter_map(|(_, _, p)| p.clone())
            .collect();
        if !parties.is_empty() {
            for r in push(storage, ctx, who, parties, now)? {
                tracing::error!(doc = %r.doc, code = %r.code, params = ?r.params, "a hotline caller's parties record was refused");
            }
        }
        for (placed, _, _) in chunk {
            match rejected.iter().find(|r| r.doc == placed.id) {
                Some(r) => report.unplaced.push(Unplaced {
                    row: seen.get(&placed.order_no).copied().unwrap_or_default(),
                    order_no: placed.order_no.clone(),
                    code: UnplacedCode::Refused,
                    params: params([("reason", r.code.as_str().into())]),
                }),
                None => report.imported.push(placed.clone()),
            }
        }
    }
    report.unplaced.sort_by_key(|u| u.row);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_times_are_read_as_beijing_time_or_rfc3339() {
        let beijing = parse_received("2026-05-17 09:30").unwrap();
        assert_eq!(
            beijing,
            parse_received("2026-05-17T01:30:00Z").unwrap(),
            "09:30 in Beijing is 01:30 UTC"
        );
        assert!(
            parse_received("17/05/2026")
                .unwrap_err()
                .contains("received_at")
        );
    }

    #[test]
    fn csv_takes_chinese_headers_a_bom_and_blank_coordinates() {
        let orders = parse_csv(
            "\u{feff}工单编号,受理时间,诉求内容,事发地址,经度,纬度\nA1,2026-05-17 09:30,噪音,幸福路1号,,\n",
        )
        .unwrap();
        assert_eq!(orders[0].order_no, "A1");
        assert_eq!((orders[0].lon, orders[0].lat), (None, None));
        assert!(matches!(parse_csv("工单编号\n"), Err(FileError::Empty)));
        assert!(matches!(
            parse_json("{\"orders\": 3}"),
            Err(FileError::Unreadable { .. })
        ));
    }

    #[test]
    fn an_order_number_always_names_the_same_incident() {
        assert_eq!(incident_id(" GD1 "), incident_id("GD1"));
        assert_ne!(incident_id("GD1"), incident_id("GD2"));
    }

    #[test]
    fn the_longest_match_wins_and_ties_across_grids_are_ambiguous() {
        let entries = vec![
            ("幸福路1号".to_string(), "g1".to_string()),
            ("幸福路1号3栋".to_string(), "g2".to_string()),
            ("和平路".to_string(), "g3".to_string()),
            ("和平路".to_string(), "g4".to_string()),
        ];
        let hit = best(&entries, |a| "广州市幸福路1号3栋201".contains(a)).unwrap();
        assert_eq!(hit.into_iter().collect::<Vec<_>>(), ["g2"]);
        let tie = best(&entries, |a| "和平路5号".contains(a)).unwrap();
        assert_eq!(tie.len(), 2);
        assert!(best(&entries, |a| "火星".contains(a)).is_none());
    }
}
