// What the conflict screens show: a conflicted field's name and its values
// in words a worker reads, with who wrote each and when.
import { formatTime } from './forms'
import { FIELD_GROUPS, fieldKey } from './i18n/errors'
import type { ConflictValue } from './types'

/**
 * A field's name for `path` (`address.room`, `parties.0.phone`): the label
 * its form uses when one exists (`has` and `t` are vue-i18n's `te` and `t`),
 * the path itself otherwise.
 */
export function fieldLabel(path: string, has: (key: string) => boolean, t: (key: string) => string): string {
  const key = fieldKey(path)
  const found = FIELD_GROUPS.map((group) => `${group}.${key}`).find(has)
  return found ? t(found) : path
}

/** A value as text: strings as they are, nothing as an empty mark, the rest as JSON. */
export function valueText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—'
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}

/** Who wrote a value and when (Asia/Shanghai), for the line under it. */
export function writtenBy(v: ConflictValue): { user: string; time: string } {
  return { user: v.user ?? v.actor.slice(0, 8), time: v.time === null ? '' : formatTime(v.time * 1000) }
}
