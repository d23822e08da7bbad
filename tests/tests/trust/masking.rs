//! Item 3: a masked value cannot be rebuilt from what the same view shows.
//!
//! Every masked view of a record is read as a person reads it: the
//! console's queue and ledgers, a record's page and its field history,
//! each export format (XLSX, CSV, GeoJSON) and the incidents map, and the
//! tablet's lists (the rows `Store::list` and `Store::search` give the
//! app's `list_records` command). A view is cut into units (a row, a
//! feature, a page), each unit what stands together about one record, and
//! every unit is checked against the demo's clear values:
//!
//! - an ID number: the 18-character numbers consistent with everything the
//!   unit shows (every visible character of every mask of it, the birth
//!   date if the unit shows it, otherwise its year, the gender, a
//!   province-level region, the check character of GB 11643) must be
//!   many ([`MANY`]), not one;
//! - a phone number: never in clear (separators ignored), and its masks
//!   together leave at least four digits hidden;
//! - a name: never in clear where [PI] is masked.
//!
//! The year and the gender are taken as known whether shown or not: the
//! worst case.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Cursor;

use anyhow::{Context, Result, ensure};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use gridwork_core::calendar::shanghai_date;
use gridwork_core::doc::Author;
use gridwork_core::model::{Resident, Role};
use gridwork_core::store::ListQuery;
use gridwork_core::validate::id_check_character;
use gridwork_tests::Device;
use jiff::civil::Date;
use serde_json::Value;
use uuid::Uuid;

use crate::harness::{Raw, Trial, demo, user, workers};

/// At least this many ID numbers must fit what a unit shows.
const MANY: usize = 10;

/// The residents whose pages and history are opened, as in the report
/// (20 of 20 could be rebuilt).
const SAMPLE: usize = 20;

/// What stands together about one record in a view.
#[derive(Debug, Default)]
struct Unit {
    /// Where in the view (a row number, a record id), for messages.
    at: String,
    texts: Vec<String>,
}

/// A view: its units, and whether it masks [PI] (every view here masks
/// [S]).
#[derive(Debug)]
struct View {
    name: String,
    pi_masked: bool,
    units: Vec<Unit>,
}

impl View {
    fn masked(name: impl Into<String>, units: Vec<Unit>) -> View {
        View {
            name: name.into(),
            pi_masked: true,
            units,
        }
    }
}

/// Every text of a JSON value (strings and numbers), depth first.
fn texts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|v| texts(v, out)),
        Value::Object(map) => map.values().for_each(|v| texts(v, out)),
        _ => {}
    }
}

fn json_unit(at: impl Into<String>, value: &Value) -> Unit {
    let mut unit = Unit {
        at: at.into(),
        texts: Vec::new(),
    };
    texts(value, &mut unit.texts);
    unit
}

/// The clear values the demo holds, to test views against.
struct Secrets {
    /// 18-character ID numbers by their last four characters.
    ids: HashMap<String, BTreeSet<String>>,
    /// Mobile numbers by their last four digits.
    phones: HashMap<String, BTreeSet<String>>,
    names: HashSet<String>,
    /// Characters in the longest name.
    longest_name: usize,
}

impl Secrets {
    fn of_demo() -> Secrets {
        let mut s = Secrets {
            ids: HashMap::new(),
            phones: HashMap::new(),
            names: HashSet::new(),
            longest_name: 0,
        };
        let d = demo();
        for r in &d.residents {
            s.id(r.id_number.as_deref());
            s.phone(r.phone.as_deref());
            s.phone(Some(&r.emergency_contact.phone));
            s.name(&r.name);
            s.name(&r.emergency_contact.name);
        }
        for h in &d.households {
            s.id(h.owner_id_number.as_deref());
            s.phone(h.owner_phone.as_deref());
            s.name(&h.owner_name);
        }
        for i in &d.incident_parties {
            for p in &i.parties {
                s.id(Some(&p.id_number));
                s.phone(Some(&p.phone));
                s.name(&p.name);
            }
        }
        s
    }

    fn id(&mut self, id: Option<&str>) {
        if let Some(id) = id.map(str::trim).filter(|id| id.len() == 18) {
            self.ids
                .entry(id[14..].to_string())
                .or_default()
                .insert(id.to_uppercase());
        }
    }

    fn phone(&mut self, phone: Option<&str>) {
        if let Some(p) = phone.map(str::trim).filter(|p| p.len() == 11) {
            self.phones
                .entry(p[7..].to_string())
                .or_default()
                .insert(p.to_string());
        }
    }

    fn name(&mut self, name: &str) {
        let n = name.trim().chars().count();
        if n >= 2 {
            self.names.insert(name.trim().to_string());
            self.longest_name = self.longest_name.max(n);
        }
    }
}

/// Maximal runs of `len` characters of `alphabet` in `text` (runs of
/// another length are not masks of these values).
fn tokens(text: &str, len: usize, alphabet: impl Fn(char) -> bool) -> Vec<Vec<char>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !alphabet(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && alphabet(chars[i]) {
            i += 1;
        }
        if i - start == len {
            out.push(chars[start..i].to_vec());
        }
    }
    out
}

/// Whether a masked token agrees with `clear` wherever it shows a character.
fn fits(token: &[char], clear: &str) -> bool {
    token.len() == clear.chars().count()
        && token
            .iter()
            .zip(clear.chars())
            .all(|(t, c)| *t == '*' || t.eq_ignore_ascii_case(&c))
}

/// The birth date written in an ID number.
fn birth_of(id: &str) -> Option<Date> {
    let n = |r: std::ops::Range<usize>| id.get(r)?.parse::<i16>().ok();
    Date::new(n(6..10)?, n(10..12)? as i8, n(12..14)? as i8).ok()
}

/// Whether a unit shows the whole of `date`, in any usual writing.
fn shows_date(unit: &Unit, date: Date) -> bool {
    let forms = [
        date.strftime("%Y-%m-%d").to_string(),
        date.strftime("%Y/%m/%d").to_string(),
        date.strftime("%Y%m%d").to_string(),
        format!("{}年{}月{}日", date.year(), date.month(), date.day()),
    ];
    unit.texts
        .iter()
        .any(|t| forms.iter().any(|f| t.contains(f.as_str())))
}

fn province(code: u32) -> bool {
    matches!(
        code,
        11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81 | 82 | 83
    )
}

/// How many 18-character ID numbers fit what `unit` shows of `id` (up
/// to `MANY`): its visible characters, the birth date if shown (its
/// year otherwise), the gender, a province code and the check character.
fn candidates(id: &str, unit: &Unit, today: Date) -> usize {
    let clear: Vec<char> = id.chars().collect();
    let mut known: [Option<char>; 18] = [None; 18];
    for t in &unit.texts {
        if t.to_uppercase().contains(id) {
            return 1;
        }
        for token in tokens(t, 18, |c| {
            c.is_ascii_digit() || matches!(c, '*' | 'X' | 'x')
        }) {
            if fits(&token, id) {
                for (k, c) in known.iter_mut().zip(&token) {
                    if *c != '*' {
                        *k = Some(c.to_ascii_uppercase());
                    }
                }
            }
        }
    }
    let Some(birth) = birth_of(id) else {
        return MANY;
    };
    let dates: Vec<Date> = if shows_date(unit, birth) {
        vec![birth]
    } else {
        let mut d = Date::new(birth.year(), 1, 1).expect("a year's first day");
        let mut all = Vec::new();
        while d.year() == birth.year() && d <= today {
            all.push(d);
            d = d.tomorrow().expect("a next day");
        }
        all
    };
    let male = clear[16].to_digit(10).is_some_and(|d| d % 2 == 1);
    let mut count = 0;
    for date in dates {
        let written: Vec<char> = date.strftime("%Y%m%d").to_string().chars().collect();
        // The date must agree with any of its digits a mask shows.
        if (0..8).any(|i| known[6 + i].is_some_and(|k| k != written[i])) {
            continue;
        }
        let mut digits = ['0'; 17];
        digits[6..14].copy_from_slice(&written);
        count += fill(&mut digits, 0, &known, male, MANY - count);
        if count >= MANY {
            return count;
        }
    }
    count
}

/// Counts (up to `left`) the ways to fill the region and sequence digits
/// from position `at` on that agree with `known`, the gender and a
/// province code, with a check character that agrees with `known`.
fn fill(
    digits: &mut [char; 17],
    at: usize,
    known: &[Option<char>; 18],
    male: bool,
    left: usize,
) -> usize {
    if left == 0 {
        return 0;
    }
    if at == 17 {
        let code = digits[0].to_digit(10).unwrap_or(0) * 10 + digits[1].to_digit(10).unwrap_or(0);
        let first17: String = digits.iter().collect();
        let check = id_check_character(&first17);
        let ok = province(code) && known[17].is_none_or(|k| k == check);
        return usize::from(ok);
    }
    if (6..14).contains(&at) {
        return fill(digits, 14, known, male, left);
    }
    let choices: Vec<char> = match known[at] {
        Some(c) => vec![c],
        None => ('0'..='9').collect(),
    };
    let mut count = 0;
    for c in choices {
        if at == 16 && c.to_digit(10).is_some_and(|d| (d % 2 == 1) != male) {
            continue;
        }
        digits[at] = c;
        count += fill(digits, at + 1, known, male, left - count);
        if count >= left {
            break;
        }
    }
    count
}

/// What a check found, over every view.
#[derive(Debug, Default)]
struct Findings {
    ids_checked: usize,
    phones_checked: usize,
    /// View → records (or rows) in it that give a masked value back.
    leaks: BTreeMap<String, Vec<String>>,
}

impl Findings {
    fn leak(&mut self, view: &str, what: String) {
        self.leaks.entry(view.to_string()).or_default().push(what);
    }

    fn check(&mut self, view: &View, secrets: &Secrets, today: Date) {
        for unit in &view.units {
            let mut ids = BTreeSet::new();
            let mut phones: BTreeMap<String, Vec<Vec<char>>> = BTreeMap::new();
            for t in &unit.texts {
                for token in tokens(t, 18, |c| {
                    c.is_ascii_digit() || matches!(c, '*' | 'X' | 'x')
                }) {
                    let last4: String = token[14..].iter().collect::<String>().to_uppercase();
                    for id in secrets.ids.get(&last4).into_iter().flatten() {
                        if fits(&token, id) {
                            ids.insert(id.clone());
                        }
                    }
                }
                for token in tokens(t, 11, |c| c.is_ascii_digit() || c == '*') {
                    let last4: String = token[7..].iter().collect();
                    for p in secrets.phones.get(&last4).into_iter().flatten() {
                        if fits(&token, p) {
                            phones.entry(p.clone()).or_default().push(token.clone());
                        }
                    }
                }
            }
            for id in ids {
                self.ids_checked += 1;
                let n = candidates(&id, unit, today);
                if n < MANY {
                    self.leak(
                        &view.name,
                        format!("{}: ID number {id} fits only {n} number(s)", unit.at),
                    );
                }
            }
            if !view.pi_masked {
                continue;
            }
            let bare: Vec<String> = unit
                .texts
                .iter()
                .map(|t| t.chars().filter(|c| !matches!(c, ' ' | '-')).collect())
                .collect();
            for (phone, masks) in phones {
                self.phones_checked += 1;
                let mut shown = [false; 11];
                for m in &masks {
                    for (s, c) in shown.iter_mut().zip(m) {
                        *s |= *c != '*';
                    }
                }
                let hidden = shown.iter().filter(|s| !**s).count();
                if hidden < 4 {
                    self.leak(
                        &view.name,
                        format!(
                            "{}: phone {phone} masked with {hidden} digit(s) hidden",
                            unit.at
                        ),
                    );
                }
            }
            // Any 11 digits in a row (separators dropped) that are a phone.
            for t in &bare {
                for run in t.split(|c: char| !c.is_ascii_digit()) {
                    for i in 0..run.len().saturating_sub(10) {
                        let window = &run[i..i + 11];
                        let known = secrets.phones.get(&window[7..]);
                        if known.is_some_and(|k| k.contains(window)) {
                            self.leak(&view.name, format!("{}: phone {window} in clear", unit.at));
                        }
                    }
                }
            }
            // A name as a whole text, or one of three characters or more
            // anywhere in a text (two-character names also occur inside
            // estate and grid names).
            for t in &unit.texts {
                if secrets.names.contains(t.trim()) {
                    self.leak(&view.name, format!("{}: name {t} in clear", unit.at));
                }
                let chars: Vec<char> = t.chars().collect();
                for i in 0..chars.len() {
                    for len in 3..=secrets.longest_name.min(chars.len() - i) {
                        let piece: String = chars[i..i + len].iter().collect();
                        if secrets.names.contains(&piece) {
                            self.leak(&view.name, format!("{}: name {piece} in clear", unit.at));
                        }
                    }
                }
            }
        }
    }

    fn ok(&self) -> Result<()> {
        let lines: Vec<String> = self
            .leaks
            .iter()
            .map(|(view, what)| {
                format!(
                    "{view}: {} masked value(s) can be rebuilt, e.g. {:?}",
                    what.len(),
                    what.iter().take(3).collect::<Vec<_>>()
                )
            })
            .collect();
        ensure!(
            lines.is_empty(),
            "masking undone by inference:\n{}",
            lines.join("\n")
        );
        Ok(())
    }
}

/// Every page of a paged JSON list at `path` (`…?limit=500`), the items
/// under `key`.
async fn pages(client: &Raw, path: &str, key: &str) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let answer = client
            .get(&format!("{path}{sep}limit=500&offset={}", out.len()))
            .await?;
        let page = answer.ok()?.json();
        let items = page[key].as_array().cloned().unwrap_or_default();
        let total = page["total"].as_u64().unwrap_or(0) as usize;
        let empty = items.is_empty();
        out.extend(items);
        if empty || out.len() >= total {
            return Ok(out);
        }
    }
}

/// An export's rows (XLSX every sheet, CSV, GeoJSON features), each a unit.
fn file_units(format: &str, bytes: &[u8]) -> Result<Vec<Unit>> {
    let mut units = Vec::new();
    match format {
        "xlsx" => {
            let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec()))?;
            for name in book.sheet_names() {
                let range = book.worksheet_range(&name)?;
                for (n, row) in range.rows().enumerate().skip(1) {
                    let texts = row
                        .iter()
                        .filter(|c| !matches!(c, Data::Empty))
                        .map(ToString::to_string)
                        .collect();
                    units.push(Unit {
                        at: format!("{name} row {n}"),
                        texts,
                    });
                }
            }
        }
        "csv" => {
            let text = String::from_utf8(bytes.to_vec()).context("CSV is UTF-8")?;
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
            for (n, row) in reader.records().enumerate() {
                units.push(Unit {
                    at: format!("row {}", n + 1),
                    texts: row?.iter().map(str::to_string).collect(),
                });
            }
        }
        _ => {
            let fc: Value = serde_json::from_slice(bytes)?;
            for (n, f) in fc["features"].as_array().into_iter().flatten().enumerate() {
                units.push(json_unit(format!("feature {n}"), &f["properties"]));
            }
        }
    }
    Ok(units)
}

/// The demo's residents of `grid` with an ID number and a phone.
fn sampled_residents(grid: &str) -> Vec<&'static Resident> {
    demo()
        .residents
        .iter()
        .filter(|r| {
            r.meta.grid == grid
                && r.id_number.as_deref().is_some_and(|i| i.len() == 18)
                && r.phone.is_some()
        })
        .take(SAMPLE)
        .collect()
}

/// A worker edits the sampled residents so their history has values to
/// show: the ID number taken out and put back (core fills the birth date
/// from it again), and the emergency contact given the resident's own
/// phone (two fields, one number).
async fn edit_history(device: &mut Device, residents: &[&Resident]) -> Result<()> {
    for r in residents {
        let now = jiff::Timestamp::now();
        let author = Author::new(device.user(), now.as_millisecond());
        let today = shanghai_date(now);
        let phone = r.phone.clone().unwrap_or_default();
        device
            .store
            .update::<Resident>(r.meta.id, &author, today, |r| {
                r.id_number = None;
                r.birth_date = None;
                r.emergency_contact.phone = phone.clone();
            })?;
        let id = r.id_number.clone();
        device
            .store
            .update::<Resident>(r.meta.id, &author, today, |r| {
                r.id_number = id.clone();
            })?;
    }
    let progress = device.sync().await?;
    ensure!(
        progress.rejected.is_empty(),
        "the edits were refused: {:?}",
        progress.rejected
    );
    Ok(())
}

/// The console, the exports and the tablet: no masked ID number, phone or
/// name can be rebuilt from what the same view shows. Fails on the code
/// before item 3's fix: the record page and the history showed
/// `440103********5911` beside `1941-03-16`, and the tablet's rows carried
/// the clear name in their search text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item03_no_masked_value_can_be_rebuilt_from_the_view_that_shows_it() -> Result<()> {
    let trial = Trial::start().await?;
    let today = shanghai_date(jiff::Timestamp::now());
    let secrets = Secrets::of_demo();
    let worker = workers()[1];
    let sample = sampled_residents(&worker.grid);
    ensure!(
        sample.len() == SAMPLE,
        "the demo has {SAMPLE} residents to open"
    );
    let mut tablet = Device::enrol(&trial.server, &worker.id).await?;
    tablet.sync().await?;
    edit_history(&mut tablet, &sample).await?;

    let street = trial.console(&user(Role::StreetSupervisor).id).await?;
    let mut views = Vec::new();

    // The queue and the ledgers, as the console shows them.
    let queue = pages(&street, "/console/api/queue?status=all", "items").await?;
    views.push(View::masked(
        "queue",
        queue
            .iter()
            .map(|i| json_unit(i["id"].to_string(), i))
            .collect(),
    ));
    for list in ["queue", "incidents", "households", "residents", "patrols"] {
        let rows = pages(
            &street,
            &format!("/console/api/lists/{list}?status=all"),
            "rows",
        )
        .await?;
        ensure!(!rows.is_empty(), "the {list} ledger lists something");
        views.push(View::masked(
            format!("ledger {list}"),
            rows.iter()
                .map(|r| json_unit(r["id"].to_string(), r))
                .collect(),
        ));
    }

    // Each format of each ledger, masked as exported by default.
    for list in ["incidents", "households", "residents", "patrols"] {
        for format in ["xlsx", "csv", "geojson"] {
            let answer = street
                .get(&format!("/console/api/lists/{list}/export?format={format}"))
                .await?;
            let units = file_units(format, &answer.ok()?.body)?;
            views.push(View::masked(format!("export {list}.{format}"), units));
        }
    }
    let map = street.get("/console/api/map/incidents").await?;
    views.push(View::masked(
        "incidents map",
        file_units("geojson", &map.ok()?.body)?,
    ));

    // Record pages and their history: the sampled residents, households
    // and incidents with parties.
    let mut pages_view = Vec::new();
    let mut history_view = Vec::new();
    let opened: Vec<Uuid> = sample
        .iter()
        .map(|r| r.meta.id)
        .chain(
            demo()
                .households
                .iter()
                .filter(|h| h.owner_id_number.is_some())
                .take(10)
                .map(|h| h.meta.id),
        )
        .chain(
            demo()
                .incident_parties
                .iter()
                .filter(|p| !p.parties.is_empty())
                .take(10)
                .map(|p| p.incident),
        )
        .collect();
    for id in &opened {
        let mut page = street
            .get(&format!("/console/api/records/{id}"))
            .await?
            .ok()?
            .json();
        let history = page["history"].take();
        ensure!(history.is_array(), "record {id} has a history: {page}");
        pages_view.push(json_unit(id.to_string(), &page));
        history_view.push(json_unit(id.to_string(), &history));
    }
    views.push(View::masked("record page", pages_view));
    views.push(View::masked("field history", history_view));

    // The tablet's lists: the rows core's store gives the app's
    // `list_records` command, serialized as the command answers them.
    tablet.sync().await?;
    let mut rows = Vec::new();
    for kind in [
        gridwork_core::model::RecordKind::Resident,
        gridwork_core::model::RecordKind::Household,
        gridwork_core::model::RecordKind::Incident,
    ] {
        let q = ListQuery {
            kind: Some(kind),
            limit: Some(10_000),
            ..ListQuery::default()
        };
        rows.extend(tablet.store.list(&q)?);
        let first = sample[0].name.chars().next().unwrap_or('张').to_string();
        rows.extend(tablet.store.search(&first, &q)?);
    }
    ensure!(rows.len() > SAMPLE, "the tablet lists its grid");
    views.push(View::masked(
        "tablet list",
        rows.iter()
            .map(|p| {
                json_unit(
                    p.id.to_string(),
                    &serde_json::to_value(p).unwrap_or_default(),
                )
            })
            .collect(),
    ));

    let mut findings = Findings::default();
    for view in &views {
        findings.check(view, &secrets, today);
    }
    ensure!(
        findings.ids_checked >= SAMPLE * 10 && findings.phones_checked >= SAMPLE,
        "too little was checked to mean anything: {} ID numbers, {} phones",
        findings.ids_checked,
        findings.phones_checked
    );
    findings.ok()?;
    trial.finish().await
}

/// The ids of the demo's records an answer lists, in its order (the
/// well-behaved tablet's own households come and go during the case).
fn demo_rows(answer: &Value, key: &str) -> Vec<String> {
    let demo_ids: HashSet<String> = demo_ids();
    answer[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_str())
        .filter(|id| demo_ids.contains(*id))
        .map(str::to_string)
        .collect()
}

fn demo_ids() -> HashSet<String> {
    let d = demo();
    d.households
        .iter()
        .map(|r| r.meta.id)
        .chain(d.residents.iter().map(|r| r.meta.id))
        .chain(d.incidents.iter().map(|r| r.meta.id))
        .chain(d.patrols.iter().map(|r| r.meta.id))
        .chain(d.visits.iter().map(|r| r.meta.id))
        .map(|id| id.to_string())
        .collect()
}

/// No console list filters or sorts on a masked field: a user who sees an
/// ID number masked cannot probe its digits by asking for the rows that
/// match a guess. Parameters naming a masked field, or a text search,
/// change neither which of the demo's records are listed nor their order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item03_no_console_filter_or_sort_probes_a_masked_field() -> Result<()> {
    let trial = Trial::start().await?;
    let street = trial.console(&user(Role::StreetSupervisor).id).await?;
    let guess = demo()
        .residents
        .iter()
        .find_map(|r| r.id_number.clone())
        .context("a resident with an ID number")?;
    let probes = [
        format!("q={}", &guess[..10]),
        format!("search={}", &guess[..10]),
        format!("text={}", &guess[..10]),
        format!("id_number={}", &guess[..10]),
        "phone=138".to_string(),
        "name=张".to_string(),
        "sort=id_number".to_string(),
        "order=birth_date".to_string(),
    ];
    let mut asked = 0;
    for (path, key) in [
        ("/console/api/lists/residents?status=all&limit=500", "rows"),
        ("/console/api/lists/households?status=all&limit=500", "rows"),
        ("/console/api/lists/incidents?status=all&limit=500", "rows"),
        ("/console/api/lists/queue?status=all&limit=500", "rows"),
        ("/console/api/queue?status=all&limit=500", "items"),
    ] {
        let plain = demo_rows(&street.get(path).await?.ok()?.json(), key);
        ensure!(!plain.is_empty(), "{path} lists the demo's records");
        for probe in &probes {
            let probed = street.get(&format!("{path}&{probe}")).await?;
            if probed.status != 200 {
                continue;
            }
            asked += 1;
            ensure!(
                demo_rows(&probed.json(), key) == plain,
                "{path} answered &{probe} with other rows or another order: a masked field can be probed"
            );
        }
    }
    ensure!(asked > 0, "no probe was answered at all");
    trial.finish().await
}

/// A department handler who asks for the parties in clear gets their
/// names and phones, never a way back to their ID numbers: the exports
/// and the revealed record keep the ID numbers masked (with the region
/// code, since the names beside them are in clear) and many numbers fit
/// each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item03_a_handler_who_reveals_parties_cannot_rebuild_their_id_numbers() -> Result<()> {
    let trial = Trial::start().await?;
    let today = shanghai_date(jiff::Timestamp::now());
    let secrets = Secrets::of_demo();
    // The demo dispatches no incident whose parties carry an ID number to
    // a department: a street supervisor accepts and dispatches a dispute
    // that has some.
    let department = user(Role::DepartmentHandler)
        .department
        .clone()
        .context("the demo handler's department")?;
    let street = trial.console(&user(Role::StreetSupervisor).id).await?;
    let step = |id: Uuid, action: Value| {
        let street = &street;
        async move {
            let body = serde_json::json!({"action": action, "opinion": ""});
            street
                .post_json(&format!("/console/api/incidents/{id}/transition"), &body)
                .await
        }
    };
    let mut dispatched = 0;
    for parties in demo()
        .incident_parties
        .iter()
        .filter(|i| i.parties.iter().any(|p| p.id_number.len() == 18))
    {
        let id = parties.incident;
        step(id, serde_json::json!({"type": "accept"})).await?;
        let to = serde_json::json!({"kind": "department", "id": department, "name": department});
        let answer = step(
            id,
            serde_json::json!({"type": "dispatch", "to": to, "deadline_days": 3}),
        )
        .await?;
        if answer.status == 200 {
            dispatched += 1;
        }
        if dispatched == 3 {
            break;
        }
    }
    ensure!(
        dispatched > 0,
        "no incident with parties' ID numbers could be dispatched"
    );
    let handler = trial.console(&user(Role::DepartmentHandler).id).await?;
    let revealed = |name: String, units| View {
        name,
        pi_masked: false,
        units,
    };
    let mut views = Vec::new();
    for format in ["xlsx", "csv", "geojson"] {
        let answer = handler
            .get(&format!(
                "/console/api/lists/incidents/export?format={format}&reveal=true"
            ))
            .await?;
        let units = file_units(format, &answer.ok()?.body)?;
        views.push(revealed(format!("revealed incidents.{format}"), units));
    }
    let rows = pages(&handler, "/console/api/lists/incidents?status=all", "rows").await?;
    let mut shown = Vec::new();
    let mut with_parties = 0;
    for row in &rows {
        let id = row["id"].as_str().context("a row id")?;
        let answer = handler
            .post_json(
                &format!("/console/api/records/{id}/reveal"),
                &serde_json::json!({}),
            )
            .await?;
        let page = answer.ok()?.json();
        if page["record"]["parties"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
        {
            with_parties += 1;
        }
        shown.push(json_unit(id, &page));
    }
    views.push(revealed("revealed record".into(), shown));

    let mut findings = Findings::default();
    for view in &views {
        findings.check(view, &secrets, today);
    }
    // The parties are on the handler's pages, and none of their ID
    // numbers, in any form: a handler gets nothing of them (item 1), so
    // there is nothing to rebuild either.
    ensure!(
        with_parties > 0,
        "the handler's revealed incidents show no parties ({} incidents)",
        rows.len()
    );
    ensure!(
        findings.ids_checked == 0,
        "the handler's views show {} ID numbers",
        findings.ids_checked
    );
    findings.ok()?;
    trial.finish().await
}
