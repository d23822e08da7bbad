import type { Unplaced } from '../bindings/console'
import { errorMessage, fieldMessage, rejectionMessage } from '../i18n/errors'
import { ConsoleApiError } from './api'
import zhCN from './i18n/zh-CN'

type Translate = (key: string, named?: Record<string, unknown>) => string

/**
 * A failure as a sentence in the user's language, from its stable code and
 * params: the console's own refusals from its message files, the
 * workflow's refusals (the same codes the tablet meets) from the app's,
 * written once in `ui/src/i18n` (see `i18n/errors.ts`).
 */
export function errorText(t: Translate, e: unknown): string {
  if (!(e instanceof ConsoleApiError)) return t('errors.unknown')
  // A push refusal names the sync protocol's code: said as the tablet says it.
  const reason = e.params.reason
  const params = typeof reason === 'string' ? { ...e.params, reason: rejectionMessage(reason, e.params) } : e.params
  if (e.code in zhCN.errors) return t(`errors.${e.code}`, params)
  return errorMessage(e.code, e.params)
}

/**
 * Why a 12345 order was not imported, from the server's code and params:
 * a workflow refusal (`error`), a field error (`error` on `field`) or a
 * sync refusal (`reason`) is said as the app says it.
 */
export function unplacedReason(t: Translate, u: Unplaced): string {
  const params: Record<string, unknown> = { ...u.params }
  const error = u.params.error
  if (typeof error === 'string') {
    params.error = u.code === 'invalid_order' ? fieldMessage(error, u.params) : errorMessage(error, u.params)
  }
  const reason = u.params.reason
  if (typeof reason === 'string') params.reason = rejectionMessage(reason, u.params)
  return t(`hotline.reasons.${u.code}`, params)
}
