// The one module that talks to the backend. Views and stores call `backend`
// and never care how: inside the Tauri app it is IPC (`invoke`); the web
// console will later get an HTTP implementation of the same interface.

import { invoke, isTauri } from '@tauri-apps/api/core'
import { listen } from '@tauri-apps/api/event'
import { checkPermissions, getCurrentPosition, requestPermissions } from '@tauri-apps/plugin-geolocation'
import { FIX_TIMEOUT_MS, pointOf } from './location'
import type { PinView } from './pin'
import type {
  FieldError,
  Household,
  IdNumberInfo,
  Incident,
  IncidentView,
  Lang,
  ListArgs,
  LoginArgs,
  MaskedView,
  PatrolEdit,
  PatrolView,
  PhotoRef,
  PhotoRole,
  Projection,
  Resident,
  CareTagOption,
  RecordKind,
  RevealArgs,
  Conflict,
  DueVisit,
  GeoPoint,
  MapFeature,
  SessionInfo,
  SyncStatus,
  Task,
  TaskRow,
  Visit,
} from './types'

/** What `app_info` returns (`AppInfo` in src-tauri/src/commands.rs). */
export interface AppInfo {
  name: string
  version: string
}

/** Everything the front end can ask of the backend. */
export interface Backend {
  appInfo(): Promise<AppInfo>
  setLanguage(lang: Lang): Promise<void>
  currentSession(): Promise<SessionInfo | null>
  login(args: LoginArgs): Promise<SessionInfo>
  listRecords(query: ListArgs): Promise<Projection[]>
  newHousehold(): Promise<Household>
  getHousehold(id: string): Promise<Household>
  saveHousehold(record: Household): Promise<Household>
  newResident(householdId: string): Promise<Resident>
  getResident(id: string): Promise<Resident>
  /** Every care tag kind with its default visit cycle (core's rule). */
  careTagOptions(): Promise<CareTagOption[]>
  saveResident(record: Resident): Promise<Resident>
  checkIdNumber(number: string): Promise<IdNumberInfo>
  newIncident(): Promise<Incident>
  getIncident(id: string): Promise<IncidentView>
  saveIncident(record: Incident): Promise<IncidentView>
  reportIncident(record: Incident): Promise<IncidentView>
  transitionIncident(id: string, action: { type: string }, opinion: string): Promise<IncidentView>
  /** Residents due for a visit: overdue first, then due within a week. */
  dueVisits(): Promise<DueVisit[]>
  mapFeatures(): Promise<MapFeature[]>
  newVisit(residentId: string): Promise<Visit>
  /** Saves a visit; the resident's next due date moves on. */
  recordVisit(record: Visit): Promise<Visit>
  /** A record's same-field conflicts, each value with who wrote it and when. */
  getConflicts(id: string): Promise<Conflict[]>
  /** Keeps `value` at `path` (an ordinary edit that syncs); returns the conflicts left. */
  resolveConflict(id: string, path: string, value: unknown): Promise<Conflict[]>
  startPatrol(): Promise<PatrolView>
  getPatrol(id: string): Promise<PatrolView>
  /** Records a point, a check-in or the stop; saved at once. */
  editPatrol(id: string, edit: PatrolEdit): Promise<PatrolView>
  /** Stores a picked or taken image (compressed, thumbnailed) and returns its reference. */
  addPhoto(bytes: Uint8Array, role: PhotoRole, takenAt: number | null): Promise<PhotoRef>
  /** A stored photo as a `data:` URL, or `null` when this device lacks its bytes. */
  photoUrl(sha256: string): Promise<string | null>
  /** The tablet's tasks from above, open first, with progress and overdue flags. */
  listTasks(): Promise<TaskRow[]>
  /** A task from above, as stored on the tablet. */
  getTask(id: string): Promise<Task>
  /** Ticks or unticks line `index` with a note; saved at once, synced later. */
  tickTask(id: string, index: number, done: boolean, note: string): Promise<Task>
  /**
   * The device's position from the Tauri geolocation plugin (Android/iOS
   * only; elsewhere it rejects and the caller tries the web API), or `null`
   * when the worker refuses location access.
   */
  devicePosition(): Promise<GeoPoint | null>
  /** A record (as the form holds it) masked by core, as shown before a reveal. */
  maskRecord(kind: RecordKind, record: object): Promise<MaskedView>
  /** Writes a reveal of a masked field to the device's access log (uploaded at sync). */
  logReveal(args: RevealArgs): Promise<void>
  syncNow(): Promise<SyncStatus>
  /** The PIN lock (pin.ts): its state, choosing, unlocking, changing, locking. */
  pinStatus(): Promise<PinView>
  setPin(pin: string): Promise<PinView>
  unlock(pin: string): Promise<PinView>
  changePin(oldPin: string, newPin: string): Promise<PinView>
  lockApp(): Promise<PinView>
  syncStatus(): Promise<SyncStatus>
  /** Calls `handler` with every status the backend publishes; returns an unsubscribe. */
  onSyncStatus(handler: (status: SyncStatus) => void): Promise<() => void>
}

/**
 * A failed backend call: the backend's `{code, message, fields}`. `code` is
 * stable (translate it with `errors.<code>`); `message` is already in the
 * UI's language; `fields` says what is wrong with each form field.
 * Codes made here: `unavailable` (no backend to talk to) and `unknown`
 * (something that was not a `{code, message}` at all).
 */
export class BackendError extends Error {
  readonly code: string
  readonly fields: FieldError[]

  constructor(code: string, message: string, fields: FieldError[] = []) {
    super(message)
    this.name = 'BackendError'
    this.code = code
    this.fields = fields
  }

  /** Turns whatever a call rejected with into a `BackendError`. */
  static from(reason: unknown): BackendError {
    if (reason instanceof BackendError) return reason
    if (isCodeAndMessage(reason)) {
      const fields = Array.isArray(reason.fields) ? (reason.fields as FieldError[]) : []
      return new BackendError(reason.code, reason.message, fields)
    }
    const message = reason instanceof Error ? reason.message : String(reason)
    return new BackendError('unknown', message)
  }
}

function isCodeAndMessage(
  value: unknown,
): value is { code: string; message: string; fields?: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  )
}

async function call<T>(
  command: string,
  args?: Record<string, unknown> | Uint8Array,
  headers?: Record<string, string>,
): Promise<T> {
  try {
    return await invoke<T>(command, args, headers ? { headers } : undefined)
  } catch (reason) {
    throw BackendError.from(reason)
  }
}

/** The backend inside the Tauri app: one IPC command per method. */
export function tauriBackend(): Backend {
  return {
    appInfo: () => call('app_info'),
    setLanguage: (lang) => call('set_language', { lang }),
    currentSession: () => call('current_session'),
    login: (args) => call('login', { args }),
    listRecords: (query) => call('list_records', { query }),
    newHousehold: () => call('new_household'),
    getHousehold: (id) => call('get_household', { id }),
    saveHousehold: (record) => call('save_household', { record }),
    newResident: (householdId) => call('new_resident', { householdId }),
    getResident: (id) => call('get_resident', { id }),
    careTagOptions: () => call('care_tag_options'),
    saveResident: (record) => call('save_resident', { record }),
    checkIdNumber: (number) => call('check_id_number', { number }),
    newIncident: () => call('new_incident'),
    getIncident: (id) => call('get_incident', { id }),
    saveIncident: (record) => call('save_incident', { record }),
    reportIncident: (record) => call('report_incident', { record }),
    transitionIncident: (id, action, opinion) =>
      call('transition_incident', { args: { id, action, opinion } }),
    dueVisits: () => call('due_visits'),
    mapFeatures: () => call('map_features'),
    newVisit: (residentId) => call('new_visit', { residentId }),
    recordVisit: (record) => call('record_visit', { record }),
    getConflicts: (id) => call('get_conflicts', { id }),
    resolveConflict: (id, path, value) => call('resolve_conflict', { args: { id, path, value } }),
    startPatrol: () => call('start_patrol'),
    getPatrol: (id) => call('get_patrol', { id }),
    editPatrol: (id, edit) => call('edit_patrol', { id, edit }),
    // The image is the raw body of the call, not a JSON array of numbers.
    addPhoto: (bytes, role, takenAt) =>
      call('add_photo', bytes, {
        'x-photo-role': role,
        ...(takenAt === null ? {} : { 'x-photo-taken-at': String(takenAt) }),
      }),
    photoUrl: (sha256) => call('photo_url', { sha256 }),
    listTasks: () => call('list_tasks'),
    getTask: (id) => call('get_task', { id }),
    tickTask: (id, index, done, note) => call('tick_task', { args: { id, index, done, note } }),
    maskRecord: (kind, record) => call('mask_record', { kind, record }),
    logReveal: (args) => call('log_reveal', { ...args }),
    devicePosition: async () => {
      let allowed = await checkPermissions()
      if (allowed.location === 'prompt' || allowed.location === 'prompt-with-rationale') {
        allowed = await requestPermissions(['location'])
      }
      if (allowed.location !== 'granted') return null
      const fix = await getCurrentPosition({ enableHighAccuracy: true, timeout: FIX_TIMEOUT_MS, maximumAge: 30_000 })
      return pointOf(fix.coords)
    },
    syncNow: () => call('sync_now'),
    pinStatus: () => call('pin_status'),
    setPin: (pin) => call('set_pin', { pin }),
    unlock: (pin) => call('unlock', { pin }),
    changePin: (oldPin, newPin) => call('change_pin', { oldPin, newPin }),
    lockApp: () => call('lock_app'),
    syncStatus: () => call('sync_status'),
    onSyncStatus: (handler) => listen<SyncStatus>('sync-status', (e) => handler(e.payload)),
  }
}

/** Used where there is no backend (the UI opened in a plain browser). */
export function unavailableBackend(): Backend {
  const fail = () =>
    Promise.reject(new BackendError('unavailable', 'not running inside the Gridwork app'))
  return {
    appInfo: fail,
    setLanguage: fail,
    currentSession: fail,
    login: fail,
    listRecords: fail,
    newHousehold: fail,
    getHousehold: fail,
    saveHousehold: fail,
    newResident: fail,
    getResident: fail,
    careTagOptions: fail,
    saveResident: fail,
    checkIdNumber: fail,
    newIncident: fail,
    getIncident: fail,
    saveIncident: fail,
    reportIncident: fail,
    transitionIncident: fail,
    dueVisits: fail,
    mapFeatures: fail,
    newVisit: fail,
    recordVisit: fail,
    getConflicts: fail,
    resolveConflict: fail,
    startPatrol: fail,
    getPatrol: fail,
    editPatrol: fail,
    addPhoto: fail,
    photoUrl: fail,
    listTasks: fail,
    getTask: fail,
    tickTask: fail,
    maskRecord: fail,
    logReveal: fail,
    devicePosition: fail,
    syncNow: fail,
    pinStatus: fail,
    setPin: fail,
    unlock: fail,
    changePin: fail,
    lockApp: fail,
    syncStatus: fail,
    onSyncStatus: fail,
  }
}

export const backend: Backend = isTauri() ? tauriBackend() : unavailableBackend()
