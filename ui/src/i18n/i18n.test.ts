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

  // The backend's error codes are a contract: each needs a translated text.
  it('have a text for every error code the Tauri commands can return', () => {
    const here = dirname(fileURLToPath(import.meta.url))
    const source = readFileSync(resolve(here, '../../../src-tauri/src/commands.rs'), 'utf8')
    const body = /pub enum ErrorCode \{([^}]*)\}/.exec(source)?.[1] ?? ''
    const variants = body
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^[A-Z]\w*,?$/.test(line))
      .map((line) => line.replace(',', ''))
    const codes = variants.map((name) => name.replace(/(?<!^)([A-Z])/g, '_$1').toLowerCase())
    expect(codes).toContain('internal')
    for (const code of codes) {
      expect(Object.keys(messages['zh-CN'].errors), code).toContain(code)
    }
  })
})
