//! Who sees what: the one place that decides a user's scope (their grid
//! subtree) and what of a record their role receives, on every channel a
//! record leaves the server by: device sync, the repair path, photo blobs,
//! the console's lists and pages, exports and the field history. Every
//! caller asks here; nothing else compares grid paths or roles to decide
//! visibility.
//!
//! **The rule.** No role receives, on any channel, a field it may not see
//! in clear. [`TABLE`] says, for each role, channel and class of field
//! (plain, [PI], [S] as DOMAIN.md marks them), what the role gets
//! ([`Gets`]): nothing, a masked value, a masked value it may reveal (the
//! reveal is logged), or the value in clear. Its console page column is
//! what a console user may reveal ([`reveal_allowed`]).
//!
//! **A record is visible** when it lies in the user's subtree ([`within`])
//! and the role needs it ([`needs_to_know`]): a department handler's grid
//! is a whole street, so handlers get only the incidents dispatched to
//! them, on every channel; everyone else gets every record of their
//! subtree.
//!
//! **Devices get whole documents, so documents follow visibility.** A
//! device channel sends Automerge changes, and a change cannot be redacted
//! once a device holds it. So a device is sent a document only if its role
//! may have in clear every class of field the document can hold, history
//! included ([`carries`]). That is why an incident's parties (names,
//! phones, ID numbers, [S]) are a record of their own,
//! [`gridwork_core::model::IncidentParties`]: grid staff and supervisors
//! receive it like any record; department handlers never do, on any device
//! channel, and see a dispatched incident's parties only on its console
//! page, names and phones masked unless they reveal, never the ID numbers.
//! Incidents that held their parties before the split keep them in their
//! history: the data migration ([`crate::migrate`]) marks them
//! (`pi_history`), and handlers are no longer sent them on a device; they
//! work them in the console, whose history drops the party paths for them
//! ([`history_field_shown`]).
//!
//! **Admins do not sync records to a device.** They set up grids, users and
//! devices; `/v1/login` refuses them ([`may_enrol_device`]), and a token
//! issued before that rule gets nothing from a pull, the repair path or
//! blob downloads (logged). In the console they see their subtree masked
//! and may reveal nothing.

pub mod reveals;

use std::collections::HashMap;

use automerge::{AutoCommit, ROOT, ReadDoc};
use gridwork_core::calendar::WorkCalendar;
use gridwork_core::doc::RecordDoc;
use gridwork_core::model::{AnyRecord, IncidentParties, Party, RecordKind, Role, User};
use gridwork_core::privacy::Reveal;
use gridwork_core::workflow::{Assignee, AssigneeKind, Derived};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::auth::{ConsoleUser, SERVER_USER, Session};
use crate::index::{Loaded, Summary, load};
use crate::storage::projections::Dispatchee;
use crate::storage::{Storage, StorageError, StoredDoc};

/// Where a record leaves the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// `POST /v1/sync`: the pull of a device.
    DeviceSync,
    /// `POST /v1/repair/{doc}`: one document, to a device.
    Repair,
    /// `GET /v1/blobs/{sha}?doc=`: a record's photo, to a device.
    Blobs,
    /// The console's queue, ledgers, dashboard, map and tasks.
    ConsoleList,
    /// The console's record page (and its reveal, and photos).
    ConsolePage,
    /// Ledger and dashboard exports (XLSX, CSV, GeoJSON).
    Export,
    /// The console's field history of a record.
    History,
}

impl Channel {
    /// Every channel, in [`TABLE`]'s column order.
    pub const ALL: [Channel; 7] = [
        Channel::DeviceSync,
        Channel::Repair,
        Channel::Blobs,
        Channel::ConsoleList,
        Channel::ConsolePage,
        Channel::Export,
        Channel::History,
    ];

    /// The channels that send documents (or their photos) to a device.
    pub fn is_device(self) -> bool {
        matches!(self, Channel::DeviceSync | Channel::Repair | Channel::Blobs)
    }
}

/// How protected a field is (DOMAIN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Everything not marked.
    Plain,
    /// [PI] personal information: names, phones, birth dates …
    Pi,
    /// [S] sensitive personal information: ID numbers, care and
    /// management tags, whereabouts …
    S,
}

impl Class {
    /// Every class, in [`TABLE`]'s cell order.
    pub const ALL: [Class; 3] = [Class::Plain, Class::Pi, Class::S];
}

/// What a role gets of a class of field on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gets {
    /// Never sent, not even masked.
    Nothing,
    /// Sent masked, never in clear.
    Masked,
    /// Sent masked; in clear when the user asks, and the ask is logged.
    OnReveal,
    /// Sent in clear. On a device channel that is the document itself; the
    /// app masks [PI]/[S] on screen and logs its reveals.
    Clear,
}

use Gets::{Clear, Masked, Nothing, OnReveal};

/// A cell of [`TABLE`]: what plain, [PI] and [S] fields come to.
type Cell = [Gets; 3];

const NONE: Cell = [Nothing, Nothing, Nothing];
/// A device channel that carries whole documents of every class.
const WHOLE: Cell = [Clear, Clear, Clear];
/// A device channel for a role that may not see [S] in clear: only
/// documents without [S] fields, in their history too.
const NO_S: Cell = [Clear, Clear, Nothing];
/// A photo is plain; a blob carries no field.
const PHOTO: Cell = [Clear, Nothing, Nothing];
const MASKED: Cell = [Clear, Masked, Masked];
const REVEAL: Cell = [Clear, OnReveal, OnReveal];
const MASKED_NO_S: Cell = [Clear, Masked, Nothing];
const REVEAL_NO_S: Cell = [Clear, OnReveal, Nothing];

/// Who gets what, where. Columns: device sync, repair, blobs, console
/// list, console page, export, history ([`Channel::ALL`]); each cell is
/// (plain, [PI], [S]).
///
/// | role | sync | repair | blobs | list | page | export | history |
/// | --- | --- | --- | --- | --- | --- | --- | --- |
/// | grid worker, grid leader | all clear | all clear | photo | – | – | – | – |
/// | community, street supervisor | all clear | all clear | photo | masked | reveal PI, S | reveal PI, S | masked |
/// | department handler | no [S] | no [S] | photo | masked, no [S] | reveal PI, no [S] | reveal PI, no [S] | masked, no [S] |
/// | admin | – | – | – | masked | masked | masked | masked |
pub const TABLE: [(Role, [Cell; 7]); 6] = [
    (
        Role::GridWorker,
        [WHOLE, WHOLE, PHOTO, NONE, NONE, NONE, NONE],
    ),
    (
        Role::GridLeader,
        [WHOLE, WHOLE, PHOTO, NONE, NONE, NONE, NONE],
    ),
    (
        Role::CommunitySupervisor,
        [WHOLE, WHOLE, PHOTO, MASKED, REVEAL, REVEAL, MASKED],
    ),
    (
        Role::StreetSupervisor,
        [WHOLE, WHOLE, PHOTO, MASKED, REVEAL, REVEAL, MASKED],
    ),
    (
        Role::DepartmentHandler,
        [
            NO_S,
            NO_S,
            PHOTO,
            MASKED_NO_S,
            REVEAL_NO_S,
            REVEAL_NO_S,
            MASKED_NO_S,
        ],
    ),
    (
        Role::Admin,
        [NONE, NONE, NONE, MASKED, MASKED, MASKED, MASKED],
    ),
];

/// What `role` gets of `class` on `channel`.
pub fn gets(role: Role, class: Class, channel: Channel) -> Gets {
    let column = Channel::ALL.iter().position(|c| *c == channel);
    let cell = Class::ALL.iter().position(|c| *c == class);
    TABLE
        .iter()
        .find(|(r, _)| *r == role)
        .zip(column.zip(cell))
        .map_or(Nothing, |((_, row), (column, cell))| row[column][cell])
}

/// Whether `role` may sign in on a device (`/v1/login`): only roles that
/// receive records on a device.
pub fn may_enrol_device(role: Role) -> bool {
    gets(role, Class::Plain, Channel::DeviceSync) != Nothing
}

/// Whether `role` may sign in to the console.
pub fn may_use_console(role: Role) -> bool {
    gets(role, Class::Plain, Channel::ConsoleList) != Nothing
}

/// What a console user may have in clear when they ask: the console page
/// column of [`TABLE`].
pub fn reveal_allowed(role: Role) -> Reveal {
    let on_reveal = |class| gets(role, class, Channel::ConsolePage) == OnReveal;
    Reveal {
        pi: on_reveal(Class::Pi),
        s: on_reveal(Class::S),
    }
}

/// The most protected class of field a document of `kind` can hold, its
/// history included (`pi_history`: the document once carried fields of
/// another record, see [`crate::migrate`]).
pub fn carries(kind: RecordKind, pi_history: bool) -> Class {
    match kind {
        // Owner ID numbers and flags, ID numbers and care tags, the
        // parties' ID numbers, GPS tracks (whereabouts).
        RecordKind::Household
        | RecordKind::Resident
        | RecordKind::IncidentParties
        | RecordKind::Patrol => Class::S,
        // A mediator's name; once the parties too.
        RecordKind::Incident if pi_history => Class::S,
        RecordKind::Incident => Class::Pi,
        // What was said on a visit.
        RecordKind::Visit => Class::Pi,
        // Lines name households by address and residents masked.
        RecordKind::Task => Class::Plain,
    }
}

// ---------------------------------------------------------------- scope

/// The materialized path of the user's grid (`/city/…/grid/`), the root of
/// everything they may see; `None` if their grid does not exist.
pub fn scope_path(storage: &dyn Storage, user: &User) -> Result<Option<String>, StorageError> {
    storage.grid_path(&user.grid)
}

/// Whether the grid at `path` lies in the subtree at `scope` (both
/// materialized paths, which end with `/`).
pub fn within(path: &str, scope: &str) -> bool {
    path.starts_with(scope)
}

/// Whether grid `code` exists and lies in the subtree at `scope`.
pub fn grid_within(storage: &dyn Storage, code: &str, scope: &str) -> Result<bool, StorageError> {
    Ok(storage.grid_path(code)?.is_some_and(|p| within(&p, scope)))
}

/// The path of `grid` when it lies in the subtree at `scope`; the scope
/// itself when no grid is named. `None` for a grid outside it (or none).
pub fn narrowed(
    storage: &dyn Storage,
    scope: &str,
    grid: Option<&str>,
) -> Result<Option<String>, StorageError> {
    match grid.filter(|g| !g.is_empty()) {
        None => Ok(Some(scope.to_string())),
        Some(g) => Ok(storage.grid_path(g)?.filter(|p| within(p, scope))),
    }
}

// ---------------------------------------------------------------- records

/// Whether a department handler is the one an incident is dispatched to:
/// in person, or through their department.
pub fn dispatched_to(user: &User, assignee: Option<&Assignee>) -> bool {
    match assignee {
        None => false,
        Some(a) => match a.kind {
            AssigneeKind::Person => a.id == user.id,
            AssigneeKind::Department => user
                .department
                .as_deref()
                .is_some_and(|d| !d.is_empty() && (a.id == d || a.name == d)),
        },
    }
}

/// Whether the user's role needs a record of their subtree: department
/// handlers need only the incidents dispatched to them, not the
/// register's personal data (households, residents), patrols, visits,
/// tasks, parties or another department's incidents.
pub fn needs_to_know(user: &User, record: &AnyRecord, derived: Option<&Derived>) -> bool {
    if user.role != Role::DepartmentHandler {
        return true;
    }
    matches!(record, AnyRecord::Incident(_))
        && derived.is_some_and(|d| dispatched_to(user, d.assignee.as_ref()))
}

/// Whom [`listed`] narrows a console list to, as the list query takes it
/// (`crate::storage::projections::ListFilter`): a department handler sees
/// only the incidents [`dispatched_to`] them, everyone else every record
/// of their subtree. The query's SQL is [`dispatched_to`] over the stored
/// assignee; `listed` stays the rule for a single record.
pub fn list_reader(user: &User) -> Option<Dispatchee> {
    (user.role == Role::DepartmentHandler).then(|| Dispatchee {
        user_id: user.id.clone(),
        department: user.department.clone().unwrap_or_default(),
    })
}

/// The kinds a console list may hold: never an incident's parties by
/// themselves (they are shown with their incident).
pub fn listable(kind: RecordKind) -> bool {
    kind != RecordKind::IncidentParties
}

/// Whether a record's summary is listed in the user's console lists (of
/// their subtree): what they need to know, and never an incident's
/// parties by themselves (they are shown with their incident).
pub fn listed(user: &User, s: &Summary) -> bool {
    if !listable(s.kind) {
        return false;
    }
    if user.role != Role::DepartmentHandler {
        return true;
    }
    s.incident
        .as_ref()
        .is_some_and(|i| dispatched_to(user, i.assignee.as_ref()))
}

// ---------------------------------------------------------------- devices

/// Whether `role` is sent every document of its subtree on a device
/// `channel`, so nothing need be read to decide: it may have every class in
/// clear and needs every record.
pub fn sends_whole_subtree(role: Role, channel: Channel) -> bool {
    channel.is_device()
        && role != Role::DepartmentHandler
        && Class::ALL.iter().all(|c| gets(role, *c, channel) == Clear)
}

/// Whether a stored document of the user's subtree goes to their device on
/// `channel`. For blobs, whether the record whose photo is asked for is
/// one the device receives.
pub fn device_sends(
    user: &User,
    channel: Channel,
    stored: &StoredDoc,
    calendar: &WorkCalendar,
) -> Result<bool, StorageError> {
    let channel = match channel {
        // A photo goes where its record went.
        Channel::Blobs if gets(user.role, Class::Plain, Channel::Blobs) == Clear => {
            Channel::DeviceSync
        }
        Channel::DeviceSync | Channel::Repair => channel,
        _ => return Ok(false),
    };
    if sends_whole_subtree(user.role, channel) {
        return Ok(true);
    }
    let Some(kind) = RecordKind::parse(&stored.kind) else {
        return Ok(false);
    };
    if gets(user.role, carries(kind, stored.pi_history), channel) != Clear {
        return Ok(false);
    }
    if user.role != Role::DepartmentHandler {
        return Ok(true);
    }
    let loaded = load(&stored.snapshot, calendar).map_err(StorageError::Corrupt)?;
    Ok(needs_to_know(user, &loaded.record, loaded.derived.as_ref()))
}

/// The stored document `doc`, if it lies in the user's subtree and goes to
/// their device on `channel` (the repair path, blob downloads).
pub fn device_doc(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    session: &Session,
    doc: Uuid,
    channel: Channel,
) -> Result<Option<StoredDoc>, StorageError> {
    let user = &session.user;
    if gets(user.role, Class::Plain, channel) == Nothing {
        refused_device(session, channel);
        return Ok(None);
    }
    let Some(stored) = storage.load_doc(doc)? else {
        return Ok(None);
    };
    let Some(scope) = scope_path(storage, user)? else {
        return Ok(None);
    };
    if !grid_within(storage, &stored.grid, &scope)?
        || !device_sends(user, channel, &stored, calendar)?
    {
        return Ok(None);
    }
    Ok(Some(stored))
}

/// Whether a device session gets anything at all on `channel`; logs the
/// refusal when it gets nothing (an admin's token from before admins were
/// refused at login). The console's own pushes run the sync round trip
/// with its enrolment and never read the pull: not logged.
pub fn device_channel_open(session: &Session, channel: Channel) -> bool {
    let open = gets(session.user.role, Class::Plain, channel) != Nothing;
    if !open && !session.is_console() {
        refused_device(session, channel);
    }
    open
}

fn refused_device(session: &Session, channel: Channel) {
    tracing::warn!(
        user = %session.user.id,
        role = ?session.user.role,
        device = %session.device_id,
        ?channel,
        "a device channel refused: this role receives no records on a device"
    );
}

/// Whether `session` may read the photos of the stored document `doc` (a
/// push naming a photo that such a record already holds is as good as the
/// user's own upload, see [`crate::blob_grants`]): the record lies in the
/// user's subtree and, from a device, goes to it on [`Channel::Blobs`]
/// ([`device_doc`]); from the console, whose pushes run with its own
/// enrolment, it is a record page of theirs ([`console_record`]'s rule).
pub fn photos_readable(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    session: &Session,
    doc: Uuid,
) -> Result<bool, StorageError> {
    if !session.is_console() {
        return Ok(device_doc(storage, calendar, session, doc, Channel::Blobs)?.is_some());
    }
    let user = &session.user;
    if gets(user.role, Class::Plain, Channel::ConsolePage) == Nothing {
        return Ok(false);
    }
    let (Some(stored), Some(scope)) = (storage.load_doc(doc)?, scope_path(storage, user)?) else {
        return Ok(false);
    };
    if !grid_within(storage, &stored.grid, &scope)? {
        return Ok(false);
    }
    let loaded = load(&stored.snapshot, calendar).map_err(StorageError::Corrupt)?;
    Ok(needs_to_know(user, &loaded.record, loaded.derived.as_ref()))
}

// ---------------------------------------------------------------- console

/// Why a console page cannot have a record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// No such record, or not one the user may see: the same answer, so
    /// the console does not reveal what exists elsewhere.
    #[error("no such record in the user's grids")]
    NotFound,
    #[error("the stored record is damaged: {0}")]
    Damaged(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Loads a record the console user may see: in their subtree and needed by
/// their role; `NotFound` otherwise, whether or not it exists.
pub fn console_record(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    who: &ConsoleUser,
    id: Uuid,
) -> Result<(Loaded, Vec<u8>, i64), RecordError> {
    let stored = storage.load_doc(id)?.ok_or(RecordError::NotFound)?;
    if !grid_within(storage, &stored.grid, &who.scope_path)? {
        return Err(RecordError::NotFound);
    }
    let loaded = load(&stored.snapshot, calendar).map_err(RecordError::Damaged)?;
    if !needs_to_know(&who.session.user, &loaded.record, loaded.derived.as_ref()) {
        return Err(RecordError::NotFound);
    }
    Ok((loaded, stored.snapshot, stored.rev))
}

/// Whose entries of the access log `user` may read in the console: an
/// admin everyone's (`None`), anyone else their own.
pub fn access_log_of(user: &User) -> Option<&str> {
    (user.role != Role::Admin).then_some(user.id.as_str())
}

/// Parties as `user` gets them on a console `channel`: a field class the
/// role gets nothing of is emptied (a handler's parties have no ID
/// numbers, not even masked). Masking what is left is the caller's.
pub fn parties_shown(user: &User, channel: Channel, mut parties: Vec<Party>) -> Vec<Party> {
    if gets(user.role, Class::S, channel) == Nothing {
        for p in &mut parties {
            p.id_number.clear();
        }
    }
    if gets(user.role, Class::Pi, channel) == Nothing {
        for p in &mut parties {
            p.name.clear();
            p.phone.clear();
        }
    }
    parties
}

/// The parties of `incidents` (ids of incidents the user may list, from
/// the subtree at `scope`) as `user` gets them on `channel`, by incident:
/// the ledger's parties columns. Reads each incident's parties record as
/// the ledgers do ([`crate::index::ledger_records`]); a record outside
/// `scope`, deleted or unreadable gives none.
pub fn ledger_parties(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    user: &User,
    scope: &str,
    incidents: &[Uuid],
    channel: Channel,
) -> Result<HashMap<Uuid, Vec<Party>>, StorageError> {
    // The parties records as the ledgers read them (no document decoded),
    // each grid's scope asked once.
    let ids: Vec<Uuid> = incidents
        .iter()
        .map(|i| IncidentParties::id_for(*i))
        .collect();
    let mut out = HashMap::new();
    let mut grids: HashMap<String, bool> = HashMap::new();
    for (id, record, _) in crate::index::ledger_records(storage, &ids, calendar)? {
        let AnyRecord::IncidentParties(p) = record else {
            continue;
        };
        if p.meta.deleted || IncidentParties::id_for(p.incident) != id {
            continue;
        }
        let within = match grids.get(&p.meta.grid) {
            Some(w) => *w,
            None => {
                let w = grid_within(storage, &p.meta.grid, scope)?;
                grids.insert(p.meta.grid.clone(), w);
                w
            }
        };
        if within {
            out.insert(p.incident, parties_shown(user, channel, p.parties));
        }
    }
    Ok(out)
}

/// A console page's record JSON with an incident's parties (from its
/// linked record) put under `parties`, as the user gets them, in clear:
/// the caller masks the whole record with
/// [`gridwork_core::privacy::mask_record`], parties and all, so a party's
/// name in the incident's text is masked like the party. Other records are
/// returned as they are.
pub fn with_parties(
    storage: &dyn Storage,
    calendar: &WorkCalendar,
    who: &ConsoleUser,
    record: &AnyRecord,
    mut json: Json,
) -> Result<Json, RecordError> {
    let AnyRecord::Incident(incident) = record else {
        return Ok(json);
    };
    let id = IncidentParties::id_for(incident.meta.id);
    let parties = match storage.load_doc(id)? {
        Some(stored) if grid_within(storage, &stored.grid, &who.scope_path)? => {
            match load(&stored.snapshot, calendar)
                .map_err(RecordError::Damaged)?
                .record
            {
                AnyRecord::IncidentParties(p)
                    if !p.meta.deleted && p.incident == incident.meta.id =>
                {
                    p.parties
                }
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    };
    let parties = parties_shown(&who.session.user, Channel::ConsolePage, parties);
    if let Json::Object(map) = &mut json {
        let value =
            serde_json::to_value(parties).map_err(|e| RecordError::Damaged(e.to_string()))?;
        map.insert("parties".into(), value);
    }
    Ok(json)
}

/// Whether the field at `path` of a record of `kind` is shown to `user` in
/// its field history: not when the role gets nothing of its class (an
/// incident's old party list, for a department handler).
pub fn history_field_shown(user: &User, kind: RecordKind, path: &str) -> bool {
    let drop_parties =
        kind == RecordKind::Incident && gets(user.role, Class::S, Channel::History) == Nothing;
    !(drop_parties && (path == "parties" || path.starts_with("parties.")))
}

// ---------------------------------------------------------------- pushes

/// Why [`refused_push`] refuses a pushed document; the sync answers it
/// with a rejection code and params, and logs this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushRefused {
    /// An incident that puts party items in its old `parties` key.
    #[error(
        "an incident's parties are a record of their own now; this app writes them where they no longer go"
    )]
    PartiesInIncident,
    /// A new parties record of an incident someone else created.
    #[error("only the incident's creator may create its parties record")]
    PartiesNotByCreator,
    /// A new parties record outside its incident's grid (named).
    #[error("the parties record must be in the incident's grid {0}")]
    PartiesOutsideGrid(String),
}

/// A pushed document that would put fields where their receivers may not
/// see them, refused outright:
/// - an incident whose state holds party items in its old `parties` key
///   (no Gridwork app writes them since they moved to their own record;
///   handlers receive incidents);
/// - a new parties record of an incident created by someone else: only
///   the incident's creator (or the server) creates it, so there is only
///   ever one party list (see [`gridwork_core::model::IncidentParties`]);
///   it must lie in the incident's grid, where its readers are.
pub fn refused_push(
    storage: &dyn Storage,
    session: &Session,
    stored: Option<&StoredDoc>,
    after_doc: &AutoCommit,
    after: &AnyRecord,
) -> Result<Option<PushRefused>, StorageError> {
    match after {
        AnyRecord::Incident(_) => {
            let now = party_list(after_doc);
            if now.as_array().is_some_and(|a| !a.is_empty()) {
                let before = stored
                    .and_then(|s| AutoCommit::load(&s.snapshot).ok())
                    .map(|d| party_list(&d))
                    .unwrap_or(Json::Null);
                if before != now {
                    return Ok(Some(PushRefused::PartiesInIncident));
                }
            }
            Ok(None)
        }
        AnyRecord::IncidentParties(p) if stored.is_none() => {
            let Some(incident) = storage.load_doc(p.incident)? else {
                // Pushed with its incident, which this push creates.
                return Ok(None);
            };
            let creator = load_record(&incident).map(|r| r.meta().created_by.clone());
            let by_creator = creator.as_deref() == Some(session.user.id.as_str())
                || session.user.id == SERVER_USER;
            if !by_creator {
                return Ok(Some(PushRefused::PartiesNotByCreator));
            }
            if incident.grid != p.meta.grid {
                return Ok(Some(PushRefused::PartiesOutsideGrid(incident.grid)));
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// The JSON of a document's root `parties` key (`Null` if absent).
fn party_list(doc: &AutoCommit) -> Json {
    match doc.get(ROOT, "parties") {
        Ok(Some(_)) => RecordDoc::from_automerge(doc.clone())
            .map(|d| d.to_json().get("parties").cloned().unwrap_or(Json::Null))
            .unwrap_or(Json::Null),
        _ => Json::Null,
    }
}

fn load_record(stored: &StoredDoc) -> Option<AnyRecord> {
    let am = AutoCommit::load(&stored.snapshot).ok()?;
    RecordDoc::from_automerge(am).ok()?.read_any().ok()
}

#[cfg(test)]
mod tests;
