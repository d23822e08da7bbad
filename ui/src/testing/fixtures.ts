// Records for unit tests.
import type { PhotoRef } from '../types'

/** A photo reference whose hashes are made of the digit `n` (and `n + 1` for the thumbnail). */
export function photoRef(n: number): PhotoRef {
  return {
    sha256: String(n % 10).repeat(64),
    thumb_sha256: String((n + 1) % 10).repeat(64),
    role: 'before',
    bytes: 1000,
    width: 1600,
    height: 1200,
    taken_at: null,
  }
}
