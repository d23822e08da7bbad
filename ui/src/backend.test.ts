import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { afterEach, describe, expect, it } from 'vitest'
import { BackendError, tauriBackend, unavailableBackend } from './backend'

afterEach(() => clearMocks())

describe('tauri backend', () => {
  it('calls the app_info command', async () => {
    const calls: string[] = []
    mockIPC((command) => {
      calls.push(command)
      return { name: 'Gridwork', version: '0.1.0' }
    })
    await expect(tauriBackend().appInfo()).resolves.toEqual({ name: 'Gridwork', version: '0.1.0' })
    expect(calls).toEqual(['app_info'])
  })

  it('turns a command error into a BackendError with its code', async () => {
    mockIPC(() => {
      throw { code: 'not_found', message: 'no such household' }
    })
    const error = await tauriBackend().appInfo().catch((reason: unknown) => reason)
    expect(error).toBeInstanceOf(BackendError)
    expect(error).toMatchObject({ code: 'not_found', message: 'no such household' })
  })

  it('sends a photo as the raw body of add_photo, its role and time as headers', async () => {
    mockIPC(() => ({ sha256: 'a'.repeat(64) }))
    // The mock drops the options; record them on the way in.
    const internals = (window as unknown as { __TAURI_INTERNALS__: { invoke: (...a: unknown[]) => unknown } })
      .__TAURI_INTERNALS__
    const seen: unknown[][] = []
    const inner = internals.invoke
    internals.invoke = (...a: unknown[]) => {
      seen.push(a)
      return inner(...a)
    }
    const bytes = new Uint8Array([0xff, 0xd8, 0xff])
    await tauriBackend().addPhoto(bytes, 'before', 1700000000000)
    expect(seen).toEqual([
      [
        'add_photo',
        bytes,
        { headers: { 'x-photo-role': 'before', 'x-photo-taken-at': '1700000000000' } },
      ],
    ])
  })

  it('calls anything that is not {code, message} unknown', async () => {
    mockIPC(() => {
      throw 'command app_info not found'
    })
    await expect(tauriBackend().appInfo()).rejects.toMatchObject({
      code: 'unknown',
      message: 'command app_info not found',
    })
  })
})

describe('outside the app', () => {
  it('reports the backend as unavailable', async () => {
    await expect(unavailableBackend().appInfo()).rejects.toMatchObject({ code: 'unavailable' })
  })
})
