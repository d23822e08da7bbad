//! Tasks from above (上级任务): a checklist or a screening campaign
//! (专项排查) a supervisor issues to the workers of a subtree.
//!
//! A campaign is one document *per target grid* (the device pull is scoped
//! by grid), all sharing a `campaign` id, title, kind and due date. The
//! issuer writes everything; a grid worker only ticks items: `done`,
//! `done_by`, `done_at` and `note` ([`Task::worker_edit_only`] is the rule
//! both the app and the server's push check apply). A screening task's
//! items are filled by the server at issue time with the grid's matching
//! households or residents; each names its record and a label the worker
//! already sees in their own grid (an address, a masked name).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::limits;
use super::{Meta, Projection, Record, RecordKind, ValidateCtx, VisitTarget, enum_name};
use crate::validate::{self, ValidationErrors};

/// Longest title, description, item text and note.
pub const TASK_TITLE_MAX: usize = 100;
pub const TASK_DESCRIPTION_MAX: usize = 2000;
pub const TASK_ITEM_MAX: usize = 200;
pub const TASK_NOTE_MAX: usize = 500;
/// Most items one grid's task holds.
pub const TASK_ITEMS_MAX: usize = 2000;

/// What kind of task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// 清单任务: lines the supervisor wrote.
    Checklist,
    /// 专项排查: one line per matching household or resident of the grid.
    Screening,
}

/// One line of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct TaskItem {
    /// What to do, or a screening target's label (an address, a masked
    /// name: nothing the worker does not already see in their grid).
    #[schemars(length(max = TASK_ITEM_MAX))]
    pub text: String,
    /// The household or resident a screening line is about.
    #[serde(default)]
    pub target: Option<VisitTarget>,
    #[serde(default)]
    pub done: bool,
    /// User id of the worker who ticked it.
    #[serde(default)]
    #[schemars(length(max = limits::USER_ID))]
    pub done_by: Option<String>,
    /// Unix milliseconds (device clock).
    #[serde(default)]
    pub done_at: Option<i64>,
    #[serde(default)]
    #[schemars(length(max = TASK_NOTE_MAX))]
    pub note: String,
}

impl TaskItem {
    /// A line not yet done.
    pub fn open(text: impl Into<String>, target: Option<VisitTarget>) -> TaskItem {
        TaskItem {
            text: text.into(),
            target,
            done: false,
            done_by: None,
            done_at: None,
            note: String::new(),
        }
    }
}

/// A task for one grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct Task {
    #[serde(flatten)]
    pub meta: Meta,
    /// Shared by every grid's document of one issue.
    pub campaign: Uuid,
    #[schemars(length(max = TASK_TITLE_MAX))]
    pub title: String,
    #[serde(default)]
    #[schemars(length(max = TASK_DESCRIPTION_MAX))]
    pub description: String,
    /// Stored as `task_kind`: the document's root `kind` names the record kind.
    #[serde(rename = "task_kind")]
    pub kind: TaskKind,
    /// Due date, `YYYY-MM-DD` (Asia/Shanghai); overdue the day after.
    #[schemars(length(max = limits::DATE))]
    pub due: String,
    /// User id of the supervisor who issued it.
    #[schemars(length(max = limits::USER_ID))]
    pub issued_by: String,
    /// Unix milliseconds, server clock.
    pub issued_at: i64,
    /// For screening: what was screened for (`household:living_alone`,
    /// `resident:elderly_living_alone` …).
    #[serde(default)]
    #[schemars(length(max = limits::LABEL))]
    pub filter: Option<String>,
    #[serde(default)]
    #[schemars(length(max = TASK_ITEMS_MAX))]
    pub items: Vec<TaskItem>,
}

impl Task {
    /// How many lines are done.
    pub fn done_count(&self) -> usize {
        self.items.iter().filter(|i| i.done).count()
    }

    /// Every line done (a task with no lines is done).
    pub fn finished(&self) -> bool {
        self.items.iter().all(|i| i.done)
    }

    /// Past its due date on `today` and not finished.
    pub fn overdue(&self, today: jiff::civil::Date) -> bool {
        !self.finished()
            && self
                .due
                .parse::<jiff::civil::Date>()
                .is_ok_and(|due| today > due)
    }

    /// `edited` with everything but the items' tick fields (`done`,
    /// `done_by`, `done_at`, `note`) put back as in `self`: what a grid
    /// worker's edit may change. A worker's lines are matched by position;
    /// added or removed lines are undone. `done_by` of a line the worker
    /// changed becomes the worker.
    pub fn worker_edit_only(&self, edited: &Task, worker: &str) -> Task {
        let mut allowed = self.clone();
        for (old, (kept, new)) in self
            .items
            .iter()
            .zip(allowed.items.iter_mut().zip(&edited.items))
        {
            kept.done = new.done;
            kept.done_at = new.done_at;
            kept.note = new.note.clone();
            kept.done_by = new.done_by.clone();
            let touched = old.done != new.done || old.note != new.note;
            if touched && new.done && new.done_by.as_deref() != Some(worker) {
                kept.done_by = Some(worker.to_string());
            }
        }
        allowed
    }
}

impl Record for Task {
    const KIND: RecordKind = RecordKind::Task;

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn normalize_and_validate(&mut self, _ctx: &ValidateCtx) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        errors.require("grid", &self.meta.grid);
        errors.require("issued_by", &self.issued_by);
        self.title = self.title.trim().to_string();
        errors.require("title", &self.title);
        // Lengths and the number of lines are the limits on the fields
        // (`Record::validate_state`).
        if self.due.parse::<jiff::civil::Date>().is_err() {
            errors.push(validate::ValidationError {
                field: "due".into(),
                code: validate::Code::DateInvalid,
                detail: Some(self.due.clone()),
            });
        }
        if self.kind == TaskKind::Checklist && self.items.is_empty() {
            errors.push(validate::ValidationError {
                field: "items".into(),
                code: validate::Code::Required,
                detail: None,
            });
        }
        for (i, item) in self.items.iter().enumerate() {
            errors.require(&format!("items.{i}.text"), &item.text);
        }
        errors.into_result()
    }

    fn projection(&self) -> Projection {
        let mut p = Projection::new(RecordKind::Task, &self.meta, self.title.clone());
        p.subtitle = format!("{}/{}", self.done_count(), self.items.len());
        p.status = Some(if self.finished() { "done" } else { "open" }.to_string());
        p.category = Some(enum_name(&self.kind));
        p.parent_id = Some(self.campaign);
        p.due = Some(self.due.clone());
        p.search_text = format!("{} {}", self.title, self.description);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Task {
        Task {
            meta: Meta::new("440106001001001", "cs-1", 1),
            campaign: Uuid::now_v7(),
            title: "独居老人走访".into(),
            description: String::new(),
            kind: TaskKind::Checklist,
            due: "2026-12-04".into(),
            issued_by: "cs-1".into(),
            issued_at: 1,
            filter: None,
            items: vec![TaskItem::open("走访", None), TaskItem::open("登记", None)],
        }
    }

    #[test]
    fn a_worker_may_tick_but_not_retitle_or_add_lines() {
        let old = task();
        let mut edited = old.clone();
        edited.title = "别的".into();
        edited.due = "2027-01-01".into();
        edited.items[0].done = true;
        edited.items[0].done_by = Some("someone-else".into());
        edited.items[1].note = "不在家".into();
        edited.items.push(TaskItem::open("多出来的", None));
        let allowed = old.worker_edit_only(&edited, "gw-1");
        assert_eq!(allowed.title, old.title);
        assert_eq!(allowed.due, old.due);
        assert_eq!(allowed.items.len(), 2);
        assert!(allowed.items[0].done);
        assert_eq!(allowed.items[0].done_by.as_deref(), Some("gw-1"));
        assert_eq!(allowed.items[1].note, "不在家");
    }

    #[test]
    fn overdue_only_after_the_due_day_and_while_open() {
        let mut t = task();
        let due = jiff::civil::date(2026, 12, 4);
        assert!(!t.overdue(due));
        assert!(t.overdue(due.tomorrow().unwrap()));
        for i in &mut t.items {
            i.done = true;
        }
        assert!(!t.overdue(due.tomorrow().unwrap()));
        let mut bad = task();
        bad.due = "2026-13-01".into();
        assert!(
            bad.normalize_and_validate(&ValidateCtx { today: due })
                .is_err()
        );
    }
}
