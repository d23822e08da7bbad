import { createPinia } from 'pinia'
import { createApp, watch } from 'vue'
import type { RouterHistory } from 'vue-router'
import App from './App.vue'
import { applyLocale, createAppI18n } from './i18n'
import { createAppRouter } from './router'
import { useLockStore } from './stores/lock'
import { useSessionStore } from './stores/session'
import { useSettingsStore } from './stores/settings'
import { useSyncStore } from './stores/sync'

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
  const session = useSessionStore(pinia)
  const sync = useSyncStore(pinia)
  const lock = useLockStore(pinia)
  const i18n = createAppI18n(settings.locale)
  app.use(i18n)
  app.use(router)
  // The settings store owns the choice; vue-i18n, Vant and the error
  // messages follow it.
  watch(
    () => settings.locale,
    (locale) => {
      applyLocale(i18n, locale)
    },
    { immediate: true },
  )
  // A device an admin reported lost erases itself at its next sync
  // (src-tauri/src/wipe.rs): back to the setup screen, signed out.
  watch(
    () => sync.status.last_error?.code,
    (code) => {
      if (code !== 'device_wiped') return
      session.session = null
      void router.replace({ name: 'setup' })
    },
  )
  // A device with a PIN starts at the PIN screen (its session opens with
  // the PIN); first run goes to the setup screen until a sign-in
  // succeeds, then to the PIN screen to choose a PIN.
  router.beforeEach(async (to) => {
    if (!session.loaded) {
      await session.load()
      if (session.signedIn) void sync.start()
    }
    if (to.meta.public) return true
    const open = await lock.check(session.signedIn)
    if (!open && !to.meta.locked) return { name: 'pin', query: { next: to.fullPath } }
    if (open && !session.signedIn && session.error?.code !== 'unavailable') {
      return { name: 'setup' }
    }
    return true
  })
  // After the idle time the app locks and shows the PIN screen; patrol
  // tracking goes on underneath (the backend lets the track through).
  lock.watchIdle(() => {
    const here = router.currentRoute.value
    if (here.name !== 'pin') void router.push({ name: 'pin', query: { next: here.fullPath } })
  })
  return { app, pinia, router, i18n }
}
