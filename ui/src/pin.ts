// THE PIN HOOK. DESIGN.md ("Security and privacy"): on the device the
// database and photos are encrypted at rest and unlocked with the worker's
// PIN. The keys, the PIN's rules and the throttle live in the backend
// (core's `vault`, the shell's `lock.rs`); no PIN is ever checked or stored
// in the web view. The router (app.ts) sends every signed-in screen through
// the `pin` route until `useLockStore().unlocked`; the idle timer
// (stores/lock.ts) locks the app after the configured idle time.

import { backend } from './backend'
import type { PinView } from './bindings/app'

/** The lock's state (`PinView` in src-tauri/src/lock.rs, generated). */
export type { PinView }

/** What the app needs from the PIN lock. */
export interface PinLock {
  /** Whether a PIN is set and whether the app is unlocked. */
  status(): Promise<PinView>
  /** Whether this device has a PIN; when it has, every start asks for it. */
  isSet(): Promise<boolean>
  /**
   * Tries a PIN; `true` when it unlocked the device's data. A wrong or
   * throttled PIN rejects with a `BackendError` whose message says how
   * long to wait.
   */
  unlock(pin: string): Promise<boolean>
  /** Chooses the first PIN (refused with a reason when trivial). */
  choose(pin: string): Promise<PinView>
  /** Changes the PIN; the old one is checked like an unlock. */
  change(oldPin: string, newPin: string): Promise<PinView>
  /** Locks the app (idle timeout); patrol tracking goes on. */
  lock(): Promise<PinView>
}

export const pinLock: PinLock = {
  status: () => backend.pinStatus(),
  isSet: async () => (await backend.pinStatus()).set,
  unlock: async (pin) => (await backend.unlock({ pin })).unlocked,
  choose: (pin) => backend.setPin({ pin }),
  change: (oldPin, newPin) => backend.changePin({ oldPin, newPin }),
  lock: () => backend.lockApp(),
}
