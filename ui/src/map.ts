import { boxOf, outerRings, viewAt, type Box } from './forms'
import type { Grid, MapFeature } from './types'

/** One outline on the grid map: the worker's grid or one of its micro-grids. */
export interface MapOutline {
  code: string
  name: string
  /** The worker's own grid (drawn bold) rather than a micro-grid inside it. */
  own: boolean
  d: string
}

/** A tappable marker: where it is drawn and which record it opens. */
export interface MapMarker {
  id: string
  kind: 'household' | 'incident'
  title: string
  x: number
  y: number
  to: string
  urgent: boolean
}

export interface MapScene {
  box: Box
  /** The view's size: the given width, and the height that keeps the
   * ground's proportions (a degree of longitude is shorter than one of
   * latitude away from the equator). */
  width: number
  height: number
  outlines: MapOutline[]
  markers: MapMarker[]
  me: [number, number] | null
}

/**
 * The grid map drawn in a view `width` wide, north up, WGS-84 as stored
 * (no base tiles, so no datum shift). The view frames the grid boundaries;
 * with none, it frames the markers; with neither there is nothing to draw.
 * Markers outside the boundaries still show (a household recorded just over
 * the line): the box grows to hold them.
 */
export function buildMapScene(
  grids: Grid[],
  userGrid: string,
  features: MapFeature[],
  me: [number, number] | null,
  width: number,
): MapScene | null {
  const rings = grids.flatMap((g) => outerRings(g).map((ring) => ({ grid: g, ring })))
  const points: [number, number][] = features.map((f) => [f.lon, f.lat])
  if (me) points.push(me)
  const box = boxOf([...rings.map((r) => r.ring), points])
  if (!box) return null
  const midLat = ((box.minLat + box.maxLat) / 2) * (Math.PI / 180)
  const ratio = (box.maxLat - box.minLat) / ((box.maxLon - box.minLon) * Math.cos(midLat))
  // Clamped so a long, thin grid still gives a usable screen.
  const height = Math.round(width * Math.min(Math.max(ratio, 0.4), 1.6))
  const outlines = rings.map(({ grid, ring }) => ({
    code: grid.code,
    name: grid.name,
    own: grid.code === userGrid,
    d: ring.map(([lon, lat], i) => `${i === 0 ? 'M' : 'L'}${viewAt(box, width, height, lon, lat).join(',')}`).join(' ') + ' Z',
  }))
  // The worker's grid first, so its micro-grids are drawn over it.
  outlines.sort((a, b) => Number(b.own) - Number(a.own))
  const markers = features
    .filter((f) => f.row.kind === 'household' || f.row.kind === 'incident')
    .map((f): MapMarker => {
      const [x, y] = viewAt(box, width, height, f.lon, f.lat)
      const kind = f.row.kind as 'household' | 'incident'
      return {
        id: f.row.id,
        kind,
        title: f.row.title,
        x,
        y,
        to: kind === 'household' ? `/households/${f.row.id}` : `/incidents/${f.row.id}`,
        urgent: kind === 'incident' && f.row.urgency === 'high',
      }
    })
  // Incidents on top of households: they are what the worker acts on.
  markers.sort((a, b) => Number(a.kind === 'incident') - Number(b.kind === 'incident'))
  return { box, width, height, outlines, markers, me: me ? viewAt(box, width, height, me[0], me[1]) : null }
}
