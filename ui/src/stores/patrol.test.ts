import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { fakeBackend } from '../testing/fakeBackend'
import type { Patrol, PatrolEdit, PatrolView } from '../types'
import { distanceParts, durationParts, MIN_FIX_GAP_MS, TAP_AFTER_NO_FIX_MS, usePatrolStore } from './patrol'

vi.mock('../backend', async (original) => ({
  ...(await original<typeof import('../backend')>()),
  backend: (await import('../testing/fakeBackend')).fakeBackend,
}))

const T0 = 1_780_000_000_000

function patrol(): Patrol {
  return {
    id: 'p-1',
    grid: '440106001001001',
    created_by: 'wangfang',
    created_at: T0,
    deleted: false,
    worker: 'wangfang',
    started_at: T0,
    ended_at: null,
    track: [],
    check_ins: [],
    notes: '',
    incident_ids: [],
  }
}

function viewOf(p: Patrol): PatrolView {
  return {
    patrol: p,
    metrics: { distance_m: 0, inside_s: 0, coverage_share: 0, cells_total: 0, cells_visited: 0 },
    duration_ms: 0,
  }
}

/** A backend that applies edits the way core does, so the order shows. */
function applyingBackend() {
  let current = patrol()
  fakeBackend.startPatrol.mockImplementation(() => Promise.resolve(viewOf(current)))
  fakeBackend.editPatrol.mockImplementation(({ edit }: { id: string; edit: PatrolEdit }) => {
    current = structuredClone(current)
    if (current.ended_at !== null) return Promise.reject({ code: 'patrol_ended', message: '这次巡查已经结束' })
    if (edit.type === 'point') current.track.push(edit.point)
    if (edit.type === 'check_in') {
      current.track.push({ lon: edit.point.lon, lat: edit.point.lat, t_ms: edit.at })
      current.check_ins.push({ at: edit.at, point: edit.point, photo: null, qr: null, note: edit.note })
    }
    if (edit.type === 'stop') {
      current.ended_at = edit.at
      current.notes = edit.notes
    }
    return Promise.resolve(viewOf(current))
  })
}

beforeEach(() => {
  vi.clearAllMocks()
  setActivePinia(createPinia())
})

describe('patrol store', () => {
  it('records fixes in order, skipping one that comes moments after the last', async () => {
    applyingBackend()
    const store = usePatrolStore()
    await store.start()
    await Promise.all([
      store.fix(113.3271, 23.1275, T0 + 1000),
      store.fix(113.3272, 23.1275, T0 + 1000 + MIN_FIX_GAP_MS - 1),
      store.fix(113.3273, 23.1275, T0 + 1000 + MIN_FIX_GAP_MS * 2),
    ])
    expect(store.view?.patrol.track.map((p) => p.lon)).toEqual([113.3271, 113.3273])
  })

  it('takes a map tap as the position only while GPS is silent', async () => {
    applyingBackend()
    const store = usePatrolStore()
    await store.start()
    const at = { lon: 113.3275, lat: 23.1276, crs: 'EPSG:4326', accuracy_m: null }
    expect(await store.tap(at, T0 + 10)).toBe(true)
    await store.fix(113.3271, 23.1275, T0 + 20)
    expect(await store.tap(at, T0 + 20 + TAP_AFTER_NO_FIX_MS - 1)).toBe(false)
    expect(await store.tap(at, T0 + 21 + TAP_AFTER_NO_FIX_MS)).toBe(true)
    expect(store.view?.patrol.track).toHaveLength(3)
  })

  it('checks in at the last position with the note, and needs a position first', async () => {
    applyingBackend()
    const store = usePatrolStore()
    await store.start()
    expect(await store.checkIn('消防通道畅通', T0 + 5)).toBe(false)
    expect(fakeBackend.editPatrol).not.toHaveBeenCalled()
    await store.fix(113.3271, 23.1275, T0 + 10)
    expect(await store.checkIn('  消防通道畅通 ', T0 + 20)).toBe(true)
    expect(store.view?.patrol.check_ins[0]).toMatchObject({ note: '消防通道畅通', point: { lon: 113.3271 } })
  })

  it('stops once; nothing is sent for an ended patrol', async () => {
    applyingBackend()
    const store = usePatrolStore()
    await store.start()
    expect(await store.stop('无异常', T0 + 60_000)).toBe(true)
    expect(store.view?.patrol.ended_at).toBe(T0 + 60_000)
    expect(await store.fix(113.3, 23.1, T0 + 70_000)).toBe(false)
    expect(fakeBackend.editPatrol).toHaveBeenCalledTimes(1)
  })

  it('keeps the backend error for the screen', async () => {
    fakeBackend.startPatrol.mockRejectedValue({ code: 'not_signed_in', message: '请先登录' })
    const store = usePatrolStore()
    expect(await store.start()).toBe(false)
    expect(store.error?.code).toBe('not_signed_in')
  })

  it('opens on the newest patrol', async () => {
    fakeBackend.listRecords.mockResolvedValue([
      {
        id: 'p-1',
        kind: 'patrol',
        grid: '',
        title: '',
        subtitle: '',
        status: 'ended',
        category: null,
        urgency: null,
        parent_id: null,
        due: null,
        created_at: 0,
      },
    ])
    fakeBackend.getPatrol.mockResolvedValue(viewOf({ ...patrol(), ended_at: T0 + 1 }))
    const store = usePatrolStore()
    await store.loadLatest()
    expect(fakeBackend.listRecords).toHaveBeenCalledWith({ query: { kind: 'patrol', limit: 1 } })
    expect(store.view?.patrol.ended_at).toBe(T0 + 1)
  })
})

describe('patrol figures', () => {
  it('shows metres below a kilometre, kilometres above', () => {
    expect(distanceParts(849.6)).toEqual({ key: 'meters', n: '850' })
    expect(distanceParts(1254)).toEqual({ key: 'kilometers', n: '1.25' })
  })

  it('shows minutes, then hours and minutes', () => {
    expect(durationParts(59 * 60_000)).toEqual({ key: 'minutes', n: 59 })
    expect(durationParts(125 * 60_000 + 59_000)).toEqual({ key: 'hoursMinutes', h: 2, m: 5 })
    expect(durationParts(-5)).toEqual({ key: 'minutes', n: 0 })
  })
})

describe('held points are saved when the app is hidden', () => {
  it('sends a flush for a running patrol when the page is hidden, and none without one', async () => {
    setActivePinia(createPinia())
    applyingBackend()
    const store = usePatrolStore()
    const hide = async () => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
      document.dispatchEvent(new Event('visibilitychange'))
      Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true })
      await store.fix(113.3, 23.1, T0 + 60_000)
    }
    await hide()
    expect(fakeBackend.editPatrol).not.toHaveBeenCalledWith({ id: 'p-1', edit: { type: 'flush' } })

    await store.start()
    await store.fix(113.3, 23.1, T0)
    await hide()
    expect(fakeBackend.editPatrol).toHaveBeenCalledWith({ id: 'p-1', edit: { type: 'flush' } })
  })
})
