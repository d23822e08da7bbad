//! Ledgers (台账): the console's lists as tables with Chinese headers, and
//! those tables written as XLSX, CSV (UTF-8 with a BOM, so Excel reads the
//! Chinese) and GeoJSON (rows with a point).
//!
//! Every [PI] and [S] cell (DOMAIN.md) is read from the record as
//! [`gridwork_core::privacy::mask_record`] masks it for the [`Reveal`], so
//! no clear value reaches a writer by mistake and a cell is masked with
//! what stands beside it in mind (a birth date beside a masked ID number
//! shows its year alone).

use std::io::{Seek, Write};

use geo::MultiPolygon;
use gridwork_core::geo::patrol_metrics;
use gridwork_core::model::{
    AnyRecord, Gender, Household, HouseholdUse, Incident, Party, Patrol, RecordKind, Resident,
    review_state,
};
use gridwork_core::model::{IdType, PopulationType, Relation, ReviewState};
use gridwork_core::privacy;
pub use gridwork_core::privacy::{HIDDEN, Reveal};
use gridwork_core::workflow::{Derived, Level, Satisfaction, Status};
use jiff::tz::Offset;
use serde_json::Value as Json;
use uuid::Uuid;

use super::index::{Entry, Flags};

/// The parties of incidents, by incident id, as the reader gets them
/// ([`crate::access::ledger_parties`]).
pub type Parties = std::collections::HashMap<Uuid, Vec<Party>>;

/// A cell of a ledger.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    }

    fn opt(s: Option<impl Into<String>>) -> Cell {
        s.map_or(Cell::Empty, Cell::text)
    }

    fn yes_no(b: bool) -> Cell {
        Cell::text(if b { "是" } else { "否" })
    }

    /// The cell as CSV and GeoJSON text.
    pub fn as_text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Empty => String::new(),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Text(s) => s.clone().into(),
            // Whole numbers as integers, so readers get counts as counts.
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => (*n as i64).into(),
            Cell::Number(n) => {
                serde_json::Number::from_f64(*n).map_or(serde_json::Value::Null, Into::into)
            }
            Cell::Empty => serde_json::Value::Null,
        }
    }
}

/// One row: the record it came from, its cells, its point.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: Uuid,
    pub cells: Vec<Cell>,
    /// `[lon, lat]`, WGS-84.
    pub point: Option<[f64; 2]>,
    /// A grid's boundary, for GeoJSON: polygons of rings of `[lon, lat]`.
    pub area: Option<Vec<Vec<Vec<[f64; 2]>>>>,
}

/// A ledger: a sheet name, Chinese headers, rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

impl Table {
    /// The rows as JSON objects keyed by header, with each row's id.
    pub fn json_rows(&self) -> Vec<serde_json::Value> {
        self.rows
            .iter()
            .map(|r| {
                let mut o = serde_json::Map::new();
                o.insert("id".into(), r.id.to_string().into());
                let cells = r.cells.iter().map(Cell::json).collect();
                o.insert("cells".into(), serde_json::Value::Array(cells));
                serde_json::Value::Object(o)
            })
            .collect()
    }
}

/// The lists a console user can open and export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// The review queue (queue lines only: nothing personal in them).
    Queue,
    Incidents,
    Households,
    Residents,
    /// Patrols: who walked where and how long (no track: it is [S]).
    Patrols,
}

impl List {
    pub fn parse(s: &str) -> Option<List> {
        Some(match s {
            "queue" => List::Queue,
            "incidents" => List::Incidents,
            "households" => List::Households,
            "residents" => List::Residents,
            "patrols" => List::Patrols,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            List::Queue => "queue",
            List::Incidents => "incidents",
            List::Households => "households",
            List::Residents => "residents",
            List::Patrols => "patrols",
        }
    }

    /// The record kind listed, `None` for the queue (several).
    pub fn kind(self) -> Option<RecordKind> {
        match self {
            List::Queue => None,
            List::Incidents => Some(RecordKind::Incident),
            List::Households => Some(RecordKind::Household),
            List::Residents => Some(RecordKind::Resident),
            List::Patrols => Some(RecordKind::Patrol),
        }
    }

    /// The sheet name and file name stem.
    pub fn title(self) -> &'static str {
        match self {
            List::Queue => "审核队列",
            List::Incidents => "事件台账",
            List::Households => "房屋台账",
            List::Residents => "人口台账",
            List::Patrols => "巡查台账",
        }
    }

    fn headers(self) -> &'static [&'static str] {
        match self {
            List::Queue => &[
                "类型",
                "标题",
                "说明",
                "状态",
                "网格编码",
                "登记人",
                "创建时间",
                "更新时间",
                "退回意见",
                "已超期",
                "将到期",
            ],
            List::Incidents => &[
                "事件编号",
                "标题",
                "事件大类",
                "事件小类",
                "来源",
                "紧急程度",
                "状态",
                "所在层级",
                "网格编码",
                "地址",
                "发生时间",
                "上报人",
                "上报时间",
                "受理时间",
                "办结时间",
                "结案时间",
                "承办单位/人",
                "办理期限",
                "已超期",
                "将到期",
                "就地解决",
                "群众评价",
                "当事人姓名",
                "当事人电话",
                "当事人证件号码",
                "热线工单号",
                "经度",
                "纬度",
            ],
            List::Households => &[
                "网格编码",
                "小区/自然村",
                "楼栋/组",
                "单元",
                "室",
                "详细地址",
                "房屋用途",
                "户主姓名",
                "户主电话",
                "户主身份证号",
                "低保",
                "独居",
                "残疾",
                "特困供养",
                "重点关注",
                "最近走访",
                "审核状态",
                "登记人",
                "登记时间",
                "经度",
                "纬度",
            ],
            List::Residents => &[
                "网格编码",
                "姓名",
                "性别",
                "出生日期",
                "证件类型",
                "证件号码",
                "联系电话",
                "民族",
                "户籍地",
                "人口类型",
                "与户主关系",
                "关怀/管理标签",
                "下次走访",
                "审核状态",
                "登记人",
                "登记时间",
            ],
            List::Patrols => &[
                "网格编码",
                "巡查人",
                "开始时间",
                "结束时间",
                "时长（小时）",
                "里程（米）",
                "打卡次数",
                "上报事件数",
                "备注",
                "起点经度",
                "起点纬度",
            ],
        }
    }

    /// Whether a record of the right kind belongs in this list (the queue
    /// filters by its own rules before).
    pub fn holds(self, e: &Entry) -> bool {
        !e.summary.deleted && self.kind().is_none_or(|k| e.summary.kind == k)
    }

    /// The ledger of `entries`, in their order.
    pub fn table<'a>(
        self,
        entries: impl IntoIterator<Item = (&'a Entry, Flags)>,
        reveal: Reveal,
        parties: &Parties,
    ) -> Table {
        let rows = entries
            .into_iter()
            .map(|(e, flags)| {
                let m = || Masked(privacy::mask_any(&e.record, reveal));
                match (self, &e.record) {
                    (List::Queue, _) => queue_row(e, flags),
                    (List::Incidents, AnyRecord::Incident(i)) => {
                        let involved = parties.get(&i.meta.id).map_or(&[][..], Vec::as_slice);
                        let m = Masked::incident(i, involved, reveal);
                        incident_row(i, involved.len(), e.derived.as_ref(), flags, &m)
                    }
                    (List::Households, AnyRecord::Household(h)) => household_row(h, &m()),
                    (List::Residents, AnyRecord::Resident(r)) => resident_row(r, &m()),
                    (List::Patrols, AnyRecord::Patrol(p)) => patrol_row(p, &m()),
                    // A record of another kind is listed as its queue line.
                    _ => queue_row(e, flags),
                }
            })
            .collect();
        Table {
            title: self.title().into(),
            headers: self.headers().iter().map(|h| h.to_string()).collect(),
            rows,
        }
    }
}

/// A record's JSON as masked for the ledger's [`Reveal`]: the protected
/// cells are read from it, never from the record.
struct Masked(Json);

impl Masked {
    /// An incident with its parties (from their own record) under
    /// `parties`, masked as one record: a party's name in the incident's
    /// text is scrubbed like the incident's own values.
    fn incident(i: &Incident, involved: &[Party], reveal: Reveal) -> Masked {
        let mut json = serde_json::to_value(i).unwrap_or(Json::Null);
        if let Json::Object(map) = &mut json {
            map.insert(
                "parties".into(),
                serde_json::to_value(involved).unwrap_or(Json::Null),
            );
        }
        Masked(privacy::mask_record(RecordKind::Incident, &json, reveal))
    }

    /// The value at a dotted path; a field hidden whole (flags, tags)
    /// answers its mark for every path inside it.
    fn at(&self, path: &str) -> Option<&Json> {
        path.split('.').try_fold(&self.0, |v, key| match v {
            Json::Array(items) => items.get(key.parse::<usize>().ok()?),
            Json::String(_) => Some(v),
            other => other.get(key),
        })
    }

    /// A text cell.
    fn text(&self, path: &str) -> Cell {
        match self.at(path) {
            Some(Json::String(s)) => Cell::text(s),
            _ => Cell::Empty,
        }
    }

    /// A yes/no cell, or the mask standing for it.
    fn yes_no(&self, path: &str) -> Cell {
        match self.at(path) {
            Some(Json::Bool(b)) => Cell::yes_no(*b),
            Some(Json::String(s)) => Cell::text(s),
            _ => Cell::Empty,
        }
    }

    /// Whether the field holds its value, not a mask.
    fn shown(&self, path: &str) -> bool {
        !matches!(self.at(path), Some(Json::String(s)) if s == HIDDEN)
    }
}

/// Unix ms as `2026-11-21 14:05`, Asia/Shanghai.
pub fn when(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            Offset::constant(8)
                .to_datetime(t)
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

fn when_opt(ms: Option<i64>) -> Cell {
    Cell::opt(ms.map(when))
}

fn point_cells(p: Option<[f64; 2]>) -> [Cell; 2] {
    match p {
        Some([lon, lat]) => [Cell::Number(lon), Cell::Number(lat)],
        None => [Cell::Empty, Cell::Empty],
    }
}

fn kind_label(k: RecordKind) -> &'static str {
    match k {
        RecordKind::Household => "房屋",
        RecordKind::Resident => "人口",
        RecordKind::Incident => "事件",
        RecordKind::Patrol => "巡查",
        RecordKind::Visit => "走访",
        RecordKind::Task => "任务",
        RecordKind::IncidentParties => "事件当事人",
    }
}

/// The Chinese label of a record's status name: an incident's workflow
/// status, a household's or resident's review state (core's labels; a name
/// neither knows is shown as it is).
pub fn status_label(kind: RecordKind, status: &str) -> String {
    let label = match kind {
        RecordKind::Incident => Status::parse(status).map(Status::label_zh),
        _ => ReviewState::parse(status).map(ReviewState::label_zh),
    };
    label.map_or_else(|| status.to_string(), str::to_string)
}

fn urgency_label(u: gridwork_core::model::Urgency) -> &'static str {
    match u {
        gridwork_core::model::Urgency::High => "紧急",
        gridwork_core::model::Urgency::Medium => "一般",
        gridwork_core::model::Urgency::Low => "不紧急",
    }
}

/// A core enum's label from its stored name, or the name when it is none
/// of them.
fn label_of<T: serde::de::DeserializeOwned>(
    name: &str,
    label: impl Fn(T) -> &'static str,
) -> String {
    serde_json::from_value::<T>(Json::String(name.to_string()))
        .map_or_else(|_| name.to_string(), |v| label(v).to_string())
}

/// The map's incident markers: one row per listed incident with a point,
/// read from its projection row alone (no document is decoded): the
/// number, the title as lists show it (masked), category, urgency,
/// status, grid and the deadline flags, headed as the incidents ledger
/// heads them.
pub fn incident_markers(rows: &[crate::storage::projections::ListedRow]) -> Table {
    let rows = rows
        .iter()
        .filter_map(|r| {
            let p = &r.projection.row;
            let (lon, lat) = p.point?;
            let i = p.incident.as_ref()?;
            Some(Row {
                id: p.id,
                point: Some([lon, lat]),
                area: None,
                cells: vec![
                    Cell::text(&i.number),
                    Cell::text(&p.title),
                    Cell::opt(p.category.as_deref().map(|c| {
                        label_of(c, |m: gridwork_core::model::CategoryMajor| m.label_zh())
                    })),
                    Cell::opt(p.urgency.as_deref().map(|u| label_of(u, urgency_label))),
                    Cell::text(status_label(RecordKind::Incident, &p.status)),
                    Cell::text(&p.grid),
                    Cell::yes_no(r.overdue),
                    Cell::yes_no(r.due_soon),
                ],
            })
        })
        .collect();
    Table {
        title: List::Incidents.title().into(),
        headers: [
            "事件编号",
            "标题",
            "事件大类",
            "紧急程度",
            "状态",
            "网格编码",
            "已超期",
            "将到期",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    }
}

pub fn level_label(l: Level) -> &'static str {
    match l {
        Level::Grid => "网格/村社区",
        Level::Street => "街道/镇",
        Level::District => "区/县",
        Level::City => "市",
    }
}

fn queue_row(e: &Entry, flags: Flags) -> Row {
    let s = &e.summary;
    Row {
        id: s.id,
        point: None,
        area: None,
        cells: vec![
            Cell::text(kind_label(s.kind)),
            Cell::text(&s.title),
            Cell::text(&s.subtitle),
            Cell::text(status_label(s.kind, &s.status)),
            Cell::text(&s.grid),
            Cell::text(&s.created_by),
            Cell::text(when(s.created_at)),
            Cell::text(when(s.updated_at)),
            Cell::opt(s.return_comment.clone()),
            Cell::yes_no(flags.overdue),
            Cell::yes_no(flags.due_soon),
        ],
    }
}

fn incident_row(
    i: &Incident,
    involved: usize,
    d: Option<&Derived>,
    flags: Flags,
    m: &Masked,
) -> Row {
    let point = i.point.as_ref().map(|p| [p.lon, p.lat]);
    let parties = |key: &str| {
        let texts: Vec<String> = (0..involved)
            .map(|n| m.text(&format!("parties.{n}.{key}")).as_text())
            .collect();
        // Aligned with the other parties columns; empty when nobody has one.
        if texts.iter().all(String::is_empty) {
            return Cell::Empty;
        }
        Cell::text(texts.join("、"))
    };
    let source = match i.source {
        gridwork_core::model::IncidentSource::Patrol => "巡查发现",
        gridwork_core::model::IncidentSource::Resident => "群众反映",
        gridwork_core::model::IncidentSource::Hotline12345 => "12345热线",
        gridwork_core::model::IncidentSource::Assigned => "上级交办",
    };
    let urgency = urgency_label(i.urgency);
    let feedback = d.and_then(|d| d.feedback).map(|f| match f {
        Satisfaction::Dissatisfied => "不满意",
        Satisfaction::Satisfied => "满意",
        Satisfaction::VerySatisfied => "非常满意",
    });
    let mut cells = vec![
        Cell::text(&i.number),
        m.text("title"),
        Cell::text(i.category.major.label_zh()),
        Cell::text(&i.category.minor),
        Cell::text(source),
        Cell::text(urgency),
        Cell::opt(d.map(|d| d.status.label_zh())),
        Cell::opt(d.map(|d| level_label(d.level))),
        Cell::text(&i.meta.grid),
        m.text("address"),
        Cell::text(when(i.happened_at)),
        Cell::text(&i.meta.created_by),
        when_opt(d.and_then(|d| d.reported_at)),
        when_opt(d.and_then(|d| d.accepted_at)),
        when_opt(d.and_then(|d| d.resolved_at)),
        when_opt(d.and_then(|d| d.closed_at)),
        Cell::opt(d.and_then(|d| d.assignee.as_ref()).map(|a| a.name.clone())),
        Cell::opt(d.and_then(|d| d.deadline).map(|d| d.to_string())),
        Cell::yes_no(flags.overdue),
        Cell::yes_no(flags.due_soon),
        Cell::yes_no(d.is_some_and(|d| d.resolved_on_spot)),
        Cell::opt(feedback),
        parties("name"),
        parties("phone"),
        parties("id_number"),
        Cell::opt(i.hotline_order.clone()),
    ];
    cells.extend(point_cells(point));
    Row {
        id: i.meta.id,
        cells,
        point,
        area: None,
    }
}

fn household_row(h: &Household, m: &Masked) -> Row {
    let point = h.point.as_ref().map(|p| [p.lon, p.lat]);
    let a = &h.address;
    let or = |x: &str, y: &str| {
        if x.is_empty() {
            Cell::text(y)
        } else {
            Cell::text(x)
        }
    };
    let usage = match h.usage {
        HouseholdUse::OwnerOccupied => "自住",
        HouseholdUse::Rented => "出租",
        HouseholdUse::Vacant => "空置",
        HouseholdUse::Business => "经营",
    };
    let mut cells = vec![
        Cell::text(&h.meta.grid),
        or(&a.estate, &a.village),
        or(&a.building, &a.group),
        Cell::text(&a.unit),
        Cell::text(&a.room),
        m.text("address.detail"),
        Cell::text(usage),
        m.text("owner_name"),
        m.text("owner_phone"),
        m.text("owner_id_number"),
        m.yes_no("flags.low_income"),
        m.yes_no("flags.living_alone"),
        m.yes_no("flags.disability"),
        m.yes_no("flags.special_support"),
        m.yes_no("flags.key_concern"),
        when_opt(h.last_visit_at),
        Cell::text(review_state(&h.review).label_zh()),
        Cell::text(&h.meta.created_by),
        Cell::text(when(h.meta.created_at)),
    ];
    cells.extend(point_cells(point));
    Row {
        id: h.meta.id,
        cells,
        point,
        area: None,
    }
}

/// A patrol's line. The track is [S] (whereabouts): only its distance is
/// listed, and its start point only when [S] is revealed.
fn patrol_row(p: &Patrol, m: &Masked) -> Row {
    let hours = p
        .ended_at
        .map(|end| Cell::Number(((end - p.started_at).max(0) as f64 / 36_000.0).round() / 100.0));
    let distance = patrol_metrics(&p.track, &MultiPolygon::new(Vec::new())).distance_m;
    let point = p
        .track
        .first()
        .filter(|_| m.shown("track"))
        .map(|t| [t.lon, t.lat]);
    let mut cells = vec![
        Cell::text(&p.meta.grid),
        Cell::text(&p.worker),
        Cell::text(when(p.started_at)),
        when_opt(p.ended_at),
        hours.unwrap_or(Cell::Empty),
        Cell::Number(distance.round()),
        Cell::Number(p.check_ins.len() as f64),
        Cell::Number(p.incident_ids.len() as f64),
        m.text("notes"),
    ];
    cells.extend(point_cells(point));
    Row {
        id: p.meta.id,
        cells,
        point,
        area: None,
    }
}

fn resident_row(r: &Resident, m: &Masked) -> Row {
    let gender = match r.gender {
        Gender::Male => "男",
        Gender::Female => "女",
        Gender::Unknown => "未知",
    };
    let id_type = match r.id_type {
        IdType::ResidentId => "居民身份证",
        IdType::ResidencePermit => "居住证",
        IdType::Passport => "护照",
        IdType::ForeignPermanentResident => "外国人永久居留身份证",
        IdType::Other => "其他",
    };
    let population = match r.population_type {
        PopulationType::Registered => "户籍人口",
        PopulationType::Floating => "流动人口",
        PopulationType::Foreign => "境外人员",
        PopulationType::LeftBehind => "留守人员",
    };
    let relation = match r.relation {
        Relation::Head => "户主",
        Relation::Spouse => "配偶",
        Relation::Child => "子女",
        Relation::Parent => "父母",
        Relation::Grandchild => "孙子女",
        Relation::Sibling => "兄弟姐妹",
        Relation::Tenant => "租户",
        Relation::Other => "其他",
    };
    let tags: Vec<String> = r
        .care_tags
        .iter()
        .map(|t| {
            serde_json::to_value(t.tag)
                .ok()
                .and_then(|v| v.as_str().map(tag_label))
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    Row {
        id: r.meta.id,
        point: None,
        area: None,
        cells: vec![
            Cell::text(&r.meta.grid),
            m.text("name"),
            Cell::text(gender),
            m.text("birth_date"),
            Cell::text(id_type),
            m.text("id_number"),
            m.text("phone"),
            Cell::text(&r.ethnicity),
            m.text("registered_residence"),
            Cell::text(population),
            Cell::text(relation),
            if m.shown("care_tags") {
                Cell::text(tags.join("、"))
            } else {
                Cell::text(HIDDEN)
            },
            m.text("next_visit_due"),
            Cell::text(review_state(&r.review).label_zh()),
            Cell::text(&r.meta.created_by),
            Cell::text(when(r.meta.created_at)),
        ],
    }
}

fn tag_label(tag: &str) -> &'static str {
    match tag {
        "elderly_living_alone" => "独居老人",
        "left_behind_child" => "留守儿童",
        "disability" => "残疾人",
        "low_income" => "低保",
        "community_correction" => "社区矫正",
        "released_prisoner" => "刑满释放",
        "severe_mental_disorder" => "严重精神障碍",
        "key_youth" => "重点青少年",
        _ => "其他",
    }
}

/// A file format of a ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Csv,
    GeoJson,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "xlsx" => Format::Xlsx,
            "csv" => Format::Csv,
            "geojson" => Format::GeoJson,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
            Format::GeoJson => "geojson",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Csv => "text/csv; charset=utf-8",
            Format::GeoJson => "application/geo+json",
        }
    }

    /// The file of `tables`, in memory, and how many rows went in
    /// (GeoJSON takes only rows with a point or an area). For small files
    /// (the map's layers); an export writes with a [`FileWriter`].
    pub fn write(self, tables: &[Table]) -> Result<(Vec<u8>, usize), String> {
        let mut w = FileWriter::new(self, std::io::Cursor::new(Vec::new()), tables.len())?;
        for t in tables {
            w.table(&t.title, &t.headers)?;
            w.rows(&t.rows)?;
        }
        let done = w.finish()?;
        Ok((done.out.into_inner(), done.rows))
    }
}

/// A ledger file written as its rows come: a table's rows can be handed
/// over a chunk at a time and none is kept, so an export of any length is
/// written in bounded memory. XLSX uses rust_xlsxwriter's constant-memory
/// mode (each sheet's cells go to a temporary file, zipped at the end);
/// CSV and GeoJSON go straight to the writer.
pub struct FileWriter<W: Write + Seek + Send> {
    out: Out<W>,
    /// CSV writes each table's title when there are several.
    several: bool,
    /// The current table's headers.
    headers: Vec<String>,
    tables: usize,
    rows: usize,
    ids: Vec<Uuid>,
    first_title: Option<String>,
}

impl<W: Write + Seek + Send> std::fmt::Debug for FileWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWriter")
            .field("tables", &self.tables)
            .field("rows", &self.rows)
            .finish()
    }
}

enum Out<W: Write + Seek + Send> {
    Xlsx {
        book: Box<rust_xlsxwriter::Workbook>,
        out: W,
        bold: rust_xlsxwriter::Format,
        /// The current sheet's next row.
        next_row: u32,
        /// The current sheet's column widths so far, in pixels.
        widths: Vec<u32>,
    },
    Csv(csv::Writer<W>),
    GeoJson {
        out: std::io::BufWriter<W>,
        features: usize,
    },
}

/// A written file: the writer, how many rows went in, and the records
/// they came from (for the access log).
#[derive(Debug)]
pub struct Written<W> {
    pub out: W,
    pub rows: usize,
    pub record_ids: Vec<Uuid>,
    /// The first table's title (the file's name).
    pub first_title: Option<String>,
}

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> String {
    e.to_string()
}

fn io_err(e: std::io::Error) -> String {
    e.to_string()
}

/// Keeps the id of a written row's record for the access log (the
/// dashboard's rows have none).
fn keep_id(ids: &mut Vec<Uuid>, id: Uuid) {
    if !id.is_nil() {
        ids.push(id);
    }
}

/// The pixel width XLSX columns stop growing at.
const XLSX_MAX_WIDTH: u32 = 400;

impl<W: Write + Seek + Send> FileWriter<W> {
    /// A file of `tables` tables in `format`, written to `out`.
    pub fn new(format: Format, mut out: W, tables: usize) -> Result<FileWriter<W>, String> {
        let out = match format {
            Format::Xlsx => Out::Xlsx {
                book: Box::new(rust_xlsxwriter::Workbook::new()),
                out,
                bold: rust_xlsxwriter::Format::new().set_bold(),
                next_row: 0,
                widths: Vec::new(),
            },
            Format::Csv => {
                out.write_all(b"\xEF\xBB\xBF").map_err(io_err)?;
                Out::Csv(csv::WriterBuilder::new().flexible(true).from_writer(out))
            }
            Format::GeoJson => {
                let mut out = std::io::BufWriter::new(out);
                out.write_all(br#"{"type":"FeatureCollection","features":["#)
                    .map_err(io_err)?;
                Out::GeoJson { out, features: 0 }
            }
        };
        Ok(FileWriter {
            out,
            several: tables > 1,
            headers: Vec::new(),
            tables: 0,
            rows: 0,
            ids: Vec::new(),
            first_title: None,
        })
    }

    /// Starts a table (a sheet in XLSX).
    pub fn table(&mut self, title: &str, headers: &[String]) -> Result<(), String> {
        self.end_sheet()?;
        if self.first_title.is_none() {
            self.first_title = Some(title.to_string());
        }
        match &mut self.out {
            Out::Xlsx {
                book,
                bold,
                next_row,
                widths,
                ..
            } => {
                let sheet = book.add_worksheet_with_constant_memory();
                sheet.set_name(title).map_err(xlsx_err)?;
                sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
                for (c, h) in headers.iter().enumerate() {
                    sheet
                        .write_string_with_format(0, c as u16, h, bold)
                        .map_err(xlsx_err)?;
                }
                *widths = headers
                    .iter()
                    .map(|h| rust_xlsxwriter::cell_autofit_width(h))
                    .collect();
                *next_row = 1;
            }
            Out::Csv(w) => {
                if self.several {
                    if self.tables > 0 {
                        w.write_record([""]).map_err(|e| e.to_string())?;
                    }
                    w.write_record([title]).map_err(|e| e.to_string())?;
                }
                w.write_record(headers).map_err(|e| e.to_string())?;
            }
            Out::GeoJson { .. } => {}
        }
        self.headers = headers.to_vec();
        self.tables += 1;
        Ok(())
    }

    /// Writes rows of the current table; GeoJSON takes only those with a
    /// point or an area, with its cells keyed by `headers`.
    pub fn rows(&mut self, rows: &[Row]) -> Result<(), String> {
        match &mut self.out {
            Out::Xlsx {
                book,
                next_row,
                widths,
                ..
            } => {
                let sheet = book
                    .worksheet_from_index(self.tables.saturating_sub(1))
                    .map_err(xlsx_err)?;
                for row in rows {
                    for (c, cell) in row.cells.iter().enumerate() {
                        let width = match cell {
                            Cell::Text(s) => {
                                sheet
                                    .write_string(*next_row, c as u16, s)
                                    .map_err(xlsx_err)?;
                                rust_xlsxwriter::cell_autofit_width(s)
                            }
                            Cell::Number(n) => {
                                sheet
                                    .write_number(*next_row, c as u16, *n)
                                    .map_err(xlsx_err)?;
                                rust_xlsxwriter::cell_autofit_width(&n.to_string())
                            }
                            Cell::Empty => continue,
                        };
                        if let Some(w) = widths.get_mut(c) {
                            *w = (*w).max(width);
                        }
                    }
                    *next_row += 1;
                    keep_id(&mut self.ids, row.id);
                }
                self.rows += rows.len();
            }
            Out::Csv(w) => {
                for row in rows {
                    w.write_record(row.cells.iter().map(Cell::as_text))
                        .map_err(|e| e.to_string())?;
                    keep_id(&mut self.ids, row.id);
                }
                self.rows += rows.len();
            }
            Out::GeoJson { out, features } => {
                for row in rows {
                    let Some(feature) = feature(row, &self.headers) else {
                        continue;
                    };
                    if *features > 0 {
                        out.write_all(b",").map_err(io_err)?;
                    }
                    serde_json::to_writer(&mut *out, &feature).map_err(|e| e.to_string())?;
                    *features += 1;
                    keep_id(&mut self.ids, row.id);
                    self.rows += 1;
                }
            }
        }
        Ok(())
    }

    /// Sets the finished sheet's column widths (XLSX).
    fn end_sheet(&mut self) -> Result<(), String> {
        if let Out::Xlsx { book, widths, .. } = &mut self.out
            && self.tables > 0
        {
            let sheet = book
                .worksheet_from_index(self.tables - 1)
                .map_err(xlsx_err)?;
            for (c, w) in widths.iter().enumerate() {
                sheet
                    .set_column_autofit_width(c as u16, (*w).min(XLSX_MAX_WIDTH))
                    .map_err(xlsx_err)?;
            }
        }
        Ok(())
    }

    /// Ends the file and hands back its writer.
    pub fn finish(mut self) -> Result<Written<W>, String> {
        self.end_sheet()?;
        let out = match self.out {
            Out::Xlsx {
                mut book, mut out, ..
            } => {
                if self.tables == 0 {
                    book.add_worksheet();
                }
                book.save_to_writer(&mut out).map_err(xlsx_err)?;
                out
            }
            Out::Csv(w) => w.into_inner().map_err(|e| e.to_string())?,
            Out::GeoJson { mut out, .. } => {
                out.write_all(b"]}").map_err(io_err)?;
                out.into_inner().map_err(|e| e.to_string())?
            }
        };
        Ok(Written {
            out,
            rows: self.rows,
            record_ids: self.ids,
            first_title: self.first_title,
        })
    }
}

/// A row as a GeoJSON feature: its area, or else its point, with its
/// cells keyed by the Chinese headers, plus `id`; `None` without either.
fn feature(row: &Row, headers: &[String]) -> Option<geojson::Feature> {
    use geojson::{Feature, Geometry, JsonObject};
    let geometry = match (&row.area, row.point) {
        (Some(polygons), _) => Geometry::new(geojson::GeometryValue::new_multi_polygon(
            polygons
                .iter()
                .map(|rings| rings.iter().map(|ring| ring.iter().copied())),
        )),
        (None, Some(p)) => Geometry::new_point(p),
        (None, None) => return None,
    };
    let mut props = JsonObject::new();
    props.insert("id".into(), row.id.to_string().into());
    for (h, c) in headers.iter().zip(&row.cells) {
        props.insert(h.clone(), c.json());
    }
    Some(Feature {
        geometry: Some(geometry),
        id: Some(geojson::feature::Id::String(row.id.to_string())),
        properties: Some(props),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> gridwork_demo::Demo {
        gridwork_demo::generate(&gridwork_demo::DemoConfig {
            communities: 1,
            grids_per_community: 1,
            households_per_grid: 5,
            incidents_per_grid: 0,
            patrols_per_grid: 0,
            visits_per_grid: 0,
            ..Default::default()
        })
    }

    fn cell(headers: &[&str], row: &Row, header: &str) -> String {
        let i = headers.iter().position(|h| *h == header).unwrap();
        row.cells[i].as_text()
    }

    #[test]
    fn cells_are_read_masked_for_the_reveal() {
        let d = demo();
        let h = d
            .households
            .iter()
            .find(|h| h.owner_id_number.is_some() && h.owner_phone.is_some())
            .unwrap();
        let r = d
            .residents
            .iter()
            .find(|r| r.id_number.as_deref().is_some_and(|i| i.len() == 18))
            .unwrap();
        let masked = |record: AnyRecord, reveal| Masked(privacy::mask_any(&record, reveal));
        let hh = List::Households.headers();
        let rh = List::Residents.headers();

        let row = household_row(h, &masked(AnyRecord::Household(h.clone()), Reveal::MASKED));
        let id = h.owner_id_number.as_deref().unwrap();
        assert_eq!(
            cell(hh, &row, "户主姓名"),
            privacy::mask_name(&h.owner_name)
        );
        assert_eq!(
            cell(hh, &row, "户主身份证号"),
            privacy::mask_id_number(id, false)
        );
        assert_eq!(cell(hh, &row, "低保"), HIDDEN);

        let row = resident_row(r, &masked(AnyRecord::Resident(r.clone()), Reveal::MASKED));
        let birth = r.birth_date.as_deref().unwrap();
        assert_eq!(cell(rh, &row, "出生日期"), &birth[..4], "the year alone");
        assert_eq!(cell(rh, &row, "关怀/管理标签"), HIDDEN, "tags or none");

        // A handler's reveal: names and phones, the ID number still masked,
        // so the birth date still shows its year alone.
        let pi = Reveal { pi: true, s: false };
        let row = resident_row(r, &masked(AnyRecord::Resident(r.clone()), pi));
        assert_eq!(cell(rh, &row, "姓名"), r.name);
        assert_eq!(cell(rh, &row, "出生日期"), &birth[..4]);
        let id = r.id_number.as_deref().unwrap();
        assert_eq!(
            cell(rh, &row, "证件号码"),
            privacy::mask_id_number(id, true)
        );

        let row = resident_row(r, &masked(AnyRecord::Resident(r.clone()), Reveal::ALL));
        assert_eq!(cell(rh, &row, "出生日期"), birth);
        assert_eq!(cell(rh, &row, "证件号码"), id);
    }

    #[test]
    fn csv_starts_with_a_bom() {
        let t = Table {
            title: "t".into(),
            headers: vec!["姓名".into()],
            rows: vec![],
        };
        let (bytes, n) = Format::Csv.write(&[t]).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF\xE5\xA7\x93"));
        assert_eq!(n, 0);
    }

    fn table(title: &str, rows: usize) -> Table {
        Table {
            title: title.into(),
            headers: vec!["编号".into(), "姓名".into(), "人数".into()],
            rows: (0..rows)
                .map(|i| Row {
                    id: Uuid::from_u128(i as u128 + 1),
                    cells: vec![
                        Cell::Text(format!("N{i}")),
                        if i % 3 == 0 {
                            Cell::Empty
                        } else {
                            Cell::text(format!("张{i}"))
                        },
                        Cell::Number(i as f64),
                    ],
                    point: (i % 2 == 0).then_some([113.3, 23.1]),
                    area: None,
                })
                .collect(),
        }
    }

    /// Rows handed over in chunks, over two tables, read back as if
    /// written at once: every cell in its place, in its sheet.
    #[test]
    fn xlsx_written_a_chunk_at_a_time_reads_back_whole() {
        use calamine::{Data, Reader, Xlsx};
        let (a, b) = (table("甲", 1234), table("乙", 3));
        let mut w = FileWriter::new(Format::Xlsx, std::io::Cursor::new(Vec::new()), 2).unwrap();
        w.table(&a.title, &a.headers).unwrap();
        for chunk in a.rows.chunks(500) {
            w.rows(chunk).unwrap();
        }
        w.table(&b.title, &b.headers).unwrap();
        w.rows(&b.rows).unwrap();
        let done = w.finish().unwrap();
        assert_eq!(done.rows, 1237);
        assert_eq!(done.record_ids.len(), 1237);
        assert_eq!(done.first_title.as_deref(), Some("甲"));
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(done.out).unwrap();
        assert_eq!(book.sheet_names(), ["甲", "乙"]);
        for t in [&a, &b] {
            let range = book.worksheet_range(&t.title).unwrap();
            assert_eq!(range.height(), t.rows.len() + 1, "{}", t.title);
            assert_eq!(range.get((0, 1)), Some(&Data::String("姓名".into())));
            for (r, row) in t.rows.iter().enumerate() {
                let got: Vec<String> = (0..3)
                    .map(|c| match range.get((r + 1, c)) {
                        Some(Data::Empty) | None => String::new(),
                        Some(d) => d.to_string(),
                    })
                    .collect();
                let want: Vec<String> = row.cells.iter().map(Cell::as_text).collect();
                assert_eq!(got, want, "row {r} of {}", t.title);
            }
        }
    }

    /// GeoJSON written as the rows come is one FeatureCollection of the
    /// rows with a place, each keyed by its headers.
    #[test]
    fn geojson_is_a_feature_collection_of_the_rows_with_a_place() {
        let mut t = table("事件", 5);
        t.rows[1].area = Some(vec![vec![vec![
            [113.0, 23.0],
            [113.1, 23.0],
            [113.1, 23.1],
            [113.0, 23.0],
        ]]]);
        let (bytes, n) = Format::GeoJson.write(&[t]).unwrap();
        let fc: geojson::FeatureCollection = serde_json::from_slice(&bytes).unwrap();
        // Rows 0, 2 and 4 have a point, row 1 an area, row 3 neither.
        assert_eq!(n, 4);
        let ids: Vec<String> = fc
            .features
            .iter()
            .map(|f| f.property("id").unwrap().as_str().unwrap().to_string())
            .collect();
        let want: Vec<String> = [1u128, 2, 3, 5]
            .iter()
            .map(|i| Uuid::from_u128(*i).to_string())
            .collect();
        assert_eq!(ids, want);
        assert_eq!(fc.features[2].property("姓名").unwrap(), "张2");
        assert_eq!(fc.features[0].property("人数").unwrap(), 0);
    }
}
