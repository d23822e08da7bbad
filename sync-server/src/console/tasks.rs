//! Tasks from above (上级任务): a community or street supervisor issues a
//! checklist or a screening campaign (专项排查) to every grid of a subtree,
//! and follows its completion.
//!
//! An issue writes one task document per grid-level node of the chosen
//! subtree (the device pull is scoped by grid, so each worker receives
//! their grid's document), all sharing a campaign id. The documents are
//! made by the console enrolment's actor and pushed through
//! [`crate::sync::run`], the same checks and log as any push. Everything is
//! checked before anything is written: a bad form stores nothing.
//!
//! A screening task's lines are the grid's households carrying a flag
//! (`household:living_alone` …) or residents carrying a care tag
//! (`resident:elderly_living_alone` …). A line names its record and a
//! label the grid's worker already sees (an address, a masked name).
//! Restricted tags (community corrections, released prisoners …) cannot
//! be screened for here: the label would say who carries them.

use std::collections::{BTreeMap, HashMap};

use gridwork_core::calendar::shanghai_date;
use gridwork_core::doc::Author;
use gridwork_core::model::grid::GridLevel;
use gridwork_core::model::{
    AnyRecord, CareTagKind, Household, Meta, RecordKind, Resident, Task, TaskItem, TaskKind,
    VisitTarget, VisitTargetKind,
};
use gridwork_core::model::{TASK_DESCRIPTION_MAX, TASK_ITEM_MAX, TASK_ITEMS_MAX, TASK_TITLE_MAX};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::actions::{ConsoleError, ConsoleUser, created, push};
use super::sections::{self, Section};
use crate::storage::projections::ledger_record;
use crate::storage::{ProjectionRow, Storage};
use crate::sync::SyncContext;

/// What a supervisor fills in to issue a task.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct IssueForm {
    pub title: String,
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub description: String,
    pub kind: TaskKind,
    /// `YYYY-MM-DD`, today or later.
    pub due: String,
    /// The root of the subtree whose grids receive it.
    pub grid: String,
    /// A checklist's lines.
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub items: Vec<String>,
    /// A screening's filter, e.g. `household:living_alone`.
    #[serde(default)]
    #[ts(optional)]
    pub filter: Option<String>,
}

/// The household flags and care tags a screening may look for.
pub const HOUSEHOLD_FLAGS: [&str; 5] = [
    "living_alone",
    "low_income",
    "disability",
    "special_support",
    "key_concern",
];

/// A screening filter, parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Filter {
    Household(&'static str),
    Resident(CareTagKind),
}

impl Filter {
    fn parse(text: &str) -> Result<Filter, ConsoleError> {
        let unknown = || ConsoleError::TaskFilter(text.to_string());
        match text.split_once(':') {
            Some(("household", flag)) => HOUSEHOLD_FLAGS
                .iter()
                .find(|f| **f == flag)
                .map(|f| Filter::Household(f))
                .ok_or_else(unknown),
            Some(("resident", tag)) => {
                let tag: CareTagKind =
                    serde_json::from_value(serde_json::Value::String(tag.to_string()))
                        .map_err(|_| unknown())?;
                if tag.is_restricted() {
                    return Err(unknown());
                }
                Ok(Filter::Resident(tag))
            }
            _ => Err(unknown()),
        }
    }

    fn household(self, h: &Household) -> bool {
        let f = &h.flags;
        match self {
            Filter::Household("living_alone") => f.living_alone,
            Filter::Household("low_income") => f.low_income,
            Filter::Household("disability") => f.disability,
            Filter::Household("special_support") => f.special_support,
            Filter::Household("key_concern") => f.key_concern,
            _ => false,
        }
    }

    fn resident(self, r: &Resident) -> bool {
        matches!(self, Filter::Resident(tag) if r.care_tags.iter().any(|t| t.tag == tag))
    }
}

/// One grid's document of an issue.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct IssuedTask {
    pub id: Uuid,
    pub grid: String,
    pub items: usize,
}

/// What an issue wrote.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Issued {
    pub campaign: Uuid,
    pub tasks: Vec<IssuedTask>,
}

/// A campaign's completion over the grids the user sees.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CampaignSummary {
    pub campaign: Uuid,
    pub title: String,
    pub kind: TaskKind,
    pub due: String,
    pub issued_by: String,
    pub issued_at: i64,
    pub filter: Option<String>,
    pub grids: usize,
    pub grids_done: usize,
    pub items: usize,
    pub items_done: usize,
    /// Past the due date with a line still open.
    pub overdue: bool,
}

/// One grid's task, for the drill-down.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct GridTask {
    pub id: Uuid,
    pub grid: String,
    pub grid_name: String,
    pub done: usize,
    pub total: usize,
    pub finished: bool,
    pub overdue: bool,
    pub items: Vec<TaskItem>,
}

/// A campaign with every grid's task.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CampaignDetail {
    #[serde(flatten)]
    pub summary: CampaignSummary,
    pub description: String,
    pub tasks: Vec<GridTask>,
}

/// Checks the form's own fields, trimmed; the first problem found.
fn checked_form(mut form: IssueForm, today: jiff::civil::Date) -> Result<IssueForm, ConsoleError> {
    form.title = form.title.trim().to_string();
    form.description = form.description.trim().to_string();
    if form.title.is_empty() {
        return Err(ConsoleError::TaskField("title".into()));
    }
    if form.title.chars().count() > TASK_TITLE_MAX
        || form.description.chars().count() > TASK_DESCRIPTION_MAX
    {
        return Err(ConsoleError::TaskTooLong);
    }
    let due: jiff::civil::Date = form
        .due
        .trim()
        .parse()
        .map_err(|_| ConsoleError::TaskDue(form.due.clone()))?;
    if due < today {
        return Err(ConsoleError::TaskDue(form.due.clone()));
    }
    form.due = due.to_string();
    match form.kind {
        TaskKind::Checklist => {
            form.items = form
                .items
                .iter()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect();
            if form.items.is_empty() {
                return Err(ConsoleError::TaskField("items".into()));
            }
            if form.items.len() > TASK_ITEMS_MAX
                || form.items.iter().any(|l| l.chars().count() > TASK_ITEM_MAX)
            {
                return Err(ConsoleError::TaskTooLong);
            }
            form.filter = None;
        }
        TaskKind::Screening => {
            let filter = form.filter.as_deref().unwrap_or_default().trim();
            if filter.is_empty() {
                return Err(ConsoleError::TaskField("filter".into()));
            }
            Filter::parse(filter)?;
            form.filter = Some(filter.to_string());
            form.items.clear();
        }
    }
    Ok(form)
}

/// Issues a task to every grid of the subtree at `form.grid`.
pub fn issue(
    storage: &dyn Storage,
    ctx: &SyncContext,
    who: &ConsoleUser,
    form: IssueForm,
    now: jiff::Timestamp,
) -> Result<Issued, ConsoleError> {
    sections::require(who, Section::Tasks)?;
    let form = checked_form(form, shanghai_date(now))?;
    let path = storage
        .grid_path(form.grid.trim())?
        .filter(|p| crate::access::within(p, &who.scope_path))
        .ok_or(ConsoleError::NotFound)?;
    let grids: Vec<String> = storage
        .subtree(&path)?
        .into_iter()
        .filter(|g| g.level == GridLevel::Grid)
        .map(|g| g.code)
        .collect();
    if grids.is_empty() {
        return Err(ConsoleError::TaskNoGrids);
    }
    let mut lines: HashMap<String, Vec<TaskItem>> = HashMap::new();
    match form.filter.as_deref().map(Filter::parse).transpose()? {
        None => {
            for g in &grids {
                let items = form.items.iter().map(|l| TaskItem::open(l, None)).collect();
                lines.insert(g.clone(), items);
            }
        }
        Some(filter) => {
            lines = screening_lines(storage, &path, filter)?;
            if let Some((grid, _)) = lines.iter().find(|(_, l)| l.len() > TASK_ITEMS_MAX) {
                return Err(ConsoleError::TaskTooMany(grid.clone()));
            }
        }
    }

    let user = &who.session.user;
    let now_ms = now.as_millisecond();
    let author = Author::new(user.id.clone(), now_ms);
    let campaign = Uuid::now_v7();
    let mut issued = Vec::with_capacity(grids.len());
    let mut docs = Vec::with_capacity(grids.len());
    for grid in grids {
        let task = Task {
            meta: Meta::new(grid.clone(), user.id.clone(), now_ms),
            campaign,
            title: form.title.clone(),
            description: form.description.clone(),
            kind: form.kind,
            due: form.due.clone(),
            issued_by: user.id.clone(),
            issued_at: now_ms,
            filter: form.filter.clone(),
            items: lines.remove(&grid).unwrap_or_default(),
        };
        docs.push(created(&task, who, &author)?);
        issued.push(IssuedTask {
            id: task.meta.id,
            grid,
            items: task.items.len(),
        });
    }
    if let Some(r) = push(storage, ctx, who, docs, now)?.into_iter().next() {
        return Err(ConsoleError::Refused(r));
    }
    Ok(Issued {
        campaign,
        tasks: issued,
    })
}

/// The records of the projection rows `rows` that are not deleted, as
/// their rows keep them ([`ProjectionRow::ledger`]: no document is
/// decoded), read [`RECORDS_PER_READ`] at a time; a record that cannot be
/// read is logged and left out.
fn records_of(
    storage: &dyn Storage,
    rows: impl IntoIterator<Item = ProjectionRow>,
) -> Result<Vec<AnyRecord>, ConsoleError> {
    let ids: Vec<Uuid> = rows
        .into_iter()
        .filter(|r| !r.deleted)
        .map(|r| r.id)
        .collect();
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(RECORDS_PER_READ) {
        for (id, json) in storage.ledger_records(chunk)? {
            match ledger_record(&json) {
                Ok(record) => out.push(record),
                Err(e) => tracing::warn!(doc = %id, error = %e, "a ledger record cannot be read"),
            }
        }
    }
    Ok(out)
}

/// How many records [`records_of`] reads in one query: on PostgreSQL one
/// round trip each, as many as an export's chunk.
const RECORDS_PER_READ: usize = 500;

/// Each grid's screening lines in the subtree at `path`, ordered by
/// label. The projection rows pick the records; only those of the kind
/// `filter` tests are read (a household's address is its row's title).
fn screening_lines(
    storage: &dyn Storage,
    path: &str,
    filter: Filter,
) -> Result<HashMap<String, Vec<TaskItem>>, ConsoleError> {
    let rows = |kind| -> Result<Vec<ProjectionRow>, ConsoleError> {
        Ok(storage
            .projections_in(path, &[kind])?
            .into_iter()
            .map(|p| p.row)
            .collect())
    };
    let households = rows(RecordKind::Household)?;
    let addresses: HashMap<Uuid, String> = households
        .iter()
        .filter(|r| !r.deleted)
        .map(|r| (r.id, r.title.clone()))
        .collect();
    let records = match filter {
        Filter::Household(_) => records_of(storage, households)?,
        Filter::Resident(_) => records_of(storage, rows(RecordKind::Resident)?)?,
    };
    let mut by_grid: BTreeMap<String, Vec<TaskItem>> = BTreeMap::new();
    for record in &records {
        let (grid, item) = match record {
            AnyRecord::Household(h) if !h.meta.deleted && filter.household(h) => (
                &h.meta.grid,
                TaskItem::open(
                    h.address.one_line(),
                    Some(VisitTarget {
                        kind: VisitTargetKind::Household,
                        id: h.meta.id,
                    }),
                ),
            ),
            AnyRecord::Resident(r) if !r.meta.deleted && filter.resident(r) => {
                let address = r
                    .household_id
                    .and_then(|h| addresses.get(&h))
                    .map(|a| format!(" · {a}"))
                    .unwrap_or_default();
                (
                    &r.meta.grid,
                    TaskItem::open(
                        format!("{}{address}", gridwork_core::privacy::mask_name(&r.name)),
                        Some(VisitTarget {
                            kind: VisitTargetKind::Resident,
                            id: r.meta.id,
                        }),
                    ),
                )
            }
            _ => continue,
        };
        by_grid.entry(grid.clone()).or_default().push(item);
    }
    Ok(by_grid
        .into_iter()
        .map(|(g, mut items)| {
            items.sort_by(|a, b| a.text.cmp(&b.text));
            (g, items)
        })
        .collect())
}

/// The tasks of the user's subtree (of `only` that campaign), by
/// campaign: the projection rows pick them (a task's row's parent is its
/// campaign), only those tasks are read.
fn tasks_by_campaign(
    storage: &dyn Storage,
    who: &ConsoleUser,
    only: Option<Uuid>,
) -> Result<BTreeMap<Uuid, Vec<Task>>, ConsoleError> {
    sections::require(who, Section::Tasks)?;
    let rows = storage
        .projections_in(&who.scope_path, &[RecordKind::Task])?
        .into_iter()
        .map(|p| p.row)
        .filter(|r| only.is_none() || r.parent_id == only);
    let mut out: BTreeMap<Uuid, Vec<Task>> = BTreeMap::new();
    for record in records_of(storage, rows)? {
        if let AnyRecord::Task(t) = record
            && !t.meta.deleted
            && only.is_none_or(|c| c == t.campaign)
        {
            out.entry(t.campaign).or_default().push(t);
        }
    }
    Ok(out)
}

fn summary(tasks: &[Task], today: jiff::civil::Date) -> Option<CampaignSummary> {
    let first = tasks.iter().min_by_key(|t| t.issued_at)?;
    Some(CampaignSummary {
        campaign: first.campaign,
        title: first.title.clone(),
        kind: first.kind,
        due: first.due.clone(),
        issued_by: first.issued_by.clone(),
        issued_at: first.issued_at,
        filter: first.filter.clone(),
        grids: tasks.len(),
        grids_done: tasks.iter().filter(|t| t.finished()).count(),
        items: tasks.iter().map(|t| t.items.len()).sum(),
        items_done: tasks.iter().map(Task::done_count).sum(),
        overdue: tasks.iter().any(|t| t.overdue(today)),
    })
}

/// The campaigns of the user's subtree, newest first.
pub fn campaigns(
    storage: &dyn Storage,
    who: &ConsoleUser,
    now: jiff::Timestamp,
) -> Result<Vec<CampaignSummary>, ConsoleError> {
    let today = shanghai_date(now);
    let mut out: Vec<CampaignSummary> = tasks_by_campaign(storage, who, None)?
        .values()
        .filter_map(|tasks| summary(tasks, today))
        .collect();
    out.sort_by_key(|c| std::cmp::Reverse((c.issued_at, c.campaign)));
    Ok(out)
}

/// One campaign, grid by grid.
pub fn campaign(
    storage: &dyn Storage,
    who: &ConsoleUser,
    id: Uuid,
    now: jiff::Timestamp,
) -> Result<CampaignDetail, ConsoleError> {
    let today = shanghai_date(now);
    let mut all = tasks_by_campaign(storage, who, Some(id))?;
    let mut tasks = all.remove(&id).ok_or(ConsoleError::NotFound)?;
    tasks.sort_by(|a, b| a.meta.grid.cmp(&b.meta.grid));
    let names: HashMap<String, String> = storage
        .subtree(&who.scope_path)?
        .into_iter()
        .map(|g| (g.code, g.name))
        .collect();
    let summary = summary(&tasks, today).ok_or(ConsoleError::NotFound)?;
    let description = tasks[0].description.clone();
    let tasks = tasks
        .into_iter()
        .map(|t| GridTask {
            id: t.meta.id,
            grid_name: names.get(&t.meta.grid).cloned().unwrap_or_default(),
            grid: t.meta.grid.clone(),
            done: t.done_count(),
            total: t.items.len(),
            finished: t.finished(),
            overdue: t.overdue(today),
            items: t.items,
        })
        .collect();
    Ok(CampaignDetail {
        summary,
        description,
        tasks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: TaskKind) -> IssueForm {
        IssueForm {
            title: " 独居老人走访 ".into(),
            description: String::new(),
            kind,
            due: "2026-12-04".into(),
            grid: "440106001".into(),
            items: vec!["  ".into(), "逐户走访".into()],
            filter: Some("household:living_alone".into()),
        }
    }

    #[test]
    fn a_form_is_checked_before_anything_is_written() {
        let today = jiff::civil::date(2026, 12, 1);
        let ok = checked_form(form(TaskKind::Checklist), today).unwrap();
        assert_eq!(ok.title, "独居老人走访");
        assert_eq!(ok.items, vec!["逐户走访".to_string()]);
        assert_eq!(ok.filter, None);

        let mut past = form(TaskKind::Checklist);
        past.due = "2026-11-30".into();
        assert_eq!(checked_form(past, today).unwrap_err().code(), "task_due");
        let mut empty = form(TaskKind::Checklist);
        empty.items = vec![" ".into()];
        assert_eq!(
            checked_form(empty, today).unwrap_err().code(),
            "task_required"
        );

        let s = checked_form(form(TaskKind::Screening), today).unwrap();
        assert!(s.items.is_empty());
        for bad in [
            "household:rich",
            "resident:released_prisoner",
            "living_alone",
        ] {
            let mut f = form(TaskKind::Screening);
            f.filter = Some(bad.into());
            assert_eq!(
                checked_form(f, today).unwrap_err().code(),
                "task_filter",
                "{bad}"
            );
        }
        let mut r = form(TaskKind::Screening);
        r.filter = Some("resident:elderly_living_alone".into());
        assert!(checked_form(r, today).is_ok());
    }
}
