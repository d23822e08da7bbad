// Records for unit tests.
import type { PhotoRef, Projection } from '../types'

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

/** A task's list row: `subtitle` is `done/total`, `status` `open` or `done`. */
export function taskProjection(id: string, title: string, subtitle: string, status: string, due: string): Projection {
  return {
    id,
    kind: 'task',
    grid: '440106001001001',
    title,
    subtitle,
    status,
    category: 'checklist',
    urgency: null,
    parent_id: 'c-1',
    due,
    created_at: 0,
    created_by: 'wangfang',
    deleted: false,
  }
}
