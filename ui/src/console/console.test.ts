import { describe, expect, it } from 'vitest'
import { ConsoleApiError, hotlineFormat } from './api'
import { createConsoleI18n } from './i18n'
import { errorText, unplacedReason } from './errors'
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

  it('says why a 12345 order was not imported from its code and params', () => {
    const { t } = createConsoleI18n('zh-CN').global
    const tr = (key: string, named?: Record<string, unknown>) => t(key, named ?? {})
    const row = (code: Parameters<typeof unplacedReason>[1]['code'], params = {}) => ({ row: 1, order_no: 'GD1', code, params })
    expect(unplacedReason(tr, row('no_location'))).toContain('没有坐标也没有地址')
    expect(unplacedReason(tr, row('duplicate_in_file', { first: 3 }))).toBe('工单编号与第 3 行重复')
    expect(unplacedReason(tr, row('address_not_found', { address: '幸福路9号' }))).toContain('幸福路9号')
    // Said as the tablet says a workflow refusal, a field error, a sync refusal.
    expect(unplacedReason(tr, row('transition', { error: 'own_work', action: 'report' }))).toContain('上报')
    expect(unplacedReason(tr, row('invalid_order', { field: 'title', error: 'too_long', max: 100 }))).toContain('最多 100 个字符')
    expect(unplacedReason(tr, row('refused', { reason: 'outside_scope' }))).toContain('不在您负责的网格内')
    const refused = new ConsoleApiError('refused', { reason: 'outside_scope' }, 409)
    expect(errorText(tr, refused)).toContain('不在您负责的网格内')
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
