import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
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

  // The backend's fixed error codes are a contract: each needs a text for
  // the places the UI shows a code without the backend's message.
  it('have a text for every fixed error code the Tauri shell makes', () => {
    const here = dirname(fileURLToPath(import.meta.url))
    const codes = ['errors.rs', 'commands.rs', 'photos.rs', 'patrols.rs', 'access.rs'].flatMap((file) => {
      const source = readFileSync(resolve(here, '../../../src-tauri/src', file), 'utf8')
      return [...source.matchAll(/text\(\s*"([a-z_]+)"/g)].map((m) => m[1])
    })
    expect(codes).toContain('internal')
    expect(codes).toContain('unreachable')
    for (const code of codes) {
      expect(Object.keys(messages['zh-CN'].errors), code).toContain(code)
    }
  })
})
