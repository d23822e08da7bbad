import { describe, expect, it } from 'vitest'
import { BackendError } from './backend'
import { addressLine, boxOf, fieldErrors, formatTime, pointAt, viewAt } from './forms'

describe('field errors', () => {
  it('puts each message under its field, translated from its code and params', () => {
    const error = new BackendError('invalid', {}, [
      { field: 'name', code: 'required', params: {} },
      { field: 'id_number', code: 'id_check_character', params: { expected: 'X', found: '5' } },
    ])
    expect(fieldErrors(error)).toEqual({
      name: '必填',
      id_number: '身份证号码校验位错误：应为 X，实际为 5',
    })
    expect(fieldErrors(null)).toEqual({})
  })

  it('joins two messages for one field', () => {
    const error = new BackendError('invalid', {}, [
      { field: 'phone', code: 'required', params: {} },
      { field: 'phone', code: 'mobile_invalid', params: { value: '123' } },
    ])
    expect(fieldErrors(error).phone).toBe('必填；手机号码“123”无效：应为以 13–19 开头的 11 位数字')
  })
})

describe('address', () => {
  it('reads as people write it', () => {
    expect(
      addressLine({ estate: '阳光花园', building: '3', unit: '2', room: '501', village: '', group: '', detail: '' }),
    ).toBe('阳光花园3栋2单元501室')
    expect(
      addressLine({ estate: '', building: '', unit: '', room: '', village: '石岭村', group: '五组', detail: '' }),
    ).toBe('石岭村五组')
  })
})

describe('grid map geometry', () => {
  it('turns a tap into the point drawn there, north up', () => {
    const box = boxOf([
      [
        [113.3, 23.1],
        [113.4, 23.1],
        [113.4, 23.2],
        [113.3, 23.2],
      ],
    ])
    expect(box).not.toBeNull()
    const b = box!
    const [lon, lat] = pointAt(b, 640, 400, 320, 200)
    expect(lon).toBeCloseTo(113.35, 5)
    expect(lat).toBeCloseTo(23.15, 5)
    const [x, y] = viewAt(b, 640, 400, lon, lat)
    expect(x).toBeCloseTo(320, 1)
    expect(y).toBeCloseTo(200, 1)
    expect(pointAt(b, 640, 400, 0, 0)[1]).toBeGreaterThan(23.2)
  })
})

describe('time', () => {
  it('is shown in Asia/Shanghai', () => {
    expect(formatTime(Date.UTC(2026, 10, 21, 6, 5))).toBe('2026-11-21 14:05')
    expect(formatTime(null)).toBe('')
  })
})
