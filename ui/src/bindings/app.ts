// Generated from the Rust types by ts-rs: do not edit.
// Regenerate with `scripts/bindings`.

import type { Action, CareTagOption, Conflict, Draft, DueVisit, FieldCode, Gender, Grid, Household, Incident, IncidentView, JsonValue, LoginUser, MapFeature, MaskedView, Param, PatrolEdit, PatrolView, PhotoRef, PhotoRole, Projection, Protection, RecordKind, Resident, SyncProgress, Task, TaskRow, Visit } from './model'

/**
 * The app's name and version, as shown on the home screen.
 */
export type AppInfo = { 
/**
 * The product name from `tauri.conf.json`.
 */
name: string, 
/**
 * The app's version (the workspace version in `Cargo.toml`).
 */
version: string, };

/**
 * What a command failure looks like to the front end.
 */
export type CommandError = { 
/**
 * The stable code the UI translates.
 */
code: ErrorCode, 
/**
 * What the code's message needs, by name.
 */
params: { [key in string]: Param }, 
/**
 * One entry per invalid form field; empty otherwise.
 */
fields: Array<FieldError>, };

/**
 * Every code a command of the app fails with. The serialized names are
 * the codes core and the server use (`StoreError::code`,
 * `TransitionError::code`, the server's API codes …) where those reach a
 * person as they are; the few the shell adds say so.
 */
export type ErrorCode = "internal" | "not_signed_in" | "invalid_input" | "bad_field" | "invalid" | "not_found" | "already_exists" | "store_too_new" | "store_failed" | "draft_too_big" | "photo_hash_mismatch" | "photo_bad_address" | "not_an_image" | "too_many_pixels" | "too_large" | "corrupt_image" | "point_outside_grid" | "patrol_ended" | "task_line_missing" | "task_note_too_long" | "conflict_changed" | "previous_user_unsent" | "wrong_status" | "role_not_allowed" | "own_work" | "reason_required" | "photos_required" | "not_up" | "bad_deadline" | "not_assignee" | "unreachable" | "untrusted_certificate" | "plain_http_refused" | "bad_server_url" | "bad_ca_certificate" | "bad_credentials" | "account_disabled" | "console_only_account" | "signed_out" | "rate_limited" | "busy" | "update_app" | "server_refused" | "sync_unreadable" | "locked" | "pin_wrong" | "pin_wrong_wait" | "pin_throttled" | "pin_locked_out" | "pin_keystore_lost" | "keystore_unavailable" | "pin_not_set" | "pin_already_set" | "pin_not_six_digits" | "pin_same_digit" | "pin_run" | "pin_alternating" | "pin_birth_date" | "vault_failed" | "device_wiped";

/**
 * What is wrong with one form field.
 */
export type FieldError = { 
/**
 * The record's field key, e.g. `id_number` or `address`.
 */
field: string, 
/**
 * What is wrong: a validation code, or `point_outside_grid`.
 */
code: FieldErrorCode, 
/**
 * What the code's message needs, by name.
 */
params: { [key in string]: Param }, };

/**
 * The code of a field's error: core's validation [`Code`], or a point
 * outside the worker's grids.
 */
export type FieldErrorCode = FieldCode | PointCode;

/**
 * What an ID number says about its holder.
 */
export type IdNumberInfo = { normalized: string, birth_date: string, gender: Gender, };

/**
 * What a list screen asks for.
 */
export type ListArgs = { kind: RecordKind, 
/**
 * Full-text search (Chinese included); empty lists everything.
 */
text?: string, status?: Array<string>, parent_id?: string | null, limit?: number | null, };

/**
 * What the first-run screen sends.
 */
export type LoginArgs = { server_url: string, user: string, password: string, device_name?: string, 
/**
 * A CA certificate (PEM) the district's admin gives at setup, trusted
 * beside the system's roots.
 */
ca_pem?: string | null, 
/**
 * Plain `http://` to a server not on this machine (a trial on a
 * closed network; the admin's explicit choice).
 */
allow_plain_http?: boolean, };

/**
 * A notice from the server about a stored change: a code and params the
 * UI translates (`notices` in its message files).
 */
export type NoticeView = { 
/**
 * What [`crate::sync::dismiss_notices`] takes.
 */
seq: number, doc_id: string, 
/**
 * One of core's `NoticeCode`s, or a newer server's code.
 */
code: string, params: { [key in string]: Param }, 
/**
 * The server undid the edit with a change of its own.
 */
compensated: boolean, 
/**
 * When the device received it (Unix milliseconds).
 */
received_at: number, };

/**
 * The lock's state for the UI.
 */
export type PinView = { 
/**
 * A PIN is set on this device.
 */
set: boolean, 
/**
 * The app is open: no PIN is asked for now.
 */
unlocked: boolean, 
/**
 * Wrong PINs in a row.
 */
failures: number, 
/**
 * Milliseconds until the next try is allowed.
 */
wait_ms: number, 
/**
 * Too many wrong PINs: sign in to the server again.
 */
locked_out: boolean, 
/**
 * Wrong PINs left before the lock-out.
 */
tries_left: number, 
/**
 * The last sign-in got the data key back after a lock-out: the data
 * is kept; a new PIN is chosen.
 */
recovered: boolean, 
/**
 * The last sign-in could not get the data key back (an enrolment made
 * before the server kept recovery secrets, or one it no longer hands
 * on): the data from before is gone.
 */
data_lost: boolean, 
/**
 * The platform keystore the app uses (`secret-service`,
 * `apple-keychain`, `windows-credential-manager`): a PIN chosen or
 * typed here wraps the data key with its device secret too, so a copy
 * of the data folder does not open with the PIN alone. `None`: there
 * is none here, and the PIN alone protects the data (a copy of the
 * folder can be tried PIN by PIN offline).
 */
keystore: string | null, 
/**
 * The lock-out came from the keystore losing the device secret (it
 * was reset), not from wrong PINs; a sign-in keeps the data.
 */
keystore_lost: boolean, };

/**
 * The one field code that is not a validation code.
 */
export type PointCode = "point_outside_grid";

/**
 * The raw body of a command that takes bytes rather than JSON
 * (`add_photo`'s image).
 */
export type RawBody = Uint8Array;

/**
 * A record of any kind as a form holds it, sent as JSON (`mask_record`).
 */
export type RecordJson = object;

/**
 * A photo the server would not take, and why.
 */
export type RefusedPhoto = { sha256: string, 
/**
 * The server's code (`blob_not_an_image`, `blob_too_large` …), which
 * the UI translates.
 */
code: string, };

/**
 * A refusal from the server: a code and params the UI translates
 * (`rejections` in its message files).
 */
export type RejectionView = { doc_id: string, 
/**
 * One of core's `RejectionCode`s, or a newer server's code.
 */
code: string, 
/**
 * What the code's message needs, by name.
 */
params: { [key in string]: Param }, };

/**
 * The value a worker chose for a conflicted field.
 */
export type ResolveArgs = { id: string, path: string, value: JsonValue, };

/**
 * A sync waiting to try again.
 */
export type RetryView = { 
/**
 * The failed try's error code (`unreachable`, `timeout`, `busy` …).
 */
after: string, 
/**
 * Milliseconds until the next try.
 */
in_ms: number, };

/**
 * Who is signed in on this device, for the screens.
 */
export type SessionInfo = { server_url: string, device_id: string, user: LoginUser, 
/**
 * The user's grid subtree, boundaries included (for the location map).
 */
grids: Array<Grid>, };

/**
 * What the sync screen and the home screen show.
 */
export type SyncStatus = { 
/**
 * `None` until the first attempt; then whether the server answered.
 */
online: boolean | null, syncing: boolean, 
/**
 * Local changes not yet acknowledged by the server.
 */
pending: number, 
/**
 * Photos the server does not hold whole yet (thumbnails not counted).
 */
photos_pending: number, 
/**
 * Unix milliseconds of the last successful sync.
 */
last_sync_at: number | null, 
/**
 * Why the last attempt failed; cleared by a success.
 */
last_error: CommandError | null, 
/**
 * Records the server refused, with its reasons, as stored.
 */
rejections: Array<RejectionView>, 
/**
 * What the server did about stored changes (a forbidden edit undone,
 * a transition kept but not applied), newest first, until the worker
 * dismisses them ([`crate::sync::dismiss_notices`]).
 */
notices: Array<NoticeView>, 
/**
 * The photos (not thumbnails) the current or last sync uploaded:
 * bytes the server confirmed of each, for progress bars.
 */
uploads: Array<UploadView>, 
/**
 * Photos the server refused in the last sync, with its codes. They
 * stay on the device and are offered again at the next sync.
 */
photos_refused: Array<RefusedPhoto>, 
/**
 * Records changed, and photos received, by the last sync, for the
 * screens to refresh.
 */
changed: number, 
/**
 * Tries of the current or last sync (1 unless a try failed).
 */
attempts: number, 
/**
 * While a failed try waits to be tried again: why, and how long.
 */
retry: RetryView | null, 
/**
 * The current or last sync's records and bytes done and left, and
 * the time left at the rate the link has shown (`None` before the
 * first sync).
 */
progress: SyncProgress | null, };

/**
 * One line ticked or unticked, with its note.
 */
export type TickArgs = { id: string, index: number, done: boolean, note?: string, };

/**
 * What a workflow button sends.
 */
export type TransitionArgs = { id: string, action: Action, opinion?: string, };

/**
 * One photo's upload: bytes the server holds of it, of its whole length.
 */
export type UploadView = { sha256: string, sent: number, total: number, };

/** Every command: the arguments the front end sends, the result it receives. */
export type Commands = {
  app_info: { args: Record<string, never>, result: AppInfo },
  current_session: { args: Record<string, never>, result: SessionInfo | null },
  login: { args: { args: LoginArgs }, result: SessionInfo },
  list_records: { args: { query: ListArgs }, result: Array<Projection> },
  new_household: { args: Record<string, never>, result: Household },
  get_household: { args: { id: string }, result: Household },
  save_household: { args: { record: Household, draft: string | null }, result: Household },
  new_resident: { args: { householdId: string }, result: Resident },
  get_resident: { args: { id: string }, result: Resident },
  care_tag_options: { args: Record<string, never>, result: Array<CareTagOption> },
  save_resident: { args: { record: Resident, draft: string | null }, result: Resident },
  check_id_number: { args: { number: string }, result: IdNumberInfo },
  new_incident: { args: Record<string, never>, result: Incident },
  get_incident: { args: { id: string }, result: IncidentView },
  save_incident: { args: { record: Incident, draft: string | null }, result: IncidentView },
  transition_incident: { args: { args: TransitionArgs }, result: IncidentView },
  report_incident: { args: { record: Incident, draft: string | null }, result: IncidentView },
  due_visits: { args: Record<string, never>, result: Array<DueVisit> },
  map_features: { args: Record<string, never>, result: Array<MapFeature> },
  new_visit: { args: { residentId: string }, result: Visit },
  record_visit: { args: { record: Visit, draft: string | null }, result: Visit },
  get_conflicts: { args: { id: string }, result: Array<Conflict> },
  resolve_conflict: { args: { args: ResolveArgs }, result: Array<Conflict> },
  start_patrol: { args: Record<string, never>, result: PatrolView },
  get_patrol: { args: { id: string }, result: PatrolView },
  edit_patrol: { args: { id: string, edit: PatrolEdit }, result: PatrolView },
  add_photo: { args: { body: RawBody, role: PhotoRole, takenAt: number | null }, result: PhotoRef },
  photo_url: { args: { sha256: string }, result: string | null },
  log_reveal: { args: { kind: RecordKind, recordId: string, field: string, protection: Protection }, result: null },
  mask_record: { args: { kind: RecordKind, record: RecordJson }, result: MaskedView },
  save_draft: { args: { key: string, value: RecordJson, savedAt: number | null }, result: null },
  load_draft: { args: { key: string }, result: Draft | null },
  drop_draft: { args: { key: string }, result: null },
  list_drafts: { args: { kind: string }, result: Array<Draft> },
  sync_now: { args: Record<string, never>, result: SyncStatus },
  sync_status: { args: Record<string, never>, result: SyncStatus },
  dismiss_notices: { args: { seqs: Array<number> }, result: SyncStatus },
  list_tasks: { args: Record<string, never>, result: Array<TaskRow> },
  get_task: { args: { id: string }, result: Task },
  tick_task: { args: { args: TickArgs }, result: Task },
  pin_status: { args: Record<string, never>, result: PinView },
  set_pin: { args: { pin: string }, result: PinView },
  unlock: { args: { pin: string }, result: PinView },
  change_pin: { args: { oldPin: string, newPin: string }, result: PinView },
  lock_app: { args: Record<string, never>, result: PinView },
}

/** The commands' names, as `Commands` has them. */
export const COMMAND_NAMES = ['app_info', 'current_session', 'login', 'list_records', 'new_household', 'get_household', 'save_household', 'new_resident', 'get_resident', 'care_tag_options', 'save_resident', 'check_id_number', 'new_incident', 'get_incident', 'save_incident', 'transition_incident', 'report_incident', 'due_visits', 'map_features', 'new_visit', 'record_visit', 'get_conflicts', 'resolve_conflict', 'start_patrol', 'get_patrol', 'edit_patrol', 'add_photo', 'photo_url', 'log_reveal', 'mask_record', 'save_draft', 'load_draft', 'drop_draft', 'list_drafts', 'sync_now', 'sync_status', 'dismiss_notices', 'list_tasks', 'get_task', 'tick_task', 'pin_status', 'set_pin', 'unlock', 'change_pin', 'lock_app'] as const

/** The header naming an added photo's role. */
export const PHOTO_ROLE_HEADER = "x-photo-role"

/** The header carrying when an added photo was taken (Unix milliseconds). */
export const PHOTO_TAKEN_AT_HEADER = "x-photo-taken-at"
