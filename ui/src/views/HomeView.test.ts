import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory } from 'vue-router'
import { createGridworkApp } from '../app'
import { type Backend, BackendError } from '../backend'

const fake = vi.hoisted(() => ({ backend: { appInfo: vi.fn() } satisfies Backend }))

vi.mock('../backend', async (original) => ({
  ...(await original<typeof import('../backend')>()),
  backend: fake.backend,
}))

async function mountApp() {
  const root = document.createElement('div')
  document.body.append(root)
  const { app, router } = createGridworkApp(createMemoryHistory())
  await router.push('/')
  await router.isReady()
  app.mount(root)
  await flushPromises()
  return { root, unmount: () => app.unmount() }
}

function text(root: Element, selector: string): string {
  return root.querySelector(selector)?.textContent?.trim() ?? ''
}

afterEach(() => {
  document.body.innerHTML = ''
  localStorage.clear()
})

describe('home view', () => {
  it('shows the name and the version the backend reports, in Chinese first', async () => {
    fake.backend.appInfo.mockResolvedValue({ name: 'Gridwork', version: '0.1.0' })
    const { root, unmount } = await mountApp()
    expect(text(root, '[data-test=title]')).toBe('网格通 Gridwork')
    expect(text(root, '[data-test=version]')).toContain('版本')
    expect(text(root, '[data-test=version]')).toContain('0.1.0')
    expect(document.documentElement.lang).toBe('zh-CN')
    unmount()
  })

  it('switches to English when asked', async () => {
    fake.backend.appInfo.mockResolvedValue({ name: 'Gridwork', version: '0.1.0' })
    const { root, unmount } = await mountApp()
    root.querySelector<HTMLElement>('[data-test=locale-en]')?.click()
    await flushPromises()
    expect(text(root, '[data-test=title]')).toBe('Gridwork')
    expect(text(root, '[data-test=version]')).toContain('Version')
    expect(document.documentElement.lang).toBe('en')
    unmount()
  })

  it('says why when the backend fails', async () => {
    fake.backend.appInfo.mockRejectedValue(new BackendError('unavailable', 'no backend'))
    const { root, unmount } = await mountApp()
    expect(text(root, '[data-test=version]')).toContain('无法连接到应用后台')
    unmount()
  })
})
