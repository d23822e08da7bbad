import { defineStore } from 'pinia'
import { ref } from 'vue'
import { type AppLocale, DEFAULT_LOCALE, isAppLocale } from '../i18n'

/** Where the chosen language is kept between launches. */
export const LOCALE_STORAGE_KEY = 'gridwork.locale'

function storedLocale(): AppLocale {
  const stored = globalThis.localStorage?.getItem(LOCALE_STORAGE_KEY)
  return isAppLocale(stored) ? stored : DEFAULT_LOCALE
}

/** Where the idle time before the PIN lock is kept. */
export const IDLE_MINUTES_KEY = 'gridwork.idleMinutes'
/** Minutes without a touch before the app locks, unless set otherwise. */
export const DEFAULT_IDLE_MINUTES = 5

function storedIdleMinutes(): number {
  const stored = Number(globalThis.localStorage?.getItem(IDLE_MINUTES_KEY))
  return Number.isFinite(stored) && stored > 0 ? stored : DEFAULT_IDLE_MINUTES
}

/** The person's UI preferences on this device. */
export const useSettingsStore = defineStore('settings', () => {
  const locale = ref<AppLocale>(storedLocale())

  function setLocale(next: AppLocale): void {
    locale.value = next
    globalThis.localStorage?.setItem(LOCALE_STORAGE_KEY, next)
  }

  /** Minutes without a touch before the app locks (PIN lock). */
  const idleMinutes = ref<number>(storedIdleMinutes())

  function setIdleMinutes(next: number): void {
    if (!(next > 0)) return
    idleMinutes.value = next
    globalThis.localStorage?.setItem(IDLE_MINUTES_KEY, String(next))
  }

  return { locale, setLocale, idleMinutes, setIdleMinutes }
})
