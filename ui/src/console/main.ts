import 'vant/lib/index.css'
import { createPinia } from 'pinia'
import { createApp, watch } from 'vue'
import { useSettingsStore } from '../stores/settings'
import ConsoleApp from './ConsoleApp.vue'
import { applyConsoleLocale, createConsoleI18n } from './i18n'
import { createConsoleRouter } from './router'
import { useConsoleSession } from './session'

const app = createApp(ConsoleApp)
const pinia = createPinia()
app.use(pinia)
// The language choice is the app's own setting, kept the same way.
const settings = useSettingsStore(pinia)
const i18n = createConsoleI18n(settings.locale)
app.use(i18n)
watch(() => settings.locale, (locale) => applyConsoleLocale(i18n, locale), { immediate: true })
const router = createConsoleRouter()
const session = useConsoleSession(pinia)
router.beforeEach(async (to) => {
  if (to.name === 'login') return true
  if (!session.me && !(await session.refresh())) return { name: 'login' }
  return true
})
app.use(router)
void router.isReady().then(() => app.mount('#app'))
