import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import { pinLock, type PinView } from '../pin'
import { useSettingsStore } from './settings'

/** Whether the signed-in worker has got past the PIN screen (see `pin.ts`). */
export const useLockStore = defineStore('lock', () => {
  /** `null` until asked whether a PIN is set. */
  const pinSet = ref<boolean | null>(null)
  const unlocked = ref(false)
  const status = ref<PinView | null>(null)

  /**
   * Whether the screens are open: with a PIN, once unlocked; without one,
   * only before sign-in (a signed-in worker chooses a PIN first).
   */
  async function check(signedIn: boolean): Promise<boolean> {
    if (unlocked.value) return true
    try {
      status.value = await pinLock.status()
    } catch {
      // Outside the app there is no lock to ask.
      status.value = null
    }
    const now = status.value
    pinSet.value = now?.set ?? false
    if (now?.set) {
      unlocked.value = now.unlocked
      return unlocked.value
    }
    // No PIN (or no app): open before sign-in, not after; not remembered,
    // so the screen after a sign-in asks for a PIN.
    return now === null || !signedIn
  }

  /** Tries a PIN; `false` when it is wrong (a `BackendError` says how long to wait). */
  async function unlock(pin: string): Promise<boolean> {
    try {
      unlocked.value = await pinLock.unlock(pin)
      return unlocked.value
    } finally {
      status.value = await pinLock.status().catch(() => status.value)
    }
  }

  /** Chooses the first PIN; rejects with the backend's reason when refused. */
  async function choose(pin: string): Promise<void> {
    status.value = await pinLock.choose(pin)
    pinSet.value = status.value.set
    unlocked.value = status.value.unlocked
  }

  /** Locks now (the idle timeout); `true` when a PIN is set and it locked. */
  async function lock(): Promise<boolean> {
    if (!pinSet.value || !unlocked.value) return false
    status.value = await pinLock.lock()
    unlocked.value = status.value.unlocked
    return !unlocked.value
  }

  let timer: ReturnType<typeof setTimeout> | undefined

  /**
   * Locks after the configured idle time with no touch or key, then calls
   * `onLocked` (the router shows the PIN screen). Returns the stop.
   */
  function watchIdle(onLocked: () => void): () => void {
    const settings = useSettingsStore()
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        void lock().then((locked) => {
          if (locked) onLocked()
        })
      }, settings.idleMinutes * 60_000)
    }
    const events = ['pointerdown', 'keydown', 'touchstart', 'wheel']
    for (const e of events) globalThis.addEventListener?.(e, arm, { passive: true })
    // A new idle time counts from when it is set, not from the next touch.
    const stopWatch = watch(() => settings.idleMinutes, arm)
    arm()
    return () => {
      stopWatch()
      clearTimeout(timer)
      for (const e of events) globalThis.removeEventListener?.(e, arm)
    }
  }

  return { pinSet, unlocked, status, check, unlock, choose, lock, watchIdle }
})
