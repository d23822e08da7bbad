import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { backend, BackendError } from '../backend'
import type { TaskRow } from '../types'

/** The tasks on this tablet, shared by the home screen and the tasks list;
 * progress, the overdue flag and the order come from core. */
export const useTasksStore = defineStore('tasks', () => {
  const all = ref<TaskRow[]>([])
  const error = ref<BackendError | null>(null)
  const open = computed(() => all.value.filter((t) => t.open))

  async function load(): Promise<void> {
    try {
      all.value = await backend.listTasks()
      error.value = null
    } catch (reason) {
      error.value = BackendError.from(reason)
    }
  }

  return { all, open, error, load }
})
