// The one module that talks to gridwork-server's console API. Views call
// these functions and never `fetch` themselves.

import type { Params } from '../i18n/errors'
import type { TaskItem, TransitionError } from '../types'

export type Kind = 'household' | 'resident' | 'incident'

export interface UserInfo {
  id: string
  name: string
  role: string
  grid: string
  department?: string
}

export interface GridName {
  code: string
  name: string
  level: string
}

export interface Me {
  user: UserInfo
  grids: GridName[]
  departments: string[]
  /** The statuses the lists filter by (review states, then incident
   * statuses), from the server. */
  statuses: string[]
}

export interface Assignee {
  kind: 'department' | 'person'
  id: string
  name: string
}

export interface IncidentFacts {
  number: string
  category: string
  urgency: string
  level: string
  assignee: Assignee | null
  deadline: string | null
  escalations: number
}

export interface Summary {
  id: string
  kind: Kind
  grid: string
  title: string
  subtitle: string
  status: string
  created_at: number
  created_by: string
  updated_at: number
  deleted: boolean
  return_comment?: string
  incident?: IncidentFacts
  overdue: boolean
  due_soon: boolean
}

export interface QueuePage {
  total: number
  items: Summary[]
}

export interface FieldChange {
  path: string
  before: unknown
  after: unknown
}

export interface HistoryEntry {
  hash: string
  /** The user the server bound the change's actor to. */
  user: string | null
  /** When the server received the change (ms). */
  at: number
  /** The device's own clock (ms), shown beside. */
  device_at: number
  actor: string
  created: boolean
  fields: FieldChange[]
}

export interface TimelineEntry {
  action: { type: string } & Record<string, unknown>
  actor: string
  role: string
  from: string
  to: string
  opinion: string
  at: number
  received_at: number | null
  skipped?: TransitionError | null
}

export interface IncidentState {
  status: string
  level: string
  assignee: Assignee | null
  deadline: string | null
}

export interface Detail {
  summary: Omit<Summary, 'overdue' | 'due_soon'>
  overdue: boolean
  due_soon: boolean
  record: Record<string, unknown>
  state?: IncidentState
  timeline?: TimelineEntry[]
  history: HistoryEntry[]
  /** What the signed-in user may do on the record now, by name: `accept`
   * and `return` (a review) on a household or resident; an incident's
   * workflow actions and `mediation`. Show these and nothing else. */
  actions: string[]
  /** The levels an escalation may go to. */
  escalate_to: string[]
}

export type IncidentAction =
  | { type: 'accept' }
  | { type: 'return' }
  | { type: 'start' }
  | { type: 'verify' }
  | { type: 'close' }
  | { type: 'dispatch'; to: Assignee; deadline_days: number }
  | { type: 'escalate'; to: string }
  | { type: 'resolve' }
  | { type: 'suspend' }
  | { type: 'resume' }
  | { type: 'feedback'; satisfaction: 'dissatisfied' | 'satisfied' | 'very_satisfied' }

/** A photo the server keeps as blobs (answered by a photo upload). */
export interface PhotoRef {
  sha256: string
  thumb_sha256: string | null
  role: string
  bytes: number
  width: number
  height: number
  taken_at: number | null
}

/** Where a record's photo (or its thumbnail) is shown from: a plain GET
 * with the session cookie, so an `<img>` can load it. */
export function photoUrl(recordId: string, sha256: string): string {
  return `${BASE}/records/${encodeURIComponent(recordId)}/photos/${sha256}`
}

/**
 * A failure the server explained with a stable code and its params
 * (`{code, params}`); `errors.ts` makes the sentence. The message is the
 * code, for logs.
 */
export class ConsoleApiError extends Error {
  constructor(
    readonly code: string,
    readonly params: Params,
    readonly status: number,
  ) {
    super(code)
  }
}

const BASE = '/console/api'

/** A body sent as it is (an uploaded file) rather than as JSON. */
interface RawBody {
  text: string | Blob
  type: string
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, raw?: RawBody): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  // Every state-changing request carries the console header (CSRF guard).
  if (method === 'POST') {
    headers['X-Gridwork-Console'] = '1'
    headers['Content-Type'] = raw ? raw.type : 'application/json'
  }
  let response: Response
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(raw ? { body: raw.text } : body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  } catch {
    throw new ConsoleApiError('network', {}, 0)
  }
  if (response.status === 204) return undefined as T
  const text = await response.text()
  let json: unknown = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    json = null
  }
  if (!response.ok) {
    // A refusal the server wrote before reading the request (an
    // extractor's) is `{code, message}`: its text is the detail.
    const e = (json ?? {}) as { code?: string; params?: Params; message?: string }
    const params = e.params ?? { detail: e.message ?? text }
    throw new ConsoleApiError(e.code ?? 'unknown', params, response.status)
  }
  return json as T
}

export const api = {
  login: (user: string, password: string) => call<Me>('POST', '/login', { user, password }),
  logout: () => call<void>('POST', '/logout'),
  me: () => call<Me>('GET', '/me'),
  queue(filter: { kind?: Kind | ''; status?: string; grid?: string; offset?: number }) {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(filter)) {
      if (v !== undefined && v !== '') q.set(k, String(v))
    }
    return call<QueuePage>('GET', `/queue?${q.toString()}`)
  },
  record: (id: string) => call<Detail>('GET', `/records/${id}`),
  review: (id: string, decision: 'accept' | 'return', comment: string) =>
    call<Detail>('POST', `/records/${id}/review`, { decision, comment }),
  reveal: (id: string) =>
    call<{ record: Record<string, unknown>; revealed: string }>('POST', `/records/${id}/reveal`),
  transition: (id: string, action: IncidentAction, opinion: string, photos: PhotoRef[] = []) =>
    call<Detail>('POST', `/incidents/${id}/transition`, { action, opinion, photos }),
  /** Uploads one after-photo of a report-back; the server prepares and keeps it. */
  uploadPhoto: (id: string, file: Blob) =>
    call<PhotoRef>('POST', `/incidents/${id}/photos`, undefined, {
      text: file,
      type: file.type || 'application/octet-stream',
    }),
  mediation: (id: string, m: Mediation) => call<Detail>('POST', `/incidents/${id}/mediation`, m),
  /** Imports a JSON or CSV file of 12345 work orders. */
  importHotline: (text: string, format: 'json' | 'csv') =>
    call<HotlineReport>('POST', '/hotline/import', undefined, {
      text,
      type: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json',
    }),
}

export const MEDIATION_METHODS = ['on_site', 'peoples_mediation_committee', 'joint', 'judicial_confirmation'] as const
export type MediationMethod = (typeof MEDIATION_METHODS)[number]

/** A dispute's mediation record (调解记录). */
export interface Mediation {
  mediator: string
  method: MediationMethod
  outcome: string
  success: boolean
  mediated_at?: number | null
}

/** A work order that became (or already was) an incident. */
export interface HotlinePlaced {
  order_no: string
  id: string
  grid: string
  placed_by?: 'point' | 'address'
}

/** A work order that stored nothing, and why. */
export interface HotlineUnplaced {
  row: number
  order_no: string
  code: string
  reason: string
}

export interface HotlineReport {
  imported: HotlinePlaced[]
  already: HotlinePlaced[]
  unplaced: HotlineUnplaced[]
}

/** The import format a file name says (JSON unless it ends in .csv). */
export function hotlineFormat(fileName: string): 'json' | 'csv' {
  return fileName.toLowerCase().endsWith('.csv') ? 'csv' : 'json'
}

/** A ledger (台账) page: Chinese headers and masked rows. */
export interface LedgerPage {
  title: string
  headers: string[]
  total: number
  rows: Array<{ id: string; cells: Array<string | number | null> }>
}

export type LedgerList = 'queue' | 'incidents' | 'households' | 'residents' | 'patrols'
export type ExportFormat = 'xlsx' | 'csv' | 'geojson'

/** A list's filters, as the server takes them. */
export interface LedgerFilter {
  kind?: string | undefined
  status?: string | undefined
  grid?: string | undefined
  figure?: string | undefined
  at?: number | undefined
}

export interface Share {
  count: number
  of: number
  rate: number | null
}

export interface WorkerPatrol {
  worker: string
  grid: string
  patrols: number
  hours: number
  coverage: number | null
}

export interface DashboardPage {
  grid: string
  at: number
  incidents: number
  by_status: Record<string, number>
  by_category: Record<string, number>
  by_grid: Record<string, number>
  resolved: Share
  on_the_spot: Share
  within_village: Share
  within_town: Share
  median_accept_ms: number | null
  median_close_ms: number | null
  overdue: number
  due_soon: number
  satisfaction: Share
  patrols: WorkerPatrol[]
  visited_in_cycle: Share
  grid_names: Record<string, string>
  /** Figure → its drill-down list query, relative to /console/api. */
  drill: Record<string, string>
}

/** `?a=b&…` of the filters that are set. */
export function query(filter: object): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(filter)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  }
  const s = q.toString()
  return s ? `?${s}` : ''
}

/** Where a list's export is downloaded from (a plain GET: a link). */
export function exportUrl(
  list: LedgerList | 'dashboard',
  format: ExportFormat,
  filter: LedgerFilter = {},
  reveal = false,
): string {
  const path = list === 'dashboard' ? '/dashboard/export' : `/lists/${list}/export`
  return BASE + path + query({ ...filter, format, reveal: reveal ? 'true' : undefined })
}

export const ledgers = {
  list: (list: LedgerList, filter: LedgerFilter & { offset?: number; limit?: number }) =>
    call<LedgerPage>('GET', `/lists/${list}${query(filter)}`),
  dashboard: (filter: { grid?: string | undefined; at?: number | undefined }) =>
    call<DashboardPage>('GET', `/dashboard${query(filter)}`),
  mapGrids: (grid?: string) => call<GeoJSON.FeatureCollection>('GET', `/map/grids${query({ grid })}`),
  mapIncidents: (filter: LedgerFilter) =>
    call<GeoJSON.FeatureCollection>('GET', `/map/incidents${query(filter)}`),
  accessLog: (limit = 200) => call<AccessEntry[]>('GET', `/access-log${query({ limit })}`),
}

/** One line of the access log: who revealed or exported what, when, from
 * which device or console session. */
export interface AccessEntry {
  seq: number
  at: number
  user_id: string
  device_id: string
  action: string
  target: string
  filter: string
  format: string | null
  record_ids: string[]
  row_count: number
  revealed: string
}

/** A checklist, or a screening campaign (专项排查) over the grid's register. */
export type TaskKind = 'checklist' | 'screening'

/** One line of a grid's task (the same shape the app reads). */
export type { TaskItem } from '../types'

/** What a supervisor sends to issue a task to every grid of a subtree. */
export interface IssueForm {
  title: string
  description: string
  kind: TaskKind
  /** YYYY-MM-DD */
  due: string
  grid: string
  items?: string[]
  filter?: string
}

export interface Issued {
  campaign: string
  tasks: Array<{ id: string; grid: string; items: number }>
}

/** A campaign's completion over the grids the user sees. */
export interface CampaignSummary {
  campaign: string
  title: string
  kind: TaskKind
  due: string
  issued_by: string
  issued_at: number
  filter: string | null
  grids: number
  grids_done: number
  items: number
  items_done: number
  overdue: boolean
}

export interface GridTask {
  id: string
  grid: string
  grid_name: string
  done: number
  total: number
  finished: boolean
  overdue: boolean
  items: TaskItem[]
}

export interface CampaignDetail extends CampaignSummary {
  description: string
  tasks: GridTask[]
}

export const tasks = {
  list: () => call<CampaignSummary[]>('GET', '/tasks'),
  issue: (form: IssueForm) => call<Issued>('POST', '/tasks', form),
  campaign: (id: string) => call<CampaignDetail>('GET', `/tasks/${id}`),
}
