//! Tasks from above (上级任务) on the tablet: the list with progress and
//! the overdue flag, and ticking a line, the one edit a grid worker makes
//! to a task (the server undoes any other).

use serde::Serialize;
use uuid::Uuid;

use super::{WorkError, Worker, day_of};
use crate::model::{Projection, RecordKind, TASK_NOTE_MAX, Task};
use crate::problem::{Params, params};
use crate::store::{ListQuery, Store, StoreError};

/// Why a task's line could not be ticked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TickError {
    #[error("the task has no line {0}")]
    NoSuchLine(usize),
    #[error("a note is at most {TASK_NOTE_MAX} characters")]
    NoteTooLong,
}

impl TickError {
    /// The stable code for the UI.
    pub fn code(self) -> &'static str {
        match self {
            TickError::NoSuchLine(_) => "task_line_missing",
            TickError::NoteTooLong => "task_note_too_long",
        }
    }

    /// The params of the UI's message: the `line` (counted from 0) or
    /// the `max` length of a note.
    pub fn params(self) -> Params {
        match self {
            TickError::NoSuchLine(line) => params([("line", line.into())]),
            TickError::NoteTooLong => params([("max", TASK_NOTE_MAX.into())]),
        }
    }
}

/// A task on the tablet's lists: its list row and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct TaskRow {
    pub row: Projection,
    pub done: usize,
    pub total: usize,
    pub open: bool,
    /// Past its due date (Asia/Shanghai) and not finished.
    pub overdue: bool,
}

/// The tablet's tasks as listed: open ones first, the earliest due first,
/// then by title; finished ones after.
pub fn task_rows(tasks: &[Task], today: jiff::civil::Date) -> Vec<TaskRow> {
    let mut rows: Vec<TaskRow> = tasks
        .iter()
        .map(|t| TaskRow {
            row: crate::model::Record::projection(t),
            done: t.done_count(),
            total: t.items.len(),
            open: !t.finished(),
            overdue: t.overdue(today),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.open
            .cmp(&a.open)
            .then_with(|| a.row.due.cmp(&b.row.due))
            .then_with(|| a.row.title.cmp(&b.row.title))
    });
    rows
}

/// Ticks (or unticks) line `index` of a task with a note: the one edit a
/// grid worker makes to a task from above (the server undoes any other,
/// see [`Task::worker_edit_only`]). Ticking records who and when; unticking
/// clears them.
pub fn tick_task(
    task: &mut Task,
    index: usize,
    done: bool,
    note: &str,
    user: &str,
    now_ms: i64,
) -> Result<(), TickError> {
    let note = note.trim();
    if note.chars().count() > TASK_NOTE_MAX {
        return Err(TickError::NoteTooLong);
    }
    let line = task
        .items
        .get_mut(index)
        .ok_or(TickError::NoSuchLine(index))?;
    if line.done != done {
        line.done = done;
        line.done_by = done.then(|| user.to_string());
        line.done_at = done.then_some(now_ms);
    }
    line.note = note.to_string();
    Ok(())
}

/// The tablet's tasks as listed ([`task_rows`]) on `today`.
pub fn list(store: &Store, today: jiff::civil::Date) -> Result<Vec<TaskRow>, StoreError> {
    let q = ListQuery {
        kind: Some(RecordKind::Task),
        limit: Some(TASK_LIMIT),
        ..ListQuery::default()
    };
    let tasks = store
        .list(&q)?
        .iter()
        .map(|r| store.get::<Task>(r.id)?.ok_or(StoreError::NotFound(r.id)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(task_rows(&tasks, today))
}

/// At most this many tasks are listed.
const TASK_LIMIT: u32 = 500;

/// Ticks (or unticks) line `index` of task `id` with a note, by the
/// worker, saved at once ([`tick_task`]); a refused tick writes nothing.
pub fn tick(
    store: &mut Store,
    worker: &Worker<'_>,
    id: Uuid,
    index: usize,
    done: bool,
    note: &str,
    now_ms: i64,
) -> Result<Task, WorkError> {
    store.write(|tx| {
        tx.try_update::<Task, WorkError>(id, &worker.author(now_ms), day_of(now_ms), |task| {
            Ok(tick_task(task, index, done, note, worker.user, now_ms)?)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Author;
    use crate::fieldwork::testkit::{GRID, NOW, open_store, worker};
    use crate::model::Meta;

    #[test]
    fn task_rows_count_lines_flag_overdue_after_the_due_day_and_put_open_ones_first() {
        use crate::model::{TaskItem, TaskKind};
        let make = |title: &str, done: usize, total: usize, due: &str| {
            let mut items: Vec<TaskItem> =
                (0..total).map(|_| TaskItem::open("走访", None)).collect();
            for item in items.iter_mut().take(done) {
                item.done = true;
            }
            Task {
                meta: Meta::new("440106001001001", "cs-1", NOW),
                campaign: Uuid::now_v7(),
                title: title.into(),
                description: String::new(),
                kind: TaskKind::Checklist,
                due: due.into(),
                issued_by: "cs-1".into(),
                issued_at: NOW,
                filter: None,
                items,
            }
        };
        let day = |d: &str| d.parse::<jiff::civil::Date>().unwrap();
        let one = |t: Task, today: &str| task_rows(&[t], day(today)).remove(0);
        let row = one(make("a", 3, 4, "2026-12-01"), "2026-12-01");
        assert_eq!(
            (row.done, row.total, row.open, row.overdue),
            (3, 4, true, false)
        );
        assert!(one(make("a", 3, 4, "2026-12-01"), "2026-12-02").overdue);
        assert!(!one(make("a", 4, 4, "2026-12-01"), "2026-12-02").overdue);

        let ordered = task_rows(
            &[
                make("done", 1, 1, "2026-11-01"),
                make("later", 0, 1, "2026-12-09"),
                make("soon", 0, 1, "2026-12-02"),
            ],
            day("2026-12-01"),
        );
        let titles: Vec<&str> = ordered.iter().map(|r| r.row.title.as_str()).collect();
        assert_eq!(titles, ["soon", "later", "done"]);
    }

    #[test]
    fn a_worker_ticks_a_task_line_with_who_and_when_and_only_that() {
        let mut task = Task {
            meta: Meta::new("440106001001001", "cs-1", NOW),
            campaign: Uuid::now_v7(),
            title: "独居老人走访".into(),
            description: String::new(),
            kind: crate::model::TaskKind::Checklist,
            due: "2026-12-04".into(),
            issued_by: "cs-1".into(),
            issued_at: NOW,
            filter: None,
            items: vec![crate::model::TaskItem::open("走访", None)],
        };
        let before = task.clone();
        tick_task(&mut task, 0, true, " 老人身体好 ", "gw-1", NOW + 1).unwrap();
        assert!(task.items[0].done);
        assert_eq!(task.items[0].done_by.as_deref(), Some("gw-1"));
        assert_eq!(task.items[0].done_at, Some(NOW + 1));
        assert_eq!(task.items[0].note, "老人身体好");
        assert_eq!(
            before.worker_edit_only(&task, "gw-1"),
            task,
            "a tick is allowed"
        );
        tick_task(&mut task, 0, false, "", "gw-1", NOW + 2).unwrap();
        assert_eq!(task.items[0].done_by, None);
        assert_eq!(
            tick_task(&mut task, 3, true, "", "gw-1", NOW),
            Err(TickError::NoSuchLine(3))
        );
        let long = "字".repeat(TASK_NOTE_MAX + 1);
        assert_eq!(
            tick_task(&mut task, 0, true, &long, "gw-1", NOW),
            Err(TickError::NoteTooLong)
        );
        assert!(!task.items[0].done, "a refused tick changes nothing");
    }

    #[test]
    fn a_tick_in_the_store_is_the_workers_and_a_refused_one_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open_store(&dir.path().join("device.sqlite"));
        let task = Task {
            meta: Meta::new(GRID, "cs-1", NOW),
            campaign: Uuid::now_v7(),
            title: "独居老人走访".into(),
            description: String::new(),
            kind: crate::model::TaskKind::Checklist,
            due: "2026-05-20".into(),
            issued_by: "cs-1".into(),
            issued_at: NOW,
            filter: None,
            items: vec![crate::model::TaskItem::open("走访", None)],
        };
        let id = task.meta.id;
        store
            .insert(task, &Author::new("cs-1", NOW), day_of(NOW))
            .unwrap();
        let gw = worker("gw-1");
        let ticked = tick(&mut store, &gw, id, 0, true, "已走访", NOW + 1).unwrap();
        assert_eq!(ticked.items[0].done_by.as_deref(), Some("gw-1"));
        assert_eq!(store.get::<Task>(id).unwrap().unwrap(), ticked);
        let rows = list(&store, day_of(NOW)).unwrap();
        assert_eq!((rows[0].done, rows[0].total, rows[0].open), (1, 1, false));

        let pending = store.pending_count().unwrap();
        let refused = tick(&mut store, &gw, id, 5, true, "", NOW + 2).unwrap_err();
        assert_eq!(refused.code(), "task_line_missing");
        let long = "字".repeat(TASK_NOTE_MAX + 1);
        let refused = tick(&mut store, &gw, id, 0, false, &long, NOW + 2).unwrap_err();
        assert_eq!(refused.code(), "task_note_too_long");
        assert_eq!(store.pending_count().unwrap(), pending, "nothing written");
        assert!(store.get::<Task>(id).unwrap().unwrap().items[0].done);
    }
}
