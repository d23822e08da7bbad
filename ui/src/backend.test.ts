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
