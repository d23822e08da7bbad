import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { BackendError } from '../backend'
import { fakeBackend } from '../testing/fakeBackend'
import { photoRef } from '../testing/fixtures'
import { thumbOf, usePhotosStore } from './photos'

vi.mock('../backend', async (original) => ({
  ...(await original<typeof import('../backend')>()),
  backend: (await import('../testing/fakeBackend')).fakeBackend,
}))

beforeEach(() => setActivePinia(createPinia()))

describe('photos store', () => {
  it('sends each picked file to the backend with its role and keeps the order', async () => {
    fakeBackend.addPhoto.mockResolvedValueOnce(photoRef(1)).mockResolvedValueOnce(photoRef(3))
    const files = [
      new File([new Uint8Array([1, 2, 3])], 'a.jpg', { type: 'image/jpeg', lastModified: 1700000000000 }),
      new File([new Uint8Array([4, 5])], 'b.jpg', { type: 'image/jpeg', lastModified: 1700000001000 }),
    ]
    const { added, refused } = await usePhotosStore().add(files, 'after')
    expect(added).toEqual([photoRef(1), photoRef(3)])
    expect(refused).toEqual([])
    expect(fakeBackend.addPhoto).toHaveBeenNthCalledWith(1, { body: new Uint8Array([1, 2, 3]), role: 'after', takenAt: 1700000000000 })
    expect(fakeBackend.addPhoto).toHaveBeenNthCalledWith(2, { body: new Uint8Array([4, 5]), role: 'after', takenAt: 1700000001000 })
  })

  it('names the file the backend refused and why, and still takes the others', async () => {
    fakeBackend.addPhoto
      .mockRejectedValueOnce({ code: 'not_an_image', message: '所选文件不是照片' })
      .mockResolvedValueOnce(photoRef(5))
    const files = [new File(['hello'], 'notes.txt'), new File([new Uint8Array([9])], 'ok.jpg')]
    const { added, refused } = await usePhotosStore().add(files, 'before')
    expect(added).toEqual([photoRef(5)])
    expect(refused).toHaveLength(1)
    expect(refused[0]?.name).toBe('notes.txt')
    expect(refused[0]?.error).toBeInstanceOf(BackendError)
    expect(refused[0]?.error.code).toBe('not_an_image')
  })

  it('reads a thumbnail once, and asks again while the device lacks it', async () => {
    const store = usePhotosStore()
    fakeBackend.photoUrl.mockResolvedValueOnce(null).mockResolvedValue('data:image/jpeg;base64,AA==')
    expect(await store.load('f'.repeat(64))).toBeNull()
    expect(await store.load('f'.repeat(64))).toBe('data:image/jpeg;base64,AA==')
    expect(await store.load('f'.repeat(64))).toBe('data:image/jpeg;base64,AA==')
    expect(fakeBackend.photoUrl).toHaveBeenCalledTimes(2)
    expect(store.urls.get('f'.repeat(64))).toBe('data:image/jpeg;base64,AA==')
  })

  it('shows a photo by its thumbnail when it has one', () => {
    expect(thumbOf(photoRef(1))).toBe(photoRef(1).thumb_sha256)
    expect(thumbOf({ ...photoRef(1), thumb_sha256: null })).toBe(photoRef(1).sha256)
  })
})
