import { describe, expect, it } from 'vitest'
import { exportUrl, query } from './api'
import { drillTarget, formatHours, formatRate, scaleMax, shade } from './figures'

describe('dashboard figures', () => {
  it('writes rates and hours the way the desk reads them', () => {
    expect(formatRate({ rate: 0.8532 })).toBe('85.3%')
    expect(formatRate({ rate: null })).toBe('—')
    expect(formatRate(1)).toBe('100.0%')
    expect(formatHours(5_400_000)).toBe('1.5')
    expect(formatHours(null)).toBe('—')
  })

  it('turns a drill-down query into a list and its filters', () => {
    expect(drillTarget('/lists/incidents?figure=status:closed&grid=G1&at=123')).toEqual({
      list: 'incidents',
      filter: { figure: 'status:closed', grid: 'G1', at: 123 },
    })
    expect(drillTarget('/lists/households?figure=visited_in_cycle')).toEqual({
      list: 'households',
      filter: { figure: 'visited_in_cycle' },
    })
    expect(drillTarget('/lists/patrols?figure=worker:gw-1&grid=G1')).toEqual({
      list: 'patrols',
      filter: { figure: 'worker:gw-1', grid: 'G1' },
    })
    expect(drillTarget('/records/1')).toBeNull()
    expect(drillTarget('/lists/secrets?x=1')).toBeNull()
  })

  it('shades grids from pale to deep, grey without a value', () => {
    expect(shade(0, 10)).toBe('#e8f3ff')
    expect(shade(10, 10)).toBe('#0b4fa8')
    expect(shade(20, 10)).toBe('#0b4fa8')
    expect(shade(null, 10)).toBe('#dcdee0')
    expect(shade(3, 0)).toBe('#e8f3ff')
    expect(scaleMax([1, 7, null, 3], false)).toBe(7)
    expect(scaleMax([0.2], true)).toBe(1)
  })

  it('builds export links with only the filters that are set', () => {
    expect(query({ a: '', b: undefined, c: 'x y' })).toBe('?c=x+y')
    expect(exportUrl('households', 'xlsx', { grid: 'G1' }, true)).toBe(
      '/console/api/lists/households/export?grid=G1&format=xlsx&reveal=true',
    )
    expect(exportUrl('dashboard', 'csv')).toBe('/console/api/dashboard/export?format=csv')
  })
})
