import { Locale as VantLocale } from 'vant'
import vantEnUS from 'vant/es/locale/lang/en-US'
import vantZhCN from 'vant/es/locale/lang/zh-CN'
import { createI18n } from 'vue-i18n'
import en from './en'
import { setErrorLocale } from './errors'
import zhCN from './zh-CN'

/** The shape every locale's messages must have: zh-CN's. */
export type MessageSchema = typeof zhCN

/** The UI languages, Chinese first (the default). */
export const LOCALES = ['zh-CN', 'en'] as const
export type AppLocale = (typeof LOCALES)[number]
export const DEFAULT_LOCALE: AppLocale = 'zh-CN'

export const messages: Record<AppLocale, MessageSchema> = { 'zh-CN': zhCN, en }

export function isAppLocale(value: unknown): value is AppLocale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value)
}

/** Vant's own component texts (pickers, dialogs…) follow the app's language. */
const vantMessages = { 'zh-CN': vantZhCN, en: vantEnUS } as const
const vantNames = { 'zh-CN': 'zh-CN', en: 'en-US' } as const

export function createAppI18n(locale: AppLocale = DEFAULT_LOCALE) {
  return createI18n<[MessageSchema], AppLocale, false>({
    legacy: false,
    locale,
    fallbackLocale: DEFAULT_LOCALE,
    messages,
  })
}

export type AppI18n = ReturnType<typeof createAppI18n>

/** Switches both vue-i18n and Vant to `locale` and marks the document. */
export function applyLocale(i18n: AppI18n, locale: AppLocale): void {
  i18n.global.locale.value = locale
  setErrorLocale(locale)
  VantLocale.use(vantNames[locale], vantMessages[locale])
  if (typeof document !== 'undefined') document.documentElement.lang = locale
}
