import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { type Backend, BackendError } from '../backend'
import { useAppInfoStore } from './appInfo'
import { LOCALE_STORAGE_KEY, useSettingsStore } from './settings'

const fake = vi.hoisted(() => ({ backend: { appInfo: vi.fn() } satisfies Backend }))

vi.mock('../backend', async (original) => ({
  ...(await original<typeof import('../backend')>()),
  backend: fake.backend,
}))

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
})

describe('settings store', () => {
  it('starts in Chinese when nothing is stored', () => {
    expect(useSettingsStore().locale).toBe('zh-CN')
  })

  it('remembers the chosen language for the next launch', () => {
    useSettingsStore().setLocale('en')
    expect(localStorage.getItem(LOCALE_STORAGE_KEY)).toBe('en')

    setActivePinia(createPinia())
    expect(useSettingsStore().locale).toBe('en')
  })

  it('ignores a stored value that is not a supported language', () => {
    localStorage.setItem(LOCALE_STORAGE_KEY, 'fr')
    expect(useSettingsStore().locale).toBe('zh-CN')
  })
})

describe('app info store', () => {
  it('holds what the backend reports', async () => {
    fake.backend.appInfo.mockResolvedValue({ name: 'Gridwork', version: '1.2.3' })
    const store = useAppInfoStore()
    const loading = store.load()
    expect(store.loading).toBe(true)
    await loading
    expect(store.info).toEqual({ name: 'Gridwork', version: '1.2.3' })
    expect(store.error).toBeNull()
    expect(store.loading).toBe(false)
  })

  it('keeps the backend error code when the call fails', async () => {
    fake.backend.appInfo.mockRejectedValue(new BackendError('internal', 'disk full'))
    const store = useAppInfoStore()
    await store.load()
    expect(store.info).toBeNull()
    expect(store.error?.code).toBe('internal')
    expect(store.loading).toBe(false)
  })
})
