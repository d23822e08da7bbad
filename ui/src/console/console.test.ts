import { describe, expect, it } from 'vitest'
import { ConsoleApiError, hotlineFormat } from './api'
import { errorText } from './errors'
import { formatTime, formatValue } from './format'
import en from './i18n/en'
import zhCN from './i18n/zh-CN'

function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
}

describe('the console', () => {
  it('shows times in Asia/Shanghai as users write them', () => {
    // 2026-11-21 06:05 UTC is 14:05 in Shanghai.
    expect(formatTime(Date.UTC(2026, 10, 21, 6, 5))).toBe('2026-11-21 14:05')
    expect(formatTime(null)).toBe('')
    expect(formatValue(null)).toBe('—')
    expect(formatValue({ a: 1 })).toBe('{"a":1}')
  })

  it('translates every server error code it knows, and falls back for the rest', () => {
    const t = (key: string) => key
    expect(errorText(t, new ConsoleApiError('comment_required', {}, 422))).toBe('errors.comment_required')
    expect(errorText(t, new ConsoleApiError('too_large', {}, 413))).toBe('errors.too_large')
    expect(errorText(t, new ConsoleApiError('something_new', {}, 500))).toBe('发生未知错误')
    expect(errorText(t, new Error('boom'))).toBe('errors.unknown')
  })

  it('has the same texts in English as in Chinese', () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort())
  })

  it('sends a hotline file as CSV only when its name says so', () => {
    expect(hotlineFormat('工单-2026-05.CSV')).toBe('csv')
    expect(hotlineFormat('orders.json')).toBe('json')
    expect(hotlineFormat('orders')).toBe('json')
  })
})
