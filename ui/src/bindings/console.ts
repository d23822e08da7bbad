// Generated from the Rust types by ts-rs: do not edit.
// Regenerate with `scripts/bindings`.

import type { Action, Assignee, Derived, JsonValue, Level, LoginUser, Param, PhotoRef, RecordKind, TaskItem, TaskKind, TimelineEntry } from './model'

/**
 * One row of the append-only access log: an export or a reveal.
 */
export type AccessEntry = { 
/**
 * Assigned when appended; ignored by [`Storage::append_access`].
 */
seq: number, 
/**
 * Unix ms, server clock.
 */
at: number, user_id: string, 
/**
 * The console session's enrolment or the device.
 */
device_id: string, 
/**
 * `export` or `reveal`.
 */
action: string, 
/**
 * The list or page: `incidents`, `households`, `residents`, `queue`,
 * `dashboard`.
 */
target: string, 
/**
 * The list's filter, as JSON.
 */
filter: string, 
/**
 * `xlsx`, `csv`, `geojson`.
 */
format: string | null, 
/**
 * The records the rows came from.
 */
record_ids: Array<string>, row_count: number, 
/**
 * Protected classes sent in clear: `""`, `"pi"` or `"pi,s"`.
 */
revealed: string, };

/**
 * A campaign with every grid's task.
 */
export type CampaignDetail = { description: string, tasks: Array<GridTask>, campaign: string, title: string, kind: TaskKind, due: string, issued_by: string, issued_at: number, filter: string | null, grids: number, grids_done: number, items: number, items_done: number, 
/**
 * Past the due date with a line still open.
 */
overdue: boolean, };

/**
 * A campaign's completion over the grids the user sees.
 */
export type CampaignSummary = { campaign: string, title: string, kind: TaskKind, due: string, issued_by: string, issued_at: number, filter: string | null, grids: number, grids_done: number, items: number, items_done: number, 
/**
 * Past the due date with a line still open.
 */
overdue: boolean, };

/**
 * One value of a conflicted field, as the console shows it.
 */
export type ConflictValue = { 
/**
 * Masked like the history's values.
 */
value: JsonValue, 
/**
 * The user the server bound the writing actor to.
 */
user: string | null, 
/**
 * Unix ms, server clock: when the change reached the server.
 */
at: number | null, 
/**
 * Unix ms on the writing device's clock.
 */
device_at: number | null, 
/**
 * Hex actor id (the enrolment).
 */
actor: string, };

/**
 * A field with several concurrent values, as the console shows it.
 */
export type ConsoleConflict = { path: string, 
/**
 * The first is the one currently shown.
 */
values: Array<ConflictValue>, };

/**
 * The body of a console refusal.
 */
export type ConsoleRefusal = { 
/**
 * The stable code the console translates.
 */
code: string, 
/**
 * What the code's message needs, by name.
 */
params: { [key in string]: Param }, };

/**
 * `?grid=&at=&format=`.
 */
export type DashQuery = { grid?: string, 
/**
 * Unix ms the visit cycles are judged at (default: now).
 */
at?: number, format?: string, };

/**
 * The dashboard as the console shows it.
 */
export type DashboardPage = { 
/**
 * The grid the figures are of.
 */
grid: string, at: number, 
/**
 * Grid code → name, for the per-grid counts.
 */
grid_names: { [key in string]: string }, 
/**
 * Figure → the list query of its records (relative to `/console/api`).
 */
drill: { [key in string]: string }, 
/**
 * Incidents counted (reported, not draft).
 */
incidents: number, by_status: { [key in string]: number }, by_category: { [key in string]: number }, by_grid: { [key in string]: number }, resolved: Share, on_the_spot: Share, within_village: Share, within_town: Share, median_accept_ms: number | null, median_close_ms: number | null, overdue: number, due_soon: number, satisfaction: Share, patrols: Array<WorkerPatrol>, visited_in_cycle: Share, };

/**
 * A record with everything its page shows.
 */
export type Detail = { summary: Summary, 
/**
 * The record as [`gridwork_core::privacy::mask_record`] masks it for
 * a view that reveals nothing (a reveal shows what the role may see).
 */
record: { [key in string]?: JsonValue }, 
/**
 * For incidents: the derived state.
 */
state: Derived | null, 
/**
 * For incidents: the transition log, with whether each entry applied
 * (core's, as the app's detail screen shows it).
 */
timeline: Array<TimelineEntry>, history: Array<HistoryEntry>, 
/**
 * Fields with concurrent values, each with who wrote it and when the
 * server received it.
 */
conflicts: Array<ConsoleConflict>, 
/**
 * The history's changes pushed by a device after an admin reported it
 * lost (hex hashes): kept, and shown as 来自已挂失设备 for review
 * ([`crate::devices`]).
 */
from_lost_device: Array<string>, overdue: boolean, due_soon: boolean, 
/**
 * `accept` and `return` (a review) on a household or resident; on an
 * incident its workflow actions by [`Action::name`] and `mediation`.
 */
actions: Array<string>, 
/**
 * The levels an escalation may go to (empty unless `escalate` is
 * offered).
 */
escalate_to: Array<Level>, };

/**
 * Where a device stands.
 */
export type DeviceState = "active" | "revoked" | "lost" | "wiped";

/**
 * One device as the console's device page shows it.
 */
export type DeviceView = { id: string, user_id: string, 
/**
 * The name the device gave at login (its own words: shown as text).
 */
name: string, state: DeviceState, 
/**
 * When it entered that state ([`DeviceState::since`]).
 */
since: number | null, 
/**
 * Unix ms, server clock.
 */
created_at: number, revoked_at: number | null, lost_at: number | null, wiped_at: number | null, 
/**
 * When it last confirmed a cursor (its last sync).
 */
last_sync_at: number | null, };

/**
 * One field a change set, with [S] and [PI] values masked.
 */
export type FieldChange = { 
/**
 * Dotted path, list indexes as numbers: `address.room`, `review.1.comment`.
 */
path: string, before: JsonValue | null, after: JsonValue | null, };

/**
 * A grid as menus show it.
 */
export type GridName = { code: string, name: string, level: string, };

/**
 * One grid's task, for the drill-down.
 */
export type GridTask = { id: string, grid: string, grid_name: string, done: number, total: number, finished: boolean, overdue: boolean, items: Array<TaskItem>, };

/**
 * One change of a record.
 */
export type HistoryEntry = { 
/**
 * Hex change hash.
 */
hash: string, 
/**
 * The user the server bound the change's actor to.
 */
user: string | null, 
/**
 * Unix ms, server clock: when the change reached the server (the
 * device's time for a change the log does not hold).
 */
at: number, 
/**
 * Unix ms on the device's clock, as the change says.
 */
device_at: number, 
/**
 * Hex actor id (the device).
 */
actor: string, 
/**
 * The change that made the record: its fields are not listed.
 */
created: boolean, fields: Array<FieldChange>, };

/**
 * What an import did.
 */
export type ImportReport = { imported: Array<Placed>, 
/**
 * Orders imported before (by anyone): nothing new stored.
 */
already: Array<Placed>, unplaced: Array<Unplaced>, };

/**
 * An incident's derived state, for lists.
 */
export type IncidentFacts = { number: string, category: string, urgency: string, level: Level, assignee: Assignee | null, 
/**
 * The working-day deadline, `YYYY-MM-DD`.
 */
deadline: string | null, escalations: number, };

/**
 * What a supervisor fills in to issue a task.
 */
export type IssueForm = { title: string, description?: string, kind: TaskKind, 
/**
 * `YYYY-MM-DD`, today or later.
 */
due: string, 
/**
 * The root of the subtree whose grids receive it.
 */
grid: string, 
/**
 * A checklist's lines.
 */
items?: Array<string>, 
/**
 * A screening's filter, e.g. `household:living_alone`.
 */
filter?: string, };

/**
 * What an issue wrote.
 */
export type Issued = { campaign: string, tasks: Array<IssuedTask>, };

/**
 * One grid's document of an issue.
 */
export type IssuedTask = { id: string, grid: string, items: number, };

/**
 * A page of a ledger as the console shows it (always masked).
 */
export type LedgerPage = { title: string, headers: Array<string>, total: number, 
/**
 * Each row's record id and its cells, as `Table::json_rows` writes them.
 */
rows: Array<{ id: string, cells: Array<string | number | null> }>, };

/**
 * A list's filters, shared by the view and the export.
 */
export type ListQuery = { 
/**
 * For the queue: `household`, `resident` or `incident`.
 */
kind?: string, 
/**
 * A review state or incident status; the queue's default is `todo`,
 * the other lists' `all`.
 */
status?: string, 
/**
 * A grid code in the user's subtree.
 */
grid?: string, limit?: number, offset?: number, 
/**
 * A dashboard figure whose records to list (its drill-down), e.g.
 * `overdue`, `resolved`, `status:closed`, `visited_in_cycle`.
 */
figure?: string, 
/**
 * Unix ms the visit cycles are judged at (default: now).
 */
at?: number, 
/**
 * Export only: `xlsx`, `csv` or `geojson`.
 */
format?: string, 
/**
 * Export only: ask for [PI]/[S] in clear, as far as the role may.
 */
reveal?: boolean, };

/**
 * What the console sends to sign in.
 */
export type LoginRequest = { user: string, password: string, };

/**
 * The signed-in user, with what the console's menus need.
 */
export type Me = { user: LoginUser, 
/**
 * The user's grid and every grid below it: code, name, level.
 */
grids: Array<GridName>, 
/**
 * Departments incidents can be dispatched to.
 */
departments: Array<string>, 
/**
 * The statuses the lists filter by ([`queue::statuses`]: core's
 * review states and incident statuses).
 */
statuses: Array<string>, 
/**
 * The sections the user may open ([`sections::open_to`]); the menu
 * shows these and nothing else.
 */
sections: Array<Section>, };

/**
 * An order that became an incident, or was one already.
 */
export type Placed = { order_no: string, id: string, grid: string, placed_by: PlacedBy | null, };

/**
 * How an order was placed in its grid.
 */
export type PlacedBy = "point" | "address";

/**
 * One line of the queue.
 */
export type QueueItem = { id: string, kind: RecordKind, grid: string, title: string, subtitle: string, 
/**
 * Review state (`pending`, `accepted`, `returned`) or incident status.
 */
status: string, created_at: number, created_by: string, 
/**
 * Unix ms, server clock, of the last change the server stored.
 */
updated_at: number, deleted: boolean, 
/**
 * The comment of the latest return, while returned.
 */
return_comment: string | null, incident: IncidentFacts | null, overdue: boolean, due_soon: boolean, };

/**
 * A page of the queue.
 */
export type QueuePage = { total: number, items: Array<QueueItem>, };

/**
 * The queue's filters.
 */
export type QueueQuery = { 
/**
 * `household`, `resident` or `incident`.
 */
kind?: string, 
/**
 * A review state or incident status; `todo` (the default) is what
 * waits for a decision, `all` is everything.
 */
status?: string, 
/**
 * A grid code in the user's subtree (its subtree is listed).
 */
grid?: string, 
/**
 * Only records with changes from a device reported lost
 * (a condition of the projection query).
 */
from_lost_device?: boolean, limit?: number, offset?: number, };

/**
 * A record with its [PI] and [S] fields in clear as far as the role may
 * see them.
 */
export type Revealed = { 
/**
 * The record, masked where the role may not see in clear.
 */
record: { [key in string]?: JsonValue }, 
/**
 * [`Reveal::label`] of what is in clear.
 */
revealed: string, };

/**
 * A review decision.
 */
export type ReviewRequest = { 
/**
 * `accept` or `return`.
 */
decision: string, comment?: string, };

/**
 * A section of the console.
 */
export type Section = "queue" | "dashboard" | "ledgers" | "map" | "hotline" | "tasks" | "access_log" | "devices";

/**
 * A count and the share it is of its base.
 */
export type Share = { count: number, of: number, 
/**
 * `count / of`, `None` when `of` is 0.
 */
rate: number | null, };

/**
 * What the queue shows of a record. Masked: no [PI] or [S] values in
 * clear.
 */
export type Summary = { id: string, kind: RecordKind, grid: string, title: string, subtitle: string, 
/**
 * Review state (`pending`, `accepted`, `returned`) or incident status.
 */
status: string, created_at: number, created_by: string, 
/**
 * Unix ms, server clock, of the last change the server stored.
 */
updated_at: number, deleted: boolean, 
/**
 * The comment of the latest return, while returned.
 */
return_comment: string | null, incident: IncidentFacts | null, };

/**
 * A workflow step.
 */
export type TransitionRequest = { action: Action, opinion?: string, 
/**
 * After-photos of a report-back (`resolve`), as answered by
 * `POST /console/api/incidents/{id}/photos`.
 */
photos?: Array<PhotoRef>, };

/**
 * An order that stored nothing, and why.
 */
export type Unplaced = { 
/**
 * 1-based position in the file.
 */
row: number, order_no: string, code: UnplacedCode, 
/**
 * What the code's message needs, by name (see [`UnplacedCode`]).
 */
params: { [key in string]: Param }, };

/**
 * Why an order stored nothing, with the params its message takes.
 */
export type UnplacedCode = "order_no_required" | "description_required" | "duplicate_in_file" | "imported_elsewhere" | "bad_point" | "point_incomplete" | "no_grid_at_point" | "outside_scope" | "no_location" | "ambiguous_address" | "address_not_found" | "bad_time" | "bad_category" | "invalid_order" | "transition" | "refused";

/**
 * Patrol figures of one worker in one grid.
 */
export type WorkerPatrol = { worker: string, grid: string, patrols: number, hours: number, 
/**
 * 0 to 1; `None` when the grid has no boundary.
 */
coverage: number | null, };

/** Where the console API is mounted; `CONSOLE_PATHS` are relative to it. */
export const CONSOLE_API_BASE = "/console/api"

/** The console API's paths (`{id}` and the like to fill in). */
export const CONSOLE_PATHS = {
  LOGIN: "/login",
  LOGOUT: "/logout",
  ME: "/me",
  QUEUE: "/queue",
  RECORD: "/records/{id}",
  REVIEW: "/records/{id}/review",
  REVEAL: "/records/{id}/reveal",
  TRANSITION: "/incidents/{id}/transition",
  MEDIATION: "/incidents/{id}/mediation",
  INCIDENT_PHOTOS: "/incidents/{id}/photos",
  RECORD_PHOTO: "/records/{id}/photos/{sha256}",
  HOTLINE_IMPORT: "/hotline/import",
  TASKS: "/tasks",
  CAMPAIGN: "/tasks/{campaign}",
  LIST: "/lists/{list}",
  LIST_EXPORT: "/lists/{list}/export",
  ACCESS_LOG: "/access-log",
  DEVICES: "/devices",
  DEVICE_LOST: "/devices/{id}/lost",
  DEVICE_REVOKE: "/devices/{id}/revoke",
  DASHBOARD: "/dashboard",
  DASHBOARD_EXPORT: "/dashboard/export",
  MAP_GRIDS: "/map/grids",
  MAP_INCIDENTS: "/map/incidents",
} as const

/** The header every state-changing console request carries (CSRF guard). */
export const CSRF_HEADER = "x-gridwork-console"

/** Every code a console API failure carries (`ConsoleRefusal.code`): the console's message tables are typed by it. */
export type ConsoleErrorCode = "account_disabled" | "action_not_offered" | "bad_credentials" | "bad_deadline" | "bad_magic" | "bad_request" | "busy" | "comment_required" | "console_role" | "csrf" | "device_lost" | "device_not_lost" | "expands_too_large" | "hotline_empty" | "hotline_format" | "hotline_not_text" | "hotline_too_many" | "hotline_unreadable" | "internal" | "malformed" | "mediation_in_future" | "mediation_required" | "mediation_too_long" | "not_a_dispute" | "not_assignee" | "not_found" | "not_ready" | "not_up" | "own_work" | "photo_corrupt_image" | "photo_missing" | "photo_not_an_image" | "photo_too_large" | "photo_too_many_pixels" | "photos_required" | "rate_limited" | "reason_required" | "refused" | "report_required" | "reveal_not_allowed" | "role_not_allowed" | "server_error" | "session_expired" | "task_due" | "task_filter" | "task_no_grids" | "task_required" | "task_too_long" | "task_too_many" | "token_revoked" | "too_large" | "truncated" | "unauthenticated" | "unsupported_version" | "wrong_kind" | "wrong_status"
