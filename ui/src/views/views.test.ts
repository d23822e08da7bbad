import { flushPromises } from '@vue/test-utils'
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory } from 'vue-router'
import { createGridworkApp } from '../app'
import { BackendError } from '../backend'
import { DRAFT_WRITE_DELAY_MS } from '../drafts'
import { fakeBackend, fakeDrafts, pinView } from '../testing/fakeBackend'
import { photoRef, taskProjection } from '../testing/fixtures'
import type {
  Conflict,
  DueVisit,
  Household,
  Incident,
  ListArgs,
  PatrolEdit,
  Projection,
  Resident,
  SessionInfo,
  Task,
  Visit,
} from '../types'

vi.mock('../backend', async (original) => ({
  ...(await original<typeof import('../backend')>()),
  backend: (await import('../testing/fakeBackend')).fakeBackend,
}))

const SESSION: SessionInfo = {
  server_url: 'http://127.0.0.1:8080',
  device_id: 'dev-1',
  user: { id: 'wangfang', name: '王芳', role: 'grid_worker', grid: '440106001001001' },
  grids: [],
}

const META = { grid: '440106001001001', created_by: 'wangfang', created_at: 0, deleted: false }

function household(): Household {
  return {
    ...META,
    id: 'h-1',
    address: { estate: '', building: '', unit: '', room: '', village: '', group: '', detail: '' },
    point: null,
    use: 'owner_occupied',
    owner_name: '',
    owner_phone: null,
    owner_id_number: null,
    door_plate_photo: null,
    flags: { low_income: false, living_alone: false, disability: false, special_support: false, key_concern: false },
    last_visit_at: null,
    review: [],
  }
}

function resident(): Resident {
  return {
    ...META,
    id: 'r-1',
    household_id: 'h-1',
    relation: 'head',
    name: '',
    gender: 'unknown',
    birth_date: null,
    id_type: 'resident_id',
    id_number: null,
    phone: null,
    ethnicity: '汉族',
    registered_residence: '',
    population_type: 'registered',
    care_tags: [],
    education: null,
    emergency_contact: { name: '', phone: '', relation: '' },
    next_visit_due: null,
    review: [],
  }
}

function incident(): Incident {
  return {
    ...META,
    id: 'i-1',
    number: 'SJ20261129-AB12-0001',
    title: '',
    description: '',
    category: { major: 'safety_hazard', minor: '' },
    source: 'patrol',
    urgency: 'medium',
    point: null,
    address: '',
    happened_at: 0,
    photos: [],
    hotline_order: null,
    patrol_id: null,
    mediation: null,
    log: [],
  }
}

async function mountAt(path: string) {
  const root = document.createElement('div')
  document.body.append(root)
  const { app, router } = createGridworkApp(createMemoryHistory())
  await router.push(path)
  await router.isReady()
  app.mount(root)
  await flushPromises()
  return { root, router, unmount: () => app.unmount() }
}

function text(root: Element, selector: string): string {
  return root.querySelector(selector)?.textContent?.trim() ?? ''
}

async function type(root: Element, selector: string, value: string): Promise<void> {
  const input = root.querySelector<HTMLInputElement>(`${selector} input`)
  if (!input) throw new Error(`no input in ${selector}`)
  input.value = value
  input.dispatchEvent(new Event('input'))
  await flushPromises()
}

beforeEach(() => {
  fakeBackend.currentSession.mockResolvedValue(SESSION)
  fakeBackend.listRecords.mockResolvedValue([])
  fakeBackend.careTagOptions.mockResolvedValue([])
  fakeBackend.maskRecord.mockResolvedValue({ record: {}, classes: {} })
  fakeBackend.pinStatus.mockResolvedValue(pinView(true, true))
})

afterEach(() => {
  document.body.innerHTML = ''
  localStorage.clear()
  fakeDrafts.clear()
})

/** Long enough for a form's change to reach the store (`drafts.ts`). */
const draftWritten = () => new Promise((resolve) => setTimeout(resolve, DRAFT_WRITE_DELAY_MS + 50))

// Vant's safe-area placeholders (nav bar, tab bar) measure themselves again
// 100, 200 and 300 ms after mounting, on plain timers that unmounting does not
// cancel. Let them run while the DOM still exists: fired after the test
// environment is torn down they throw "window is not defined" and fail the run.
afterAll(() => new Promise((resolve) => setTimeout(resolve, 400)))

describe('first run', () => {
  it('goes to the setup screen until someone signs in', async () => {
    fakeBackend.currentSession.mockResolvedValue(null)
    const { root, router, unmount } = await mountAt('/')
    expect(router.currentRoute.value.name).toBe('setup')
    expect(root.querySelector('[data-test=server-url]')).not.toBeNull()
    unmount()
  })
})

describe('setup screen', () => {
  it("sends the admin's CA and the plain-HTTP permission with the login, and shows a refusal", async () => {
    fakeBackend.currentSession.mockResolvedValue(null)
    fakeBackend.login.mockRejectedValue({
      code: 'plain_http_refused',
    })
    const { root, unmount } = await mountAt('/')
    await type(root, '[data-test=server-url]', 'http://10.0.0.5:8080')
    await type(root, '[data-test=user]', 'gw-1')
    await type(root, '[data-test=password]', 'secret')
    root.querySelector<HTMLElement>('[data-test=setup-advanced] .van-cell')?.click()
    await flushPromises()
    const ca = root.querySelector<HTMLTextAreaElement>('[data-test=ca-pem] textarea')
    if (!ca) throw new Error('no CA field')
    ca.value = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'
    ca.dispatchEvent(new Event('input'))
    root.querySelector<HTMLElement>('[data-test=allow-http]')?.click()
    await flushPromises()
    expect(text(root, '[data-test=allow-http-hint]')).toContain('明文')
    root.querySelector<HTMLElement>('[data-test=login]')?.click()
    await flushPromises()
    expect(fakeBackend.login).toHaveBeenLastCalledWith({
      args: expect.objectContaining({
        server_url: 'http://10.0.0.5:8080',
        ca_pem: expect.stringContaining('BEGIN CERTIFICATE'),
        allow_plain_http: true,
      }),
    })
    expect(text(root, '[data-test=login-error]')).toContain('https://')
    unmount()
  })
})

describe('PIN screen', () => {
  /** Presses the on-screen keys of `digits` (Vant's keys answer touches). */
  async function press(root: Element, digits: string): Promise<void> {
    for (const d of digits) {
      const key = [...root.querySelectorAll('.van-key')].find((k) => k.textContent?.trim() === d)
      if (!key) throw new Error(`no key ${d}`)
      const start = new Event('touchstart', { bubbles: true })
      Object.defineProperty(start, 'touches', { value: [{ clientX: 0, clientY: 0 }] })
      key.dispatchEvent(start)
      key.dispatchEvent(new Event('touchend', { bubbles: true }))
      await flushPromises()
    }
  }

  it('asks a worker just signed in to choose a PIN, typed twice; a trivial one is refused with the reason', async () => {
    fakeBackend.pinStatus.mockResolvedValue(pinView(false, true))
    fakeBackend.setPin.mockImplementation(({ pin }: { pin: string }) =>
      pin === '135792'
        ? Promise.resolve(pinView(true, true))
        : Promise.reject({ code: 'pin_run', params: {}, fields: [] }),
    )
    const { root, router, unmount } = await mountAt('/visits')
    expect(router.currentRoute.value.name).toBe('pin')
    expect(root.querySelector('[data-test=pin-choose]')).not.toBeNull()
    await press(root, '123456')
    await press(root, '123456')
    expect(fakeBackend.setPin).toHaveBeenLastCalledWith({ pin: '123456' })
    expect(text(root, '[data-test=pin-choose]')).toContain('不能用连续的数字')
    await press(root, '135792')
    await press(root, '246813')
    expect(text(root, '[data-test=pin-choose]')).toContain('两次输入不一致')
    expect(fakeBackend.setPin).toHaveBeenCalledTimes(1)
    await press(root, '135792')
    await press(root, '135792')
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/visits'))
    unmount()
  })

  it('holds every screen behind the PIN when one is set; a wrong PIN says how long to wait', async () => {
    fakeBackend.pinStatus.mockResolvedValue(pinView(true, false))
    fakeBackend.unlock.mockImplementation(({ pin }: { pin: string }) =>
      pin === '246810'
        ? Promise.resolve(pinView(true, true))
        : Promise.reject({ code: 'pin_wrong_wait', params: { left: 7, wait_s: 15 }, fields: [] }),
    )
    const { root, router, unmount } = await mountAt('/households')
    expect(router.currentRoute.value.name).toBe('pin')
    expect(router.currentRoute.value.query.next).toBe('/households')
    await press(root, '111111')
    expect(fakeBackend.unlock).toHaveBeenLastCalledWith({ pin: '111111' })
    expect(text(root, '[data-test=pin]')).toContain('请 15 秒后再试')
    expect(router.currentRoute.value.name).toBe('pin')
    await press(root, '246810')
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/households'))
    unmount()
  })

  it('after a lock-out and a fresh sign-in, says whether the data was kept before a new PIN is chosen', async () => {
    fakeBackend.pinStatus.mockResolvedValue({ ...pinView(false, true), recovered: true })
    const kept = await mountAt('/visits')
    expect(text(kept.root, '[data-test=pin-recovered]')).toContain('本机数据均已保留')
    kept.unmount()
    fakeBackend.pinStatus.mockResolvedValue({ ...pinView(false, true), data_lost: true })
    const lost = await mountAt('/visits')
    expect(text(lost.root, '[data-test=pin-data-lost]')).toContain('原有数据无法恢复')
    lost.unmount()
  })

  it('changes the PIN from About: the current one, then the new one twice; a refusal says why', async () => {
    fakeBackend.changePin.mockImplementation(({ oldPin }: { oldPin: string }) =>
      oldPin === '135792'
        ? Promise.resolve(pinView(true, true))
        : Promise.reject({ code: 'pin_wrong_wait', params: { left: 7, wait_s: 15 }, fields: [] }),
    )
    const { root, router, unmount } = await mountAt('/about')
    ;(root.querySelector('[data-test=change-pin]') as HTMLElement).click()
    await vi.waitFor(() => expect(root.querySelector('[data-test=pin-change]')).not.toBeNull())
    expect(router.currentRoute.value.name).toBe('change-pin')
    await press(root, '111111')
    expect(text(root, '[data-test=pin-change-hint]')).toContain('新的 6 位')
    await press(root, '246813')
    await press(root, '246813')
    expect(fakeBackend.changePin).toHaveBeenLastCalledWith({ oldPin: '111111', newPin: '246813' })
    expect(text(root, '[data-test=pin-change]')).toContain('请 15 秒后再试')
    expect(text(root, '[data-test=pin-change-hint]')).toContain('当前的 PIN 码')
    await press(root, '135792')
    await press(root, '246813')
    await press(root, '246810')
    expect(text(root, '[data-test=pin-change]')).toContain('两次输入不一致')
    await press(root, '246813')
    await press(root, '246813')
    await flushPromises()
    expect(text(root, '[data-test=pin-changed]')).toContain('PIN 码已修改')
    expect(fakeBackend.changePin).toHaveBeenLastCalledWith({ oldPin: '135792', newPin: '246813' })
    unmount()
  })

  it('locks after the idle time set and shows the PIN screen', async () => {
    // 0.3 s instead of minutes.
    localStorage.setItem('gridwork.idleMinutes', String(0.3 / 60))
    fakeBackend.lockApp.mockImplementation(() => {
      fakeBackend.pinStatus.mockResolvedValue(pinView(true, false))
      return Promise.resolve(pinView(true, false))
    })
    const { router, unmount } = await mountAt('/visits')
    expect(router.currentRoute.value.fullPath).toBe('/visits')
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('pin'), { timeout: 3000 })
    expect(fakeBackend.lockApp).toHaveBeenCalled()
    expect(router.currentRoute.value.query.next).toBe('/visits')
    unmount()
  })
})

describe('home', () => {
  it('greets the worker and lists incidents a supervisor returned', async () => {
    const row: Projection = {
      id: 'i-1',
      kind: 'incident',
      grid: META.grid,
      title: '楼道堆物',
      subtitle: 'SJ-1 · 消防',
      status: 'returned',
      category: 'fire',
      urgency: 'medium',
      parent_id: null,
      due: null,
      created_at: 0,
      created_by: 'wangfang',
      deleted: false,
    }
    fakeBackend.listRecords.mockImplementation(({ query }: { query: ListArgs }) =>
      Promise.resolve(query.status?.includes('returned') ? [row] : []),
    )
    const { root, unmount } = await mountAt('/')
    expect(text(root, '[data-test=greeting]')).toContain('王芳')
    expect(text(root, '[data-test=returned-item]')).toContain('楼道堆物')
    unmount()
  })

  it('lists incident forms left unsaved, newest first, from the store', async () => {
    fakeDrafts.set('incident.new', { key: 'incident.new', value: { title: '楼道堆物' }, saved_at: 2 })
    fakeDrafts.set('incident.i-9', { key: 'incident.i-9', value: { title: '' }, saved_at: 1 })
    fakeDrafts.set('household.new', { key: 'household.new', value: { owner_name: '王' }, saved_at: 3 })
    const { root, unmount } = await mountAt('/')
    const rows = [...root.querySelectorAll('[data-test=unsaved-draft]')].map((e) => e.textContent?.trim() ?? '')
    expect(rows).toEqual([expect.stringContaining('楼道堆物'), expect.stringContaining('未保存的填写')])
    unmount()
  })

  it('shows the version on the about screen, in Chinese first', async () => {
    fakeBackend.appInfo.mockResolvedValue({ name: 'Gridwork', version: '0.1.0' })
    const { root, unmount } = await mountAt('/about')
    expect(text(root, '[data-test=title]')).toBe('网格通 Gridwork')
    expect(text(root, '[data-test=version]')).toContain('0.1.0')
    unmount()
  })

  it('says on the about screen whether a platform keystore guards the PIN', async () => {
    const { root, unmount } = await mountAt('/about')
    await flushPromises()
    expect(text(root, '[data-test=keystore]')).toContain('仅由 PIN 码保护')
    unmount()
    fakeBackend.pinStatus.mockResolvedValue({ ...pinView(true, true), keystore: 'secret-service' })
    const second = await mountAt('/about')
    await flushPromises()
    expect(text(second.root, '[data-test=keystore]')).toContain('secret-service')
    second.unmount()
  })
})

describe('household form', () => {
  it('keeps what is typed across a restart, before any save', async () => {
    fakeBackend.newHousehold.mockResolvedValue(household())
    const first = await mountAt('/households/new')
    await type(first.root, '[data-test=estate]', '阳光花园')
    first.unmount()
    document.body.innerHTML = ''

    const second = await mountAt('/households/new')
    const estate = second.root.querySelector<HTMLInputElement>('[data-test=estate] input')
    expect(estate?.value).toBe('阳光花园')
    expect(fakeBackend.newHousehold).toHaveBeenCalledTimes(1)
    second.unmount()
  })

  it('keeps what is typed in the store, not the web view, and finds it after a kill', async () => {
    fakeBackend.newHousehold.mockResolvedValue(household())
    const first = await mountAt('/households/new')
    await type(first.root, '[data-test=owner-name]', '欧阳婉清')
    await type(first.root, '[data-test=owner-id]', '44010619850607123X')
    await draftWritten()
    expect(fakeDrafts.get('household.new')?.value).toMatchObject({
      owner_name: '欧阳婉清',
      owner_id_number: '44010619850607123X',
    })
    expect(localStorage.length).toBe(0)

    // Killed: the first app never unmounts, a new one starts.
    const blanks = fakeBackend.newHousehold.mock.calls.length
    const second = await mountAt('/households/new')
    const owner = second.root.querySelector<HTMLInputElement>('[data-test=owner-name] input')
    expect(owner?.value).toBe('欧阳婉清')
    expect(second.root.textContent).toContain('已恢复')
    expect(fakeBackend.newHousehold).toHaveBeenCalledTimes(blanks)
    second.unmount()
    first.unmount()
  })

  it('hands the save its draft, the last typing written first, for the save to drop; a refused save keeps it', async () => {
    fakeBackend.newHousehold.mockResolvedValue(household())
    // As the backend does (core's `Store::write_form`): the draft goes in
    // the save's own transaction, and stays when the save is refused.
    const atSave: unknown[] = []
    fakeBackend.saveHousehold.mockImplementation(({ record, draft }: { record: Household; draft: string | null }) => {
      atSave.push(draft ? fakeDrafts.get(draft)?.value : undefined)
      if (atSave.length === 1) {
        return Promise.reject(new BackendError('invalid', {}, [{ field: 'address', code: 'required', params: {} }]))
      }
      if (draft) fakeDrafts.delete(draft)
      return Promise.resolve(record)
    })
    const { root, unmount } = await mountAt('/households/new')
    await type(root, '[data-test=owner-name]', '欧阳婉清')
    root.querySelector<HTMLElement>('[data-test=save-household]')?.click()
    await flushPromises()
    expect(fakeBackend.saveHousehold).toHaveBeenLastCalledWith(expect.objectContaining({ draft: 'household.new' }))
    expect(atSave[0]).toMatchObject({ owner_name: '欧阳婉清' })
    expect(fakeDrafts.get('household.new')?.value).toMatchObject({ owner_name: '欧阳婉清' })

    root.querySelector<HTMLElement>('[data-test=save-household]')?.click()
    await flushPromises()
    expect(fakeBackend.saveHousehold).toHaveBeenCalledTimes(2)
    unmount()
    await draftWritten()
    expect(fakeDrafts.has('household.new')).toBe(false)
    expect(fakeBackend.dropDraft).not.toHaveBeenCalled()
  })

  it('shows the message core gives at the field it is about', async () => {
    fakeBackend.newHousehold.mockResolvedValue(household())
    fakeBackend.saveHousehold.mockRejectedValue(
      new BackendError('invalid', {}, [{ field: 'address', code: 'required', params: {} }]),
    )
    const { root, unmount } = await mountAt('/households/new')
    root.querySelector<HTMLButtonElement>('[data-test=save-household]')?.click()
    await flushPromises()
    expect(text(root, '[data-test=estate]')).toContain('必填')
    unmount()
  })
})

describe('sync screen', () => {
  it('draws a bar per photo being uploaded and says in plain words which photos were refused', async () => {
    fakeBackend.syncStatus.mockResolvedValueOnce({
      online: true,
      syncing: true,
      pending: 0,
      photos_pending: 2,
      last_sync_at: null,
      last_error: null,
      rejections: [],
      notices: [],
      uploads: [
        { sha256: 'aa'.repeat(32), sent: 131_072, total: 262_144 },
        { sha256: 'bb'.repeat(32), sent: 0, total: 200_000 },
      ],
      photos_refused: [
        { sha256: 'cc'.repeat(32), code: 'blob_not_an_image' },
      ],
      changed: 0,
      attempts: 1,
      retry: null,
      progress: null,
    })
    const { root, unmount } = await mountAt('/sync')
    expect(root.querySelector('[data-test=sync-retry]')).toBeNull()
    const bars = [...root.querySelectorAll('[data-test=sync-upload]')]
    expect(bars.map((b) => b.getAttribute('data-percent'))).toEqual(['50', '0'])
    expect(bars[0]?.textContent).toContain('128 KB / 256 KB')
    expect(bars[0]?.querySelector('.van-progress')).not.toBeNull()
    expect(text(root, '[data-test=sync-photo-refused]')).toContain('不是 JPEG、PNG 或 WebP 图片')
    unmount()
  })
})

describe('sync screen, progress', () => {
  it('shows records and bytes done and left and the time left while a sync runs, and not after', async () => {
    const idle = await fakeBackend.syncStatus()
    const progress = {
      records_sent: 12,
      records_to_send: 8,
      records_received: 500,
      more_to_receive: true,
      bytes_done: 300_000,
      bytes_left: 150_000,
      photo_bytes_sent: 0,
      photo_bytes_left: 140_000,
      eta_ms: 125_000,
    }
    fakeBackend.syncStatus.mockResolvedValueOnce({ ...idle, syncing: true, progress })
    const { root, unmount } = await mountAt('/sync')
    const lines = [...root.querySelectorAll('[data-test=sync-progress-line]')].map((c) => c.textContent ?? '')
    expect(lines).toEqual([
      '已上传 12 条修改，待上传 8 条',
      '已接收 500 条修改，还有更多',
      '已传输 293 KB，已知剩余 146 KB',
      '照片：已上传 0 B，剩余 137 KB',
    ])
    expect(text(root, '[data-test=sync-eta]')).toBe('至少还需 3 分钟')
    unmount()

    fakeBackend.syncStatus.mockResolvedValueOnce({ ...idle, syncing: false, progress })
    const after = await mountAt('/sync')
    expect(after.root.querySelector('[data-test=sync-progress]')).toBeNull()
    after.unmount()
  })
})

describe('sync screen, notices', () => {
  it("says in the worker's words what the server did, and forgets it once dismissed", async () => {
    // An empty tablet's status, as the fake backend answers it.
    const idle = await fakeBackend.syncStatus()
    const id = '0193f0c2-7d4e-7a1b-9c3d-2e1f0a9b8c7d'
    fakeBackend.syncStatus.mockResolvedValueOnce({
      ...idle,
      notices: [
        { seq: 2, doc_id: id, code: 'transition_refused', params: { error: 'own_work', action: 'verify' }, compensated: false, received_at: 0 },
        { seq: 1, doc_id: id, code: 'field_not_allowed', params: { kind: 'task' }, compensated: true, received_at: 0 },
        { seq: 3, doc_id: id, code: 'from_a_newer_server', params: {}, compensated: false, received_at: 0 },
      ],
    })
    fakeBackend.dismissNotices.mockResolvedValueOnce({ ...idle, notices: [] })
    const { root, unmount } = await mountAt('/sync')
    const shown = [...root.querySelectorAll('[data-test=sync-notice]')].map((c) => c.textContent ?? '')
    expect(shown).toHaveLength(3)
    // The workflow's refusal, said as the app says it, with the action's label.
    expect(shown[0]).toContain('已记入时间线但不生效')
    expect(shown[0]).toContain('核查')
    expect(shown[0]).not.toContain('{')
    expect(shown[1]).toContain('这条任务')
    expect(shown[2]).toContain('from_a_newer_server')
    ;(root.querySelector('[data-test=sync-notices-dismiss]') as HTMLElement).click()
    await flushPromises()
    expect(fakeBackend.dismissNotices).toHaveBeenCalledWith({ seqs: [2, 1, 3] })
    expect(root.querySelector('[data-test=sync-notices]')).toBeNull()
    unmount()
  })
})

describe('sync screen, connection cut', () => {
  it('says which try failed and when the next one comes', async () => {
    fakeBackend.syncStatus.mockResolvedValueOnce({
      online: false,
      syncing: true,
      pending: 3,
      photos_pending: 0,
      last_sync_at: null,
      last_error: null,
      rejections: [],
      notices: [],
      uploads: [],
      photos_refused: [],
      changed: 0,
      attempts: 2,
      retry: { after: 'unreachable', in_ms: 3_400 },
      progress: null,
    })
    const { root, unmount } = await mountAt('/sync')
    expect(text(root, '[data-test=sync-retry]')).toContain('第 2 次同步未成功，4 秒后重试')
    unmount()
  })
})

describe('household location', () => {
  it('takes the device position and shows why a point outside the grid is refused', async () => {
    fakeBackend.getHousehold.mockResolvedValue(household())
    fakeBackend.devicePosition.mockResolvedValueOnce({ lon: 113.34, lat: 23.1275, crs: 'EPSG:4326', accuracy_m: 5 })
    fakeBackend.saveHousehold.mockRejectedValueOnce(
      new BackendError('point_outside_grid', { lon: 113.34, lat: 23.1275 }, [
        { field: 'point', code: 'point_outside_grid', params: { lon: 113.34, lat: 23.1275 } },
      ]),
    )
    const { root, unmount } = await mountAt('/households/h-1')
    root.querySelector<HTMLButtonElement>('[data-test=household-location] [data-test=locate]')?.click()
    await flushPromises()
    expect(root.querySelector<HTMLInputElement>('[data-test=household-point] input')?.value).toBe('113.34, 23.1275')
    root.querySelector<HTMLButtonElement>('[data-test=save-household]')?.click()
    await flushPromises()
    expect(fakeBackend.saveHousehold).toHaveBeenLastCalledWith({
      record: expect.objectContaining({ point: expect.objectContaining({ lon: 113.34, lat: 23.1275 }) }),
      draft: 'household.h-1',
    })
    expect(text(root, '[data-test=household-point]')).toContain('不在您负责的网格内')
    unmount()
  })
})

describe('resident form', () => {
  it('fills birth date and gender from a good ID number, and says what is wrong with a bad one', async () => {
    fakeBackend.newResident.mockResolvedValue(resident())
    const { root, unmount } = await mountAt('/households/h-1/residents/new')

    fakeBackend.checkIdNumber.mockRejectedValueOnce(
      new BackendError('invalid', {}, [
        { field: 'id_number', code: 'id_check_character', params: { expected: 'X', found: '1' } },
      ]),
    )
    await type(root, '[data-test=id-number]', '110105194912310021')
    root.querySelector('[data-test=id-number] input')?.dispatchEvent(new Event('blur'))
    await flushPromises()
    expect(text(root, '[data-test=id-number]')).toContain('校验位错误')

    fakeBackend.checkIdNumber.mockResolvedValueOnce({
      normalized: '11010519491231002X',
      birth_date: '1949-12-31',
      gender: 'female',
    })
    await type(root, '[data-test=id-number]', '11010519491231002x')
    root.querySelector('[data-test=id-number] input')?.dispatchEvent(new Event('blur'))
    await flushPromises()
    expect(root.querySelector<HTMLInputElement>('[data-test=birth-date] input')?.value).toBe('1949-12-31')
    expect(text(root, '[data-test=id-number]')).not.toContain('校验位错误')
    unmount()
  })
  it('logs a reveal of a saved resident ID number before showing it, and keeps it hidden when logging fails', async () => {
    fakeBackend.getResident.mockResolvedValue({
      ...resident(),
      name: '欧阳娜娜',
      id_number: '11010519491231002X',
      birth_date: '1949-12-31',
    })
    fakeBackend.maskRecord.mockResolvedValue({
      record: { name: '欧***', id_number: '11************002X', birth_date: '1949' },
      classes: { name: 'pi', id_number: 's', birth_date: 's' },
    })
    fakeBackend.logReveal.mockRejectedValueOnce(new BackendError('store_failed'))
    const { root, unmount } = await mountAt('/households/h-1/residents/r-1')
    // The masks are core's, for the record the form holds.
    expect(fakeBackend.maskRecord).toHaveBeenCalledWith({ kind: 'resident', record: expect.objectContaining({ id: 'r-1' }) })
    const idField = () => root.querySelector<HTMLInputElement>('[data-test=id-number] input')
    expect(idField()?.value).toBe('11************002X')
    // Beside a masked ID number the birth date shows its year alone.
    expect(root.querySelector<HTMLInputElement>('[data-test=birth-date] input')?.value).toBe('1949')
    root.querySelector<HTMLButtonElement>('[data-test=id-number] [data-test=reveal]')?.click()
    await flushPromises()
    expect(idField()?.value).not.toBe('11010519491231002X')
    expect(text(root, '[data-test=id-number]')).toContain('本机数据读写出错')

    root.querySelector<HTMLButtonElement>('[data-test=id-number] [data-test=reveal]')?.click()
    await flushPromises()
    expect(fakeBackend.logReveal).toHaveBeenLastCalledWith({
      kind: 'resident',
      recordId: 'r-1',
      field: 'id_number',
      protection: 's',
    })
    expect(idField()?.value).toBe('11010519491231002X')

    // The whole birth date gives the ID number back: its reveal is [S],
    // as core says.
    root.querySelector<HTMLButtonElement>('[data-test=birth-date] [data-test=reveal]')?.click()
    await flushPromises()
    expect(fakeBackend.logReveal).toHaveBeenLastCalledWith({
      kind: 'resident',
      recordId: 'r-1',
      field: 'birth_date',
      protection: 's',
    })
    expect(root.querySelector<HTMLInputElement>('[data-test=birth-date] input')?.value).toBe('1949-12-31')
    unmount()
  })
})

describe('care tags in the resident form', () => {
  const OPTIONS = [
    { tag: 'elderly_living_alone', default_cycle_days: 7, restricted: false },
    { tag: 'disability', default_cycle_days: 30, restricted: false },
  ] as const

  it('masks the tags until revealed, then adds with the default cycle, edits, removes, and shows core\'s message', async () => {
    fakeBackend.careTagOptions.mockResolvedValue([...OPTIONS])
    fakeBackend.getResident.mockResolvedValue({
      ...resident(),
      name: '李梅',
      care_tags: [{ tag: 'disability', visit_cycle_days: 30, since: 1_780_000_000_000 }],
    })
    const { root, unmount } = await mountAt('/households/h-1/residents/r-1')
    const masked = root.querySelector<HTMLInputElement>('[data-test=care-tags] input')
    expect(masked?.value).toBe('已隐藏')
    expect(root.querySelector('[data-test=care-tags]')?.innerHTML).not.toContain('残疾人')

    root.querySelector<HTMLElement>('[data-test=care-tags] [data-test=reveal]')?.click()
    await flushPromises()
    expect(text(root, '[data-test=care-tag-disability]')).toContain('残疾人')
    // [S]: the reveal is in the device's access log.
    expect(fakeBackend.logReveal).toHaveBeenCalledWith({
      kind: 'resident',
      recordId: 'r-1',
      field: 'care_tags',
      protection: 's',
    })

    const kind = root.querySelector<HTMLSelectElement>('[data-test=care-tag-kind] select')!
    expect([...kind.options].map((o) => o.value)).toEqual(['', 'elderly_living_alone'])
    kind.value = 'elderly_living_alone'
    kind.dispatchEvent(new Event('change'))
    await flushPromises()
    root.querySelector<HTMLElement>('[data-test=add-care-tag]')?.click()
    await flushPromises()
    const added = root.querySelector<HTMLInputElement>('[data-test=care-tag-elderly_living_alone] input')
    expect(added?.value).toBe('7')

    await type(root, '[data-test=care-tag-disability]', '0')
    root.querySelector<HTMLElement>('[data-test=remove-elderly_living_alone]')?.click()
    await flushPromises()
    fakeBackend.saveResident.mockRejectedValueOnce(
      new BackendError('invalid', {}, [
        { field: 'care_tags', code: 'out_of_range', params: { range: '1..=366' } },
      ]),
    )
    root.querySelector<HTMLElement>('[data-test=save-resident]')?.click()
    await flushPromises()
    const sent = fakeBackend.saveResident.mock.calls.at(-1)?.[0].record as Resident
    expect(sent.care_tags).toEqual([{ tag: 'disability', visit_cycle_days: 0, since: 1_780_000_000_000 }])
    expect(text(root, '[data-test=care-tags-error]')).toBe('超出允许范围（1..=366）')
    unmount()
  })
})

describe('incident photos', () => {
  it('stores a picked photo at once, shows its thumbnail and reports it with the incident', async () => {
    fakeBackend.newIncident.mockResolvedValue(incident())
    fakeBackend.addPhoto.mockResolvedValue(photoRef(1))
    fakeBackend.photoUrl.mockResolvedValue('data:image/jpeg;base64,/9j/')
    fakeBackend.reportIncident.mockImplementation(({ record }: { record: Incident }) =>
      Promise.resolve({ incident: record, status: 'reported', derived: {}, timeline: [] }),
    )
    fakeBackend.getIncident.mockImplementation(() => new Promise(() => undefined))
    const { root, unmount } = await mountAt('/incidents/new')
    const input = root.querySelector<HTMLInputElement>('[data-test=photo-input]')
    if (!input) throw new Error('no photo input')
    expect(input.accept).toBe('image/*')
    const camera = root.querySelector<HTMLInputElement>('[data-test=photo-camera] input')
    expect(camera?.getAttribute('capture')).toBe('environment')

    const file = new File([new Uint8Array([0xff, 0xd8, 0xff])], 'scene.jpg', { type: 'image/jpeg' })
    Object.defineProperty(input, 'files', { value: [file], configurable: true })
    input.dispatchEvent(new Event('change'))
    await flushPromises()

    expect(fakeBackend.addPhoto).toHaveBeenCalledWith({
      body: new Uint8Array([0xff, 0xd8, 0xff]),
      role: 'before',
      takenAt: expect.anything(),
    })
    const thumb = root.querySelector<HTMLImageElement>('[data-test=photo-thumb]')
    expect(thumb?.getAttribute('src')).toBe('data:image/jpeg;base64,/9j/')
    expect(fakeBackend.photoUrl).toHaveBeenCalledWith({ sha256: photoRef(1).thumb_sha256 })

    // The draft keeps the reference: the bytes are in the store already.
    await draftWritten()
    expect(JSON.stringify(fakeDrafts.get('incident.new')?.value)).toContain(photoRef(1).sha256)

    root.querySelector<HTMLButtonElement>('[data-test=report]')?.click()
    await flushPromises()
    expect(fakeBackend.reportIncident.mock.calls[0]?.[0].record.photos).toEqual([photoRef(1)])
    unmount()
  })

  it('drops a photo from the form with its remove button', async () => {
    fakeBackend.newIncident.mockResolvedValue({ ...incident(), photos: [photoRef(1), photoRef(3)] })
    const { root, unmount } = await mountAt('/incidents/new')
    expect(root.querySelectorAll('[data-test=photo]')).toHaveLength(2)
    root.querySelector<HTMLButtonElement>('[data-test=photo-remove]')?.click()
    await flushPromises()
    const left = [...root.querySelectorAll('[data-test=photo]')].map((e) => e.getAttribute('data-sha256'))
    expect(left).toEqual([photoRef(3).sha256])
    unmount()
  })

  it('shows the photos on the detail page, a placeholder where the bytes are not here yet', async () => {
    fakeBackend.getIncident.mockResolvedValue({
      incident: { ...incident(), title: '楼道堆物', photos: [photoRef(1), photoRef(3)] },
      status: 'reported',
      derived: { status: 'reported', return_reason: null, deadline: null },
      timeline: [],
    })
    fakeBackend.photoUrl.mockImplementation(({ sha256 }: { sha256: string }) =>
      Promise.resolve(sha256 === photoRef(1).thumb_sha256 ? 'data:image/jpeg;base64,/9j/' : null),
    )
    const { root, unmount } = await mountAt('/incidents/i-1')
    expect(root.querySelectorAll('[data-test=photo]')).toHaveLength(2)
    expect(root.querySelectorAll('[data-test=photo-thumb]')).toHaveLength(1)
    expect(root.querySelector('[data-test=photo-input]')).toBeNull()
    unmount()
  })
})

describe('an incident reported from a patrol', () => {
  it('is located where the patrol stands, names the patrol, and is listed on it once reported', async () => {
    fakeBackend.newIncident.mockResolvedValue({ ...incident(), patrol_id: null })
    fakeBackend.reportIncident.mockImplementation(({ record }: { record: Incident }) =>
      Promise.resolve({ incident: record, status: 'reported', derived: {}, timeline: [] }),
    )
    fakeBackend.editPatrol.mockResolvedValue({})
    fakeBackend.getIncident.mockImplementation(() => new Promise(() => undefined))
    const { root, unmount } = await mountAt('/incidents/new?patrol=p-1&lon=113.3279&lat=23.1276')
    expect(root.querySelector<HTMLInputElement>('[data-test=incident-point] input')?.value).toBe('113.3279, 23.1276')
    root.querySelector<HTMLButtonElement>('[data-test=report]')?.click()
    await flushPromises()
    const sent = fakeBackend.reportIncident.mock.lastCall?.[0].record
    expect(sent?.patrol_id).toBe('p-1')
    expect(sent?.point).toMatchObject({ lon: 113.3279, lat: 23.1276, crs: 'EPSG:4326' })
    expect(fakeBackend.editPatrol).toHaveBeenCalledWith({ id: 'p-1', edit: { type: 'incident', id: 'i-1' } })
    unmount()
  })
})

describe('patrol screen', () => {
  it('starts a patrol, checks in at the tapped position and shows the summary after the stop', async () => {
    const started = {
      patrol: {
        ...META,
        id: 'p-1',
        worker: 'wangfang',
        started_at: 0,
        ended_at: null as number | null,
        track: [{ lon: 113.3271, lat: 23.1275, t_ms: 1 }],
        check_ins: [],
        notes: '',
        incident_ids: [],
      },
      metrics: { distance_m: 1254, inside_s: 600, coverage_share: 0.125, cells_total: 8, cells_visited: 1 },
      duration_ms: 65 * 60_000,
    }
    fakeBackend.startPatrol.mockResolvedValue(started)
    fakeBackend.editPatrol.mockImplementation(({ edit }: { edit: PatrolEdit }) =>
      Promise.resolve(
        edit.type === 'stop'
          ? { ...started, patrol: { ...started.patrol, ended_at: edit.at, notes: edit.notes } }
          : started,
      ),
    )
    const { root, unmount } = await mountAt('/patrol')
    expect(root.querySelector('[data-test=patrol]')?.getAttribute('data-running')).toBe('false')
    root.querySelector<HTMLButtonElement>('[data-test=patrol-start]')?.click()
    await flushPromises()
    expect(root.querySelector('[data-test=patrol]')?.getAttribute('data-running')).toBe('true')
    expect(text(root, '[data-test=patrol-distance]')).toContain('1.25 公里')
    expect(text(root, '[data-test=patrol-duration]')).toContain('1 小时 5 分钟')
    expect(text(root, '[data-test=patrol-coverage]')).toContain('12.5%')

    await type(root, '[data-test=check-in-note]', '消防通道畅通')
    root.querySelector<HTMLButtonElement>('[data-test=check-in]')?.click()
    await flushPromises()
    expect(fakeBackend.editPatrol).toHaveBeenCalledWith({
      id: 'p-1',
      edit: expect.objectContaining({ type: 'check_in', note: '消防通道畅通', point: expect.objectContaining({ lon: 113.3271 }) }),
    })

    root.querySelector<HTMLButtonElement>('[data-test=patrol-stop]')?.click()
    await flushPromises()
    expect(root.querySelector('[data-test=patrol]')?.getAttribute('data-running')).toBe('false')
    expect(root.querySelector('[data-test=patrol-stop]')).toBeNull()
    unmount()
  })
})

describe('visits', () => {
  function due(id: string, days_left: number): DueVisit {
    return {
      resident: {
        id,
        kind: 'resident',
        grid: META.grid,
        title: `李*${id}`,
        subtitle: '',
        status: null,
        category: 'registered',
        urgency: null,
        parent_id: 'h-1',
        due: '2026-05-10',
        created_at: 0,
        created_by: 'wangfang',
        deleted: false,
      },
      days_left,
      overdue: days_left < 0,
    }
  }

  function visit(): Visit {
    return {
      ...META,
      id: 'v-1',
      target: { kind: 'resident', id: 'r-1' },
      visit_kind: 'care',
      form: 'in_person',
      visitor: 'wangfang',
      visited_at: Date.now(),
      point: null,
      photos: [],
      content: '',
      measures: '',
      next_due: null,
      review: [],
    }
  }

  it('counts overdue and due-soon visits on home and opens the due list from there', async () => {
    fakeBackend.dueVisits.mockResolvedValue([due('r-1', -7), due('r-2', -1), due('r-3', 3)])
    const { root, router, unmount } = await mountAt('/')
    expect(text(root, '[data-test=overdue-visits]')).toBe('已超期 2 人')
    expect(text(root, '[data-test=due-soon-visits]')).toBe('将到期 1 人')
    root.querySelector<HTMLElement>('[data-test=home-visits-link]')?.click()
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('visits'))
    await vi.waitFor(() => expect(root.querySelectorAll('[data-test=due-visit]')).toHaveLength(3))
    const rows = [...root.querySelectorAll('[data-test=due-visit]')].map((r) => r.textContent ?? '')
    expect(rows[0]).toContain('超期 7 天')
    expect(rows[2]).toContain('3 天后到期')
    unmount()
  })

  it('records a visit with its method and notes, and refuses a future date', async () => {
    fakeBackend.dueVisits.mockResolvedValue([])
    fakeBackend.newVisit.mockResolvedValue(visit())
    fakeBackend.getResident.mockResolvedValue({ ...resident(), name: '李梅' })
    fakeBackend.maskRecord.mockResolvedValue({ record: { name: '李*' }, classes: { name: 'pi' } })
    fakeBackend.recordVisit.mockImplementation(({ record: v }: { record: Visit }) => Promise.resolve({ ...v, next_due: '2026-12-29' }))
    const { root, router, unmount } = await mountAt('/visits/new/r-1')
    expect(fakeBackend.newVisit).toHaveBeenCalledWith({ residentId: 'r-1' })
    expect(text(root, '[data-test=visit-who]')).toContain('李*')
    await type(root, '[data-test=visit-date]', '2999-01-01')
    const notes = root.querySelector<HTMLTextAreaElement>('[data-test=visit-notes] textarea')!
    notes.value = '老人身体良好'
    notes.dispatchEvent(new Event('input'))
    root.querySelector<HTMLElement>('[data-test=save-visit]')?.click()
    await flushPromises()
    expect(fakeBackend.recordVisit).not.toHaveBeenCalled()
    expect(root.textContent).toContain('走访日期应为今天或以前的日期')
    const select = root.querySelector<HTMLSelectElement>('[data-test=visit-method] select')!
    select.value = 'phone'
    select.dispatchEvent(new Event('change'))
    await type(root, '[data-test=visit-date]', '2026-05-10')
    root.querySelector<HTMLElement>('[data-test=save-visit]')?.click()
    await flushPromises()
    const sent = fakeBackend.recordVisit.mock.calls[0]![0].record as Visit
    expect(sent.form).toBe('phone')
    expect(sent.content).toBe('老人身体良好')
    expect(sent.visited_at).toBe(Date.parse('2026-05-10T12:00:00+08:00'))
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('visits'))
    unmount()
  })
})

describe('conflicts', () => {
  const conflict: Conflict = {
    path: 'owner_name',
    values: [
      { value: '王芳芳', user: 'wangfang', time: 1_763_700_300, actor: 'aa', change: null },
      { value: '汪芳', user: 'cs-1', time: 1_763_700_360, actor: 'bb', change: null },
    ],
  }

  it('shows a banner on the record page that opens the conflict, and keeps the chosen value', async () => {
    fakeBackend.getHousehold.mockResolvedValue(household())
    fakeBackend.getConflicts.mockResolvedValue([conflict])
    fakeBackend.resolveConflict.mockResolvedValue([])
    const { root, router, unmount } = await mountAt('/households/h-1')
    expect(fakeBackend.getConflicts).toHaveBeenCalledWith({ id: 'h-1' })
    root.querySelector<HTMLElement>('[data-test=conflict-banner]')?.click()
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('conflicts'))
    await vi.waitFor(() => expect(root.querySelectorAll('[data-test=conflict-value]')).toHaveLength(2))
    expect(text(root, '[data-test=conflict] .van-cell-group__title')).toBe('户主姓名')
    const second = root.querySelectorAll('[data-test=conflict-value]')[1]!
    expect(second.textContent).toContain('汪芳')
    expect(second.textContent).toContain('cs-1 于 2025-11-21 12:46 填写')
    second.querySelector<HTMLElement>('[data-test=choose]')?.click()
    await flushPromises()
    expect(fakeBackend.resolveConflict).toHaveBeenCalledWith({ args: { id: 'h-1', path: 'owner_name', value: '汪芳' } })
    expect(root.querySelector('[data-test=no-conflicts]')).not.toBeNull()
    unmount()
  })

  it('shows no banner without conflicts, and the reason when a choice is refused', async () => {
    fakeBackend.getHousehold.mockResolvedValue(household())
    fakeBackend.getConflicts.mockResolvedValue([])
    const page = await mountAt('/households/h-1')
    expect(page.root.querySelector('[data-test=conflict-banner]')).toBeNull()
    page.unmount()

    fakeBackend.getConflicts.mockResolvedValue([conflict])
    fakeBackend.resolveConflict.mockRejectedValue({ code: 'conflict_changed', params: { path: 'phone' }, fields: [] })
    const { root, unmount } = await mountAt('/conflicts/h-1')
    root.querySelector<HTMLElement>('[data-test=choose]')?.click()
    await flushPromises()
    expect(text(root, '[data-test=conflict-error]')).toBe('这处冲突已经变化（可能已在别的设备上处理），请重新查看')
    expect(root.querySelectorAll('[data-test=conflict-value]')).toHaveLength(2)
    unmount()
  })
})

describe('grid map', () => {
  it('draws households and open incidents on the map; a marker opens its record', async () => {
    const row = (id: string, kind: 'household' | 'incident'): Projection => ({
      id,
      kind,
      grid: META.grid,
      title: id,
      subtitle: '',
      status: kind === 'incident' ? 'reported' : null,
      category: null,
      urgency: null,
      parent_id: null,
      due: null,
      created_at: 0,
      created_by: 'wangfang',
      deleted: false,
    })
    fakeBackend.mapFeatures.mockResolvedValue([
      { row: row('h-1', 'household'), lon: 113.3, lat: 23.1 },
      { row: row('i-1', 'incident'), lon: 113.301, lat: 23.101 },
    ])
    // The incident screen stays loading: only where the tap leads matters here.
    fakeBackend.getIncident.mockImplementation(() => new Promise(() => undefined))
    const { root, router, unmount } = await mountAt('/map')
    expect(root.querySelectorAll('[data-test=map-household]')).toHaveLength(1)
    expect(text(root, '[data-test=map-incident-count]')).toBe('未结事件 1')
    root.querySelector('[data-test=map-incident]')!.dispatchEvent(new MouseEvent('click', { bubbles: true }))
    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/incidents/i-1'))
    unmount()
  })

  it('says why the map has no markers when they cannot be read', async () => {
    fakeBackend.mapFeatures.mockRejectedValue({ code: 'not_signed_in', params: {}, fields: [] })
    const { root, unmount } = await mountAt('/map')
    expect(text(root, '[data-test=map-error]')).toBe('地图数据读取失败：请先登录')
    expect(root.querySelector('[data-test=map-empty]')).not.toBeNull()
    unmount()
  })
})

describe('tasks from above', () => {
  function task(): Task {
    return {
      ...META,
      created_by: 'cs-1',
      id: 't-1',
      campaign: 'c-1',
      title: '独居老人专项排查',
      description: '逐户上门',
      task_kind: 'screening',
      due: '2999-12-31',
      issued_by: 'cs-1',
      issued_at: 0,
      filter: 'household:living_alone',
      items: [
        { text: '阳光花园3栋501室', target: { kind: 'household', id: 'h-1' }, done: false, done_by: null, done_at: null, note: '' },
        { text: '李* · 阳光花园3栋502室', target: { kind: 'resident', id: 'r-1' }, done: false, done_by: null, done_at: null, note: '' },
      ],
    }
  }

  it('shows open tasks on home, overdue ones flagged, and opens the list', async () => {
    // As core orders and flags them (fieldwork::tasks::task_rows).
    fakeBackend.listTasks.mockResolvedValue([
      { row: taskProjection('t-1', '冬季消防检查', '1/3', 'open', '2000-01-01'), done: 1, total: 3, open: true, overdue: true },
      { row: taskProjection('t-2', '独居老人专项排查', '0/2', 'open', '2999-12-31'), done: 0, total: 2, open: true, overdue: false },
      { row: taskProjection('t-3', '已完成的任务', '2/2', 'done', '2000-01-01'), done: 2, total: 2, open: false, overdue: false },
    ])
    const { root, router, unmount } = await mountAt('/')
    const rows = [...root.querySelectorAll('[data-test=home-task]')].map((r) => r.textContent ?? '')
    expect(rows).toHaveLength(2)
    expect(rows[0]).toContain('冬季消防检查')
    expect(rows[0]).toContain('已超期')
    expect(rows[1]).toContain('已完成 0/2')
    root.querySelector<HTMLElement>('[data-test=home-tasks-link]')?.click()
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('tasks'))
    await vi.waitFor(() => expect(root.querySelectorAll('[data-test=task-row]')).toHaveLength(3))
    unmount()
  })

  it('ticks a line with its note, offline, and links a resident line to a visit', async () => {
    fakeBackend.getTask.mockResolvedValue(task())
    fakeBackend.tickTask.mockImplementation(({ args: { index, done, note = '' } }: { args: { index: number; done: boolean; note?: string } }) => {
      const t = task()
      t.items[index] = { ...t.items[index]!, done, note, done_by: 'wangfang', done_at: 1 }
      return Promise.resolve(t)
    })
    const { root, unmount } = await mountAt('/tasks/t-1')
    expect(text(root, '[data-test=task-title]')).toBe('独居老人专项排查')
    expect(text(root, '[data-test=task-progress]')).toBe('已完成 0/2')
    await type(root, '[data-test=task-note-0]', '老人不在家，已电话联系')
    root.querySelector<HTMLElement>('[data-test=task-tick-0] .van-checkbox__icon')?.click()
    await flushPromises()
    expect(fakeBackend.tickTask).toHaveBeenCalledWith({ args: { id: 't-1', index: 0, done: true, note: '老人不在家，已电话联系' } })
    expect(text(root, '[data-test=task-progress]')).toBe('已完成 1/2')
    const visit = root.querySelector<HTMLAnchorElement>('[data-test=task-line-1] a, [data-test=task-line-1] button')
    expect(visit?.textContent).toContain('登记走访')
    unmount()
  })

  it('says why a tick was refused', async () => {
    fakeBackend.getTask.mockResolvedValue(task())
    fakeBackend.tickTask.mockRejectedValue(new BackendError('task_line_missing', { line: 3 }))
    const { root, unmount } = await mountAt('/tasks/t-1')
    root.querySelector<HTMLElement>('[data-test=task-tick-1] .van-checkbox__icon')?.click()
    await flushPromises()
    expect(text(root, '[data-test=task-error]')).toBe('任务中没有这一项，请刷新后重试')
    unmount()
  })
})
