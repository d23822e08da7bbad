import { errorMessage } from '../i18n/errors'
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
  if (e.code in zhCN.errors) return t(`errors.${e.code}`, e.params)
  return errorMessage(e.code, e.params)
}
