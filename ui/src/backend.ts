// The one module that talks to the backend. Views and stores call `backend`
// and never care how: inside the Tauri app it is IPC (`invoke`); the web
// console will later get an HTTP implementation of the same interface.

import { invoke, isTauri } from '@tauri-apps/api/core'

/** What `app_info` returns (`AppInfo` in src-tauri/src/commands.rs). */
export interface AppInfo {
  name: string
  version: string
}

/** Everything the front end can ask of the backend. */
export interface Backend {
  appInfo(): Promise<AppInfo>
}

/**
 * A failed backend call: the backend's `{code, message}`. `code` is stable
 * (translate it with `errors.<code>`); `message` is for people and logs.
 * Codes made here: `unavailable` (no backend to talk to) and `unknown`
 * (something that was not a `{code, message}` at all).
 */
export class BackendError extends Error {
  readonly code: string

  constructor(code: string, message: string) {
    super(message)
    this.name = 'BackendError'
    this.code = code
  }

  /** Turns whatever a call rejected with into a `BackendError`. */
  static from(reason: unknown): BackendError {
    if (reason instanceof BackendError) return reason
    if (isCodeAndMessage(reason)) return new BackendError(reason.code, reason.message)
    const message = reason instanceof Error ? reason.message : String(reason)
    return new BackendError('unknown', message)
  }
}

function isCodeAndMessage(value: unknown): value is { code: string; message: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  )
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args)
  } catch (reason) {
    throw BackendError.from(reason)
  }
}

/** The backend inside the Tauri app: one IPC command per method. */
export function tauriBackend(): Backend {
  return {
    appInfo: () => call<AppInfo>('app_info'),
  }
}

/** Used where there is no backend (the UI opened in a plain browser). */
export function unavailableBackend(): Backend {
  const fail = () =>
    Promise.reject(new BackendError('unavailable', 'not running inside the Gridwork app'))
  return {
    appInfo: fail,
  }
}

export const backend: Backend = isTauri() ? tauriBackend() : unavailableBackend()
