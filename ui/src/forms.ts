// Form logic shared by the record screens: field errors from the backend
// and small conversions. Masks are core's (`backend.maskRecord`).

import type { BackendError } from './backend'
import { fieldMessage } from './i18n/errors'
import type { Address, Grid } from './types'

/** `{field: message}` from a failed save; the field keys are the record's. */
export function fieldErrors(error: BackendError | null): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of error?.fields ?? []) {
    const message = fieldMessage(f.code, f.params)
    out[f.field] = out[f.field] ? `${out[f.field]}；${message}` : message
  }
  return out
}

/** The address as people write it: 阳光花园3栋2单元501室. */
export function addressLine(a: Address): string {
  const part = (value: string, suffix: string) =>
    value ? (value.endsWith(suffix) ? value : value + suffix) : ''
  return (
    part(a.estate, '') +
    part(a.building, '栋') +
    part(a.unit, '单元') +
    part(a.room, '室') +
    part(a.village, '') +
    part(a.group, '组') +
    part(a.detail, '')
  )
}

/** The outer rings of a grid's boundary, `[lon, lat]` each. */
export function outerRings(grid: Grid): [number, number][][] {
  const b = grid.boundary
  if (!b) return []
  if (b.type === 'Polygon') return b.coordinates.slice(0, 1)
  return b.coordinates.map((polygon) => polygon[0] ?? [])
}

export interface Box {
  minLon: number
  minLat: number
  maxLon: number
  maxLat: number
}

/** The box around some rings, padded by a twentieth on each side. */
export function boxOf(rings: [number, number][][]): Box | null {
  const points = rings.flat()
  if (points.length === 0) return null
  let minLon = Infinity
  let minLat = Infinity
  let maxLon = -Infinity
  let maxLat = -Infinity
  for (const [lon, lat] of points) {
    minLon = Math.min(minLon, lon)
    maxLon = Math.max(maxLon, lon)
    minLat = Math.min(minLat, lat)
    maxLat = Math.max(maxLat, lat)
  }
  const padLon = (maxLon - minLon) / 20 || 0.0005
  const padLat = (maxLat - minLat) / 20 || 0.0005
  return {
    minLon: minLon - padLon,
    maxLon: maxLon + padLon,
    minLat: minLat - padLat,
    maxLat: maxLat + padLat,
  }
}

/** A tap at (x, y) in a `width`×`height` view of `box` as `[lon, lat]` (north up). */
export function pointAt(box: Box, width: number, height: number, x: number, y: number): [number, number] {
  const lon = box.minLon + (x / width) * (box.maxLon - box.minLon)
  const lat = box.maxLat - (y / height) * (box.maxLat - box.minLat)
  return [Number(lon.toFixed(6)), Number(lat.toFixed(6))]
}

/** Where `[lon, lat]` falls in the view, the inverse of `pointAt`. */
export function viewAt(box: Box, width: number, height: number, lon: number, lat: number): [number, number] {
  return [
    ((lon - box.minLon) / (box.maxLon - box.minLon)) * width,
    ((box.maxLat - lat) / (box.maxLat - box.minLat)) * height,
  ]
}

/** 2026-11-21 14:05 in Asia/Shanghai, whatever the device's zone. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return ''
  const d = new Date(ms + 8 * 3600 * 1000)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`
}
