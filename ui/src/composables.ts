import { showNotify } from 'vant'
import { computed, getCurrentInstance, onBeforeUnmount, ref, shallowRef, watch, type Ref } from 'vue'
import { backend, BackendError } from './backend'
import { draftKey, draftWriter, readDraft } from './drafts'
import type { MaskedView, Protection, RecordKind, RevealArgs } from './types'

/** What a masked field shows until core has masked it. */
const HIDDEN = '***'

/**
 * A record form whose content is kept as a draft in the device's encrypted
 * store as it is typed (`drafts.ts`: a moment after each change, and at
 * once when the form is left or the app goes to the background): opened
 * again after a kill, it comes back as it was typed. `load` gives the
 * record when there is no draft (a new blank one, or the stored one).
 * A save sends `await saving()`, the draft's key, with the record: the
 * backend drops the draft in the save's own transaction, so a kill never
 * leaves a stale draft over the saved record, and a failed save keeps it
 * (with what was typed last: `saving` writes what waits first).
 * `saved(record)` then shows the record and writes no more drafts.
 */
export function useDraftForm<T extends object>(kind: string, key: string) {
  const form = ref<T | null>(null) as Ref<T | null>
  const restored = ref(false)
  const storageKey = draftKey(kind, key)
  let refused = ''
  const writer = draftWriter(storageKey, (error) => {
    // Said once, not at every keystroke, until a write goes through again.
    if (!error) refused = ''
    else if (error.code !== refused) {
      refused = error.code
      showNotify({ type: 'danger', message: error.message })
    }
  })
  let stop: (() => void) | null = null

  async function open(load: () => Promise<T>): Promise<void> {
    let draft: T | null = null
    try {
      draft = await readDraft<T>(storageKey)
    } catch (reason) {
      // The draft cannot be read now: the form starts from the record.
      console.warn('a form draft could not be read', reason)
    }
    if (draft) {
      form.value = draft
      restored.value = true
    } else {
      form.value = await load()
    }
    stop?.()
    stop = watch(
      form,
      (value) => {
        if (value) writer.schedule(value)
      },
      { deep: true },
    )
  }

  /** Before a save: what waits is written; the key for the save to drop. */
  async function saving(): Promise<string> {
    await writer.flush()
    return storageKey
  }

  /** The record is in the store and its draft gone with it (`saving`). */
  async function saved(record: T): Promise<void> {
    stop?.()
    stop = null
    form.value = record
    restored.value = false
    await writer.forget()
  }

  // Leaving the form or the app: what is waiting is written now.
  const hidden = () => {
    if (globalThis.document?.visibilityState === 'hidden') void writer.flush()
  }
  const leaving = () => void writer.flush()
  if (getCurrentInstance()) {
    globalThis.document?.addEventListener('visibilitychange', hidden)
    globalThis.addEventListener?.('pagehide', leaving)
    onBeforeUnmount(() => {
      stop?.()
      stop = null
      globalThis.document?.removeEventListener('visibilitychange', hidden)
      globalThis.removeEventListener?.('pagehide', leaving)
      void writer.flush()
    })
  }

  return { form, restored, open, saving, saved, storageKey, flush: writer.flush }
}

/**
 * A v-model for a text field of the form that may be empty: an empty input
 * is stored as `empty` (`null` for optional fields, `''` for plain text).
 */
export function textField<T extends object>(form: Ref<T | null>, key: keyof T, empty: null | '' = null) {
  return computed<string | null>({
    get: () => (form.value?.[key] as string | null | undefined) ?? null,
    set: (value) => {
      if (form.value) (form.value as Record<keyof T, unknown>)[key] = value || empty
    },
  })
}

/**
 * A form's masked view: `masked(path)` is the value core masks for the
 * form's record as it stands (recomputed as the form changes), `revealOf(path)`
 * what revealing it logs: nothing until the record is saved (`savedId`
 * returns its id then), since a value the worker is typing in is theirs,
 * not a stored record's. The class logged is core's (a birth date beside
 * an ID number is [S]); until core has answered, [S], the stricter.
 */
export function useMaskedView<T extends object>(kind: RecordKind, form: Ref<T | null>, savedId: () => string | null) {
  // Replaced whole by each answer; shallow, as a record of JSON values needs no deep reactivity.
  const view = shallowRef<MaskedView | null>(null)
  let asked = 0
  watch(
    form,
    async (record) => {
      if (!record) return
      const ask = ++asked
      let answer: MaskedView | null = null
      try {
        answer = await backend.maskRecord({ kind, record })
      } catch {
        answer = null
      }
      // An older answer arriving late must not replace a newer one.
      if (ask === asked) view.value = answer
    },
    { deep: true, immediate: true },
  )
  function masked(path: string): string {
    const value = path
      .split('.')
      .reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), view.value?.record)
    return typeof value === 'string' ? value : HIDDEN
  }
  function revealOf(path: string): RevealArgs | undefined {
    const recordId = savedId()
    const protection: Protection = view.value?.classes[path] ?? 's'
    return recordId ? { kind, recordId, field: path, protection } : undefined
  }
  return { masked, revealOf }
}

/**
 * Masked until revealed: `show()` writes the reveal to the device's access
 * log first (`args()`: absent for a record not saved yet, nothing to log)
 * and reveals only once that is written; if it fails, `error` says why and
 * the value stays masked. Shared by every [PI]/[S] field.
 */
export function useReveal(
  open: boolean,
  args: () => RevealArgs | undefined,
  failed: (reason: string) => string,
) {
  const revealed = ref(open)
  const revealing = ref(false)
  const error = ref('')
  async function show(): Promise<void> {
    error.value = ''
    const what = args()
    if (what) {
      revealing.value = true
      try {
        await backend.logReveal(what)
      } catch (reason) {
        error.value = failed(BackendError.from(reason).message)
        return
      } finally {
        revealing.value = false
      }
    }
    revealed.value = true
  }
  return { revealed, revealing, error, show }
}
