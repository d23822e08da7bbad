// A backend for unit tests: every method a `vi.fn()`, set per test with
// `mockResolvedValue`. Tests mock `../backend` to hand this one out. The
// methods come from the generated list of commands, so a new command needs
// nothing here unless its tests want a default answer.
import { vi, type Mock } from 'vitest'
import { COMMAND_NAMES } from '../bindings/app'
import type { Backend } from '../backend'
import type { PinView } from '../pin'
import type { Draft, SyncStatus } from '../types'

// Not `emptyStatus` from the sync store: that imports `../backend`, which
// the tests mock with this very module. Not `METHOD_NAMES` from
// `../backend` either, for the same reason.
const idle: SyncStatus = {
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

type Fake = { [M in keyof Backend]: Mock }

/** The lock's state with no wrong PIN and no sign-in news. */
export const pinView = (set: boolean, unlocked: boolean): PinView => ({
  set,
  unlocked,
  failures: 0,
  wait_ms: 0,
  locked_out: false,
  tries_left: 10,
  recovered: false,
  data_lost: false,
  keystore: null,
  keystore_lost: false,
})

const unlocked: PinView = pinView(true, true)

/**
 * The drafts the fake store holds, by key (`fakeDrafts.clear()` between
 * tests): kept as the IPC would carry them, JSON and back.
 */
export const fakeDrafts = new Map<string, Draft>()

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

const camel = (snake: string) => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

// The answers of an empty tablet, where most screens start (`vi.fn` keeps
// them through `mockReset`).
const answers: Partial<Record<keyof Backend, (args: never) => Promise<unknown>>> = {
  currentSession: () => Promise.resolve(null),
  listRecords: () => Promise.resolve([]),
  dueVisits: () => Promise.resolve([]),
  mapFeatures: () => Promise.resolve([]),
  getConflicts: () => Promise.resolve([]),
  photoUrl: () => Promise.resolve(null),
  listTasks: () => Promise.resolve([]),
  // Core masks; a test that reads a masked value sets what core answers.
  maskRecord: () => Promise.resolve({ record: {}, classes: {} }),
  logReveal: () => Promise.resolve(null),
  // The store's drafts, newest first by kind (core's `store::drafts`).
  saveDraft: ({ key, value, savedAt }: { key: string; value: object; savedAt: number | null }) => {
    fakeDrafts.set(key, { key, value: copy(value) as Draft['value'], saved_at: savedAt ?? Date.now() })
    return Promise.resolve(null)
  },
  loadDraft: ({ key }: { key: string }) => Promise.resolve(copy(fakeDrafts.get(key) ?? null)),
  dropDraft: ({ key }: { key: string }) => {
    fakeDrafts.delete(key)
    return Promise.resolve(null)
  },
  listDrafts: ({ kind }: { kind: string }) =>
    Promise.resolve(
      copy(
        [...fakeDrafts.values()]
          .filter((d) => d.key.startsWith(`${kind}.`))
          .sort((a, b) => b.saved_at - a.saved_at || a.key.localeCompare(b.key)),
      ),
    ),
  devicePosition: () => Promise.resolve(null),
  // A PIN set and typed: every screen is open.
  pinStatus: () => Promise.resolve({ ...unlocked }),
  lockApp: () => Promise.resolve({ ...unlocked, unlocked: false }),
  syncStatus: () => Promise.resolve({ ...idle }),
  onSyncStatus: () => Promise.resolve(() => undefined),
}

export const fakeBackend = Object.fromEntries(
  [...COMMAND_NAMES.map(camel), 'devicePosition', 'onSyncStatus'].map((name) => [
    name,
    vi.fn(answers[name as keyof Backend]),
  ]),
) as Fake
