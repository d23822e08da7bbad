import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  DRAFT_WRITE_DELAY_MS,
  draftKey,
  draftWriter,
  dropDraft,
  incidentDraftRoute,
  listDrafts,
  moveLocalDrafts,
  readDraft,
  writeDraft,
} from './drafts'
import { fakeBackend, fakeDrafts } from './testing/fakeBackend'

vi.mock('./backend', async (original) => ({
  ...(await original<typeof import('./backend')>()),
  backend: (await import('./testing/fakeBackend')).fakeBackend,
}))

beforeEach(() => {
  vi.clearAllMocks()
  fakeDrafts.clear()
  localStorage.clear()
})

afterEach(() => {
  vi.useRealTimers()
})

describe('drafts', () => {
  it('keep what was typed in the store until the record is saved', async () => {
    await writeDraft(draftKey('incident', 'new'), { title: '楼道堆物' })
    await writeDraft(draftKey('household', 'new'), { owner_name: '王' })
    expect(fakeBackend.saveDraft).toHaveBeenCalledWith({ key: 'incident.new', value: { title: '楼道堆物' }, savedAt: null })
    expect((await readDraft<{ title: string }>('incident.new'))?.title).toBe('楼道堆物')
    expect(await readDraft('incident.none')).toBeNull()
    const incidents = await listDrafts<{ title: string }>('incident')
    expect(incidents.map((d) => [d.key, d.value.title])).toEqual([['incident.new', '楼道堆物']])
    await dropDraft('incident.new')
    expect(await listDrafts('incident')).toEqual([])
    expect((await listDrafts('household')).length).toBe(1)
    // Nothing of it in the web view's storage.
    expect(localStorage.length).toBe(0)
  })

  it('list newest first', async () => {
    fakeBackend.saveDraft({ key: 'incident.a', value: { title: 'a' }, savedAt: 1 })
    fakeBackend.saveDraft({ key: 'incident.b', value: { title: 'b' }, savedAt: 2 })
    expect((await listDrafts('incident')).map((d) => [d.key, d.savedAt])).toEqual([
      ['incident.b', 2],
      ['incident.a', 1],
    ])
  })

  it('reopen in the right form', () => {
    expect(incidentDraftRoute('incident.new')).toBe('/incidents/new')
    expect(incidentDraftRoute('incident.0190')).toBe('/incidents/0190/edit')
  })
})

describe('a form’s draft writer', () => {
  it('writes what is typed a moment later, in one write, even while typing goes on', async () => {
    vi.useFakeTimers()
    const writer = draftWriter('resident.r-1')
    const form = { name: '' }
    for (const name of ['张', '张三', '张三丰']) {
      form.name = name
      writer.schedule(form)
      await vi.advanceTimersByTimeAsync(DRAFT_WRITE_DELAY_MS / 4)
    }
    // Three quarters of the delay: nothing written yet.
    expect(fakeBackend.saveDraft).not.toHaveBeenCalled()
    form.name = '张三丰丰'
    writer.schedule(form)
    // The delay counts from the first change, not the last keystroke.
    await vi.advanceTimersByTimeAsync(DRAFT_WRITE_DELAY_MS / 4)
    expect(fakeBackend.saveDraft).toHaveBeenCalledTimes(1)
    expect(fakeDrafts.get('resident.r-1')?.value).toEqual({ name: '张三丰丰' })
    await vi.advanceTimersByTimeAsync(DRAFT_WRITE_DELAY_MS * 3)
    expect(fakeBackend.saveDraft).toHaveBeenCalledTimes(1)
  })

  it('writes what waits at once when the form is left, as it was then', async () => {
    vi.useFakeTimers()
    const writer = draftWriter('household.new')
    const form = { owner_name: '王' }
    writer.schedule(form)
    await writer.flush()
    form.owner_name = '王五'
    expect(fakeDrafts.get('household.new')?.value).toEqual({ owner_name: '王' })
    // Nothing waits: a flush writes nothing more.
    await writer.flush()
    expect(fakeBackend.saveDraft).toHaveBeenCalledTimes(1)
  })

  it('writes nothing more once forgotten (the record saved), and waits for a write under way', async () => {
    let finish: () => void = () => undefined
    fakeBackend.saveDraft.mockImplementationOnce(
      ({ key, value }: { key: string; value: object }) =>
        new Promise((resolve) => {
          finish = () => {
            fakeDrafts.set(key, { key, value: value as never, saved_at: 1 })
            resolve(null)
          }
        }),
    )
    const writer = draftWriter('visit.new.r-1')
    writer.schedule({ notes: '血压正常' })
    const writing = writer.flush()
    writer.schedule({ notes: '血压正常，' })
    let forgotten = false
    const forgetting = writer.forget().then(() => (forgotten = true))
    await vi.waitFor(() => expect(fakeBackend.saveDraft).toHaveBeenCalled())
    expect(forgotten).toBe(false)
    finish()
    await Promise.all([writing, forgetting])
    expect(fakeDrafts.get('visit.new.r-1')?.value).toEqual({ notes: '血压正常' })
    // The change that waited when the record was saved is never written.
    await new Promise((resolve) => setTimeout(resolve, DRAFT_WRITE_DELAY_MS + 50))
    expect(fakeBackend.saveDraft).toHaveBeenCalledTimes(1)
    expect(fakeBackend.dropDraft).not.toHaveBeenCalled()
  })

  it('reports a write the store refused, and the next that goes through', async () => {
    const reports: (string | null)[] = []
    const writer = draftWriter('incident.new', (e) => reports.push(e?.code ?? null))
    fakeBackend.saveDraft.mockRejectedValueOnce({ code: 'draft_too_big', params: { max_kib: 256 } })
    writer.schedule({ description: 'x' })
    await writer.flush()
    writer.schedule({ description: 'y' })
    await writer.flush()
    expect(reports).toEqual(['draft_too_big', null])
    expect(fakeDrafts.get('incident.new')?.value).toEqual({ description: 'y' })
  })
})

describe('drafts an older app left in localStorage', () => {
  it('move into the store once, keeping their time, and leave localStorage', async () => {
    localStorage.setItem('gridwork.draft.resident.new.h-1', JSON.stringify({ name: '李四', id_number: '440106198506071234', _savedAt: 1_700 }))
    localStorage.setItem('gridwork.draft.incident.new', JSON.stringify({ title: '楼道堆物', _savedAt: 1_800 }))
    localStorage.setItem('gridwork.draft.incident.broken', '{not json')
    localStorage.setItem('gridwork.locale', 'zh-CN')
    // A draft typed in the store since is newer than the one left behind.
    fakeDrafts.set('incident.new', { key: 'incident.new', value: { title: '楼道堆物（新）' }, saved_at: 2_000 })

    expect(await moveLocalDrafts()).toBe(1)

    expect(fakeDrafts.get('resident.new.h-1')).toEqual({
      key: 'resident.new.h-1',
      value: { name: '李四', id_number: '440106198506071234' },
      saved_at: 1_700,
    })
    expect(fakeDrafts.get('incident.new')?.value).toEqual({ title: '楼道堆物（新）' })
    expect(Object.keys(localStorage)).toEqual(['gridwork.locale'])
    expect(await moveLocalDrafts()).toBe(0)
  })

  it('stay where they are while the store is locked, and move at the next try', async () => {
    localStorage.setItem('gridwork.draft.household.new', JSON.stringify({ owner_name: '王五', _savedAt: 5 }))
    fakeBackend.loadDraft.mockRejectedValueOnce({ code: 'locked' })
    await expect(moveLocalDrafts()).rejects.toEqual({ code: 'locked' })
    expect(localStorage.getItem('gridwork.draft.household.new')).not.toBeNull()
    expect(fakeDrafts.size).toBe(0)

    // The form asks for its draft: the move is done first.
    expect(await readDraft<{ owner_name: string }>('household.new')).toEqual({ owner_name: '王五' })
    expect(localStorage.getItem('gridwork.draft.household.new')).toBeNull()
  })

  it('leave localStorage even when the store refuses them for good', async () => {
    localStorage.setItem('gridwork.draft.incident.new', JSON.stringify({ description: 'x'.repeat(10), _savedAt: 5 }))
    fakeBackend.saveDraft.mockRejectedValueOnce({ code: 'draft_too_big', params: { max_kib: 256 } })
    expect(await moveLocalDrafts()).toBe(0)
    expect(localStorage.length).toBe(0)
  })
})
