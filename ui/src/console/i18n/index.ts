import { Locale as VantLocale } from 'vant'
import vantEnUS from 'vant/es/locale/lang/en-US'
import vantZhCN from 'vant/es/locale/lang/zh-CN'
import { createI18n } from 'vue-i18n'
import { type AppLocale, DEFAULT_LOCALE } from '../../i18n'
import { setErrorLocale } from '../../i18n/errors'
import en from './en'
import zhCN from './zh-CN'

/** The shape every locale's console messages must have: zh-CN's. */
export type ConsoleMessages = typeof zhCN

export const consoleMessages: Record<AppLocale, ConsoleMessages> = { 'zh-CN': zhCN, en }

const vantMessages = { 'zh-CN': vantZhCN, en: vantEnUS } as const
const vantNames = { 'zh-CN': 'zh-CN', en: 'en-US' } as const

export function createConsoleI18n(locale: AppLocale = DEFAULT_LOCALE) {
  return createI18n<[ConsoleMessages], AppLocale, false>({
    legacy: false,
    locale,
    fallbackLocale: DEFAULT_LOCALE,
    messages: consoleMessages,
  })
}

export type ConsoleI18n = ReturnType<typeof createConsoleI18n>

/** Switches vue-i18n and Vant to `locale`, as the app's `applyLocale` does. */
export function applyConsoleLocale(i18n: ConsoleI18n, locale: AppLocale): void {
  i18n.global.locale.value = locale
  setErrorLocale(locale)
  VantLocale.use(vantNames[locale], vantMessages[locale])
  document.documentElement.lang = locale
}
