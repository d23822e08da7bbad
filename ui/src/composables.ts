import { computed, ref, watch, type Ref } from 'vue'
import { backend, BackendError } from './backend'
import { draftKey, dropDraft, readDraft, writeDraft } from './drafts'
import type { Protection, RecordKind, RevealArgs } from './types'

/**
 * A record form whose content is written to local storage on every change:
 * opened again after a kill, it comes back as it was typed. `load` gives
 * the record when there is no draft (a new blank one, or the stored one).
 */
export function useDraftForm<T extends object>(kind: string, key: string) {
  const form = ref<T | null>(null) as Ref<T | null>
  const restored = ref(false)
  const storageKey = draftKey(kind, key)
  let stop: (() => void) | null = null

  async function open(load: () => Promise<T>): Promise<void> {
    const draft = readDraft<T & { _savedAt?: number }>(storageKey)
    if (draft) {
      delete draft._savedAt
      form.value = draft
      restored.value = true
    } else {
      form.value = await load()
    }
    stop?.()
    stop = watch(
      form,
      (value) => {
        if (value) writeDraft(storageKey, value)
      },
      { deep: true },
    )
  }

  /** The record is in the store now: the draft is no longer needed. */
  function saved(record: T): void {
    stop?.()
    stop = null
    dropDraft(storageKey)
    form.value = record
    restored.value = false
  }

  return { form, restored, open, saved, storageKey }
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
 * What a masked field of a `kind` record logs when revealed: nothing until
 * the record is saved (`savedId` returns its id then), since a value the
 * worker is typing in is theirs, not a stored record's.
 */
export function useRevealLog(kind: RecordKind, savedId: () => string | null) {
  return (field: string, protection: Protection): RevealArgs | undefined => {
    const recordId = savedId()
    return recordId ? { kind, recordId, field, protection } : undefined
  }
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
