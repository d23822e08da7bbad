import { describe, expect, it } from 'vitest'
import { buildMapScene, tappedPoint } from './map'
import type { Grid, MapFeature, Projection } from './types'

const square = (code: string, lon: number, lat: number, size: number): Grid => ({
  code,
  name: code,
  level: 'grid',
  parent: null,
  kind: 'comprehensive',
  crs: 'EPSG:4326',
  boundary: {
    type: 'Polygon',
    coordinates: [
      [
        [lon, lat],
        [lon + size, lat],
        [lon + size, lat + size],
        [lon, lat + size],
        [lon, lat],
      ],
    ],
  },
  centroid: null,
})

const feature = (id: string, kind: 'household' | 'incident', lon: number, lat: number, urgency?: string): MapFeature => ({
  row: {
    id,
    kind,
    grid: 'g1',
    title: id,
    subtitle: '',
    status: kind === 'incident' ? 'reported' : null,
    category: null,
    urgency: urgency ?? null,
    parent_id: null,
    due: null,
    created_at: 0,
  } as Projection,
  lon,
  lat,
})

// Bounds are padded by a twentieth on each side.
const expectBounds = (bounds: [number, number][], want: number[]): void =>
  bounds.flat().forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 9))

describe('grid map scene', () => {
  it('draws the own grid under its micro-grids and places markers as [lat, lon]', () => {
    const scene = buildMapScene([square('g1-01', 113.0, 23.0, 0.005), square('g1', 113.0, 23.0, 0.01)], {
      userGrid: 'g1',
      features: [feature('inc', 'incident', 113.009, 23.009, 'high'), feature('hh', 'household', 113.001, 23.001)],
    })!
    expect(scene.outlines.map((o) => [o.code, o.own])).toEqual([
      ['g1', true],
      ['g1-01', false],
    ])
    // Leaflet takes latitude first.
    expect(scene.outlines[0]!.ring[1]).toEqual([23.0, 113.01])
    // Households first, incidents drawn over them.
    expect(scene.markers.map((m) => [m.id, m.to, m.urgent, m.at])).toEqual([
      ['hh', '/households/hh', false, [23.001, 113.001]],
      ['inc', '/incidents/inc', true, [23.009, 113.009]],
    ])
    expect(scene.me).toBeNull()
    expectBounds(scene.bounds, [22.9995, 112.9995, 23.0105, 113.0105])
  })

  it('frames the grids, not the patrol track, so the view stays put under taps', () => {
    const scene = buildMapScene([square('g1', 113.0, 23.0, 0.01)], {
      track: [
        [113.005, 23.005],
        [113.02, 23.02],
      ],
      marks: [[113.005, 23.005]],
    })!
    expectBounds(scene.bounds, [22.9995, 112.9995, 23.0105, 113.0105])
    expect(scene.track).toEqual([
      [23.005, 113.005],
      [23.02, 113.02],
    ])
    expect(scene.marks).toEqual([[23.005, 113.005]])
  })

  it('frames the markers and the worker when no grid has a boundary', () => {
    const scene = buildMapScene([], { features: [feature('hh', 'household', 113.0, 23.0)], me: [113.01, 23.01] })!
    expect(scene.outlines).toEqual([])
    expect(scene.markers).toHaveLength(1)
    expect(scene.me).toEqual([23.01, 113.01])
    expectBounds(scene.bounds, [22.9995, 112.9995, 23.0105, 113.0105])
  })

  it('has nothing to draw without boundaries, markers or a position', () => {
    expect(buildMapScene([], { userGrid: 'g1' })).toBeNull()
  })

  it('stores a tapped point as WGS-84 to six decimals', () => {
    expect(tappedPoint(23.123456789, 113.987654321)).toEqual({
      lon: 113.987654,
      lat: 23.123457,
      crs: 'EPSG:4326',
      accuracy_m: null,
    })
  })
})
