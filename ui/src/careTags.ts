// The logic of the resident form's care tag editor: adding a tag with the
// cycle core gives its kind, removing one, changing a cycle as typed. The
// cycle is not checked here: core says what is wrong with it on save.

import type { CareTag, CareTagKind, CareTagOption } from './types'

/** `tags` with a tag of `option`'s kind, its cycle core's default and
 * `since` now; unchanged if the resident has that tag already. */
export function addTag(tags: readonly CareTag[], option: CareTagOption, now: number): CareTag[] {
  if (tags.some((t) => t.tag === option.tag)) return [...tags]
  return [...tags, { tag: option.tag, visit_cycle_days: option.default_cycle_days, since: now }]
}

/** `tags` without the tag of `kind`. */
export function removeTag(tags: readonly CareTag[], kind: CareTagKind): CareTag[] {
  return tags.filter((t) => t.tag !== kind)
}

/** A cycle as typed, in whole days: what is not a number becomes 0 (and
 * core's message says the allowed range); a negative one, too, since the
 * record holds no negative days. */
export function cycleFromInput(text: string): number {
  const n = Math.trunc(Number(text.trim()))
  if (!Number.isFinite(n) || text.trim() === '' || n < 0) return 0
  return Math.min(n, 99_999)
}

/** `tags` with the cycle of `kind`'s tag set to `days`. */
export function setCycle(tags: readonly CareTag[], kind: CareTagKind, days: number): CareTag[] {
  return tags.map((t) => (t.tag === kind ? { ...t, visit_cycle_days: days } : t))
}

/** The kinds the resident does not have yet, in core's order. */
export function addable(options: readonly CareTagOption[], tags: readonly CareTag[]): CareTagOption[] {
  return options.filter((o) => !tags.some((t) => t.tag === o.tag))
}
