import { describe, expect, it } from 'vitest'
import { fieldLabel, valueText, writtenBy } from './conflicts'

describe('conflict display', () => {
  const labels: Record<string, string> = { 'households.owner_name': '户主姓名', 'households.room': '室' }
  const has = (k: string) => k in labels
  const t = (k: string) => labels[k] ?? k

  it('names a field by its form label, list indexes skipped, else by its path', () => {
    expect(fieldLabel('owner_name', has, t)).toBe('户主姓名')
    expect(fieldLabel('address.room', has, t)).toBe('室')
    expect(fieldLabel('parties.0.role', has, t)).toBe('parties.0.role')
  })

  it('shows values as text and nothing as a mark', () => {
    expect(valueText('汪芳')).toBe('汪芳')
    expect(valueText('')).toBe('—')
    expect(valueText(null)).toBe('—')
    expect(valueText(3)).toBe('3')
    expect(valueText(true)).toBe('true')
    expect(valueText({ lon: 1 })).toBe('{"lon":1}')
  })

  it('says who wrote a value and when, in Beijing time, or the device when no user is known', () => {
    expect(writtenBy({ value: 'a', user: 'gw-1', time: 1_763_700_300, actor: 'ab', change: null })).toEqual({
      user: 'gw-1',
      time: '2025-11-21 12:45',
    })
    expect(writtenBy({ value: 'a', user: null, time: null, actor: '0123456789abcdef', change: null })).toEqual({
      user: '01234567',
      time: '',
    })
  })
})
