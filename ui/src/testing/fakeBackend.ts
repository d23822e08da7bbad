// A backend for unit tests: every method a `vi.fn()`, set per test with
// `mockResolvedValue`. Tests mock `../backend` to hand this one out.
import { vi } from 'vitest'
import type { Backend } from '../backend'
import type { PinView } from '../pin'
import type {
  Conflict,
  DueVisit,
  GeoPoint,
  ListArgs,
  MapFeature,
  MaskedView,
  Projection,
  RecordKind,
  SessionInfo,
  SyncStatus,
  TaskRow,
} from '../types'

// Not `emptyStatus` from the sync store: that imports `../backend`, which
// the tests mock with this very module.
const idle: SyncStatus = {
  online: null,
  syncing: false,
  pending: 0,
  photos_pending: 0,
  last_sync_at: null,
  last_error: null,
  rejections: [],
  uploads: [],
  photos_refused: [],
  changed: 0,
  attempts: 0,
  retry: null,
}

const unlocked: PinView = { set: true, unlocked: true, failures: 0, wait_ms: 0, locked_out: false, tries_left: 10 }

export const fakeBackend = {
  appInfo: vi.fn(),
  setLanguage: vi.fn(() => Promise.resolve()),
  currentSession: vi.fn((): Promise<SessionInfo | null> => Promise.resolve(null)),
  login: vi.fn(),
  listRecords: vi.fn((_query: ListArgs): Promise<Projection[]> => Promise.resolve([])),
  newHousehold: vi.fn(),
  getHousehold: vi.fn(),
  saveHousehold: vi.fn(),
  newResident: vi.fn(),
  getResident: vi.fn(),
  careTagOptions: vi.fn(),
  saveResident: vi.fn(),
  checkIdNumber: vi.fn(),
  newIncident: vi.fn(),
  getIncident: vi.fn(),
  saveIncident: vi.fn(),
  reportIncident: vi.fn(),
  transitionIncident: vi.fn(),
  dueVisits: vi.fn((): Promise<DueVisit[]> => Promise.resolve([])),
  mapFeatures: vi.fn((): Promise<MapFeature[]> => Promise.resolve([])),
  newVisit: vi.fn(),
  recordVisit: vi.fn(),
  getConflicts: vi.fn((_id: string): Promise<Conflict[]> => Promise.resolve([])),
  resolveConflict: vi.fn(),
  startPatrol: vi.fn(),
  getPatrol: vi.fn(),
  editPatrol: vi.fn(),
  addPhoto: vi.fn(),
  photoUrl: vi.fn((_sha256: string): Promise<string | null> => Promise.resolve(null)),
  listTasks: vi.fn((): Promise<TaskRow[]> => Promise.resolve([])),
  getTask: vi.fn(),
  tickTask: vi.fn(),
  // Core masks; a test that reads a masked value sets what core answers.
  maskRecord: vi.fn(
    (_kind: RecordKind, _record: object): Promise<MaskedView> => Promise.resolve({ record: {}, classes: {} }),
  ),
  logReveal: vi.fn(() => Promise.resolve()),
  devicePosition: vi.fn((): Promise<GeoPoint | null> => Promise.resolve(null)),
  syncNow: vi.fn(),
  // A PIN set and typed: every screen is open.
  pinStatus: vi.fn((): Promise<PinView> => Promise.resolve({ ...unlocked })),
  setPin: vi.fn(),
  unlock: vi.fn(),
  changePin: vi.fn(),
  lockApp: vi.fn((): Promise<PinView> => Promise.resolve({ ...unlocked, unlocked: false })),
  syncStatus: vi.fn(() => Promise.resolve({ ...idle })),
  onSyncStatus: vi.fn(() => Promise.resolve(() => undefined)),
} satisfies Backend
