// What a form holds before it is saved: a draft in the device's encrypted
// store (the `save_draft` … commands; core's `store::drafts`), so a form
// opened again after a kill comes back as it was typed. A change is written
// a moment after it is made (`DRAFT_WRITE_DELAY_MS`, every change in that
// moment in one write) and at once when the form is left, so a kill mid-form
// loses at most that moment. A draft is dropped by its record's save, in the
// same transaction (the save commands take the draft's key).
//
// Drafts were kept in the web view's localStorage, which lies in clear in
// the app's data folder: with names, ID numbers and phones in them, a lost
// tablet gave them away (#11). `moveLocalDrafts` moves what an older app
// left there into the store, once, and removes it.

import { backend, BackendError } from './backend'

/** A change reaches the store at most this long after it was made. */
export const DRAFT_WRITE_DELAY_MS = 400

/** Where older apps kept drafts in localStorage, before the key. */
export const LOCAL_DRAFT_PREFIX = 'gridwork.draft.'

/** The key of a form's draft: `household.new`, `resident.<id>` … */
export function draftKey(kind: string, id: string): string {
  return `${kind}.${id}`
}

/** The draft under `key`, or `null`. */
export async function readDraft<T>(key: string): Promise<T | null> {
  await localDraftsMoved()
  const draft = await backend.loadDraft({ key })
  return (draft?.value as T | undefined) ?? null
}

/** Keeps `value` as the draft under `key` now (forms write through `draftWriter`). */
export async function writeDraft(key: string, value: unknown): Promise<void> {
  await backend.saveDraft({ key, value: value as object, savedAt: null })
}

export async function dropDraft(key: string): Promise<void> {
  await backend.dropDraft({ key })
}

/** A form's unsaved content and when it was last changed (Unix ms). */
export interface DraftEntry<T> {
  key: string
  value: T
  savedAt: number
}

/** Every unsaved form draft of `kind`, newest first, for the home screen. */
export async function listDrafts<T>(kind: string): Promise<DraftEntry<T>[]> {
  await localDraftsMoved()
  const drafts = await backend.listDrafts({ kind })
  return drafts.map((d) => ({ key: d.key, value: d.value as T, savedAt: d.saved_at }))
}

/** Where an unsaved incident form is opened again: the new-report form,
 * or the edit form of an incident already in the store. */
export function incidentDraftRoute(key: string): string {
  const rest = key.slice('incident.'.length)
  return rest === 'new' ? '/incidents/new' : `/incidents/${rest}/edit`
}

/**
 * One form's writes: `schedule` a change (written at most
 * `DRAFT_WRITE_DELAY_MS` later, with whatever else changed by then),
 * `flush` what is waiting now (leaving the form, or before a save, which
 * drops the draft in its own transaction), `forget` what is waiting (the
 * record is saved: a change still waiting is not written; the promise
 * settles once a write under way is done). Writes go to the store one
 * after the other, in order. `report` hears how each went: `null`, or why
 * the store refused it.
 */
export function draftWriter(key: string, report: (error: BackendError | null) => void = () => undefined) {
  let waiting: { value: unknown } | null = null
  let timer: ReturnType<typeof setTimeout> | undefined
  let queue: Promise<void> = Promise.resolve()

  function enqueue(op: () => Promise<void>): Promise<void> {
    queue = queue.then(op).then(
      () => report(null),
      (reason) => report(BackendError.from(reason)),
    )
    return queue
  }

  function stopTimer(): void {
    clearTimeout(timer)
    timer = undefined
  }

  function schedule(value: unknown): void {
    waiting = { value }
    // Not pushed back by the next keystroke: typing without a pause is
    // written every `DRAFT_WRITE_DELAY_MS` all the same.
    timer ??= setTimeout(() => void flush(), DRAFT_WRITE_DELAY_MS)
  }

  function flush(): Promise<void> {
    stopTimer()
    if (!waiting) return queue
    // The form as it is now; later typing goes into the next write.
    const value: unknown = JSON.parse(JSON.stringify(waiting.value))
    waiting = null
    return enqueue(() => writeDraft(key, value))
  }

  function forget(): Promise<void> {
    stopTimer()
    waiting = null
    return queue
  }

  return { schedule, flush, forget }
}

let moving: Promise<number> | null = null

/** `moveLocalDrafts` before a draft is read, while localStorage holds any
 * (after the first start of this app, never), one run at a time. */
function localDraftsMoved(): Promise<number> {
  if (localDraftKeys(globalThis.localStorage).length === 0) return Promise.resolve(0)
  moving ??= moveLocalDrafts().finally(() => {
    moving = null
  })
  return moving
}

function localDraftKeys(storage: Storage | undefined): string[] {
  const keys: string[] = []
  for (let i = 0; i < (storage?.length ?? 0); i++) {
    const key = storage?.key(i)
    if (key?.startsWith(LOCAL_DRAFT_PREFIX)) keys.push(key)
  }
  return keys
}

/**
 * Moves every draft an older app kept in localStorage
 * (`gridwork.draft.<key>`, JSON with `_savedAt`) into the store and removes
 * it from localStorage; returns how many it moved. A draft the store
 * already has under that key was typed since and is kept. One the store
 * refuses for good (too big, a key it does not take) cannot be kept
 * anywhere but in clear, so it is removed all the same; any other failure
 * (the app locked, no session) leaves the rest for the next try.
 */
export async function moveLocalDrafts(storage: Storage | undefined = globalThis.localStorage): Promise<number> {
  if (!storage) return 0
  let moved = 0
  for (const local of localDraftKeys(storage)) {
    const key = local.slice(LOCAL_DRAFT_PREFIX.length)
    const value = parsed(storage.getItem(local))
    if (value) {
      const { _savedAt: savedAt, ...form } = value
      try {
        if (!(await backend.loadDraft({ key }))) {
          await backend.saveDraft({ key, value: form, savedAt: typeof savedAt === 'number' ? savedAt : null })
          moved++
        }
      } catch (reason) {
        const code = BackendError.from(reason).code
        if (code !== 'draft_too_big' && code !== 'invalid_input') throw reason
      }
    }
    storage.removeItem(local)
  }
  return moved
}

function parsed(text: string | null): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text ?? '')
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null
  } catch {
    return null
  }
}
