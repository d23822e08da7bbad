// Errors become sentences here, and only here. Rust sends a stable code and
// named params (`{code, params}`, see core's `problem` module); the message
// for each code lives once per language in `zh-CN.ts` and `en.ts`, whose
// tables are typed by the codes exported from Rust, so a code without a
// message fails the type check. Params named after a workflow action or
// status are shown by their label in the same language.

import type { ErrorCode, FieldErrorCode } from '../bindings/app'
import type { Param } from '../bindings/model'
import en from './en'
import zhCN from './zh-CN'

/** Codes the UI makes itself: no backend to talk to, or a failure that was no `{code}` at all. */
export type UiErrorCode = 'unavailable' | 'unknown'

/** Params as they cross from Rust: a name to a text or a number. */
export type Params = { [name in string]: Param }

type Locale = 'zh-CN' | 'en'
const tables: Record<Locale, typeof zhCN> = { 'zh-CN': zhCN, en }

/** The tables of `locale`, Chinese when it is none of the UI's. */
function messagesOf(locale: string): typeof zhCN {
  return tables[locale as Locale] ?? zhCN
}

let current: Locale = 'zh-CN'

/** The language error messages are given in; `applyLocale` keeps it in step with the UI's. */
export function setErrorLocale(locale: Locale): void {
  current = locale
}

function fill(template: string, params: Params, locale: string): string {
  const m = messagesOf(locale)
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name]
    if (value === undefined) return whole
    const text = String(value)
    if (name === 'action') return (m.actions as Record<string, string>)[text] ?? text
    if (name === 'status') return (m.statuses as Record<string, string>)[text] ?? text
    if (name === 'kind') return (m.recordKinds as Record<string, string>)[text] ?? text
    return text
  })
}

/** The sentence for an error code and its params. */
export function errorMessage(
  code: string,
  params: Params = {},
  locale: string = current,
): string {
  const table = messagesOf(locale).errors as Record<string, string>
  return fill(table[code] ?? table.unknown ?? code, params, locale)
}

/** The sentence shown under a form field for a field error. */
export function fieldMessage(
  code: FieldErrorCode | string,
  params: Params = {},
  locale: string = current,
): string {
  const table = messagesOf(locale).fieldErrors as Record<string, string>
  const template = table[code]
  return template === undefined ? errorMessage(code, params, locale) : fill(template, params, locale)
}

/** The message groups that name record fields, tried in this order. */
export const FIELD_GROUPS = ['households', 'residents', 'incidents', 'visits'] as const

/** The last named part of a field path: `address.room` → `room`, `parties.0.phone` → `phone`. */
export function fieldKey(path: string): string {
  return path.split('.').filter((part) => !/^\d+$/.test(part)).pop() ?? path
}

/** A field's label in `locale` (the one its form uses), the path itself when it has none. */
function fieldLabelIn(path: string, locale: string): string {
  const m = messagesOf(locale) as unknown as Record<string, Record<string, unknown>>
  const key = fieldKey(path)
  for (const group of FIELD_GROUPS) {
    const label = m[group]?.[key]
    if (typeof label === 'string') return label
  }
  return path
}

/** Why the server refused a pushed record, from the sync protocol's code
 * and params. The `error` param is said as the app says that error: a
 * field error (with `field`) after the field's label, as the form would
 * show it. A code newer than this app gets a general sentence naming it. */
export function rejectionMessage(code: string, params: Params = {}, locale: string = current): string {
  const m = messagesOf(locale)
  const table = m.rejections as Record<string, string>
  const sentence = fill(table[code] ?? table.other ?? code, { ...params, code }, locale)
  const error = params.error
  if (typeof error !== 'string') return sentence
  const field = params.field
  const detail =
    typeof field === 'string'
      ? fill(m.rejectionDetail.field, { field: fieldLabelIn(field, locale), error: fieldMessage(error, params, locale) }, locale)
      : errorMessage(error, params, locale)
  return fill(m.rejectionDetail.sentence, { sentence, detail }, locale)
}

/** What the server did about a stored change, from the sync protocol's
 * notice code and params: the `error` param, a workflow refusal's code,
 * is said as that error with the same params. A code newer than this app
 * gets a general sentence naming it. */
export function noticeMessage(code: string, params: Params = {}, locale: string = current): string {
  const table = messagesOf(locale).notices as Record<string, string>
  const template = table[code] ?? table.other ?? code
  const error = params.error
  const filled = typeof error === 'string' ? { ...params, error: errorMessage(error, params, locale) } : params
  return fill(template, { ...filled, code }, locale)
}

/** Why the server refused a photo at sync, from the server's code. */
export function photoRefusalMessage(code: string, locale: string = current): string {
  const table = messagesOf(locale).photoRefusals as Record<string, string>
  return fill(table[code] ?? table.other ?? code, { code }, locale)
}

export type { ErrorCode, FieldErrorCode }
