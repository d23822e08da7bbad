import { afterEach, describe, expect, it } from 'vitest'
import { BackendError } from '../backend'
import { ConsoleApiError } from '../console/api'
import { errorText } from '../console/errors'
import { createConsoleI18n } from '../console/i18n'
import { fieldErrors } from '../forms'
import { errorMessage, fieldMessage, photoRefusalMessage, rejectionMessage, setErrorLocale } from './errors'
import zhCN from './zh-CN'

// Errors arrive from Rust as a code and params; these are the sentences a
// person reads, in both languages, from the one table per language.
describe('error messages', () => {
  afterEach(() => setErrorLocale('zh-CN'))

  it('fill a validation error with its params in both languages', () => {
    const params = { expected: 'X', found: '5' }
    expect(fieldMessage('id_check_character', params, 'zh-CN')).toBe(
      '身份证号码校验位错误：应为 X，实际为 5',
    )
    expect(fieldMessage('id_check_character', params, 'en')).toBe(
      'The ID number check character is wrong: expected X, found 5',
    )
    expect(fieldMessage('too_long', { max: 50 }, 'zh-CN')).toBe('过长：最多 50 个字符')
    expect(fieldMessage('too_long', { max: 50 }, 'en')).toBe('Too long: at most 50 characters')
  })

  it('name the action and status of a workflow refusal by their labels', () => {
    const params = { action: 'verify', status: 'reported' }
    expect(errorMessage('wrong_status', params, 'zh-CN')).toBe('事件当前为“已上报”，不能核查')
    expect(errorMessage('wrong_status', params, 'en')).toMatch(/^Cannot “.+” an incident that is “.+”$/)
    expect(errorMessage('wrong_status', params, 'en')).not.toMatch(/[\u4e00-\u9fff]/)
    expect(errorMessage('reason_required', { action: 'return' }, 'zh-CN')).toBe('退回需要填写原因')
  })

  it('follow the language the UI switched to', () => {
    const error = { code: 'previous_user_unsent', params: { user: 'gw-a', unsent: 3 }, fields: [] }
    expect(BackendError.from(error).message).toBe(
      '本机还有 gw-a 的 3 项工作未上传。请该用户登录并同步完成后，再换人登录',
    )
    setErrorLocale('en')
    expect(BackendError.from(error).message).toBe(
      'This tablet still holds 3 unsent item(s) of gw-a. Let them sign in and sync first, then sign in as someone else',
    )
  })

  it('show a point outside the grid at the point field', () => {
    const error = BackendError.from({
      code: 'point_outside_grid',
      params: { lon: 113.34, lat: 23.1 },
      fields: [{ field: 'point', code: 'point_outside_grid', params: { lon: 113.34, lat: 23.1 } }],
    })
    expect(fieldErrors(error).point).toBe('所选位置（113.34, 23.1）不在您负责的网格内，请在网格范围内重新选点')
  })

  it("say why the server refused a pushed record in the worker's language, from its code and params", () => {
    expect(rejectionMessage('outside_scope', { grid: 'g-1' }, 'en')).toBe(
      'This record is outside your grids or not dispatched to you; the server refused it',
    )
    expect(rejectionMessage('change_too_large', { bytes: 300000, max: 262144 }, 'zh-CN')).toBe(
      '这次修改太大（300000 字节，上限 262144 字节），服务器拒收',
    )
    expect(rejectionMessage('role_not_allowed', { kind: 'task' }, 'zh-CN')).toBe('您的角色不能新建、删除或修改这条任务')
    // A field error is said as the form says it, after the field's label.
    const phone = { field: 'owner_phone', error: 'mobile_invalid', value: '12345' }
    expect(rejectionMessage('invalid_record', phone, 'zh-CN')).toBe(
      `记录未通过服务器校验，请检查后重新保存（${zhCN.households.owner_phone}：手机号码“12345”无效：应为以 13–19 开头的 11 位数字）`,
    )
    expect(rejectionMessage('invalid_record', { field: 'address.estate', error: 'too_long', max: 100 }, 'en')).toMatch(
      /^The record failed the server's checks: correct it and save again \(Estate: .*100.*\)$/,
    )
    // Kept from before refusals had params: the code's sentence alone.
    expect(rejectionMessage('invalid_record', {}, 'zh-CN')).toBe('记录未通过服务器校验，请检查后重新保存')
    // A code newer than this app: a general sentence naming it.
    expect(rejectionMessage('a_code_from_a_newer_server', {}, 'zh-CN')).toBe('服务器未接受这条记录（a_code_from_a_newer_server）')
  })

  it('fall back to a generic sentence for a code they do not know', () => {
    expect(errorMessage('no_such_code', {}, 'zh-CN')).toBe('发生未知错误')
    expect(photoRefusalMessage('blob_new_reason', 'en')).toBe('The server refused this photo (blob_new_reason)')
  })

  it('give the console the same mechanism: its own refusals and the workflow refusals, in both languages', () => {
    const zh = createConsoleI18n('zh-CN').global.t as (key: string, named?: Record<string, unknown>) => string
    expect(errorText(zh, new ConsoleApiError('comment_required', {}, 422))).toBe('退回需要填写意见')
    expect(errorText(zh, new ConsoleApiError('bad_request', { detail: 'unknown export format' }, 400))).toBe(
      '请求有误：unknown export format',
    )
    expect(errorText(zh, new ConsoleApiError('reason_required', { action: 'return' }, 422))).toBe('退回需要填写原因')
    setErrorLocale('en')
    const en = createConsoleI18n('en').global.t as (key: string, named?: Record<string, unknown>) => string
    expect(errorText(en, new ConsoleApiError('comment_required', {}, 422))).toBe('A return needs a comment')
    expect(errorText(en, new ConsoleApiError('reason_required', { action: 'return' }, 422))).not.toMatch(
      /[\u4e00-\u9fff]/,
    )
  })
})
