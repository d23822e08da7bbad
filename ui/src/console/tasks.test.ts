import { describe, expect, it } from 'vitest'
import en from './i18n/en'
import zhCN from './i18n/zh-CN'
import {
  SCREENING_FILTERS,
  completion,
  draftProblems,
  filterLabelKey,
  issueAreas,
  issueForm,
  shanghaiDate,
  type TaskDraft,
} from './tasks'

const draft: TaskDraft = {
  title: ' 冬季消防检查 ',
  description: '',
  kind: 'checklist',
  due: '2026-12-04',
  grid: '440106001001',
  lines: '检查楼道\n\n  检查燃气  \n',
  filter: 'household:living_alone',
}

function lookup(messages: object, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], messages)
}

describe('the tasks page', () => {
  it('sends a checklist without blank lines and a screening without lines', () => {
    expect(issueForm(draft)).toEqual({
      title: '冬季消防检查',
      description: '',
      kind: 'checklist',
      due: '2026-12-04',
      grid: '440106001001',
      items: ['检查楼道', '检查燃气'],
    })
    const screening = issueForm({ ...draft, kind: 'screening' })
    expect(screening.items).toBeUndefined()
    expect(screening.filter).toBe('household:living_alone')
  })

  it('says what is missing before sending', () => {
    expect(draftProblems(draft)).toEqual([])
    expect(draftProblems({ ...draft, title: ' ', lines: '\n', due: '' })).toEqual([
      'tasks.need.title',
      'tasks.need.due',
      'tasks.need.lines',
    ])
    expect(draftProblems({ ...draft, kind: 'screening', filter: '', grid: '' })).toEqual([
      'tasks.need.grid',
      'tasks.need.filter',
    ])
  })

  it('offers areas from the top of the subtree down, not micro-grids', () => {
    const areas = issueAreas([
      { code: 'G2', name: '二网格', level: 'grid' },
      { code: 'M1', name: '微网格', level: 'micro_grid' },
      { code: 'C1', name: '社区', level: 'community' },
      { code: 'G1', name: '一网格', level: 'grid' },
    ])
    expect(areas.map((a) => a.code)).toEqual(['C1', 'G1', 'G2'])
  })

  it('writes completion as done/total with a share', () => {
    expect(completion({ items: 4, items_done: 3 })).toBe('3/4 (75%)')
    expect(completion({ items: 0, items_done: 0 })).toBe('0/0')
  })

  it('counts the due date in Asia/Shanghai', () => {
    // 2026-11-30 17:00 UTC is already 12-01 in Shanghai.
    const t = Date.UTC(2026, 10, 30, 17, 0)
    expect(shanghaiDate(t)).toBe('2026-12-01')
    expect(shanghaiDate(t, 7)).toBe('2026-12-08')
  })

  it('has a label for every screening filter in both languages', () => {
    for (const f of SCREENING_FILTERS) {
      expect(typeof lookup(zhCN, filterLabelKey(f)), f).toBe('string')
      expect(typeof lookup(en, filterLabelKey(f)), f).toBe('string')
    }
  })
})
