import { defineStore } from 'pinia'
import { ref } from 'vue'
import { type AppLocale, DEFAULT_LOCALE, isAppLocale } from '../i18n'

/** Where the chosen language is kept between launches. */
export const LOCALE_STORAGE_KEY = 'gridwork.locale'

function storedLocale(): AppLocale {
  const stored = globalThis.localStorage?.getItem(LOCALE_STORAGE_KEY)
  return isAppLocale(stored) ? stored : DEFAULT_LOCALE
}

/** The person's UI preferences on this device. */
export const useSettingsStore = defineStore('settings', () => {
  const locale = ref<AppLocale>(storedLocale())

  function setLocale(next: AppLocale): void {
    locale.value = next
    globalThis.localStorage?.setItem(LOCALE_STORAGE_KEY, next)
  }

  return { locale, setLocale }
})
