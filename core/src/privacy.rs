//! Masking of personal information: which fields are [PI] and [S], how
//! each kind of value is masked, and one function that masks a record for
//! a view.
//!
//! Every view of a record that is not entitled to a value in clear shows it
//! masked, and every such view gets it from here: the console's queue,
//! ledgers and record page, the field history, the XLSX, CSV and GeoJSON
//! exports, and the tablet's lists and forms. [`FIELDS`] lists the
//! protected fields of each record kind by path; [`Reveal`] says which
//! classes a view shows in clear; [`mask_record`] masks a record's JSON for
//! a `Reveal`; [`mask_name`], [`mask_phone`], [`mask_id_number`] and
//! [`mask_birth_date`] are the masks of single values.
//!
//! # The rule: a masked value cannot be rebuilt from its view
//!
//! A mask hides the part of a value that identifies; it is worthless if the
//! same view shows that part elsewhere. An ID number masked
//! `440103********5911` beside the birth date `1941-03-16` gives the whole
//! number back (the hidden eight digits *are* the birth date). So each
//! mask is chosen together with what stands beside it, and these pairs are
//! handled here:
//!
//! - **ID number and birth date.** The hidden digits of a masked ID number
//!   are exactly its birth date. A birth date is shown in full only where
//!   both [PI] and [S] are revealed, otherwise as its year alone (`1941`):
//!   the month and day stay hidden, about 365 / 11 ≈ 33 numbers fit what
//!   is shown. No view shows an age; one that does must count it from the
//!   year alone, or it narrows the date again.
//! - **ID number and gender.** The 17th digit's parity is the gender, and
//!   the mask keeps the last four characters (sequence and check), so a
//!   gender shown beside it tells nothing new. Gender stays in clear.
//! - **ID number and registered residence (户籍地).** The first six digits
//!   are the region the number was issued in, roughly the 户籍地. Where
//!   [PI] is revealed the 户籍地 is in clear, and so are the six region
//!   digits; where it is not, the 户籍地 is hidden whole and the ID number
//!   keeps only its two province digits (`44************5911`).
//! - **Legacy 15-digit ID numbers** (region, `YYMMDD`, sequence, no check
//!   character): masked so the whole birth date is hidden
//!   (`110105******123`), not the first six and last four, which kept one
//!   digit of the day.
//! - **The same phone number in two fields** (an emergency contact or a
//!   household owner whose phone is the resident's): every phone is [PI]
//!   and masked the same way, so two masks of one number hide the same
//!   digits. Free text (an incident's description, a comment, an opinion,
//!   a note) is the way a clear copy slips through: in a masked view every
//!   protected value of the record is replaced in its free text by its
//!   masked form, and so is anything shaped like a mobile or an ID number.
//! - **A household owner's name and ID number on a resident.** The owner
//!   is often a resident of the same household: both records mask the
//!   name and ID number with the same masks for the same `Reveal`, so no
//!   view shows one in clear and the other masked.
//! - **Care tags and the next visit due.** The visit cycle is set by the
//!   tags (7 days: elderly living alone or community correction; 14:
//!   severe mental disorder), so the due date tells which tag a resident
//!   has. Both are [S], hidden whole. Hidden whole means hidden even when
//!   empty: "no tags" against "***" would say who has one.
//! - **A patrol's track and its check-ins.** The track is [S]
//!   (whereabouts); the check-in points lie on it, so they are [S] too.
//! - **Search, filters and sorting.** A view that may only show a masked
//!   value must not let the user probe it: the console has no text search
//!   and filters and sorts on nothing protected (grid, status, kind,
//!   category, time; unknown parameters are ignored). A tablet's list
//!   rows carry no search text (a row's `search_text` is for the index
//!   only and never serialized, since it holds names in clear). The
//!   tablet's search indexes no [S] value (no ID number, tag or flag);
//!   it does match names and 户籍地 ([PI]): finding a person by name is a
//!   grid worker's daily work, the worker may reveal those fields of
//!   their grid anyway, and what it lists are masked rows.
//! - **Incident titles and free text in lists.** A list row's title made
//!   from free text (an incident's) is scrubbed like the record's free
//!   text ([`scrub_for`]).
//! - **A name with `·`** (热依拉·买买提) is starred whole after its first
//!   character, the dot too, so the mask does not show the parts' lengths.
//!
//! Staff acting in their role (an incident's assignee, a mediator, the
//! actors of a timeline, who created a record) are shown as they act, not
//! masked: a supervisor must see who handles what, and the console shows
//! them by user id or by the name they act under.
//!
//! Who may ask for a value in clear (a role, a channel) is not decided
//! here: callers pass the [`Reveal`] they are entitled to.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::model::RecordKind;
use crate::validate::parse_mobile;

/// What stands for a value hidden whole (flags, tags, a track, free text).
pub const HIDDEN: &str = "***";

/// How protected a field is (DOMAIN.md's marks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// [PI]: personal information.
    Pi,
    /// [S]: sensitive personal information.
    S,
}

impl Protection {
    /// The stable name stored and sent: `pi` or `s`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protection::Pi => "pi",
            Protection::S => "s",
        }
    }

    /// Parses [`Protection::as_str`]'s output.
    pub fn parse(s: &str) -> Option<Protection> {
        [Protection::Pi, Protection::S]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// Which protected classes a view shows in clear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Reveal {
    /// Personal information [PI]: names, phones, birth dates, places of
    /// origin.
    pub pi: bool,
    /// Sensitive personal information [S]: identity numbers, care and
    /// management tags, household flags, whereabouts.
    pub s: bool,
}

impl Reveal {
    /// Everything masked.
    pub const MASKED: Reveal = Reveal {
        pi: false,
        s: false,
    };

    /// Everything in clear.
    pub const ALL: Reveal = Reveal { pi: true, s: true };

    /// Whether values of `class` go out in clear.
    pub fn shows(self, class: Protection) -> bool {
        match class {
            Protection::Pi => self.pi,
            Protection::S => self.s,
        }
    }

    /// `""`, `"pi"`, `"s"` or `"pi,s"`, as the access log keeps it.
    pub fn label(self) -> &'static str {
        match (self.pi, self.s) {
            (false, false) => "",
            (true, false) => "pi",
            (false, true) => "s",
            (true, true) => "pi,s",
        }
    }
}

/// How a protected value is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// [`mask_name`]: the first character kept.
    Name,
    /// [`mask_phone`]: `138****5678`.
    Phone,
    /// [`mask_id_number`]: the birth date hidden, the region code only with
    /// [PI] revealed.
    IdNumber,
    /// [`mask_birth_date`]: the year only, unless [PI] and [S] are both
    /// revealed (the hidden digits of a masked ID number are this date).
    BirthDate,
    /// Hidden whole when not empty.
    Whole,
    /// Hidden whole even when empty or missing: whether there is one at
    /// all is itself protected.
    Presence,
}

/// A protected field of a record kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub kind: RecordKind,
    /// Dotted path in the record's JSON; `*` stands for any list index.
    pub path: &'static str,
    pub protection: Protection,
    pub mask: Mask,
}

impl Field {
    /// Whether a view with `reveal` shows this field in clear.
    pub fn shown(&self, reveal: Reveal) -> bool {
        match self.mask {
            Mask::BirthDate => reveal.pi && reveal.s,
            _ => reveal.shows(self.protection),
        }
    }

    /// The class a reveal of this field must be logged as: a birth date in
    /// full gives a masked ID number back, so it counts as [S].
    pub fn reveal_class(&self) -> Protection {
        match self.mask {
            Mask::BirthDate => Protection::S,
            _ => self.protection,
        }
    }
}

const fn field(kind: RecordKind, path: &'static str, protection: Protection, mask: Mask) -> Field {
    Field {
        kind,
        path,
        protection,
        mask,
    }
}

use Protection::{Pi, S};
use RecordKind::{Household, Incident, IncidentParties, Patrol, Resident, Visit};

/// Every protected field, by record kind and path (DOMAIN.md's [PI] and
/// [S] marks, plus what gives them away: see the module doc).
pub const FIELDS: &[Field] = &[
    field(Household, "owner_name", Pi, Mask::Name),
    field(Household, "owner_phone", Pi, Mask::Phone),
    field(Household, "owner_id_number", S, Mask::IdNumber),
    field(Household, "flags", S, Mask::Presence),
    field(Resident, "name", Pi, Mask::Name),
    field(Resident, "birth_date", Pi, Mask::BirthDate),
    field(Resident, "id_number", S, Mask::IdNumber),
    field(Resident, "phone", Pi, Mask::Phone),
    field(Resident, "registered_residence", Pi, Mask::Whole),
    field(Resident, "emergency_contact.name", Pi, Mask::Name),
    field(Resident, "emergency_contact.phone", Pi, Mask::Phone),
    field(Resident, "care_tags", S, Mask::Presence),
    field(Resident, "next_visit_due", S, Mask::Presence),
    field(Incident, "parties.*.name", Pi, Mask::Name),
    field(Incident, "parties.*.phone", Pi, Mask::Phone),
    field(Incident, "parties.*.id_number", S, Mask::IdNumber),
    field(IncidentParties, "parties.*.name", Pi, Mask::Name),
    field(IncidentParties, "parties.*.phone", Pi, Mask::Phone),
    field(IncidentParties, "parties.*.id_number", S, Mask::IdNumber),
    field(Patrol, "track", S, Mask::Presence),
    field(Patrol, "check_ins.*.point", S, Mask::Whole),
    field(Visit, "content", Pi, Mask::Whole),
];

/// Keys whose values are free text a person typed: a masked view scrubs
/// protected values out of them. Identifiers, codes and hashes are not
/// free text and are left alone.
const FREE_TEXT: &[&str] = &[
    "title",
    "description",
    "address",
    "detail",
    "minor",
    "notes",
    "note",
    "comment",
    "opinion",
    "measures",
    "outcome",
    "text",
    "relation",
    "role",
];

/// The protected field of `kind` at `path` (dotted, list indexes as
/// numbers or `*`), if any.
pub fn field_at(kind: RecordKind, path: &str) -> Option<&'static Field> {
    let parts: Vec<&str> = path.split('.').collect();
    FIELDS.iter().find(|f| {
        f.kind == kind && {
            let pattern: Vec<&str> = f.path.split('.').collect();
            pattern.len() == parts.len()
                && pattern
                    .iter()
                    .zip(&parts)
                    .all(|(p, q)| p == q || (*p == "*" && q.parse::<usize>().is_ok()))
        }
    })
}

/// The protected field at or above `path` (`care_tags.0.tag` is under
/// `care_tags`): a value below a protected one is as protected.
pub fn field_over(kind: RecordKind, path: &str) -> Option<&'static Field> {
    let mut end = path.len();
    loop {
        if let Some(f) = field_at(kind, &path[..end]) {
            return Some(f);
        }
        end = path[..end].rfind('.')?;
    }
}

/// A record's JSON (as the model serializes it) as a view with `reveal`
/// may show it: every protected field not revealed masked, and free text
/// scrubbed of the record's protected values and of anything shaped like
/// a mobile or ID number not revealed.
pub fn mask_record(kind: RecordKind, record: &Json, reveal: Reveal) -> Json {
    let mut secrets = Vec::new();
    let mut out = record.clone();
    mask_walk(kind, &mut out, &mut Vec::new(), reveal, &mut secrets);
    // Longest first, so a name inside a longer one is not replaced first.
    secrets.sort_by_key(|(clear, _): &(String, String)| std::cmp::Reverse(clear.chars().count()));
    scrub_walk(&mut out, None, &secrets, reveal);
    // A protected field missing from the JSON says nothing when its mask
    // hides presence: put the mark in.
    if let Json::Object(map) = &mut out {
        for f in FIELDS.iter().filter(|f| f.kind == kind && !f.shown(reveal)) {
            if f.mask == Mask::Presence && !f.path.contains('.') && !map.contains_key(f.path) {
                map.insert(f.path.to_string(), Json::String(HIDDEN.into()));
            }
        }
    }
    out
}

/// A record as a form shows it before the user reveals anything: the
/// record masked for [`Reveal::MASKED`], and the class each protected
/// path's reveal must be logged as ([`Field::reveal_class`]).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct MaskedView {
    /// Always an object: the record's fields by name.
    #[ts(type = "{ [key in string]?: JsonValue }")]
    pub record: Json,
    /// Paths as in [`FIELDS`] (`*` for any list index).
    pub classes: std::collections::BTreeMap<&'static str, Protection>,
}

/// The [`MaskedView`] of a record's JSON.
pub fn masked_view(kind: RecordKind, record: &Json) -> MaskedView {
    MaskedView {
        record: mask_record(kind, record, Reveal::MASKED),
        classes: FIELDS
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| (f.path, f.reveal_class()))
            .collect(),
    }
}

/// `text` (a list row's line made from a record's free text) as a view
/// with `reveal` may show it: scrubbed of the record's protected values
/// (`record` holds at least the protected fields) and of numbers shaped
/// like a mobile or ID number.
pub fn scrub_for(kind: RecordKind, record: &Json, text: &str, reveal: Reveal) -> String {
    let mut secrets = Vec::new();
    mask_walk(
        kind,
        &mut record.clone(),
        &mut Vec::new(),
        reveal,
        &mut secrets,
    );
    secrets.sort_by_key(|(clear, _): &(String, String)| std::cmp::Reverse(clear.chars().count()));
    scrub_text(text, &secrets, reveal)
}

/// [`mask_record`] of a typed record.
pub fn mask_any(record: &crate::model::AnyRecord, reveal: Reveal) -> Json {
    let json = serde_json::to_value(record).unwrap_or(Json::Null);
    mask_record(record.kind(), &json, reveal)
}

fn mask_walk(
    kind: RecordKind,
    value: &mut Json,
    path: &mut Vec<String>,
    reveal: Reveal,
    secrets: &mut Vec<(String, String)>,
) {
    if !path.is_empty()
        && let Some(f) = field_at(kind, &path.join("."))
    {
        if !f.shown(reveal) {
            let masked = mask_value(f.mask, value, reveal);
            if let (Json::String(clear), Json::String(m)) = (&*value, &masked)
                && clear.trim().chars().count() >= 2
                && clear.trim() != m
            {
                secrets.push((clear.trim().to_string(), m.clone()));
            }
            *value = masked;
        }
        return;
    }
    match value {
        Json::Object(map) => {
            for (k, v) in map.iter_mut() {
                path.push(k.clone());
                mask_walk(kind, v, path, reveal, secrets);
                path.pop();
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                path.push(i.to_string());
                mask_walk(kind, v, path, reveal, secrets);
                path.pop();
            }
        }
        _ => {}
    }
}

/// One value found at `path` of a `kind` record (a conflict's value, say)
/// as a view with `reveal` shows it: masked by the protected field it is
/// or lies in (a value inside a field hidden whole is hidden), free text
/// scrubbed of numbers shaped like a mobile or ID number, anything else as
/// it is. Prefer [`mask_record`] where the whole record is at hand: it
/// also scrubs the record's own protected values out of free text.
pub fn mask_at(kind: RecordKind, path: &str, value: &Json, reveal: Reveal) -> Json {
    match field_over(kind, path) {
        Some(f) if f.shown(reveal) => value.clone(),
        Some(f) if f.path.split('.').count() == path.split('.').count() => {
            mask_value(f.mask, value, reveal)
        }
        Some(_) => Json::String(HIDDEN.into()),
        None => {
            let key = path.rsplit('.').find(|k| k.parse::<usize>().is_err());
            let mut out = value.clone();
            scrub_walk(&mut out, key, &[], reveal);
            out
        }
    }
}

/// One value masked with `mask` for a view that does not reveal it.
pub fn mask_value(mask: Mask, value: &Json, reveal: Reveal) -> Json {
    let hidden = || Json::String(HIDDEN.into());
    match (mask, value) {
        (Mask::Presence, _) => hidden(),
        (_, Json::Null) => Json::Null,
        (_, Json::String(s)) if s.trim().is_empty() => Json::String(String::new()),
        (Mask::Name, Json::String(s)) => Json::String(mask_name(s)),
        (Mask::Phone, Json::String(s)) => Json::String(mask_phone(s)),
        (Mask::IdNumber, Json::String(s)) => Json::String(mask_id_number(s, reveal.pi)),
        (Mask::BirthDate, Json::String(s)) => Json::String(mask_birth_date(s)),
        _ => hidden(),
    }
}

fn scrub_walk(value: &mut Json, key: Option<&str>, secrets: &[(String, String)], reveal: Reveal) {
    match value {
        Json::Object(map) => {
            for (k, v) in map.iter_mut() {
                scrub_walk(v, Some(k), secrets, reveal);
            }
        }
        // A list's items are free text when the list's key says so.
        Json::Array(items) => {
            for v in items.iter_mut() {
                scrub_walk(v, key, secrets, reveal);
            }
        }
        Json::String(s) if key.is_some_and(|k| FREE_TEXT.contains(&k)) => {
            let scrubbed = scrub_text(s, secrets, reveal);
            if scrubbed != *s {
                *s = scrubbed;
            }
        }
        _ => {}
    }
}

/// Free text with the given clear values replaced by their masks, and
/// anything shaped like a mobile number ([PI]) or an 18- or 15-digit ID
/// number ([S]) masked unless `reveal` shows its class.
pub fn scrub_text(text: &str, secrets: &[(String, String)], reveal: Reveal) -> String {
    let mut out = text.to_string();
    for (clear, masked) in secrets {
        if out.contains(clear.as_str()) {
            out = out.replace(clear.as_str(), masked);
        }
    }
    scrub_numbers(&out, reveal)
}

/// Masks runs of digits (spaces or dashes between them allowed, a final
/// `X`/`x` for ID numbers, a `+86`/`86` before a mobile) shaped like a
/// mobile or an ID number.
fn scrub_numbers(text: &str, reveal: Reveal) -> String {
    if reveal.pi && reveal.s {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // A run: digits with single separators between them.
        let start = i;
        let mut end = i;
        let mut digits = String::new();
        let mut j = i;
        while j < chars.len() {
            let c = chars[j];
            if c.is_ascii_digit() {
                digits.push(c);
                j += 1;
                end = j;
            } else if (c == ' ' || c == '-')
                && chars.get(j + 1).is_some_and(char::is_ascii_digit)
                && j > start
            {
                j += 1;
            } else {
                break;
            }
        }
        if matches!(chars.get(end), Some('X' | 'x')) && digits.len() == 17 {
            digits.push('X');
            end += 1;
        }
        let run: String = chars[start..end].iter().collect();
        let mobile = digits
            .strip_prefix("86")
            .filter(|d| d.len() == 11)
            .unwrap_or(&digits);
        let masked = if is_mobile(mobile) && !reveal.pi {
            Some(mask_phone(mobile))
        } else if is_id_shaped(&digits) && !reveal.s {
            Some(mask_id_number(&digits, reveal.pi))
        } else {
            None
        };
        out.push_str(masked.as_deref().unwrap_or(&run));
        i = end;
    }
    out
}

fn is_mobile(digits: &str) -> bool {
    parse_mobile(digits).is_ok_and(|d| d == digits)
}

/// 17 digits and a digit or `X`, or 15 digits.
fn is_id_shaped(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X'))
        || (b.len() == 15 && b.iter().all(u8::is_ascii_digit))
}

/// Stars in the middle: the first `head` and last `tail` characters kept.
fn keep_ends(chars: &[char], head: usize, tail: usize) -> String {
    let n = chars.len();
    if head + tail >= n {
        return "*".repeat(n);
    }
    let mut s: String = chars[..head].iter().collect();
    s.push_str(&"*".repeat(n - head - tail));
    s.extend(&chars[n - tail..]);
    s
}

/// A [PI] name: the first character stays, every other becomes `*`
/// (张三丰 → 张**, 热依拉·买买提 → 热******).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// A phone number: a mobile [`parse_mobile`] accepts as `138****5678`.
///
/// Anything else is masked without failing, hiding at least half of it:
/// fewer than 8 characters are starred whole, longer ones keep only their
/// first two and last two (`02********78`).
pub fn mask_phone(s: &str) -> String {
    if let Ok(digits) = parse_mobile(s) {
        let chars: Vec<char> = digits.chars().collect();
        return keep_ends(&chars, 3, 4);
    }
    let chars: Vec<char> = s.trim().chars().collect();
    if chars.len() < 8 {
        "*".repeat(chars.len())
    } else {
        keep_ends(&chars, 2, 2)
    }
}

/// An ID number with its birth date hidden.
///
/// An 18-character number (GB 11643) keeps its sequence and check
/// characters, a 15-digit legacy one its sequence; the birth date between
/// is starred. The region code before it is kept whole when `region` (the
/// view shows [PI], so the 户籍地 beside it is in clear anyway), otherwise
/// only its two province digits: `440103********5911` /
/// `44************5911`, `110105******123`. Any other value (a passport
/// number) hides at least half of itself: fewer than 8 characters are
/// starred whole, longer ones keep their first two and last two.
/// Surrounding whitespace is dropped and a lowercase `x` made uppercase.
pub fn mask_id_number(s: &str, region: bool) -> String {
    let chars: Vec<char> = s.trim().chars().map(|c| c.to_ascii_uppercase()).collect();
    let shaped: String = chars.iter().collect();
    let head = if region { 6 } else { 2 };
    if is_id_shaped(&shaped) {
        let tail = if chars.len() == 18 { 4 } else { 3 };
        keep_ends(&chars, head, tail)
    } else if chars.len() < 8 {
        "*".repeat(chars.len())
    } else {
        keep_ends(&chars, 2, 2)
    }
}

/// A [PI] birth date (`YYYY-MM-DD`) as its year alone; anything else
/// hidden whole.
pub fn mask_birth_date(s: &str) -> String {
    let s = s.trim();
    match s.get(..4) {
        Some(year) if year.bytes().all(|b| b.is_ascii_digit()) && s.len() > 4 => year.to_string(),
        _ if s.is_empty() => String::new(),
        _ => HIDDEN.into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_keep_their_first_character() {
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name(" 欧阳明月 "), "欧***");
        assert_eq!(mask_name("热依拉·买买提"), "热******");
        assert_eq!(mask_name("李"), "李");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn mobiles_hide_their_middle_four() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+86 138-1234-5678"), "138****5678");
    }

    #[test]
    fn short_and_odd_phones_hide_at_least_half() {
        assert_eq!(mask_phone("1234567"), "*******");
        assert_eq!(mask_phone("123"), "***");
        assert_eq!(mask_phone("12345678"), "12****78");
        assert_eq!(mask_phone("010-12345678"), "01********78");
        assert_eq!(mask_phone("1381234567"), "13******67");
        assert_eq!(mask_phone(""), "");
        for s in [
            "1",
            "12345",
            "1234567",
            "12345678",
            "020-1234567",
            "138123456789",
        ] {
            let m = mask_phone(s);
            let hidden = m.chars().filter(|c| *c == '*').count();
            assert!(hidden * 2 >= s.chars().count(), "{s} → {m}");
        }
    }

    #[test]
    fn id_numbers_hide_the_birth_date_and_the_district_unless_pi_is_shown() {
        assert_eq!(
            mask_id_number("11010119900307123X", true),
            "110101********123X"
        );
        assert_eq!(
            mask_id_number(" 11010119900307123x ", true),
            "110101********123X"
        );
        assert_eq!(
            mask_id_number("11010119900307123X", false),
            "11************123X"
        );
    }

    #[test]
    fn legacy_fifteen_digit_numbers_hide_the_whole_birth_date() {
        // 110105 491231 002: region, YYMMDD, sequence.
        assert_eq!(mask_id_number("110105491231002", true), "110105******002");
        assert_eq!(mask_id_number("110105491231002", false), "11**********002");
    }

    #[test]
    fn other_numbers_hide_at_least_half() {
        assert_eq!(mask_id_number("E12345678", true), "E1*****78");
        assert_eq!(mask_id_number("1234567", true), "*******");
        assert_eq!(mask_id_number("", true), "");
    }

    #[test]
    fn birth_dates_keep_the_year() {
        assert_eq!(mask_birth_date("1941-03-16"), "1941");
        assert_eq!(mask_birth_date("yesterday"), HIDDEN);
        assert_eq!(mask_birth_date(""), "");
    }

    #[test]
    fn protection_round_trips() {
        for p in [Protection::Pi, Protection::S] {
            assert_eq!(Protection::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), json!(p.as_str()));
        }
        assert_eq!(Reveal::MASKED.label(), "");
        assert_eq!(Reveal::ALL.label(), "pi,s");
    }

    fn resident() -> Json {
        json!({
            "kind": "resident",
            "id": "0190c3a4-0000-7000-8000-000000000001",
            "grid": "440106001001001",
            "name": "张三丰",
            "gender": "male",
            "birth_date": "1941-03-16",
            "id_type": "resident_id",
            "id_number": "440103194103165911",
            "phone": "13812345678",
            "registered_residence": "广东省广州市荔湾区",
            "emergency_contact": {"name": "张小丰", "phone": "13812345678", "relation": "儿子"},
            "care_tags": [],
            "next_visit_due": null,
            "review": [{"decision": "return", "by": "cs-1", "at": 1, "comment": "张三丰的电话 138 1234 5678 不对，身份证440103194103165911"}]
        })
    }

    #[test]
    fn a_masked_resident_shows_no_value_that_gives_the_id_number_back() {
        let m = mask_record(RecordKind::Resident, &resident(), Reveal::MASKED);
        assert_eq!(m["name"], "张**");
        assert_eq!(m["birth_date"], "1941");
        assert_eq!(m["id_number"], "44************5911");
        assert_eq!(m["phone"], "138****5678");
        assert_eq!(m["registered_residence"], HIDDEN);
        assert_eq!(m["emergency_contact"]["name"], "张**");
        assert_eq!(m["emergency_contact"]["phone"], "138****5678");
        assert_eq!(m["emergency_contact"]["relation"], "儿子");
        assert_eq!(m["care_tags"], HIDDEN, "no tags is hidden too");
        assert_eq!(m["next_visit_due"], HIDDEN);
        assert_eq!(m["gender"], "male");
        assert_eq!(m["grid"], "440106001001001", "codes are not scrubbed");
        assert_eq!(
            m["review"][0]["comment"],
            "张**的电话 138****5678 不对，身份证44************5911"
        );
    }

    #[test]
    fn revealing_pi_keeps_the_birth_date_to_its_year_while_the_id_number_is_masked() {
        let pi = Reveal { pi: true, s: false };
        let m = mask_record(RecordKind::Resident, &resident(), pi);
        assert_eq!(m["name"], "张三丰");
        assert_eq!(m["phone"], "13812345678");
        assert_eq!(m["birth_date"], "1941");
        assert_eq!(m["registered_residence"], "广东省广州市荔湾区");
        assert_eq!(m["id_number"], "440103********5911");
        assert_eq!(
            m["review"][0]["comment"],
            "张三丰的电话 138 1234 5678 不对，身份证440103********5911"
        );
        assert_eq!(
            mask_record(RecordKind::Resident, &resident(), Reveal::ALL),
            resident()
        );
    }

    #[test]
    fn a_missing_presence_field_is_marked_hidden() {
        let m = mask_record(
            RecordKind::Household,
            &json!({"owner_name": "王芳"}),
            Reveal::MASKED,
        );
        assert_eq!(m["flags"], HIDDEN);
        assert_eq!(m["owner_name"], "王*");
    }

    #[test]
    fn parties_and_tracks_are_masked_by_path() {
        let incident = json!({
            "title": "噪音",
            "description": "李四（13900001111）投诉",
            "photos": [{"sha256": "13800001111aaaa"}],
            "parties": [{"name": "李四", "phone": "13900001111", "id_number": "11010519491231002X", "role": "当事人"}],
        });
        let m = mask_record(RecordKind::Incident, &incident, Reveal::MASKED);
        assert_eq!(m["parties"][0]["name"], "李*");
        assert_eq!(m["parties"][0]["phone"], "139****1111");
        assert_eq!(m["parties"][0]["id_number"], "11************002X");
        assert_eq!(m["description"], "李*（139****1111）投诉");
        assert_eq!(
            m["photos"][0]["sha256"], "13800001111aaaa",
            "hashes are not text"
        );
        let patrol = json!({"track": [{"lon": 1.0, "lat": 2.0}], "check_ins": [{"point": {"lon": 1.0}, "note": "ok"}]});
        let m = mask_record(RecordKind::Patrol, &patrol, Reveal { pi: true, s: false });
        assert_eq!(m["track"], HIDDEN);
        assert_eq!(m["check_ins"][0]["point"], HIDDEN);
        assert_eq!(m["check_ins"][0]["note"], "ok");
    }

    #[test]
    fn a_value_alone_is_masked_by_its_path() {
        let r = Reveal::MASKED;
        let k = RecordKind::Resident;
        assert_eq!(mask_at(k, "phone", &json!("13812345678"), r), "138****5678");
        assert_eq!(mask_at(k, "birth_date", &json!("1941-03-16"), r), "1941");
        assert_eq!(
            mask_at(k, "care_tags.0.tag", &json!("disability"), r),
            HIDDEN
        );
        assert_eq!(
            mask_at(k, "review.0.comment", &json!("电话13812345678"), r),
            "电话138****5678"
        );
        assert_eq!(mask_at(k, "ethnicity", &json!("汉族"), r), "汉族");
        assert_eq!(
            mask_at(
                RecordKind::Incident,
                "parties.1.id_number",
                &json!("11010519491231002X"),
                r
            ),
            "11************002X"
        );
        assert_eq!(
            mask_at(k, "phone", &json!("13812345678"), Reveal::ALL),
            "13812345678"
        );
    }

    #[test]
    fn fields_are_found_under_their_path() {
        let f = field_over(RecordKind::Resident, "care_tags.0.tag").unwrap();
        assert_eq!(f.path, "care_tags");
        assert_eq!(
            field_at(RecordKind::Incident, "parties.3.phone").map(|f| f.mask),
            Some(Mask::Phone)
        );
        assert!(field_at(RecordKind::Incident, "parties.x.phone").is_none());
        assert!(field_over(RecordKind::Resident, "gender").is_none());
        assert_eq!(
            field_at(RecordKind::Resident, "birth_date").map(Field::reveal_class),
            Some(Protection::S)
        );
    }

    #[test]
    fn numbers_in_text_are_masked_unless_their_class_is_shown() {
        let r = Reveal::MASKED;
        assert_eq!(
            scrub_numbers("电话+86 13812345678。", r),
            "电话+138****5678。"
        );
        assert_eq!(scrub_numbers("2026-05-17 13:00", r), "2026-05-17 13:00");
        assert_eq!(
            scrub_numbers("工单 GD2026051700001", r),
            "工单 GD2026051700001"
        );
        assert_eq!(
            scrub_numbers("证件 11010519491231002x", r),
            "证件 11************002X"
        );
        assert_eq!(
            scrub_numbers("证件 110105491231002", Reveal { pi: true, s: false }),
            "证件 110105******002"
        );
    }
}
