import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { backend, BackendError } from '../backend'
import type { Projection } from '../types'
import { shanghaiDay } from './visits'

/** A task row (its projection: `subtitle` is `done/total`, `status` `open` or `done`). */
export interface TaskRow {
  row: Projection
  done: number
  total: number
  open: boolean
  overdue: boolean
}

/** Reads a task's list row; overdue counts from the due date in Asia/Shanghai. */
export function taskRow(row: Projection, today: string): TaskRow {
  const [done, total] = row.subtitle.split('/').map((n) => Number.parseInt(n, 10) || 0)
  const open = row.status !== 'done'
  return { row, done: done ?? 0, total: total ?? 0, open, overdue: open && row.due !== null && row.due < today }
}

/** Open tasks first, the earliest due first; then the finished ones. */
export function orderTasks(rows: TaskRow[]): TaskRow[] {
  return rows
    .slice()
    .sort(
      (a, b) =>
        Number(b.open) - Number(a.open) ||
        (a.row.due ?? '').localeCompare(b.row.due ?? '') ||
        a.row.title.localeCompare(b.row.title),
    )
}

/** The tasks on this tablet, shared by the home screen and the tasks list. */
export const useTasksStore = defineStore('tasks', () => {
  const all = ref<TaskRow[]>([])
  const error = ref<BackendError | null>(null)
  const open = computed(() => all.value.filter((t) => t.open))

  async function load(now: number = Date.now()): Promise<void> {
    try {
      const rows = await backend.listRecords({ kind: 'task', limit: 500 })
      all.value = orderTasks(rows.map((r) => taskRow(r, shanghaiDay(now))))
      error.value = null
    } catch (reason) {
      error.value = BackendError.from(reason)
    }
  }

  return { all, open, error, load }
})
