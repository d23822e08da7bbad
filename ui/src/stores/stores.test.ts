import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { BackendError } from '../backend'
import { fakeBackend } from '../testing/fakeBackend'
import type { SessionInfo, SyncStatus } from '../types'
import { useAppInfoStore } from './appInfo'
import { SERVER_URL_KEY, useSessionStore } from './session'
import { LOCALE_STORAGE_KEY, useSettingsStore } from './settings'
import { durationLine, emptyStatus, formatBytes, progressLines, uploadBar, useSyncStore } from './sync'
import { createAppI18n } from '../i18n'
import type { SyncProgress } from '../types'

vi.mock('../backend', async (original) => ({
  ...(await original<typeof import('../backend')>()),
  backend: (await import('../testing/fakeBackend')).fakeBackend,
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
    fakeBackend.appInfo.mockResolvedValue({ name: 'Gridwork', version: '1.2.3' })
    const store = useAppInfoStore()
    const loading = store.load()
    expect(store.loading).toBe(true)
    await loading
    expect(store.info).toEqual({ name: 'Gridwork', version: '1.2.3' })
    expect(store.error).toBeNull()
    expect(store.loading).toBe(false)
  })

  it('keeps the backend error code when the call fails', async () => {
    fakeBackend.appInfo.mockRejectedValue(new BackendError('internal'))
    const store = useAppInfoStore()
    await store.load()
    expect(store.info).toBeNull()
    expect(store.error?.code).toBe('internal')
    expect(store.loading).toBe(false)
  })
})

const SESSION: SessionInfo = {
  server_url: 'http://127.0.0.1:8080',
  device_id: 'dev-1',
  user: { id: 'wangfang', name: '王芳', role: 'grid_worker', grid: '440106001001001' },
  grids: [],
}

describe('session store', () => {
  it('signs in, and remembers the server address for next time', async () => {
    fakeBackend.login.mockResolvedValue(SESSION)
    const store = useSessionStore()
    const ok = await store.login({
      server_url: 'http://10.0.0.2:8080',
      user: 'wangfang',
      password: 'pw',
      device_name: '',
    })
    expect(ok).toBe(true)
    expect(store.signedIn).toBe(true)
    expect(localStorage.getItem(SERVER_URL_KEY)).toBe('http://10.0.0.2:8080')
    expect(useSessionStore().lastServerUrl()).toBe('http://10.0.0.2:8080')
  })

  it('keeps the translated reason when sign-in fails', async () => {
    fakeBackend.login.mockRejectedValue(new BackendError('bad_credentials'))
    const store = useSessionStore()
    expect(await store.login({ server_url: 'http://x', user: 'a', password: 'b', device_name: '' })).toBe(false)
    expect(store.signedIn).toBe(false)
    expect(store.error?.message).toBe('账号或密码不正确')
    expect(store.busy).toBe(false)
  })
})

describe('sync store', () => {
  const status = (over: Partial<SyncStatus>): SyncStatus => ({ ...emptyStatus(), ...over })

  it('takes what the backend publishes and counts syncs that changed records', () => {
    const store = useSyncStore()
    store.take(status({ syncing: true }))
    expect(store.revision).toBe(0)
    store.take(status({ syncing: false, online: true, changed: 3, pending: 0 }))
    expect(store.revision).toBe(1)
    store.take(status({ syncing: false, online: true, changed: 0 }))
    expect(store.revision).toBe(1)
  })

  it('shows an unreachable server as offline, with its plain-words reason', async () => {
    fakeBackend.syncNow.mockRejectedValue(new BackendError('unreachable'))
    const store = useSyncStore()
    await store.syncNow()
    expect(store.status.online).toBe(false)
    expect(store.status.syncing).toBe(false)
    expect(store.status.last_error).toEqual({ code: 'unreachable', params: {}, fields: [] })
  })

  it('keeps a status published while it was asking for the current one (a sync started at sign-in)', async () => {
    let publish: (s: SyncStatus) => void = () => undefined
    fakeBackend.onSyncStatus.mockImplementation((handler: (s: SyncStatus) => void) => {
      publish = handler
      return Promise.resolve(() => undefined)
    })
    // The answer was read while the sync ran; the sync ends before it arrives.
    fakeBackend.syncStatus.mockImplementation(() => {
      publish(status({ syncing: false, online: true, last_sync_at: 2 }))
      return Promise.resolve(status({ syncing: true }))
    })
    const store = useSyncStore()
    await store.start()
    expect(store.status.syncing).toBe(false)
    expect(store.status.last_sync_at).toBe(2)
  })

  it('refreshes lists after a sync now', async () => {
    fakeBackend.syncNow.mockResolvedValue(status({ online: true, pending: 0, last_sync_at: 1 }))
    const store = useSyncStore()
    await store.syncNow()
    expect(store.status.last_sync_at).toBe(1)
    expect(store.revision).toBe(1)
  })
})

describe('photo upload bars', () => {
  it('show a whole percentage and the bytes sent of the total', () => {
    expect(uploadBar({ sha256: 'a', sent: 0, total: 300_000 })).toEqual({ percent: 0, text: '0 B / 293 KB' })
    expect(uploadBar({ sha256: 'a', sent: 262_144, total: 300_000 }).percent).toBe(87)
    expect(uploadBar({ sha256: 'a', sent: 300_000, total: 300_000 }).percent).toBe(100)
    // An empty file or a wrong count never draws past the end.
    expect(uploadBar({ sha256: 'a', sent: 0, total: 0 }).percent).toBe(100)
    expect(uploadBar({ sha256: 'a', sent: 9, total: 3 }).percent).toBe(100)
    expect(formatBytes(1_572_864)).toBe('1.5 MB')
  })
})


describe('sync progress', () => {
  const progress = (over: Partial<SyncProgress>): SyncProgress => ({
    records_sent: 0,
    records_to_send: 0,
    records_received: 0,
    more_to_receive: false,
    bytes_done: 0,
    bytes_left: 0,
    photo_bytes_sent: 0,
    photo_bytes_left: 0,
    eta_ms: null,
    ...over,
  })

  /** The lines as the sync screen says them in `locale`. */
  function say(p: SyncProgress, locale: 'zh-CN' | 'en'): string[] {
    const { t } = createAppI18n(locale).global
    const shown = progressLines(p)
    const lines = shown.lines.map((l) => t(l.key, l.params))
    if (shown.eta) lines.push(t(shown.eta.key, shown.time ? { time: t(shown.time.key, shown.time.params) } : {}))
    return lines
  }

  it('rounds the time left as a person says it', () => {
    expect(durationLine(400)).toEqual({ key: 'sync.seconds', params: { n: 1 } })
    expect(durationLine(59_000)).toEqual({ key: 'sync.seconds', params: { n: 59 } })
    expect(durationLine(61_000)).toEqual({ key: 'sync.minutes', params: { n: 2 } })
    expect(durationLine(3_600_000)).toEqual({ key: 'sync.hoursMinutes', params: { h: 1, m: 0 } })
    expect(durationLine(3_725_000)).toEqual({ key: 'sync.hoursMinutes', params: { h: 1, m: 3 } })
  })

  it('says records and bytes done and left, and the time left, in Chinese and English', () => {
    // The day's photos over 2G: the edits are sent, a photo and a half left.
    const day = progress({
      records_sent: 20,
      records_received: 3,
      bytes_done: 1_048_576,
      bytes_left: 230_400,
      photo_bytes_sent: 1_024_000,
      photo_bytes_left: 230_400,
      eta_ms: 18_400,
    })
    expect(say(day, 'zh-CN')).toEqual([
      '已上传 20 条修改，待上传 0 条',
      '已接收 3 条修改',
      '已传输 1.0 MB，已知剩余 225 KB',
      '照片：已上传 1000 KB，剩余 225 KB',
      '预计还需 19 秒',
    ])
    expect(say(day, 'en')).toEqual([
      '20 changes sent, 0 to send',
      '3 changes received',
      '1.0 MB moved, 225 KB known to be left',
      'Photos: 1000 KB sent, 225 KB left',
      'About 19 s left',
    ])
  })

  it('says "at least" while the server has more to send, and nothing about photos without any', () => {
    const first = progress({ records_received: 4_000, more_to_receive: true, bytes_done: 700_000, bytes_left: 2_000, eta_ms: 150_000 })
    expect(say(first, 'en')).toEqual([
      '0 changes sent, 0 to send',
      '4000 changes received, more to come',
      '684 KB moved, 2 KB known to be left',
      'At least 3 min left',
    ])
    expect(say(first, 'zh-CN').at(-1)).toBe('至少还需 3 分钟')
  })

  it('says it is working the time out until there is a rate, and nothing once all is done', () => {
    expect(say(progress({ records_to_send: 5, bytes_left: 500 }), 'en').at(-1)).toBe('Working out the time left…')
    expect(say(progress({ more_to_receive: true }), 'zh-CN').at(-1)).toBe('正在估算剩余时间…')
    expect(progressLines(progress({ records_sent: 5, bytes_done: 500 })).eta).toBeNull()
  })
})
