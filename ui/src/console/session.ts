import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, type Me, type Section } from './api'

/** Who is signed in to the console, as the server says. */
export const useConsoleSession = defineStore('consoleSession', () => {
  const me = ref<Me | null>(null)

  async function refresh(): Promise<Me | null> {
    try {
      me.value = await api.me()
    } catch {
      me.value = null
    }
    return me.value
  }

  async function login(user: string, password: string): Promise<void> {
    me.value = await api.login(user, password)
  }

  async function logout(): Promise<void> {
    try {
      await api.logout()
    } finally {
      me.value = null
    }
  }

  function gridName(code: string): string {
    return me.value?.grids.find((g) => g.code === code)?.name ?? code
  }

  /** Whether the signed-in user may open `section` (the server's list). */
  function may(section: Section): boolean {
    return me.value?.sections.includes(section) ?? false
  }

  return { me, refresh, login, logout, gridName, may }
})
