// Live task events of this process: the runner publishes each envelope after the store appended it,
// so a follower that reads the stored backlog first and then listens misses nothing (it drops
// envelopes whose seq it has already sent).
import type { TaskEventEnvelope } from "@kiln/protocol";

/** Receives a task's envelopes in seq order; must not throw or block. */
export type TaskEventListener = (envelope: TaskEventEnvelope) => void;

/** In-process fan-out of task events. */
export class TaskEventHub {
  private readonly listeners = new Map<string, Set<TaskEventListener>>();

  /** Listens to one task; returns the function that stops listening. */
  subscribe(taskId: string, listener: TaskEventListener): () => void {
    const set = this.listeners.get(taskId) ?? new Set();
    this.listeners.set(taskId, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(taskId) === set) this.listeners.delete(taskId);
    };
  }

  /** Sends stored envelopes to the task's listeners. */
  publish(envelopes: readonly TaskEventEnvelope[]): void {
    for (const envelope of envelopes) {
      const set = this.listeners.get(envelope.taskId);
      if (set === undefined) continue;
      for (const listener of [...set]) listener(envelope);
    }
  }
}
