import { describe, expect, it } from 'vitest'
import { buildMapScene } from './map'
import type { Grid, MapFeature, Projection } from './types'

const square = (code: string, lon: number, lat: number, size: number): Grid => ({
  code,
  name: code,
  level: 'grid',
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

describe('grid map scene', () => {
  it('draws the own grid under its micro-grids and places markers north up', () => {
    const scene = buildMapScene(
      [square('g1-01', 113.0, 23.0, 0.005), square('g1', 113.0, 23.0, 0.01)],
      'g1',
      [feature('inc', 'incident', 113.009, 23.009, 'high'), feature('hh', 'household', 113.001, 23.001)],
      null,
      640,
    )!
    expect(scene.outlines.map((o) => [o.code, o.own])).toEqual([
      ['g1', true],
      ['g1-01', false],
    ])
    // Households first, incidents drawn over them.
    expect(scene.markers.map((m) => [m.id, m.to, m.urgent])).toEqual([
      ['hh', '/households/hh', false],
      ['inc', '/incidents/inc', true],
    ])
    const hh = scene.markers[0]!
    const inc = scene.markers[1]!
    expect(hh.x).toBeLessThan(inc.x) // west is left
    expect(hh.y).toBeGreaterThan(inc.y) // south is down
    expect(scene.me).toBeNull()
    // A square of degrees at 23°N is taller than wide on the ground.
    expect(scene.height).toBe(Math.round(640 / Math.cos((23.005 * Math.PI) / 180)))
  })

  it('frames the markers and the worker when no grid has a boundary', () => {
    const scene = buildMapScene([], 'g1', [feature('hh', 'household', 113.0, 23.0)], [113.01, 23.01], 640)!
    expect(scene.outlines).toEqual([])
    expect(scene.markers).toHaveLength(1)
    const hh = scene.markers[0]!
    expect(scene.me![0]).toBeGreaterThan(hh.x)
    for (const [x, y] of [scene.me!, [hh.x, hh.y]]) {
      expect(x).toBeGreaterThan(0)
      expect(x).toBeLessThan(scene.width)
      expect(y).toBeGreaterThan(0)
      expect(y).toBeLessThan(scene.height)
    }
  })

  it('has nothing to draw without boundaries, markers or a position', () => {
    expect(buildMapScene([], 'g1', [], null, 640)).toBeNull()
  })
})
