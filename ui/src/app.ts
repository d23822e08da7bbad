import { createPinia } from 'pinia'
import { createApp, watch } from 'vue'
import type { RouterHistory } from 'vue-router'
import App from './App.vue'
import { applyLocale, createAppI18n } from './i18n'
import { createAppRouter } from './router'
import { useSettingsStore } from './stores/settings'

/**
 * Builds the whole app, wired but not mounted: `main.ts` mounts it, tests
 * mount it on a detached element.
 */
export function createGridworkApp(history?: RouterHistory) {
  const app = createApp(App)
  const pinia = createPinia()
  const router = createAppRouter(history)
  app.use(pinia)
  const settings = useSettingsStore(pinia)
  const i18n = createAppI18n(settings.locale)
  app.use(i18n)
  app.use(router)
  // The settings store owns the choice; vue-i18n and Vant follow it.
  watch(() => settings.locale, (locale) => applyLocale(i18n, locale), { immediate: true })
  return { app, pinia, router, i18n }
}
