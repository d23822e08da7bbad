// Forms keep what is typed in localStorage on every keystroke, so a kill
// mid-form loses nothing; a form opened again finds its draft. A draft is
// removed once the record is saved in the store.

const PREFIX = 'gridwork.draft.'

/** The storage key of a form's draft: `household.new`, `resident.<id>` … */
export function draftKey(kind: string, id: string): string {
  return `${PREFIX}${kind}.${id}`
}

export function readDraft<T>(key: string): T | null {
  const text = globalThis.localStorage?.getItem(key)
  if (!text) return null
  try {
    return JSON.parse(text) as T
  } catch {
    return null
  }
}

export function writeDraft(key: string, value: unknown): void {
  globalThis.localStorage?.setItem(key, JSON.stringify({ ...(value as object), _savedAt: Date.now() }))
}

export function dropDraft(key: string): void {
  globalThis.localStorage?.removeItem(key)
}

/** Every unsaved form draft of `kind`, newest first, for the home screen. */
export function listDrafts<T>(kind: string): { key: string; value: T & { _savedAt?: number } }[] {
  const out: { key: string; value: T & { _savedAt?: number } }[] = []
  const storage = globalThis.localStorage
  if (!storage) return out
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i)
    if (!key?.startsWith(`${PREFIX}${kind}.`)) continue
    const value = readDraft<T & { _savedAt?: number }>(key)
    if (value) out.push({ key, value })
  }
  return out.sort((a, b) => (b.value._savedAt ?? 0) - (a.value._savedAt ?? 0))
}

/** Where an unsaved incident form is opened again: the new-report form,
 * or the edit form of an incident already in the store. */
export function incidentDraftRoute(key: string): string {
  const rest = key.slice(`${PREFIX}incident.`.length)
  return rest === 'new' ? '/incidents/new' : `/incidents/${rest}/edit`
}
