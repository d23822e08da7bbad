// THE PIN HOOK. DESIGN.md ("Security and privacy"): on the device the
// database and photos are encrypted at rest and unlocked with the worker's
// PIN. That is the security issue's to build; this module is the one place
// it plugs in, and today it does nothing but say "no PIN is set".
//
// What the security issue fills in:
// - `isSet`: ask the backend whether this device has a PIN (a new Tauri
//   command, listed in src-tauri/build.rs and granted in
//   capabilities/default.json, called through backend.ts like every other);
// - `unlock`: hand the typed PIN to the backend, which derives the key and
//   opens the encrypted store; `true` when it opened. No PIN is ever checked
//   or stored in the web view.
// - a screen to choose a PIN after setup (the router's `pin` route shows
//   the unlock screen; choosing one is the to design).
// The router (app.ts) already sends every signed-in screen through the
// `pin` route until `useLockStore().unlocked`, so nothing else changes.

/** What the app needs from the PIN lock. */
export interface PinLock {
  /** Whether this device has a PIN; when it has, every start asks for it. */
  isSet(): Promise<boolean>
  /** Tries a PIN; `true` when it unlocked the device's data. */
  unlock(pin: string): Promise<boolean>
}

/** Today's lock: no PIN can be set yet, so there is nothing to unlock. */
export const pinLock: PinLock = {
  isSet: () => Promise.resolve(false),
  unlock: () => Promise.reject(new Error('no PIN is set on this device')),
}
