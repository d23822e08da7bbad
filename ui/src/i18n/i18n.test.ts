import { describe, expect, it } from 'vitest'
import { DEFAULT_LOCALE, LOCALES, messages } from '.'

/** Every leaf key of a nested message object, as dotted paths. */
function keys(tree: object, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null ? keys(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  )
}

function leaves(tree: object): unknown[] {
  return Object.values(tree).flatMap((value) =>
    typeof value === 'object' && value !== null ? leaves(value) : [value],
  )
}

describe('i18n messages', () => {
  it('defaults to Chinese', () => {
    expect(DEFAULT_LOCALE).toBe('zh-CN')
    expect(LOCALES[0]).toBe('zh-CN')
  })

  it('have the same keys in every locale', () => {
    const reference = keys(messages['zh-CN']).sort()
    for (const locale of LOCALES) {
      expect(keys(messages[locale]).sort(), locale).toEqual(reference)
    }
  })

  it('have no empty texts', () => {
    for (const locale of LOCALES) {
      for (const text of leaves(messages[locale])) {
        expect(typeof text === 'string' && text.trim().length > 0, `${locale}: ${String(text)}`).toBe(true)
      }
    }
  })

})
