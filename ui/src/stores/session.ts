import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { backend, BackendError } from '../backend'
import type { LoginArgs, SessionInfo } from '../types'

/** Where the last server address typed is remembered for the next sign-in. */
export const SERVER_URL_KEY = 'gridwork.serverUrl'

/** Who is signed in on this device; `null` on first run. */
export const useSessionStore = defineStore('session', () => {
  const session = ref<SessionInfo | null>(null)
  const loaded = ref(false)
  const error = ref<BackendError | null>(null)
  const busy = ref(false)

  const signedIn = computed(() => session.value !== null)

  /** The grids the map draws: the user's own with a boundary, else any with one. */
  const mapGrids = computed(() => {
    const all = session.value?.grids ?? []
    const mine = all.filter((g) => g.boundary && g.code.startsWith(session.value?.user.grid ?? ''))
    return mine.length > 0 ? mine : all.filter((g) => g.boundary)
  })

  async function load(): Promise<void> {
    try {
      session.value = await backend.currentSession()
    } catch (reason) {
      error.value = BackendError.from(reason)
    } finally {
      loaded.value = true
    }
  }

  async function login(args: LoginArgs): Promise<boolean> {
    busy.value = true
    error.value = null
    globalThis.localStorage?.setItem(SERVER_URL_KEY, args.server_url)
    try {
      session.value = await backend.login({ args })
      return true
    } catch (reason) {
      error.value = BackendError.from(reason)
      return false
    } finally {
      busy.value = false
    }
  }

  function lastServerUrl(): string {
    return globalThis.localStorage?.getItem(SERVER_URL_KEY) ?? ''
  }

  return { session, loaded, error, busy, signedIn, mapGrids, load, login, lastServerUrl }
})
