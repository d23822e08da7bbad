// Where the device is. Sources are tried in order: the Tauri geolocation
// plugin (registered on Android/iOS only), then the web view's own
// geolocation API; when neither gives a fix, the worker taps the map.
import type { GeoPoint } from './types'

/** One way to find the device: a point, or `null` when it has none. */
export type PositionSource = () => Promise<GeoPoint | null>

/** Coordinates as the W3C API and the Tauri plugin give them. */
export interface Coords {
  latitude: number
  longitude: number
  accuracy?: number | null
}

/** A stored point from a fix: WGS-84, rounded to 1e-6° (about 10 cm). */
export function pointOf(c: Coords): GeoPoint {
  return {
    lon: Number(c.longitude.toFixed(6)),
    lat: Number(c.latitude.toFixed(6)),
    crs: 'EPSG:4326',
    accuracy_m: c.accuracy ?? null,
  }
}

/** How long a fix may take before the next source is tried. */
export const FIX_TIMEOUT_MS = 10_000

/** The web view's geolocation API (absent in some web views). */
export function webPosition(geo: Geolocation | undefined = globalThis.navigator?.geolocation): PositionSource {
  return () =>
    new Promise((resolve) => {
      if (!geo) {
        resolve(null)
        return
      }
      geo.getCurrentPosition(
        (pos) => resolve(pointOf(pos.coords)),
        () => resolve(null),
        { timeout: FIX_TIMEOUT_MS, enableHighAccuracy: true, maximumAge: 30_000 },
      )
    })
}

/** The first point any source gives; a source that fails counts as none. */
export async function locate(sources: PositionSource[]): Promise<GeoPoint | null> {
  for (const source of sources) {
    try {
      const point = await source()
      if (point) return point
    } catch {
      // Absent or refused: the next source, or the map, will do.
    }
  }
  return null
}
