import { defineStore } from 'pinia'
import { ref } from 'vue'
import { pinLock } from '../pin'

/** Whether the signed-in worker has got past the PIN screen (see `pin.ts`). */
export const useLockStore = defineStore('lock', () => {
  /** `null` until asked whether a PIN is set. */
  const pinSet = ref<boolean | null>(null)
  const unlocked = ref(false)

  /** Asks once per start; with no PIN set the device counts as unlocked. */
  async function check(): Promise<boolean> {
    if (pinSet.value === null) {
      pinSet.value = await pinLock.isSet()
      if (!pinSet.value) unlocked.value = true
    }
    return unlocked.value
  }

  /** Tries a PIN; `false` when it is wrong. */
  async function unlock(pin: string): Promise<boolean> {
    unlocked.value = await pinLock.unlock(pin)
    return unlocked.value
  }

  return { pinSet, unlocked, check, unlock }
})
