import { describe, expect, it } from 'vitest'
import { addable, addTag, cycleFromInput, removeTag, setCycle } from './careTags'
import type { CareTag, CareTagOption } from './types'

const T = 1_780_000_000_000
const options: CareTagOption[] = [
  { tag: 'elderly_living_alone', default_cycle_days: 7, restricted: false },
  { tag: 'disability', default_cycle_days: 30, restricted: false },
  { tag: 'community_correction', default_cycle_days: 7, restricted: true },
]

describe('care tags in the resident form', () => {
  it("adds a tag with core's default cycle and now as its start, once", () => {
    const one = addTag([], options[1]!, T)
    expect(one).toEqual([{ tag: 'disability', visit_cycle_days: 30, since: T }])
    expect(addTag(one, options[1]!, T + 5)).toEqual(one)
    const two = addTag(one, options[0]!, T + 5)
    expect(two.map((t) => [t.tag, t.visit_cycle_days, t.since])).toEqual([
      ['disability', 30, T],
      ['elderly_living_alone', 7, T + 5],
    ])
  })

  it('removes a tag and leaves the others as they were', () => {
    const tags: CareTag[] = [
      { tag: 'disability', visit_cycle_days: 14, since: T },
      { tag: 'elderly_living_alone', visit_cycle_days: 7, since: T + 1 },
    ]
    expect(removeTag(tags, 'disability')).toEqual([tags[1]])
    expect(tags).toHaveLength(2)
  })

  it('changes one cycle as typed; what is no number of days goes to core as 0', () => {
    const tags: CareTag[] = [{ tag: 'disability', visit_cycle_days: 30, since: T }]
    expect(setCycle(tags, 'disability', cycleFromInput(' 21 '))[0]!.visit_cycle_days).toBe(21)
    expect(cycleFromInput('')).toBe(0)
    expect(cycleFromInput('abc')).toBe(0)
    expect(cycleFromInput('-3')).toBe(0)
    expect(cycleFromInput('400')).toBe(400)
    expect(cycleFromInput('7.9')).toBe(7)
  })

  it('offers only the kinds the resident has not got, in order', () => {
    const tags: CareTag[] = [{ tag: 'disability', visit_cycle_days: 30, since: T }]
    expect(addable(options, tags).map((o) => o.tag)).toEqual(['elderly_living_alone', 'community_correction'])
  })
})
