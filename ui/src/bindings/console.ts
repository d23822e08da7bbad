// Generated from the Rust types by ts-rs: do not edit.
// Regenerate with `scripts/bindings`.

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
 * What a transition does.
 */
export type Action = { "type": "report" } | { "type": "accept" } | { "type": "return" } | { "type": "dispatch", to: Assignee, deadline_days: number, } | { "type": "start" } | { "type": "resolve" } | { "type": "resolve_on_spot" } | { "type": "verify" } | { "type": "feedback", satisfaction: Satisfaction, } | { "type": "close" } | { "type": "suspend" } | { "type": "resume" } | { "type": "escalate", to: Level, };

/**
 * Whom an incident is dispatched to.
 */
export type Assignee = { 
/**
 * `department` or `person`.
 */
kind: AssigneeKind, 
/**
 * Department code or user id.
 */
id: string, 
/**
 * Display name (城管执法队, 李明).
 */
name: string, };

/**
 * Whether an incident went to a department or a person.
 */
export type AssigneeKind = "department" | "person";

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
 * The state of an incident derived from its log.
 */
export type Derived = { status: Status, level: Level, assignee: Assignee | null, 
/**
 * The working-day deadline (Asia/Shanghai date), set by a dispatch.
 */
deadline: string | null, 
/**
 * Who resolved it last (verification must be by someone else).
 */
resolved_by: string | null, 
/**
 * Resolved straight from the report (就地解决).
 */
resolved_on_spot: boolean, 
/**
 * The latest feedback.
 */
feedback: Satisfaction | null, 
/**
 * How many times it went up the ladder.
 */
escalations: number, 
/**
 * The latest return's reason, while returned.
 */
return_reason: string | null, 
/**
 * Unix ms (server time when known) of the first report, acceptance,
 * resolution and closing, for the supervisors' figures.
 */
reported_at: number | null, accepted_at: number | null, resolved_at: number | null, closed_at: number | null, 
/**
 * Log entries the fold skipped, with why: two people acted at once and
 * this one came second. They stay in the log and the timeline.
 */
skipped: Array<Skipped>, 
/**
 * The status to go back to on resume.
 */
suspended_from: Status | null, };

/**
 * A record with everything its page shows.
 */
export type Detail = { summary: Summary, 
/**
 * The record as [`gridwork_core::privacy::mask_record`] masks it for
 * a view that reveals nothing (a reveal shows what the role may see).
 */
record: JsonValue, 
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
conflicts: Array<ConsoleConflict>, overdue: boolean, due_soon: boolean, 
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
export type IssueForm = { title: string, description: string, kind: TaskKind, 
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
items: Array<string>, 
/**
 * A screening's filter, e.g. `household:living_alone`.
 */
filter: string | null, };

/**
 * What an issue wrote.
 */
export type Issued = { campaign: string, tasks: Array<IssuedTask>, };

/**
 * One grid's document of an issue.
 */
export type IssuedTask = { id: string, grid: string, items: number, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * A page of a ledger as the console shows it (always masked).
 */
export type LedgerPage = { title: string, headers: Array<string>, total: number, rows: Array<JsonValue>, };

/**
 * The escalation ladder: grid → street/town → district → city.
 */
export type Level = "grid" | "street" | "district" | "city";

/**
 * The user a login enrolled the device for (and the console's signed-in
 * user).
 */
export type LoginUser = { id: string, name: string, role: Role, grid: string, department?: string | null, };

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
statuses: Array<string>, };

/**
 * One parameter of an error: a number or a text.
 */
export type Param = number | string;

/**
 * A photo referenced from a record by the SHA-256 of its compressed bytes.
 * The bytes travel separately as a content-addressed blob.
 */
export type PhotoRef = { 
/**
 * Lowercase hex SHA-256 of the upload-ready JPEG.
 */
sha256: string, 
/**
 * Lowercase hex SHA-256 of the thumbnail, when one was made.
 */
thumb_sha256: string | null, role: PhotoRole, bytes: number, width: number, height: number, 
/**
 * Unix milliseconds when the photo was taken (device clock).
 */
taken_at: number | null, };

/**
 * What a photo shows in its record.
 */
export type PhotoRole = "before" | "after" | "door_plate" | "evidence";

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
 * The kinds of record kept as Automerge documents.
 */
export type RecordKind = "household" | "resident" | "incident" | "patrol" | "visit" | "task" | "incident_parties";

/**
 * What a user may do; with the grid subtree it decides every permission.
 */
export type Role = "grid_worker" | "grid_leader" | "community_supervisor" | "street_supervisor" | "department_handler" | "admin";

/**
 * A resident's satisfaction with how an incident was handled.
 */
export type Satisfaction = "dissatisfied" | "satisfied" | "very_satisfied";

/**
 * A count and the share it is of its base.
 */
export type Share = { count: number, of: number, 
/**
 * `count / of`, `None` when `of` is 0.
 */
rate: number | null, };

/**
 * A log entry that did not apply where it landed in the merged log.
 */
export type Skipped = { 
/**
 * Index in the log.
 */
index: number, reason: TransitionError, };

/**
 * Where an incident is in its closed loop.
 */
export type Status = "draft" | "reported" | "accepted" | "returned" | "dispatched" | "in_progress" | "resolved" | "verified" | "feedback_given" | "closed" | "suspended";

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
 * One line of a task.
 */
export type TaskItem = { 
/**
 * What to do, or a screening target's label (an address, a masked
 * name: nothing the worker does not already see in their grid).
 */
text: string, 
/**
 * The household or resident a screening line is about.
 */
target: VisitTarget | null, done: boolean, 
/**
 * User id of the worker who ticked it.
 */
done_by: string | null, 
/**
 * Unix milliseconds (device clock).
 */
done_at: number | null, note: string, };

/**
 * What kind of task.
 */
export type TaskKind = "checklist" | "screening";

/**
 * One step of an incident's timeline, as the detail screen shows it.
 */
export type TimelineEntry = { 
/**
 * Why the fold skipped this entry (two people acted at once and it
 * came second), as a code and params the UI translates; `None` when
 * it applied.
 */
skipped: TransitionError | null, action: Action, 
/**
 * User id of who acted.
 */
actor: string, 
/**
 * Their role when they acted.
 */
role: Role, 
/**
 * The status the actor saw before acting.
 */
from: Status, 
/**
 * The status the actor expected after acting.
 */
to: Status, 
/**
 * Opinion or reason (处理意见, 退回原因).
 */
opinion: string, 
/**
 * SHA-256 of photos attached to this step (after-photos of a resolve).
 */
photos: Array<string>, 
/**
 * Unix milliseconds on the actor's device clock.
 */
at: number, 
/**
 * Unix milliseconds when the server first received it. Deadlines count
 * from this when known, because device clocks lie.
 */
received_at: number | null, };

/**
 * Why a transition is not allowed.
 */
export type TransitionError = { "code": "wrong_status", action: string, status: string, } | { "code": "role_not_allowed", action: string, role: string, } | { "code": "own_work", action: string, } | { "code": "reason_required", action: string, } | { "code": "photos_required", action: string, } | { "code": "not_up", from: string, to: string, } | { "code": "bad_deadline" } | { "code": "not_assignee", action: string, };

/**
 * An order that stored nothing, and why.
 */
export type Unplaced = { 
/**
 * 1-based position in the file.
 */
row: number, order_no: string, code: string, reason: string, };

/**
 * The record a visit is about.
 */
export type VisitTarget = { kind: VisitTargetKind, id: string, };

/**
 * What kind of record a visit is about.
 */
export type VisitTargetKind = "household" | "resident" | "incident";

/**
 * Patrol figures of one worker in one grid.
 */
export type WorkerPatrol = { worker: string, grid: string, patrols: number, hours: number, 
/**
 * 0 to 1; `None` when the grid has no boundary.
 */
coverage: number | null, };
