//! Records as Automerge documents.
//!
//! A [`RecordDoc`] is one record's Automerge document. The record's fields
//! are laid out as the record serializes (nested maps for nested structs,
//! lists for lists, scalars for everything else), under a root that also
//! holds `kind` and the layout version `v`. Nested maps and lists are
//! created once, when the record is made; later edits only put scalars or
//! insert into lists, so two devices never create the same object twice.
//!
//! Writes are minimal: [`RecordDoc::update`] compares the record before and
//! after the edit and writes only the scalars that changed, so concurrent
//! edits of different fields both survive, and an edit elsewhere never
//! clobbers a conflict a person has not yet resolved. Concurrent edits of
//! the same field keep every value: [`RecordDoc::conflicts`] lists them with
//! who wrote each and when, and [`RecordDoc::resolve`] writes the one a
//! person chose. Deletes are tombstones: once any device sets `deleted`, the
//! record stays deleted, even if an older device's edits arrive later.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Change, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, Value};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value as Json};
use uuid::Uuid;

use crate::model::{AnyRecord, Record, RecordKind};

/// The one root field besides `deleted` settled by a rule, not a person:
/// a resident's next visit due date, where the latest wins.
const LATEST_WINS: &str = "next_visit_due";

/// The document layout version written at `v`. A document with a higher
/// version was written by a newer Gridwork and is refused.
pub const LAYOUT_VERSION: u64 = 1;

/// What can go wrong with a record document.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    #[error("the document is not a Gridwork record: {0}")]
    NotARecord(String),
    #[error("the document is a {found}, not a {expected}")]
    WrongKind {
        expected: RecordKind,
        found: RecordKind,
    },
    #[error("the document was written by a newer Gridwork (layout {0}); update the app")]
    TooNew(u64),
    #[error("the record does not match its kind: {0}")]
    Shape(#[from] serde_json::Error),
    #[error("no value at {0}")]
    NoSuchPath(String),
    #[error("the record id cannot change")]
    IdChanged,
}

impl DocError {
    /// A stable code for the UI and the wire.
    pub fn code(&self) -> &'static str {
        match self {
            DocError::Automerge(_) => "doc_corrupt",
            DocError::NotARecord(_) => "doc_not_a_record",
            DocError::WrongKind { .. } => "doc_wrong_kind",
            DocError::TooNew(_) => "doc_too_new",
            DocError::Shape(_) => "doc_shape",
            DocError::NoSuchPath(_) => "doc_no_such_path",
            DocError::IdChanged => "doc_id_changed",
        }
    }
}

/// Who makes a change: the user, recorded in the change's message so a
/// conflict can say who wrote each value. The device is the actor id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub user: String,
    /// Unix milliseconds on the author's clock.
    pub now_ms: i64,
}

impl Author {
    /// An author acting at `now_ms`.
    pub fn new(user: impl Into<String>, now_ms: i64) -> Author {
        Author {
            user: user.into(),
            now_ms,
        }
    }

    fn commit_options(&self) -> CommitOptions {
        CommitOptions::default()
            .with_message(self.user.clone())
            .with_time(self.now_ms.div_euclid(1000))
    }
}

/// One value among several written concurrently to the same field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ConflictValue {
    pub value: Json,
    /// User id that wrote it, from the change's message. The server
    /// refuses a change whose message names anyone but the pushing user,
    /// and the console shows the user it bound the actor to instead.
    pub user: Option<String>,
    /// Unix seconds on the writer's clock.
    pub time: Option<i64>,
    /// Hex actor id of the device that wrote it.
    pub actor: String,
    /// Hex hash of the change that wrote it, where the server looks up
    /// who it bound the actor to and when it received the change.
    #[serde(default)]
    pub change: Option<String>,
}

/// A field with more than one concurrent value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Conflict {
    /// Dotted path, with list indexes as numbers: `address.room`,
    /// `parties.0.phone`.
    pub path: String,
    /// Every value; the first is the one currently shown.
    pub values: Vec<ConflictValue>,
}

/// One record's Automerge document.
#[derive(Debug)]
pub struct RecordDoc {
    doc: AutoCommit,
    kind: RecordKind,
    id: Uuid,
}

impl RecordDoc {
    /// Makes a new document holding `record`, as one change by `actor`.
    pub fn create<T: Record>(
        record: &T,
        actor: ActorId,
        author: &Author,
    ) -> Result<RecordDoc, DocError> {
        let mut doc = AutoCommit::new().with_actor(actor);
        doc.put(ROOT, "kind", T::KIND.as_str())?;
        doc.put(ROOT, "v", LAYOUT_VERSION)?;
        let json = to_json(record)?;
        let Json::Object(map) = json else {
            return Err(DocError::NotARecord(
                "a record must serialize to a map".into(),
            ));
        };
        for (key, value) in &map {
            put_value(&mut doc, &ROOT, key.as_str(), value)?;
        }
        doc.commit_with(author.commit_options());
        Ok(RecordDoc {
            doc,
            kind: T::KIND,
            id: record.meta().id,
        })
    }

    /// Makes a new document holding a record of any kind.
    pub fn create_any(
        record: &AnyRecord,
        actor: ActorId,
        author: &Author,
    ) -> Result<RecordDoc, DocError> {
        match record {
            AnyRecord::Household(r) => RecordDoc::create(r, actor, author),
            AnyRecord::Resident(r) => RecordDoc::create(r, actor, author),
            AnyRecord::Incident(r) => RecordDoc::create(r, actor, author),
            AnyRecord::Patrol(r) => RecordDoc::create(r, actor, author),
            AnyRecord::Visit(r) => RecordDoc::create(r, actor, author),
            AnyRecord::Task(r) => RecordDoc::create(r, actor, author),
            AnyRecord::IncidentParties(r) => RecordDoc::create(r, actor, author),
        }
    }

    /// Loads a saved document (or a concatenation of changes) and checks it
    /// is a record Gridwork can read.
    pub fn load(bytes: &[u8], actor: ActorId) -> Result<RecordDoc, DocError> {
        let doc = AutoCommit::load(bytes)?.with_actor(actor);
        RecordDoc::from_automerge(doc)
    }

    /// Wraps an Automerge document after checking its kind, layout and id.
    pub fn from_automerge(doc: AutoCommit) -> Result<RecordDoc, DocError> {
        let kind = match doc.get(ROOT, "kind")? {
            Some((Value::Scalar(s), _)) => s
                .as_str()
                .and_then(RecordKind::parse)
                .ok_or_else(|| DocError::NotARecord(format!("unknown kind {s}")))?,
            _ => return Err(DocError::NotARecord("no kind".into())),
        };
        let version = match doc.get(ROOT, "v")? {
            Some((Value::Scalar(s), _)) => s.as_u64().unwrap_or(0),
            _ => 0,
        };
        if version > LAYOUT_VERSION {
            return Err(DocError::TooNew(version));
        }
        let id = match doc.get(ROOT, "id")? {
            Some((Value::Scalar(s), _)) => s
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(|| DocError::NotARecord("bad id".into()))?,
            _ => return Err(DocError::NotARecord("no id".into())),
        };
        Ok(RecordDoc { doc, kind, id })
    }

    /// The record's id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    /// The underlying Automerge document, for sync and repair.
    pub fn automerge(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    /// Uses `actor` for changes made from now on (a device's own actor).
    pub fn set_actor(&mut self, actor: ActorId) {
        self.doc.set_actor(actor);
    }

    /// The document as JSON, with the winning value of every field and the
    /// tombstone rule applied. Includes `kind` and `v`.
    pub fn to_json(&self) -> Json {
        let mut json = read_value(&self.doc, &ROOT, ObjType::Map);
        if let Json::Object(map) = &mut json {
            if self.is_deleted() {
                map.insert("deleted".into(), Json::Bool(true));
            }
            if let Some(due) = self.latest_due() {
                map.insert(LATEST_WINS.into(), Json::String(due));
            }
        }
        json
    }

    /// A resident's latest concurrent `next_visit_due`: two tablets
    /// recording visits offline each move the date forward, and the later
    /// cycle is kept (as one tablet does, [`crate::fieldwork::visits::visit_recorded`]),
    /// rather than Automerge's arbitrary winner. `None` for other kinds or
    /// without a date.
    fn latest_due(&self) -> Option<String> {
        if self.kind != RecordKind::Resident {
            return None;
        }
        self.doc
            .get_all(ROOT, LATEST_WINS)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(v, _)| match v {
                Value::Scalar(s) => s.as_str().map(str::to_string),
                Value::Object(_) => None,
            })
            .max()
    }

    /// Reads the record as its typed struct.
    pub fn read<T: Record>(&self) -> Result<T, DocError> {
        if self.kind != T::KIND {
            return Err(DocError::WrongKind {
                expected: T::KIND,
                found: self.kind,
            });
        }
        Ok(serde_json::from_value(self.to_json())?)
    }

    /// Reads the record whatever its kind.
    pub fn read_any(&self) -> Result<AnyRecord, DocError> {
        Ok(match self.kind {
            RecordKind::Household => AnyRecord::Household(self.read()?),
            RecordKind::Resident => AnyRecord::Resident(self.read()?),
            RecordKind::Incident => AnyRecord::Incident(self.read()?),
            RecordKind::Patrol => AnyRecord::Patrol(self.read()?),
            RecordKind::Visit => AnyRecord::Visit(self.read()?),
            RecordKind::Task => AnyRecord::Task(self.read()?),
            RecordKind::IncidentParties => AnyRecord::IncidentParties(self.read()?),
        })
    }

    /// Edits the record: reads it, lets `edit` change it, and writes only
    /// what changed as one change. Returns the change's hash, or `None` when
    /// nothing changed. The caller validates before saving.
    pub fn update<T: Record>(
        &mut self,
        author: &Author,
        edit: impl FnOnce(&mut T),
    ) -> Result<Option<ChangeHash>, DocError> {
        let before: T = self.read()?;
        let mut after = before.clone();
        edit(&mut after);
        self.write_diff(author, &before, &after)
    }

    /// Writes the difference between two versions of the record as one
    /// change: `after` is what the user saw and edited from `before`.
    pub fn write_diff<T: Record>(
        &mut self,
        author: &Author,
        before: &T,
        after: &T,
    ) -> Result<Option<ChangeHash>, DocError> {
        if after.meta().id != self.id {
            return Err(DocError::IdChanged);
        }
        let old = to_json(before)?;
        let new = to_json(after)?;
        let deleting = !before.meta().deleted && after.meta().deleted;
        diff_into(&mut self.doc, &ROOT, &old, &new)?;
        if deleting {
            self.doc.put(ROOT, "deleted", true)?;
        }
        Ok(self.doc.commit_with(author.commit_options()))
    }

    /// [`RecordDoc::write_diff`] for records of any kind (both of one
    /// kind: a record cannot change kind).
    pub fn write_diff_any(
        &mut self,
        author: &Author,
        before: &AnyRecord,
        after: &AnyRecord,
    ) -> Result<Option<ChangeHash>, DocError> {
        match (before, after) {
            (AnyRecord::Household(a), AnyRecord::Household(b)) => self.write_diff(author, a, b),
            (AnyRecord::Resident(a), AnyRecord::Resident(b)) => self.write_diff(author, a, b),
            (AnyRecord::Incident(a), AnyRecord::Incident(b)) => self.write_diff(author, a, b),
            (AnyRecord::Patrol(a), AnyRecord::Patrol(b)) => self.write_diff(author, a, b),
            (AnyRecord::Visit(a), AnyRecord::Visit(b)) => self.write_diff(author, a, b),
            (AnyRecord::Task(a), AnyRecord::Task(b)) => self.write_diff(author, a, b),
            (AnyRecord::IncidentParties(a), AnyRecord::IncidentParties(b)) => {
                self.write_diff(author, a, b)
            }
            _ => Err(DocError::NotARecord("a record cannot change kind".into())),
        }
    }

    /// Marks the record deleted (a tombstone).
    pub fn delete(&mut self, author: &Author) -> Result<Option<ChangeHash>, DocError> {
        if self.is_deleted() {
            return Ok(None);
        }
        self.doc.put(ROOT, "deleted", true)?;
        Ok(self.doc.commit_with(author.commit_options()))
    }

    /// Deleted wins: the record is deleted if any concurrent value of
    /// `deleted` is true.
    pub fn is_deleted(&self) -> bool {
        self.doc
            .get_all(ROOT, "deleted")
            .unwrap_or_default()
            .iter()
            .any(|(v, _)| matches!(v, Value::Scalar(s) if s.as_bool() == Some(true)))
    }

    /// Every field with more than one concurrent value. `deleted` and a
    /// resident's `next_visit_due` are not listed: rules settle them (the
    /// tombstone wins; the latest date wins).
    pub fn conflicts(&mut self) -> Vec<Conflict> {
        let mut raw = Vec::new();
        collect_conflicts(&self.doc, &ROOT, ObjType::Map, String::new(), &mut raw);
        let resident = self.kind == RecordKind::Resident;
        raw.retain(|c| c.path != "deleted" && !(resident && c.path == LATEST_WINS));
        let mut found = Vec::with_capacity(raw.len());
        for conflict in raw {
            let mut values = Vec::with_capacity(conflict.values.len());
            for (value, op) in conflict.values {
                let (mut user, mut time, mut change) = (None, None, None);
                if let Some(hash) = self.doc.hash_for_opid(&op) {
                    if let Some(meta) = self.doc.get_change_meta_by_hash(&hash) {
                        user = meta.message.as_deref().map(str::to_string);
                        time = Some(meta.timestamp);
                    }
                    change = Some(hash.to_string());
                }
                values.push(ConflictValue {
                    value,
                    user,
                    time,
                    actor: op_actor(&op),
                    change,
                });
            }
            found.push(Conflict {
                path: conflict.path,
                values,
            });
        }
        found
    }

    /// Settles a conflict (or sets any scalar field) by writing `value` at
    /// `path`: the one value a person chose.
    pub fn resolve(
        &mut self,
        author: &Author,
        path: &str,
        value: &Json,
    ) -> Result<Option<ChangeHash>, DocError> {
        let (obj, prop) = self.locate(path)?;
        match prop {
            PathProp::Key(key) => put_value(&mut self.doc, &obj, &key, value)?,
            PathProp::Index(index) => {
                self.doc.delete(&obj, index)?;
                insert_value(&mut self.doc, &obj, index, value)?;
            }
        }
        Ok(self.doc.commit_with(author.commit_options()))
    }

    fn locate(&self, path: &str) -> Result<(ObjId, PathProp), DocError> {
        let parts: Vec<&str> = path.split('.').collect();
        let Some((last, parents)) = parts.split_last() else {
            return Err(DocError::NoSuchPath(path.into()));
        };
        let mut obj = ROOT;
        for part in parents {
            let prop: automerge::Prop = match part.parse::<usize>() {
                Ok(i) => i.into(),
                Err(_) => (*part).into(),
            };
            obj = match self.doc.get(&obj, prop)? {
                Some((Value::Object(_), id)) => id,
                _ => return Err(DocError::NoSuchPath(path.into())),
            };
        }
        let prop = match (self.doc.object_type(&obj)?, last.parse::<usize>()) {
            (ObjType::List, Ok(i)) if i < self.doc.length(&obj) => PathProp::Index(i),
            (ObjType::Map, _) => PathProp::Key((*last).to_string()),
            _ => return Err(DocError::NoSuchPath(path.into())),
        };
        Ok((obj, prop))
    }

    /// Hashes of the document's current heads.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Changes not reachable from `have` (all changes for an empty slice).
    pub fn changes_since(&mut self, have: &[ChangeHash]) -> Vec<Change> {
        self.doc.get_changes(have)
    }

    /// Applies changes received from elsewhere. Duplicates are ignored.
    pub fn apply_changes(&mut self, changes: Vec<Change>) -> Result<(), DocError> {
        self.doc.apply_changes(changes)?;
        Ok(())
    }

    /// Merges another copy of the same record.
    pub fn merge(&mut self, other: &mut RecordDoc) -> Result<(), DocError> {
        self.doc.merge(&mut other.doc)?;
        Ok(())
    }

    /// A copy with a different actor, as another device would hold it.
    pub fn fork(&mut self, actor: ActorId) -> RecordDoc {
        RecordDoc {
            doc: self.doc.fork().with_actor(actor),
            kind: self.kind,
            id: self.id,
        }
    }

    /// The compacted document: every change, compressed into one snapshot.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }
}

enum PathProp {
    Key(String),
    Index(usize),
}

fn to_json<T: Serialize>(record: &T) -> Result<Json, DocError> {
    Ok(serde_json::to_value(record)?)
}

fn scalar_of(value: &Json) -> Option<automerge::ScalarValue> {
    use automerge::ScalarValue as S;
    Some(match value {
        Json::Null => S::Null,
        Json::Bool(b) => S::Boolean(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                S::Int(i)
            } else if let Some(u) = n.as_u64() {
                S::Uint(u)
            } else {
                S::F64(n.as_f64().unwrap_or(0.0))
            }
        }
        Json::String(s) => S::Str(s.as_str().into()),
        Json::Array(_) | Json::Object(_) => return None,
    })
}

fn put_value(doc: &mut AutoCommit, obj: &ObjId, key: &str, value: &Json) -> Result<(), DocError> {
    match value {
        Json::Object(map) => {
            let child = doc.put_object(obj, key, ObjType::Map)?;
            for (k, v) in map {
                put_value(doc, &child, k, v)?;
            }
        }
        Json::Array(items) => {
            let child = doc.put_object(obj, key, ObjType::List)?;
            for (i, v) in items.iter().enumerate() {
                insert_value(doc, &child, i, v)?;
            }
        }
        scalar => doc.put(
            obj,
            key,
            scalar_of(scalar).unwrap_or(automerge::ScalarValue::Null),
        )?,
    }
    Ok(())
}

fn insert_value(
    doc: &mut AutoCommit,
    obj: &ObjId,
    index: usize,
    value: &Json,
) -> Result<(), DocError> {
    match value {
        Json::Object(map) => {
            let child = doc.insert_object(obj, index, ObjType::Map)?;
            for (k, v) in map {
                put_value(doc, &child, k, v)?;
            }
        }
        Json::Array(items) => {
            let child = doc.insert_object(obj, index, ObjType::List)?;
            for (i, v) in items.iter().enumerate() {
                insert_value(doc, &child, i, v)?;
            }
        }
        scalar => doc.insert(
            obj,
            index,
            scalar_of(scalar).unwrap_or(automerge::ScalarValue::Null),
        )?,
    }
    Ok(())
}

/// Writes into `obj` what differs between `old` and `new` (both maps).
fn diff_into(doc: &mut AutoCommit, obj: &ObjId, old: &Json, new: &Json) -> Result<(), DocError> {
    let (Json::Object(old), Json::Object(new)) = (old, new) else {
        return Ok(());
    };
    for (key, new_value) in new {
        let old_value = old.get(key);
        if old_value == Some(new_value) {
            continue;
        }
        match (old_value, new_value, doc.get(obj, key.as_str())?) {
            (
                Some(o @ Json::Object(_)),
                Json::Object(_),
                Some((Value::Object(ObjType::Map), child)),
            ) => {
                diff_into(doc, &child, o, new_value)?;
            }
            (Some(Json::Array(o)), Json::Array(n), Some((Value::Object(ObjType::List), child))) => {
                diff_list(doc, &child, o, n)?;
            }
            _ => put_value(doc, obj, key, new_value)?,
        }
    }
    for key in old.keys() {
        if !new.contains_key(key) {
            doc.delete(obj, key.as_str())?;
        }
    }
    Ok(())
}

/// Lists change by keeping the common prefix and suffix and rewriting the
/// middle; appends (the common case: logs, tracks, photos) become inserts at
/// the end, which concurrent devices can make without conflict. Elements of
/// the same shape that differ inside are edited in place.
fn diff_list(
    doc: &mut AutoCommit,
    obj: &ObjId,
    old: &[Json],
    new: &[Json],
) -> Result<(), DocError> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_mid = &old[prefix..old.len() - suffix];
    let new_mid = &new[prefix..new.len() - suffix];
    let common = old_mid.len().min(new_mid.len());
    for i in 0..common {
        let index = prefix + i;
        match (&old_mid[i], &new_mid[i], doc.get(obj, index)?) {
            (
                o @ Json::Object(_),
                n @ Json::Object(_),
                Some((Value::Object(ObjType::Map), child)),
            ) => {
                diff_into(doc, &child, o, n)?;
            }
            (_, n, _) => {
                doc.delete(obj, index)?;
                insert_value(doc, obj, index, n)?;
            }
        }
    }
    for _ in common..old_mid.len() {
        doc.delete(obj, prefix + common)?;
    }
    for (i, value) in new_mid.iter().enumerate().skip(common) {
        insert_value(doc, obj, prefix + i, value)?;
    }
    Ok(())
}

fn read_scalar(s: &automerge::ScalarValue) -> Json {
    use automerge::ScalarValue as S;
    match s {
        S::Null => Json::Null,
        S::Boolean(b) => Json::Bool(*b),
        S::Int(i) | S::Timestamp(i) => Json::Number((*i).into()),
        S::Uint(u) => Json::Number((*u).into()),
        S::F64(f) => Number::from_f64(*f).map(Json::Number).unwrap_or(Json::Null),
        S::Counter(c) => Json::Number(i64::from(c).into()),
        S::Str(s) => Json::String(s.to_string()),
        S::Bytes(_) | S::Unknown { .. } => Json::Null,
    }
}

fn read_value(doc: &AutoCommit, obj: &ObjId, obj_type: ObjType) -> Json {
    match obj_type {
        ObjType::Map | ObjType::Table => {
            let mut map = Map::new();
            for key in doc.keys(obj) {
                if let Ok(Some((value, id))) = doc.get(obj, key.as_str()) {
                    map.insert(key, read_item(doc, value, &id));
                }
            }
            Json::Object(map)
        }
        ObjType::List => {
            let len = doc.length(obj);
            let items = (0..len)
                .filter_map(|i| doc.get(obj, i).ok().flatten())
                .map(|(value, id)| read_item(doc, value, &id))
                .collect();
            Json::Array(items)
        }
        ObjType::Text => Json::String(doc.text(obj).unwrap_or_default()),
    }
}

fn read_item(doc: &AutoCommit, value: Value<'_>, id: &ObjId) -> Json {
    match value {
        Value::Object(t) => read_value(doc, id, t),
        Value::Scalar(s) => read_scalar(&s),
    }
}

/// A conflicted field with the op id of each value, before the writers are
/// looked up.
struct RawConflict {
    path: String,
    values: Vec<(Json, ObjId)>,
}

fn collect_conflicts(
    doc: &AutoCommit,
    obj: &ObjId,
    obj_type: ObjType,
    path: String,
    out: &mut Vec<RawConflict>,
) {
    let join = |p: &str, k: &str| {
        if p.is_empty() {
            k.to_string()
        } else {
            format!("{p}.{k}")
        }
    };
    let props: Vec<(String, automerge::Prop)> = match obj_type {
        ObjType::Map | ObjType::Table => doc.keys(obj).map(|k| (k.clone(), k.into())).collect(),
        ObjType::List => (0..doc.length(obj))
            .map(|i| (i.to_string(), i.into()))
            .collect(),
        ObjType::Text => return,
    };
    for (name, prop) in props {
        let all = doc.get_all(obj, prop).unwrap_or_default();
        let here = join(&path, &name);
        if all.len() > 1 {
            out.push(RawConflict {
                path: here.clone(),
                values: all
                    .iter()
                    .map(|(v, id)| (read_item(doc, v.clone(), id), id.clone()))
                    .collect(),
            });
        }
        if let Some((Value::Object(t), id)) = all.first() {
            collect_conflicts(doc, id, *t, here, out);
        }
    }
}

fn op_actor(id: &ObjId) -> String {
    match id {
        ObjId::Id(_, actor, _) => actor.to_hex_string(),
        ObjId::Root => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Address, Household, HouseholdFlags, HouseholdUse, Meta, ReviewDecision, ReviewEntry,
    };
    use proptest::prelude::*;

    fn actor(n: u8) -> ActorId {
        ActorId::from(vec![n; 16])
    }

    pub(crate) fn household() -> Household {
        Household {
            meta: Meta::new("440106001001001", "gw-1", 1_763_000_000_000),
            address: Address {
                estate: "阳光花园".into(),
                building: "3".into(),
                unit: "2".into(),
                room: "501".into(),
                ..Address::default()
            },
            point: Some(crate::model::GeoPoint::wgs84(113.33, 23.13)),
            usage: HouseholdUse::OwnerOccupied,
            owner_name: "王芳".into(),
            owner_phone: Some("13812345678".into()),
            owner_id_number: None,
            door_plate_photo: None,
            flags: HouseholdFlags::default(),
            last_visit_at: None,
            review: Vec::new(),
        }
    }

    fn author(user: &str) -> Author {
        Author::new(user, 1_763_000_100_000)
    }

    #[test]
    fn a_record_round_trips_through_its_document_and_bytes() {
        let h = household();
        let mut doc = RecordDoc::create(&h, actor(1), &author("gw-1")).unwrap();
        assert_eq!(doc.read::<Household>().unwrap(), h);
        let bytes = doc.save();
        let loaded = RecordDoc::load(&bytes, actor(2)).unwrap();
        assert_eq!(loaded.id(), h.meta.id);
        assert_eq!(loaded.kind(), RecordKind::Household);
        assert_eq!(loaded.read::<Household>().unwrap(), h);
        assert!(matches!(
            loaded.read::<crate::model::Resident>(),
            Err(DocError::WrongKind { .. })
        ));
    }

    #[test]
    fn concurrent_edits_of_different_fields_both_survive() {
        let mut a = RecordDoc::create(&household(), actor(1), &author("gw-1")).unwrap();
        let mut b = a.fork(actor(2));
        a.update::<Household>(&author("gw-1"), |h| h.address.room = "502".into())
            .unwrap();
        b.update::<Household>(&author("sup-1"), |h| h.usage = HouseholdUse::Rented)
            .unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let (ha, hb) = (
            a.read::<Household>().unwrap(),
            b.read::<Household>().unwrap(),
        );
        assert_eq!(ha, hb);
        assert_eq!(ha.address.room, "502");
        assert_eq!(ha.usage, HouseholdUse::Rented);
        assert!(a.conflicts().is_empty());
    }

    #[test]
    fn a_same_field_conflict_keeps_both_values_with_who_and_resolving_writes_one() {
        let mut a = RecordDoc::create(&household(), actor(1), &author("gw-1")).unwrap();
        let mut b = a.fork(actor(2));
        a.update::<Household>(&author("gw-1"), |h| h.owner_name = "王芳芳".into())
            .unwrap();
        b.update::<Household>(&author("sup-1"), |h| h.owner_name = "汪芳".into())
            .unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let conflicts = a.conflicts();
        assert_eq!(
            conflicts,
            b.conflicts(),
            "every device sees the same conflict"
        );
        assert_eq!(conflicts.len(), 1);
        let c = &conflicts[0];
        assert_eq!(c.path, "owner_name");
        let mut values: Vec<_> = c.values.iter().map(|v| v.value.as_str().unwrap()).collect();
        values.sort();
        assert_eq!(values, ["汪芳", "王芳芳"]);
        let mut users: Vec<_> = c.values.iter().filter_map(|v| v.user.clone()).collect();
        users.sort();
        assert_eq!(users, ["gw-1", "sup-1"]);
        assert!(c.values.iter().all(|v| v.time == Some(1_763_000_100)));

        // An edit of another field leaves the conflict for a person to settle.
        a.update::<Household>(&author("gw-1"), |h| h.flags.low_income = true)
            .unwrap();
        assert_eq!(a.conflicts().len(), 1);

        a.resolve(&author("gw-1"), "owner_name", &Json::from("王芳芳"))
            .unwrap();
        assert!(a.conflicts().is_empty());
        b.merge(&mut a).unwrap();
        assert!(b.conflicts().is_empty());
        assert_eq!(b.read::<Household>().unwrap().owner_name, "王芳芳");
    }

    #[test]
    fn a_deleted_record_never_comes_back_from_an_older_device() {
        let mut a = RecordDoc::create(&household(), actor(1), &author("gw-1")).unwrap();
        let mut old = a.fork(actor(2));
        a.delete(&author("gw-1")).unwrap();
        // The older device edits (and even writes deleted = false) offline.
        old.update::<Household>(&author("gw-2"), |h| h.address.room = "601".into())
            .unwrap();
        old.update::<Household>(&author("gw-2"), |h| h.meta.deleted = false)
            .unwrap();
        old.automerge().put(ROOT, "deleted", false).unwrap();
        old.automerge().commit();
        a.merge(&mut old).unwrap();
        old.merge(&mut a).unwrap();
        assert!(a.is_deleted());
        assert!(old.is_deleted());
        assert!(a.read::<Household>().unwrap().meta.deleted);
        assert!(!a.conflicts().iter().any(|c| c.path == "deleted"));
    }

    #[test]
    fn appends_to_a_list_from_two_devices_both_survive() {
        let mut a = RecordDoc::create(&household(), actor(1), &author("gw-1")).unwrap();
        let mut b = a.fork(actor(2));
        let entry = |by: &str, decision| ReviewEntry {
            decision,
            by: by.into(),
            at: 1,
            comment: String::new(),
        };
        a.update::<Household>(&author("gw-1"), |h| {
            h.review.push(entry("gw-1", ReviewDecision::Submit))
        })
        .unwrap();
        b.update::<Household>(&author("sup-1"), |h| {
            h.review.push(entry("sup-1", ReviewDecision::Return))
        })
        .unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let (ra, rb) = (
            a.read::<Household>().unwrap().review,
            b.read::<Household>().unwrap().review,
        );
        assert_eq!(ra.len(), 2);
        assert_eq!(ra, rb);
    }

    #[test]
    fn an_edit_that_changes_nothing_makes_no_change() {
        let mut a = RecordDoc::create(&household(), actor(1), &author("gw-1")).unwrap();
        assert_eq!(
            a.update::<Household>(&author("gw-1"), |_| {}).unwrap(),
            None
        );
    }

    #[test]
    fn a_document_from_a_newer_layout_is_refused() {
        let mut a = RecordDoc::create(&household(), actor(1), &author("gw-1")).unwrap();
        a.automerge().put(ROOT, "v", LAYOUT_VERSION + 1).unwrap();
        let bytes = a.save();
        let err = RecordDoc::load(&bytes, actor(2)).unwrap_err();
        assert_eq!(err.code(), "doc_too_new");
    }

    #[derive(Debug, Clone)]
    enum Edit {
        Room(String),
        Owner(String),
        Use(u8),
        LowIncome(bool),
        Review(u8),
        Delete,
        /// Device `i` merges from device `j`.
        Sync(usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            "[0-9]{1,4}".prop_map(Edit::Room),
            "[王李张][芳伟娜]{1,2}".prop_map(Edit::Owner),
            (0u8..4).prop_map(Edit::Use),
            any::<bool>().prop_map(Edit::LowIncome),
            (0u8..3).prop_map(Edit::Review),
            Just(Edit::Delete),
            (0usize..3).prop_map(Edit::Sync),
        ]
    }

    fn apply(docs: &mut [RecordDoc], device: usize, e: &Edit) {
        let who = author(&format!("u{device}"));
        match e {
            Edit::Sync(from) if *from != device => {
                let mut other = docs[*from].fork(actor(99));
                docs[device].merge(&mut other).unwrap();
            }
            Edit::Sync(_) => {}
            Edit::Delete => {
                docs[device].delete(&who).unwrap();
            }
            e => {
                docs[device]
                    .update::<Household>(&who, |h| match e {
                        Edit::Room(r) => h.address.room = r.clone(),
                        Edit::Owner(o) => h.owner_name = o.clone(),
                        Edit::Use(u) => {
                            h.usage = [
                                HouseholdUse::OwnerOccupied,
                                HouseholdUse::Rented,
                                HouseholdUse::Vacant,
                                HouseholdUse::Business,
                            ][*u as usize]
                        }
                        Edit::LowIncome(b) => h.flags.low_income = *b,
                        Edit::Review(d) => h.review.push(ReviewEntry {
                            decision: [
                                ReviewDecision::Submit,
                                ReviewDecision::Accept,
                                ReviewDecision::Return,
                            ][*d as usize],
                            by: format!("u{device}"),
                            at: 0,
                            comment: String::new(),
                        }),
                        _ => {}
                    })
                    .unwrap();
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any interleaving of edits on three forks, merged in any order,
        /// gives the same state on every device.
        #[test]
        fn forks_converge_whatever_the_merge_order(
            edits in prop::collection::vec((0usize..3, edit()), 1..40),
            order in Just([0usize, 1, 2]).prop_shuffle(),
        ) {
            let mut origin = RecordDoc::create(&household(), actor(1), &author("gw-1")).unwrap();
            let mut docs: Vec<RecordDoc> = (0..3).map(|i| origin.fork(actor(10 + i as u8))).collect();
            for (device, e) in &edits {
                apply(&mut docs, *device, e);
            }
            // Merge everything into each device, in the shuffled order.
            let mut snapshots: Vec<RecordDoc> = docs.iter_mut().map(|d| d.fork(actor(98))).collect();
            for &target in &order {
                for &source in &order {
                    if source != target {
                        docs[target].merge(&mut snapshots[source]).unwrap();
                    }
                }
            }
            let first = docs[0].to_json();
            let first_conflicts = docs[0].conflicts();
            for d in docs.iter_mut().skip(1) {
                prop_assert_eq!(d.to_json(), first.clone());
                prop_assert_eq!(d.conflicts(), first_conflicts.clone());
            }
            // Every device's record still reads as a household.
            prop_assert!(docs[0].read::<Household>().is_ok());
            // Round trip through bytes keeps the state.
            let bytes = docs[0].save();
            let loaded = RecordDoc::load(&bytes, actor(7)).unwrap();
            prop_assert_eq!(loaded.to_json(), first);
        }

        /// Encoding: a record's fields survive the document and its bytes.
        #[test]
        fn household_fields_round_trip(room in "\\PC{0,12}", name in "\\PC{0,8}", low in any::<bool>(), lon in 73.0f64..136.0) {
            let mut h = household();
            h.address.room = room;
            h.owner_name = name;
            h.flags.low_income = low;
            h.point = Some(crate::model::GeoPoint::wgs84(lon, 23.1));
            let mut doc = RecordDoc::create(&h, actor(1), &author("gw-1")).unwrap();
            let loaded = RecordDoc::load(&doc.save(), actor(2)).unwrap();
            prop_assert_eq!(loaded.read::<Household>().unwrap(), h);
        }
    }
}
