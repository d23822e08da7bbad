import { describe, expect, it } from 'vitest'
import type { Projection } from '../types'
import { taskProjection } from '../testing/fixtures'
import { orderTasks, taskRow } from './tasks'

function row(id: string, subtitle: string, status: string, due: string): Projection {
  return taskProjection(id, id, subtitle, status, due)
}

describe('task rows', () => {
  it('read done/total and count overdue from the Shanghai day after the due date', () => {
    expect(taskRow(row('a', '3/4', 'open', '2026-12-01'), '2026-12-01')).toMatchObject({
      done: 3,
      total: 4,
      open: true,
      overdue: false,
    })
    expect(taskRow(row('a', '3/4', 'open', '2026-12-01'), '2026-12-02').overdue).toBe(true)
    expect(taskRow(row('a', '4/4', 'done', '2026-12-01'), '2026-12-02').overdue).toBe(false)
    expect(taskRow(row('a', '', 'open', '2026-12-01'), '2026-12-01')).toMatchObject({ done: 0, total: 0 })
  })

  it('put open tasks first, the earliest due first', () => {
    const today = '2026-12-01'
    const ordered = orderTasks(
      [row('done', '1/1', 'done', '2026-11-01'), row('later', '0/1', 'open', '2026-12-09'), row('soon', '0/1', 'open', '2026-12-02')].map(
        (r) => taskRow(r, today),
      ),
    )
    expect(ordered.map((t) => t.row.id)).toEqual(['soon', 'later', 'done'])
  })
})
