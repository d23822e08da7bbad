import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { fakeBackend } from '../testing/fakeBackend'
import type { DueVisit } from '../types'
import { dueCounts, shanghaiDay, useVisitsStore, visitTime } from './visits'

vi.mock('../backend', async (original) => ({
  ...(await original<typeof import('../backend')>()),
  backend: (await import('../testing/fakeBackend')).fakeBackend,
}))

function row(id: string, days_left: number): DueVisit {
  return {
    resident: {
      id,
      kind: 'resident',
      grid: '440106001001001',
      title: '李*',
      subtitle: '',
      status: null,
      category: null,
      urgency: null,
      parent_id: 'h-1',
      due: null,
      created_at: 0,
      created_by: 'wangfang',
      deleted: false,
    },
    days_left,
    overdue: days_left < 0,
  }
}

describe('visits store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    vi.clearAllMocks()
  })

  it('counts overdue and due-soon visits apart', () => {
    expect(dueCounts([row('a', -3), row('b', -1), row('c', 0), row('d', 6)])).toEqual({
      overdue: 2,
      dueSoon: 2,
    })
    expect(dueCounts([])).toEqual({ overdue: 0, dueSoon: 0 })
  })

  it('loads the due list in the order core gives and keeps it on a failure', async () => {
    const store = useVisitsStore()
    fakeBackend.dueVisits.mockResolvedValueOnce([row('a', -2), row('b', 3)])
    await store.load()
    expect(store.due.map((d) => d.resident.id)).toEqual(['a', 'b'])
    expect(store.counts).toEqual({ overdue: 1, dueSoon: 1 })
    fakeBackend.dueVisits.mockRejectedValueOnce({ code: 'not_signed_in', message: '请先登录' })
    await store.load()
    expect(store.error?.code).toBe('not_signed_in')
    expect(store.due).toHaveLength(2)
  })
})

describe('visit dates', () => {
  // 2026-05-17 23:30 in Shanghai, still the 17th there but the 17th 15:30 UTC.
  const now = Date.parse('2026-05-17T23:30:00+08:00')

  it('reads the day in Shanghai time', () => {
    expect(shanghaiDay(now)).toBe('2026-05-17')
    expect(shanghaiDay(Date.parse('2026-05-17T16:30:00Z'))).toBe('2026-05-18')
  })

  it('keeps the time for today, noon for an earlier day, and refuses bad or future days', () => {
    expect(visitTime('2026-05-17', now)).toBe(now)
    expect(visitTime('2026-05-10', now)).toBe(Date.parse('2026-05-10T04:00:00Z'))
    expect(visitTime('2026-02-30', now)).toBeNull()
    expect(visitTime('2026-05-20', now)).toBeNull()
    expect(visitTime('17.5.2026', now)).toBeNull()
  })
})
