// The one module that talks to gridwork-server's console API. Views call
// these functions and never `fetch` themselves. What the server answers and
// takes is typed by the declarations generated from its Rust types
// (`bindings/console.ts`, core's in `bindings/model.ts`).

import type {
  CampaignDetail,
  CampaignSummary,
  DashboardPage,
  Detail,
  ImportReport,
  IssueForm,
  Issued,
  LedgerPage,
  ListQuery,
  LoginRequest,
  Me,
  QueuePage,
  QueueQuery,
  Revealed,
  ReviewRequest,
  TransitionRequest,
  DeviceView,
} from '../bindings/console'
import type { AccessEntry } from '../bindings/console'
import { CONSOLE_API_BASE, CONSOLE_PATHS as P, CSRF_HEADER } from '../bindings/console'
import type { Mediation, MediationMethod, PhotoRef } from '../bindings/model'
import type { Params as ErrorParams } from '../i18n/errors'

export type * from '../bindings/console'
export type {
  Action,
  Assignee,
  Level,
  Mediation,
  MediationMethod,
  PhotoRef,
  TaskItem,
  TaskKind,
} from '../bindings/model'

/** The `{name}` placeholders of a path. */
type Params<Path extends string> = Path extends `${string}{${infer K}}${infer Rest}` ? K | Params<Rest> : never

/** A path of the API (`CONSOLE_PATHS`) with its placeholders filled in, each encoded. */
export function pathOf<Path extends string>(path: Path, params: Record<Params<Path>, string | number>): string {
  const values = params as Record<string, string | number>
  return path.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(String(values[k])))
}

/** The record kinds the queue lists. */
export type Kind = 'household' | 'resident' | 'incident'

/** Where a record's photo (or its thumbnail) is shown from: a plain GET
 * with the session cookie, so an `<img>` can load it. */
export function photoUrl(recordId: string, sha256: string): string {
  return BASE + pathOf(P.RECORD_PHOTO, { id: recordId, sha256 })
}

/**
 * A failure the server explained with a stable code and its params
 * (`{code, params}`); `errors.ts` makes the sentence. The message is the
 * code, for logs.
 */
export class ConsoleApiError extends Error {
  constructor(
    readonly code: string,
    readonly params: ErrorParams,
    readonly status: number,
  ) {
    super(code)
  }
}

const BASE = CONSOLE_API_BASE

/** A body sent as it is (an uploaded file) rather than as JSON. */
interface RawBody {
  text: string | Blob
  type: string
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, raw?: RawBody): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  // Every state-changing request carries the console header (CSRF guard).
  if (method === 'POST') {
    headers[CSRF_HEADER] = '1'
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
    const e = (json ?? {}) as { code?: string; params?: ErrorParams; message?: string }
    const params = e.params ?? { detail: e.message ?? text }
    throw new ConsoleApiError(e.code ?? 'unknown', params, response.status)
  }
  return json as T
}

export const api = {
  login: (user: string, password: string) => call<Me>('POST', P.LOGIN, { user, password } satisfies LoginRequest),
  logout: () => call<void>('POST', P.LOGOUT),
  me: () => call<Me>('GET', P.ME),
  queue(filter: QueueQuery) {
    return call<QueuePage>('GET', P.QUEUE + query(filter))
  },
  record: (id: string) => call<Detail>('GET', pathOf(P.RECORD, { id })),
  review: (id: string, decision: 'accept' | 'return', comment: string) =>
    call<Detail>('POST', pathOf(P.REVIEW, { id }), { decision, comment } satisfies ReviewRequest),
  reveal: (id: string) => call<Revealed>('POST', pathOf(P.REVEAL, { id })),
  transition: (id: string, body: TransitionRequest) => call<Detail>('POST', pathOf(P.TRANSITION, { id }), body),
  /** Uploads one after-photo of a report-back; the server prepares and keeps it. */
  uploadPhoto: (id: string, file: Blob) =>
    call<PhotoRef>('POST', pathOf(P.INCIDENT_PHOTOS, { id }), undefined, {
      text: file,
      type: file.type || 'application/octet-stream',
    }),
  mediation: (id: string, m: Mediation) => call<Detail>('POST', pathOf(P.MEDIATION, { id }), m),
  /** Imports a JSON or CSV file of 12345 work orders. */
  importHotline: (text: string, format: 'json' | 'csv') =>
    call<ImportReport>('POST', P.HOTLINE_IMPORT, undefined, {
      text,
      type: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json',
    }),
}

/** The mediation methods in the order the form offers them. */
export const MEDIATION_METHODS = [
  'on_site',
  'peoples_mediation_committee',
  'joint',
  'judicial_confirmation',
] as const satisfies readonly MediationMethod[]

/** The import format a file name says (JSON unless it ends in .csv). */
export function hotlineFormat(fileName: string): 'json' | 'csv' {
  return fileName.toLowerCase().endsWith('.csv') ? 'csv' : 'json'
}

export type LedgerList = 'queue' | 'incidents' | 'households' | 'residents' | 'patrols'
export type ExportFormat = 'xlsx' | 'csv' | 'geojson'

/** A list's filters, as the server takes them (the export's format and
 * reveal are `exportUrl`'s arguments). */
export type LedgerFilter = {
  [K in Exclude<keyof ListQuery, 'format' | 'reveal' | 'limit' | 'offset'>]?: ListQuery[K] | undefined
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
  const path = list === 'dashboard' ? P.DASHBOARD_EXPORT : pathOf(P.LIST_EXPORT, { list })
  return BASE + path + query({ ...filter, format, reveal: reveal ? 'true' : undefined })
}

export const ledgers = {
  list: (list: LedgerList, filter: LedgerFilter & { offset?: number; limit?: number }) =>
    call<LedgerPage>('GET', pathOf(P.LIST, { list }) + query(filter)),
  dashboard: (filter: { grid?: string | undefined; at?: number | undefined }) =>
    call<DashboardPage>('GET', P.DASHBOARD + query(filter)),
  mapGrids: (grid?: string) => call<GeoJSON.FeatureCollection>('GET', P.MAP_GRIDS + query({ grid })),
  mapIncidents: (filter: LedgerFilter) =>
    call<GeoJSON.FeatureCollection>('GET', P.MAP_INCIDENTS + query(filter)),
  accessLog: (limit = 200) => call<AccessEntry[]>('GET', P.ACCESS_LOG + query({ limit })),
}

/** The admin's device page: list, mark lost, revoke. */
export const devices = {
  list: () => call<DeviceView[]>('GET', P.DEVICES),
  markLost: (id: string) => call<DeviceView>('POST', pathOf(P.DEVICE_LOST, { id }), {}),
  revoke: (id: string) => call<DeviceView>('POST', pathOf(P.DEVICE_REVOKE, { id }), {}),
}

export const tasks = {
  list: () => call<CampaignSummary[]>('GET', P.TASKS),
  issue: (form: IssueForm) => call<Issued>('POST', P.TASKS, form),
  campaign: (id: string) => call<CampaignDetail>('GET', pathOf(P.CAMPAIGN, { campaign: id })),
}
