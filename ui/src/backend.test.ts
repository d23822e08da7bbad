import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks'
import { afterEach, describe, expect, it } from 'vitest'
import { COMMAND_NAMES } from './bindings/app'
import { BackendError, METHOD_NAMES, tauriBackend, unavailableBackend } from './backend'

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

  it("sends a method's arguments to its command as they are", async () => {
    const calls: unknown[] = []
    mockIPC((command, args) => {
      calls.push([command, args])
      return []
    })
    await tauriBackend().listRecords({ query: { kind: 'resident', parent_id: 'h-1' } })
    await tauriBackend().newResident({ householdId: 'h-1' })
    expect(calls).toEqual([
      ['list_records', { query: { kind: 'resident', parent_id: 'h-1' } }],
      ['new_resident', { householdId: 'h-1' }],
    ])
  })

  it("has one method per generated command, and the device's own", () => {
    expect(Object.keys(tauriBackend()).sort()).toEqual([...METHOD_NAMES].sort())
    expect(METHOD_NAMES).toContain('checkIdNumber')
  })

  it('turns a command error into a BackendError with its code', async () => {
    mockIPC(() => {
      throw { code: 'wrong_status', params: { action: 'verify', status: 'reported' }, fields: [] }
    })
    const error = await tauriBackend().appInfo().catch((reason: unknown) => reason)
    expect(error).toBeInstanceOf(BackendError)
    expect(error).toMatchObject({
      code: 'wrong_status',
      params: { action: 'verify', status: 'reported' },
      message: '事件当前为“已上报”，不能核查',
    })
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
    await tauriBackend().addPhoto({ body: bytes, role: 'before', takenAt: 1700000000000 })
    expect(seen).toEqual([
      [
        'add_photo',
        bytes,
        { headers: { 'x-photo-role': 'before', 'x-photo-taken-at': '1700000000000' } },
      ],
    ])
  })

  it('calls anything that is not {code, params} unknown', async () => {
    mockIPC(() => {
      throw 'command app_info not found'
    })
    await expect(tauriBackend().appInfo()).rejects.toMatchObject({
      code: 'unknown',
      message: '发生未知错误',
    })
  })
})

describe('outside the app', () => {
  it('reports the backend as unavailable', async () => {
    await expect(unavailableBackend().appInfo()).rejects.toMatchObject({ code: 'unavailable' })
    expect(Object.keys(unavailableBackend()).sort()).toEqual([...METHOD_NAMES].sort())
  })
})

// The shell refuses any command a capability does not grant (build.rs gives
// Tauri the generated list): the grants and the commands must agree. (A
// Rust test in src-tauri/src/bindings.rs checks the same from its side.)
describe('command permissions', () => {
  const here = dirname(fileURLToPath(import.meta.url))
  const read = (path: string) => readFileSync(resolve(here, path), 'utf8')
  const granted = (JSON.parse(read('../../src-tauri/capabilities/default.json')) as { permissions: string[] }).permissions
    .filter((p) => p.startsWith('allow-'))
    .map((p) => p.slice('allow-'.length).replace(/-/g, '_'))

  it('grants every command, and nothing else', () => {
    expect(COMMAND_NAMES).toContain('add_photo')
    expect([...COMMAND_NAMES].sort()).toEqual([...granted].sort())
  })
})
