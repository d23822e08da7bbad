import { describe, expect, it, vi } from 'vitest'
import { locate, pointOf, webPosition } from './location'
import type { GeoPoint } from './types'

const HERE: GeoPoint = { lon: 113.3275, lat: 23.1275, crs: 'EPSG:4326', accuracy_m: 8 }

describe('device location', () => {
  it('takes the first source that gives a point, past one that fails or has none', async () => {
    const plugin = vi.fn(() => Promise.reject(new Error('plugin geolocation not found')))
    const none = vi.fn(() => Promise.resolve(null))
    const web = vi.fn(() => Promise.resolve(HERE))
    const never = vi.fn(() => Promise.resolve(HERE))
    expect(await locate([plugin, none, web, never])).toEqual(HERE)
    expect(plugin).toHaveBeenCalledOnce()
    expect(never).not.toHaveBeenCalled()
  })

  it('gives nothing when no source has a fix, so the worker taps the map', async () => {
    expect(await locate([() => Promise.resolve(null), () => Promise.reject(new Error('denied'))])).toBeNull()
    expect(await locate([webPosition(undefined)])).toBeNull()
  })

  it('reads the web API and stores WGS-84 rounded to 1e-6°', async () => {
    const geo = {
      getCurrentPosition: (ok: PositionCallback) =>
        ok({ coords: { latitude: 23.12751234, longitude: 113.32749876, accuracy: 8 } } as GeolocationPosition),
    } as unknown as Geolocation
    expect(await webPosition(geo)()).toEqual({ lon: 113.327499, lat: 23.127512, crs: 'EPSG:4326', accuracy_m: 8 })
    const refused = {
      getCurrentPosition: (_ok: PositionCallback, fail: PositionErrorCallback) =>
        fail({ code: 1, message: 'denied' } as GeolocationPositionError),
    } as unknown as Geolocation
    expect(await webPosition(refused)()).toBeNull()
    expect(pointOf({ latitude: 1, longitude: 2 }).accuracy_m).toBeNull()
  })
})
