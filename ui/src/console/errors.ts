import { ConsoleApiError } from './api'
import zhCN from './i18n/zh-CN'

type Translate = (key: string) => string

/** A failure as a sentence in the user's language, from its stable code. */
export function errorText(t: Translate, e: unknown): string {
  const code = e instanceof ConsoleApiError ? e.code : 'unknown'
  return code in zhCN.errors ? t(`errors.${code}`) : t('errors.unknown')
}
