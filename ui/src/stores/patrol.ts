import { defineStore } from 'pinia'
import { ref } from 'vue'
import { backend, BackendError } from '../backend'
import type { GeoPoint, PatrolEdit, PatrolView } from '../types'

/** A GPS fix closer than this to the last recorded one is not recorded. */
export const MIN_FIX_GAP_MS = 5_000
/** Map taps record positions while no GPS fix came for this long. */
export const TAP_AFTER_NO_FIX_MS = 30_000

/** What the newest patrol store does when the app is hidden or closed. */
let onHide: () => void = () => undefined

// A tablet's system may kill a hidden app without warning: hiding saves.
// Listened to once, for whichever store is current.
globalThis.document?.addEventListener('visibilitychange', () => {
  if (globalThis.document.visibilityState === 'hidden') onHide()
})
globalThis.addEventListener?.('pagehide', () => onHide())

/**
 * The patrol on screen: the running one, or the last one ended. Points,
 * check-ins and the stop go to the backend one at a time in the order they
 * came. The backend holds GPS points and saves them in batches (about a
 * minute's worth); check-ins and the stop are saved at once, and the held
 * points are saved too when the app is hidden or closed (`flush`).
 */
export const usePatrolStore = defineStore('patrol', () => {
  const view = ref<PatrolView | null>(null)
  const error = ref<BackendError | null>(null)
  /** When the last GPS fix came (device clock), 0 when none yet. */
  const lastFixAt = ref(0)
  let queue: Promise<unknown> = Promise.resolve()

  function running(): boolean {
    return view.value !== null && view.value.patrol.ended_at === null
  }

  async function guard(work: () => Promise<PatrolView>): Promise<boolean> {
    try {
      view.value = await work()
      error.value = null
      return true
    } catch (reason) {
      error.value = BackendError.from(reason)
      return false
    }
  }

  /** Runs edits one after the other, each on the patrol as the last left it. */
  function edit(make: () => PatrolEdit | null): Promise<boolean> {
    const next = queue.then(() => {
      const v = view.value
      const change = make()
      if (!v || v.patrol.ended_at !== null || !change) return false
      return guard(() => backend.editPatrol({ id: v.patrol.id, edit: change }))
    })
    queue = next
    return next
  }

  /** Shows the newest patrol: the running one, or the last summary. */
  async function loadLatest(): Promise<void> {
    try {
      const [latest] = await backend.listRecords({ query: { kind: 'patrol', limit: 1 } })
      view.value = latest ? await backend.getPatrol({ id: latest.id }) : null
      error.value = null
    } catch (reason) {
      error.value = BackendError.from(reason)
    }
  }

  function start(): Promise<boolean> {
    lastFixAt.value = 0
    return guard(() => backend.startPatrol())
  }

  /** A GPS fix: recorded unless one was recorded moments ago. */
  function fix(lon: number, lat: number, at: number): Promise<boolean> {
    const previous = lastFixAt.value
    lastFixAt.value = at
    if (previous > 0 && at - previous < MIN_FIX_GAP_MS) return Promise.resolve(false)
    return edit(() => ({ type: 'point', point: { lon, lat, t_ms: at } }))
  }

  /** Whether a tap on the map stands for the worker's position now. */
  function tapsRecord(now: number): boolean {
    return now - lastFixAt.value > TAP_AFTER_NO_FIX_MS
  }

  /** A tap on the map, recorded as a position while GPS gives none. */
  function tap(point: GeoPoint, now: number): Promise<boolean> {
    if (!tapsRecord(now)) return Promise.resolve(false)
    return edit(() => ({ type: 'point', point: { lon: point.lon, lat: point.lat, t_ms: now } }))
  }

  /** A check-in at the last recorded position; false when there is none. */
  function checkIn(note: string, now: number): Promise<boolean> {
    return edit(() => {
      const last = view.value?.patrol.track.at(-1)
      if (!last) return null
      return {
        type: 'check_in',
        point: { lon: last.lon, lat: last.lat, crs: 'EPSG:4326', accuracy_m: null },
        at: now,
        note: note.trim(),
      }
    })
  }

  function stop(notes: string, now: number): Promise<boolean> {
    return edit(() => ({ type: 'stop', at: now, notes: notes.trim() }))
  }

  /** Saves the points the backend holds: the app goes to the background or closes. */
  function flush(): Promise<boolean> {
    return edit(() => ({ type: 'flush' }))
  }

  onHide = () => {
    if (running()) void flush()
  }

  return { view, error, lastFixAt, running, loadLatest, start, fix, tapsRecord, tap, checkIn, stop, flush }
})

/** Metres as the summary shows them: `850 米`, `1.25 公里`. */
export function distanceParts(m: number): { key: 'meters' | 'kilometers'; n: string } {
  return m < 1000 ? { key: 'meters', n: String(Math.round(m)) } : { key: 'kilometers', n: (m / 1000).toFixed(2) }
}

/** A duration as the summary shows it: minutes, or hours and minutes. */
export function durationParts(ms: number): { key: 'minutes'; n: number } | { key: 'hoursMinutes'; h: number; m: number } {
  const minutes = Math.floor(Math.max(0, ms) / 60_000)
  return minutes < 60 ? { key: 'minutes', n: minutes } : { key: 'hoursMinutes', h: Math.floor(minutes / 60), m: minutes % 60 }
}
