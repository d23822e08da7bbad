import { defineStore } from 'pinia'
import { reactive } from 'vue'
import { backend, BackendError } from '../backend'
import type { PhotoRef, PhotoRole } from '../types'

/** A file the backend refused, with why (its code and message). */
export interface RefusedPhoto {
  name: string
  error: BackendError
}

/** The sha256 that shows a photo small: its thumbnail when it has one. */
export function thumbOf(photo: PhotoRef): string {
  return photo.thumb_sha256 ?? photo.sha256
}

/**
 * Photos on the device: adding picked or taken images (each is stored by
 * the backend at once, so a form closed before it is saved loses no photo),
 * and thumbnails as `data:` URLs, read once and kept.
 */
export const usePhotosStore = defineStore('photos', () => {
  /** sha256 → `data:` URL, or `null` when this device lacks the bytes (yet). */
  const urls = reactive(new Map<string, string | null>())
  const loading = new Map<string, Promise<string | null>>()

  /** The URL of a stored photo, read from the backend the first time. */
  function load(sha256: string): Promise<string | null> {
    const known = urls.get(sha256)
    if (known) return Promise.resolve(known)
    const pending = loading.get(sha256)
    if (pending) return pending
    const read = backend
      .photoUrl({ sha256 })
      .catch(() => null)
      .then((url) => {
        urls.set(sha256, url)
        loading.delete(sha256)
        return url
      })
    loading.set(sha256, read)
    return read
  }

  /**
   * Stores each file; returns the references of those taken and the files
   * refused (not an image, too large …), in the order given.
   */
  async function add(
    files: Iterable<File>,
    role: PhotoRole,
  ): Promise<{ added: PhotoRef[]; refused: RefusedPhoto[] }> {
    const added: PhotoRef[] = []
    const refused: RefusedPhoto[] = []
    for (const file of files) {
      try {
        const bytes = new Uint8Array(await file.arrayBuffer())
        const taken = file.lastModified > 0 ? file.lastModified : null
        added.push(await backend.addPhoto({ body: bytes, role, takenAt: taken }))
      } catch (reason) {
        refused.push({ name: file.name, error: BackendError.from(reason) })
      }
    }
    return { added, refused }
  }

  return { urls, load, add }
})
