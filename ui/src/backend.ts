// The one module that talks to the backend. Views and stores call `backend`
// and never care how: inside the Tauri app it is IPC (`invoke`).
//
// Every command is typed from the generated `Commands` map
// (`bindings/app.ts`, rendered from the Rust list of commands): `Backend`
// has one method per command, named in camelCase and taking the command's
// arguments as the shell receives them, and the backends below are built
// from the generated `COMMAND_NAMES`. A command is added in Rust and
// regenerated, never listed here.

import { invoke as tauriInvoke, isTauri } from '@tauri-apps/api/core'
import { listen } from '@tauri-apps/api/event'
import { checkPermissions, getCurrentPosition, requestPermissions } from '@tauri-apps/plugin-geolocation'
import { COMMAND_NAMES, PHOTO_ROLE_HEADER, PHOTO_TAKEN_AT_HEADER, type Commands } from './bindings/app'
import { FIX_TIMEOUT_MS, pointOf } from './location'
import { errorMessage, type Params, type UiErrorCode } from './i18n/errors'
import type { CommandError, ErrorCode, FieldError, GeoPoint, SyncStatus } from './types'

export type { AppInfo } from './bindings/app'

/** A command's name. */
export type Command = keyof Commands
/** What a command takes, as the front end sends it. */
export type Args<C extends Command> = Commands[C]['args']
/** What a command answers. */
export type Answer<C extends Command> = Commands[C]['result']

/** `list_records` → `listRecords`. */
type Camel<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S

/** A command's method: its arguments are optional when it takes none. */
type Method<C extends Command> =
  Record<string, never> extends Args<C>
    ? (args?: Args<C>) => Promise<Answer<C>>
    : (args: Args<C>) => Promise<Answer<C>>

/** One method per command. */
export type CommandMethods = { [C in Command as Camel<C>]: Method<C> }

/** Everything the front end can ask of the backend: the commands, and what
 * the device itself gives (its position, the sync status as it changes). */
export interface Backend extends CommandMethods {
  /**
   * The device's position from the Tauri geolocation plugin (Android/iOS
   * only; elsewhere it rejects and the caller tries the web API), or `null`
   * when the worker refuses location access.
   */
  devicePosition(): Promise<GeoPoint | null>
  /** Calls `handler` with every status the backend publishes; returns an unsubscribe. */
  onSyncStatus(handler: (status: SyncStatus) => void): Promise<() => void>
}

/** Every method's name: the commands', then the device's. */
export const METHOD_NAMES: readonly (keyof Backend)[] = [
  ...COMMAND_NAMES.map(camel),
  'devicePosition',
  'onSyncStatus',
]

function camel<S extends string>(snake: S): Camel<S> {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()) as Camel<S>
}

/**
 * A failed backend call: the backend's `{code, params, fields}`. `code` is
 * stable and `params` fill its message, which `message` holds in the UI's
 * language (`i18n/errors.ts`, the one place errors are translated);
 * `fields` says what is wrong with each form field. Codes made here:
 * `unavailable` (no backend to talk to) and `unknown` (something that was
 * not a `{code}` at all).
 */
export class BackendError extends Error {
  readonly code: ErrorCode | UiErrorCode
  readonly params: Params
  readonly fields: FieldError[]

  constructor(code: ErrorCode | UiErrorCode, params: Params = {}, fields: FieldError[] = []) {
    super(errorMessage(code, params))
    this.name = 'BackendError'
    this.code = code
    this.params = params
    this.fields = fields
  }

  /** Turns whatever a call rejected with into a `BackendError`. */
  static from(reason: unknown): BackendError {
    if (reason instanceof BackendError) return reason
    if (isCommandError(reason)) {
      const fields = Array.isArray(reason.fields) ? reason.fields : []
      return new BackendError(reason.code, reason.params ?? {}, fields)
    }
    console.warn('a backend call failed without a code', reason)
    return new BackendError('unknown')
  }
}

function isCommandError(value: unknown): value is Partial<CommandError> & { code: ErrorCode } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string'
  )
}

/** Calls a command over IPC; a failure becomes a `BackendError`. */
export async function invoke<C extends Command>(
  command: C,
  args?: Args<C> | Uint8Array,
  headers?: Record<string, string>,
): Promise<Answer<C>> {
  try {
    return await tauriInvoke<Answer<C>>(command, args, headers ? { headers } : undefined)
  } catch (reason) {
    throw BackendError.from(reason)
  }
}

/** The backend inside the Tauri app: one IPC command per method. */
export function tauriBackend(): Backend {
  const commands = Object.fromEntries(
    COMMAND_NAMES.map((name) => [camel(name), (args?: Args<typeof name>) => invoke(name, args)]),
  ) as unknown as CommandMethods
  return {
    ...commands,
    // The image is the raw body of the call, not a JSON array of numbers.
    addPhoto: ({ body, role, takenAt }) =>
      invoke('add_photo', body, {
        [PHOTO_ROLE_HEADER]: role,
        ...(takenAt === null || takenAt === undefined ? {} : { [PHOTO_TAKEN_AT_HEADER]: String(takenAt) }),
      }),
    devicePosition: async () => {
      let allowed = await checkPermissions()
      if (allowed.location === 'prompt' || allowed.location === 'prompt-with-rationale') {
        allowed = await requestPermissions(['location'])
      }
      if (allowed.location !== 'granted') return null
      const fix = await getCurrentPosition({ enableHighAccuracy: true, timeout: FIX_TIMEOUT_MS, maximumAge: 30_000 })
      return pointOf(fix.coords)
    },
    onSyncStatus: (handler) => listen<SyncStatus>('sync-status', (e) => handler(e.payload)),
  }
}

/** Used where there is no backend (the UI opened in a plain browser). */
export function unavailableBackend(): Backend {
  const fail = () => Promise.reject(new BackendError('unavailable'))
  return Object.fromEntries(METHOD_NAMES.map((name) => [name, fail])) as unknown as Backend
}

export const backend: Backend = isTauri() ? tauriBackend() : unavailableBackend()
