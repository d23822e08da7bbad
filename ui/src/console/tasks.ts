// The Tasks page's logic, kept out of the views so it can be tested: which areas and screening filters the form offers, the form
// as the server takes it, and completion as the desk reads it.

import type { CampaignSummary, GridName, IssueForm, TaskKind } from './api'

/** The screening filters the server knows (restricted care tags are left out). */
export const SCREENING_FILTERS = [
  'household:living_alone',
  'household:low_income',
  'household:disability',
  'household:special_support',
  'household:key_concern',
  'resident:elderly_living_alone',
  'resident:left_behind_child',
  'resident:disability',
  'resident:low_income',
] as const

/** Levels a task can be issued over: every node from a street down to a grid. */
const AREA_LEVELS = ['city', 'district', 'street', 'community', 'grid']

/** The areas of the user's subtree the form offers, top of the tree first. */
export function issueAreas(grids: GridName[]): GridName[] {
  return grids
    .filter((g) => AREA_LEVELS.includes(g.level))
    .slice()
    .sort((a, b) => AREA_LEVELS.indexOf(a.level) - AREA_LEVELS.indexOf(b.level) || a.code.localeCompare(b.code))
}

/** What the form holds while a person fills it in. */
export interface TaskDraft {
  title: string
  description: string
  kind: TaskKind
  due: string
  grid: string
  /** A checklist's lines, one a line. */
  lines: string
  filter: string
}

/** The draft as the server takes it: blank lines dropped, only the kind's own fields. */
export function issueForm(d: TaskDraft): IssueForm {
  const base = {
    title: d.title.trim(),
    description: d.description.trim(),
    kind: d.kind,
    due: d.due.trim(),
    grid: d.grid,
  }
  if (d.kind === 'checklist') {
    const items = d.lines
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
    return { ...base, items }
  }
  return { ...base, filter: d.filter }
}

/** What is missing before the form can be sent, as i18n keys (empty when complete). */
export function draftProblems(d: TaskDraft): string[] {
  const f = issueForm(d)
  const problems: string[] = []
  if (!f.title) problems.push('tasks.need.title')
  if (!/^\d{4}-\d{2}-\d{2}$/.test(f.due)) problems.push('tasks.need.due')
  if (!f.grid) problems.push('tasks.need.grid')
  if (f.kind === 'checklist' && (f.items?.length ?? 0) === 0) problems.push('tasks.need.lines')
  if (f.kind === 'screening' && !f.filter) problems.push('tasks.need.filter')
  return problems
}

/** Done lines as a share: `3/4 (75%)`; `0/0` for a campaign with no lines. */
export function completion(c: Pick<CampaignSummary, 'items' | 'items_done'>): string {
  if (c.items === 0) return '0/0'
  return `${c.items_done}/${c.items} (${Math.round((c.items_done / c.items) * 100)}%)`
}

/** Today in Asia/Shanghai as YYYY-MM-DD, plus `days`. */
export function shanghaiDate(now: number, days = 0): string {
  const d = new Date(now + days * 86_400_000)
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(d)
}

/** The i18n key of a screening filter's label (`household:living_alone` → `tasks.filters.household.living_alone`). */
export function filterLabelKey(filter: string): string {
  return `tasks.filters.${filter.replace(':', '.')}`
}
