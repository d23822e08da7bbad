import { defineStore } from 'pinia'
import { ref } from 'vue'
import { backend, BackendError } from '../backend'
import type { SyncProgress, SyncStatus, UploadView } from '../types'

export function emptyStatus(): SyncStatus {
  return {
    online: null,
    syncing: false,
    pending: 0,
    photos_pending: 0,
    last_sync_at: null,
    last_error: null,
    rejections: [],
    notices: [],
    uploads: [],
    photos_refused: [],
    changed: 0,
    attempts: 0,
    retry: null,
    progress: null,
  }
}

/** A size for people: bytes up to 1 KB, then KB, then MB with one decimal. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`
  return `${(n / (1024 * 1024)).toFixed(1)} MB`
}

/** One photo's progress bar: a whole percentage and "sent / total". */
export function uploadBar(u: UploadView): { percent: number; text: string } {
  const percent = u.total > 0 ? Math.min(100, Math.floor((u.sent / u.total) * 100)) : 100
  return { percent, text: `${formatBytes(u.sent)} / ${formatBytes(u.total)}` }
}

/** A message key of the `sync` messages and its params. */
export interface Line {
  key: string
  params: Record<string, string | number>
}

/** A time left, rounded as a person says it: seconds under a minute,
 * minutes under an hour (rounded up), then hours and minutes. */
export function durationLine(ms: number): Line {
  const s = Math.max(1, Math.ceil(ms / 1000))
  if (s < 60) return { key: 'sync.seconds', params: { n: s } }
  const m = Math.ceil(s / 60)
  if (m < 60) return { key: 'sync.minutes', params: { n: m } }
  return { key: 'sync.hoursMinutes', params: { h: Math.floor(m / 60), m: m % 60 } }
}

/** The sync screen's progress while a sync runs: records sent and to
 * send, received (and whether more follow), bytes done and left, the
 * photos' bytes, and the time left ("at least" while the server has more
 * to send: how much it does not say). `time` is the duration's line when
 * there is an estimate. */
export function progressLines(p: SyncProgress): { lines: Line[]; eta: Line | null; time: Line | null } {
  const lines: Line[] = [
    { key: 'sync.recordsUp', params: { done: p.records_sent, left: p.records_to_send } },
    { key: p.more_to_receive ? 'sync.recordsDownMore' : 'sync.recordsDown', params: { done: p.records_received } },
    { key: 'sync.bytes', params: { done: formatBytes(p.bytes_done), left: formatBytes(p.bytes_left) } },
  ]
  if (p.photo_bytes_sent + p.photo_bytes_left > 0) {
    lines.push({
      key: 'sync.photoBytes',
      params: { done: formatBytes(p.photo_bytes_sent), left: formatBytes(p.photo_bytes_left) },
    })
  }
  if (p.eta_ms !== null) {
    return { lines, eta: { key: p.more_to_receive ? 'sync.etaAtLeast' : 'sync.etaAbout', params: {} }, time: durationLine(p.eta_ms) }
  }
  const anythingLeft = p.bytes_left > 0 || p.more_to_receive
  return { lines, eta: anythingLeft ? { key: 'sync.etaUnknown', params: {} } : null, time: null }
}

/** The sync state the backend publishes, and "sync now". */
export const useSyncStore = defineStore('sync', () => {
  const status = ref<SyncStatus>(emptyStatus())
  /** Bumped whenever a sync brought changes, so lists reload. */
  const revision = ref(0)
  let unlisten: (() => void) | null = null

  function take(next: SyncStatus): void {
    const finished = status.value.syncing && !next.syncing
    status.value = next
    if (finished && next.changed > 0) revision.value += 1
  }

  async function start(): Promise<void> {
    if (unlisten) return
    try {
      // A sync may be running already (sign-in starts one): an event it
      // publishes while the status below is on its way is newer than that
      // answer, which must not overwrite it (the screen would say
      // "syncing" until the next sync).
      let published = 0
      unlisten = await backend.onSyncStatus((next) => {
        published += 1
        take(next)
      })
      const before = published
      const current = await backend.syncStatus()
      if (published === before) take(current)
    } catch {
      // Outside the app there is nothing to listen to.
    }
  }

  async function syncNow(): Promise<void> {
    status.value = { ...status.value, syncing: true }
    try {
      take(await backend.syncNow())
      revision.value += 1
    } catch (reason) {
      const e = BackendError.from(reason)
      status.value = {
        ...status.value,
        syncing: false,
        online: e.code === 'unreachable' ? false : status.value.online,
        last_error: e.code === 'unavailable' || e.code === 'unknown' ? null : { code: e.code, params: e.params, fields: e.fields },
      }
    }
  }

  /** The worker has read the server's notices `seqs`: they leave the list. */
  async function dismissNotices(seqs: number[]): Promise<void> {
    try {
      take(await backend.dismissNotices({ seqs }))
    } catch (reason) {
      const e = BackendError.from(reason)
      if (e.code === 'unavailable' || e.code === 'unknown') return
      status.value = { ...status.value, last_error: { code: e.code, params: e.params, fields: e.fields } }
    }
  }

  return { status, revision, take, start, syncNow, dismissNotices }
})
