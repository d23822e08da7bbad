import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { backend, BackendError } from '../backend'
import type { DueVisit } from '../types'

/** Overdue and due-soon counts of a due list (core orders and bounds it). */
export function dueCounts(list: DueVisit[]): { overdue: number; dueSoon: number } {
  const overdue = list.filter((d) => d.overdue).length
  return { overdue, dueSoon: list.length - overdue }
}

/** The visits due list, shared by the home screen's counts and the visits screen. */
export const useVisitsStore = defineStore('visits', () => {
  const due = ref<DueVisit[]>([])
  const error = ref<BackendError | null>(null)
  const counts = computed(() => dueCounts(due.value))

  async function load(): Promise<void> {
    try {
      due.value = await backend.dueVisits()
      error.value = null
    } catch (reason) {
      error.value = BackendError.from(reason)
    }
  }

  return { due, error, counts, load }
})

const SHANGHAI_MS = 8 * 3_600_000

/** The Asia/Shanghai day (YYYY-MM-DD) of Unix milliseconds. */
export function shanghaiDay(ms: number): string {
  return new Date(ms + SHANGHAI_MS).toISOString().slice(0, 10)
}

/**
 * Unix milliseconds for a visit on `day` (YYYY-MM-DD, Asia/Shanghai): `now`
 * when it is that day, noon of the day otherwise; `null` for a date that
 * does not exist or lies in the future.
 */
export function visitTime(day: string, now: number): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null
  if (day === shanghaiDay(now)) return now
  const ms = Date.parse(`${day}T12:00:00+08:00`)
  if (Number.isNaN(ms) || shanghaiDay(ms) !== day || ms > now) return null
  return ms
}
