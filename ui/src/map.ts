import { boxOf, outerRings } from './forms'
import type { GeoPoint, Grid, MapFeature } from './types'

/** A point as Leaflet takes it: `[lat, lon]`, WGS-84 as stored. */
export type LatLon = [number, number]

/** One outline on the grid map: the worker's grid or one of its micro-grids. */
export interface MapOutline {
  code: string
  name: string
  /** The worker's own grid (drawn bold) rather than a micro-grid inside it. */
  own: boolean
  ring: LatLon[]
}

/** A tappable marker: where it is drawn and which record it opens. */
export interface MapMarker {
  id: string
  kind: 'household' | 'incident'
  title: string
  at: LatLon
  to: string
  urgent: boolean
}

export interface MapScene {
  /** South-west and north-east corners the view is fitted to. */
  bounds: [LatLon, LatLon]
  outlines: MapOutline[]
  markers: MapMarker[]
  me: LatLon | null
  track: LatLon[]
  marks: LatLon[]
}

/** What the grid map draws over its grids (all optional, `[lon, lat]` as stored). */
export interface MapLayers {
  userGrid?: string
  features?: MapFeature[]
  me?: [number, number] | null
  track?: [number, number][]
  marks?: [number, number][]
}

const flip = ([lon, lat]: [number, number]): LatLon => [lat, lon]

/**
 * The grid map for Leaflet, north up, WGS-84 as stored (no base tiles, so no
 * datum shift). The view frames the grid boundaries, so a tap in the middle
 * of the map lands in the grid; with none, it frames the markers and the
 * worker; with neither there is nothing to draw. Markers outside the
 * boundaries still show (a household recorded just over the line): the
 * bounds grow to hold them. A patrol's track does not move the frame.
 */
export function buildMapScene(grids: Grid[], layers: MapLayers = {}): MapScene | null {
  const { userGrid = '', features = [], me = null, track = [], marks = [] } = layers
  const rings = grids.flatMap((g) => outerRings(g).map((ring) => ({ grid: g, ring })))
  const points: [number, number][] = features.map((f) => [f.lon, f.lat])
  if (me) points.push(me)
  const box = boxOf([...rings.map((r) => r.ring), points])
  if (!box) return null
  const outlines = rings.map(({ grid, ring }) => ({
    code: grid.code,
    name: grid.name,
    own: grid.code === userGrid,
    ring: ring.map(flip),
  }))
  // The worker's grid first, so its micro-grids are drawn over it.
  outlines.sort((a, b) => Number(b.own) - Number(a.own))
  const markers = features
    .filter((f) => f.row.kind === 'household' || f.row.kind === 'incident')
    .map((f): MapMarker => {
      const kind = f.row.kind as 'household' | 'incident'
      return {
        id: f.row.id,
        kind,
        title: f.row.title,
        at: [f.lat, f.lon],
        to: kind === 'household' ? `/households/${f.row.id}` : `/incidents/${f.row.id}`,
        urgent: kind === 'incident' && f.row.urgency === 'high',
      }
    })
  // Incidents on top of households: they are what the worker acts on.
  markers.sort((a, b) => Number(a.kind === 'incident') - Number(b.kind === 'incident'))
  return {
    bounds: [
      [box.minLat, box.minLon],
      [box.maxLat, box.maxLon],
    ],
    outlines,
    markers,
    me: me ? flip(me) : null,
    track: track.map(flip),
    marks: marks.map(flip),
  }
}

/** The point a tap on the map picks, to the stored precision (~0.1 m). */
export function tappedPoint(lat: number, lng: number): GeoPoint {
  return { lon: Number(lng.toFixed(6)), lat: Number(lat.toFixed(6)), crs: 'EPSG:4326', accuracy_m: null }
}
