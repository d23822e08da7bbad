// The records and answers the backend sends, as the Rust types serialize
// them (gridwork-core's model and src-tauri's commands). Only what the
// screens read is typed closely; the rest travels through untouched.

import type { CommandError, TransitionError } from './bindings/app'

export type RecordKind =
  | 'household'
  | 'resident'
  | 'incident'
  | 'patrol'
  | 'visit'
  | 'task'
  | 'incident_parties'

/** How protected a field is: [PI] personal, [S] sensitive (DOMAIN.md). */
export type Protection = 'pi' | 's'

/**
 * A record as a form shows it before a reveal, masked by core
 * (`gridwork_core::privacy::MaskedView`): the UI has no masks of its own.
 */
export interface MaskedView {
  record: Record<string, unknown>
  /** The class each protected path's reveal is logged as (`*` for any list index). */
  classes: Record<string, Protection>
}

/** Which masked field of which saved record the worker reveals (logged). */
export interface RevealArgs {
  kind: RecordKind
  recordId: string
  /** The record's field name, e.g. `id_number`. */
  field: string
  protection: Protection
}
export type Gender = 'male' | 'female' | 'unknown'

export interface Meta {
  id: string
  grid: string
  created_by: string
  created_at: number
  deleted: boolean
}

export interface GeoPoint {
  lon: number
  lat: number
  crs: string
  accuracy_m: number | null
}

export interface Address {
  estate: string
  building: string
  unit: string
  room: string
  village: string
  group: string
  detail: string
}

export type HouseholdUse = 'owner_occupied' | 'rented' | 'vacant' | 'business'

export interface Household extends Meta {
  address: Address
  point: GeoPoint | null
  use: HouseholdUse
  owner_name: string
  owner_phone: string | null
  owner_id_number: string | null
  [other: string]: unknown
}

/** Core's `CareTagKind`: a care or management tag (关爱/管理对象). [S] */
export type CareTagKind =
  | 'elderly_living_alone'
  | 'left_behind_child'
  | 'disability'
  | 'low_income'
  | 'community_correction'
  | 'released_prisoner'
  | 'severe_mental_disorder'
  | 'key_youth'

/** A resident's tag with its visit cycle (core's `CareTag`). [S] */
export interface CareTag {
  tag: CareTagKind
  visit_cycle_days: number
  /** Unix milliseconds when the tag was added. */
  since: number
}

/** A kind the form offers, with core's default cycle (`care_tag_options`). */
export interface CareTagOption {
  tag: CareTagKind
  default_cycle_days: number
  restricted: boolean
}

export interface Resident extends Meta {
  household_id: string | null
  relation: string
  name: string
  gender: Gender
  birth_date: string | null
  id_type: string
  id_number: string | null
  phone: string | null
  ethnicity: string
  registered_residence: string
  population_type: string
  care_tags: CareTag[]
  [other: string]: unknown
}

export type CategoryMajor =
  | 'dispute'
  | 'safety_hazard'
  | 'fire'
  | 'work_safety'
  | 'city_management'
  | 'environment'
  | 'public_order'
  | 'livelihood_services'
  | 'petition'
  | 'market_supervision'
  | 'other'

export type Urgency = 'high' | 'medium' | 'low'

export type PhotoRole = 'before' | 'after' | 'door_plate' | 'evidence'

/** A photo referenced from a record by the SHA-256 of its stored JPEG. */
export interface PhotoRef {
  sha256: string
  thumb_sha256: string | null
  role: PhotoRole
  bytes: number
  width: number
  height: number
  taken_at: number | null
}

export interface Incident extends Meta {
  number: string
  title: string
  description: string
  category: { major: CategoryMajor; minor: string }
  source: string
  urgency: Urgency
  point: GeoPoint | null
  address: string
  happened_at: number
  photos: PhotoRef[]
  /** The patrol it was found on, if any. */
  patrol_id?: string | null
  log: Transition[]
  [other: string]: unknown
}

export interface Transition {
  action: { type: string; [k: string]: unknown }
  actor: string
  role: string
  from: string
  to: string
  opinion: string
  at: number
  received_at: number | null
}

export interface TimelineEntry extends Transition {
  /** Why the entry did not apply (raced): a workflow refusal, translated by the UI. */
  skipped: TransitionError | null
}

export interface IncidentView {
  incident: Incident
  status: string
  derived: { status: string; return_reason: string | null; deadline: string | null }
  timeline: TimelineEntry[]
}

/** A list row (`Projection`): masked, safe to show in lists. */
export interface Projection {
  id: string
  kind: RecordKind
  grid: string
  title: string
  subtitle: string
  status: string | null
  category: string | null
  urgency: string | null
  parent_id: string | null
  due: string | null
  created_at: number
}

export interface Grid {
  code: string
  name: string
  level: string
  boundary:
    | { type: 'Polygon'; coordinates: [number, number][][] }
    | { type: 'MultiPolygon'; coordinates: [number, number][][][] }
    | null
  centroid: [number, number] | null
}

export interface SessionInfo {
  server_url: string
  device_id: string
  user: { id: string; name: string; role: string; grid: string }
  grids: Grid[]
}

export interface LoginArgs {
  server_url: string
  user: string
  password: string
  device_name: string
  /** A CA certificate (PEM) trusted beside the system's roots. */
  ca_pem?: string | null
  /** Plain http:// to a server not on this machine. */
  allow_plain_http?: boolean
}

export interface ListArgs {
  kind: RecordKind
  text?: string
  status?: string[]
  parent_id?: string
  limit?: number
}

export interface IdNumberInfo {
  normalized: string
  birth_date: string
  gender: Gender
}

export type { CommandError, ErrorCode, FieldError, TransitionError } from './bindings/app'

export interface SyncStatus {
  online: boolean | null
  syncing: boolean
  pending: number
  /** Photos (and thumbnails) the server does not hold whole yet. */
  photos_pending: number
  last_sync_at: number | null
  last_error: CommandError | null
  rejections: { doc_id: string; code: string; message: string }[]
  /** Photos the current (or last) sync uploads: bytes the server holds of each. */
  uploads: PhotoUpload[]
  /** Photos the server refused in the last sync, with the server's code. */
  photos_refused: { sha256: string; code: string }[]
  changed: number
  /** Tries of the current (or last) sync: 1 unless a try failed. */
  attempts: number
  /** While a failed try waits to be tried again: its error code and the wait. */
  retry: { after: string; in_ms: number } | null
}

/** One photo's upload: `sent` bytes confirmed by the server, of `total`. */
export interface PhotoUpload {
  sha256: string
  sent: number
  total: number
}

/** One position of a patrol's track (WGS-84), with its time. */
export interface TrackPoint {
  lon: number
  lat: number
  t_ms: number
}

export interface CheckIn {
  at: number
  point: GeoPoint
  photo: PhotoRef | null
  qr: string | null
  note: string
}

export interface Patrol extends Meta {
  worker: string
  started_at: number
  ended_at: number | null
  track: TrackPoint[]
  check_ins: CheckIn[]
  notes: string
  incident_ids: string[]
}

/** Core's `PatrolMetrics`: derived from the track against the grid. */
export interface PatrolMetrics {
  distance_m: number
  inside_s: number
  coverage_share: number
  cells_total: number
  cells_visited: number
}

export interface PatrolView {
  patrol: Patrol
  metrics: PatrolMetrics
  duration_ms: number
}

/** What the patrol screen records (core's `PatrolEdit`). */
export type PatrolEdit =
  | { type: 'point'; point: TrackPoint }
  | { type: 'check_in'; point: GeoPoint; at: number; note: string }
  | { type: 'incident'; id: string }
  | { type: 'stop'; at: number; notes: string }
  /** Saves the GPS fixes the backend holds (it saves them in batches). */
  | { type: 'flush' }

export type VisitKind = 'home' | 'key_person' | 'care' | 'incident_follow_up'
export type VisitForm = 'in_person' | 'phone' | 'video'

/** A visit (走访), `Visit` in core/src/model/visit.rs. */
export interface Visit extends Meta {
  target: { kind: 'household' | 'resident' | 'incident'; id: string }
  visit_kind: VisitKind
  form: VisitForm
  visitor: string
  visited_at: number
  point: GeoPoint | null
  photos: PhotoRef[]
  content: string
  measures: string
  next_due: string | null
  review: unknown[]
}

/** A row of the visits due list (`DueVisit` in core/src/fieldwork/visits.rs). */
export interface DueVisit {
  resident: Projection
  /** Days from today to the due date; negative when overdue. */
  days_left: number
  overdue: boolean
}

/** One value of a conflicted field (`ConflictValue` in core/src/doc.rs). */
export interface ConflictValue {
  value: unknown
  /** User id that wrote it. */
  user: string | null
  /** Unix seconds on the writer's clock. */
  time: number | null
  actor: string
  /** Hex hash of the change that wrote it. */
  change?: string | null
}

/** A field written differently at once on two devices. */
export interface Conflict {
  /** Dotted path: `address.room`, `parties.0.phone`. */
  path: string
  /** Every value; the first is the one shown now. */
  values: ConflictValue[]
}

/** A marker on the grid map (`MapFeature` in core/src/fieldwork/map.rs): a
 * household or an open incident, its masked row and WGS-84 point. */
export interface MapFeature {
  row: Projection
  lon: number
  lat: number
}

/** One line of a task (`TaskItem` in core/src/model/task.rs). */
export interface TaskItem {
  text: string
  /** The household or resident a screening line is about. */
  target: { kind: 'household' | 'resident' | 'incident'; id: string } | null
  done: boolean
  done_by: string | null
  done_at: number | null
  note: string
}

/** A task from above for the worker's grid (`Task` in core/src/model/task.rs). */
export interface Task extends Meta {
  campaign: string
  title: string
  description: string
  task_kind: 'checklist' | 'screening'
  /** YYYY-MM-DD, Asia/Shanghai. */
  due: string
  issued_by: string
  issued_at: number
  filter: string | null
  items: TaskItem[]
}

/** A task on the tablet's lists (core's `task_rows`: open first, earliest due first). */
export interface TaskRow {
  row: Projection
  done: number
  total: number
  open: boolean
  /** Past its due date (Asia/Shanghai) and not finished. */
  overdue: boolean
}
