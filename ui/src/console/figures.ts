// Pure helpers of the dashboard, the ledgers and the map: how figures are
// written, where a figure drills down to, how a grid is shaded.
import type { LedgerFilter, LedgerList, Share } from './api'

/** A share as a percentage with one decimal, `—` when there is no base. */
export function formatRate(share: Pick<Share, 'rate'> | number | null | undefined): string {
  const rate = typeof share === 'number' || share == null ? share : share.rate
  if (rate === null || rate === undefined || Number.isNaN(rate)) return '—'
  return `${(rate * 100).toFixed(1)}%`
}

/** Milliseconds as hours with one decimal, `—` when unknown. */
export function formatHours(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—'
  return (ms / 3_600_000).toFixed(1)
}

/** The list and filters of a drill-down query the server gave. */
export function drillTarget(url: string): { list: LedgerList; filter: LedgerFilter } | null {
  const m = /^\/lists\/(queue|incidents|households|residents|patrols)(?:\?(.*))?$/.exec(url)
  if (!m) return null
  const params = new URLSearchParams(m[2] ?? '')
  const filter: LedgerFilter = {}
  for (const key of ['kind', 'status', 'grid', 'figure'] as const) {
    const v = params.get(key)
    if (v) filter[key] = v
  }
  const at = params.get('at')
  if (at && /^\d+$/.test(at)) filter.at = Number(at)
  return { list: m[1] as LedgerList, filter }
}

/** The figures a map can shade grids by, and whether each is a rate. */
export const MAP_FIGURES = [
  { key: 'incidents', rate: false },
  { key: 'overdue', rate: false },
  { key: 'resolution_rate', rate: true },
  { key: 'satisfaction_rate', rate: true },
  { key: 'visited_in_cycle_rate', rate: true },
] as const

export type MapFigure = (typeof MAP_FIGURES)[number]['key']

/**
 * The fill of a grid whose figure is `value` when the largest is `max`:
 * from pale to deep blue; grey when the grid has no value.
 */
export function shade(value: number | null | undefined, max: number): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '#dcdee0'
  const t = max > 0 ? Math.min(1, Math.max(0, value / max)) : 0
  const from = [0xe8, 0xf3, 0xff]
  const to = [0x0b, 0x4f, 0xa8]
  const mix = from.map((f, i) => Math.round(f + (to[i]! - f) * t))
  return `#${mix.map((c) => c.toString(16).padStart(2, '0')).join('')}`
}

/** The largest value of a figure over the features (1 for rates). */
export function scaleMax(values: Array<number | null | undefined>, rate: boolean): number {
  if (rate) return 1
  return Math.max(0, ...values.map((v) => (typeof v === 'number' ? v : 0)))
}
