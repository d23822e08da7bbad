import { defineStore } from 'pinia'
import { ref } from 'vue'
import { type AppInfo, backend, BackendError } from '../backend'

/** The app's name and version as the backend reports them. */
export const useAppInfoStore = defineStore('appInfo', () => {
  const info = ref<AppInfo | null>(null)
  const error = ref<BackendError | null>(null)
  const loading = ref(false)

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      info.value = await backend.appInfo()
    } catch (reason) {
      error.value = BackendError.from(reason)
    } finally {
      loading.value = false
    }
  }

  return { info, error, loading, load }
})
