// A task, live: fetched once, then its event stream (resumed by the SDK across dropped connections)
// folds the environment's phases and logs, and every event that changes the task fetches it again
// (at most every 400 ms: a burst of events costs one request).
import type { Task, TaskEventEnvelope } from "@kiln/protocol";
import type { KilnClient } from "@kiln/sdk";
import { useCallback, useEffect, useState } from "react";
import { applyTaskEvents, changesTask, EMPTY_TASK_EVENTS, type TaskEventsState } from "./task-events.ts";

/** What {@link useTask} gives. */
export interface LiveTask {
  task: Task | undefined;
  events: TaskEventsState;
  error: unknown;
  /** Fetches the task again now (after an action). */
  refresh: () => void;
}

const REFETCH_MS = 400;

/** The task `id`, kept current. */
export function useTask(client: KilnClient, id: string): LiveTask {
  const [task, setTask] = useState<Task | undefined>();
  const [events, setEvents] = useState<TaskEventsState>(EMPTY_TASK_EVENTS);
  const [error, setError] = useState<unknown>();
  const [tick, setTick] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `tick` asks for a fetch
  useEffect(() => {
    const abort = new AbortController();
    client.tasks.get(id, { signal: abort.signal }).then(
      (fresh) => {
        setTask(fresh);
        setError(undefined);
      },
      (e: unknown) => {
        if (!abort.signal.aborted) setError(e);
      },
    );
    return () => abort.abort();
  }, [client, id, tick]);

  useEffect(() => {
    setTask(undefined);
    setEvents(EMPTY_TASK_EVENTS);
    const abort = new AbortController();
    let buffer: TaskEventEnvelope[] = [];
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    let fetchTimer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      flushTimer = undefined;
      const batch = buffer;
      buffer = [];
      setEvents((state) => applyTaskEvents(state, batch));
    };
    void (async () => {
      try {
        for await (const envelope of client.tasks.watch(id, { signal: abort.signal })) {
          buffer.push(envelope);
          flushTimer ??= setTimeout(flush, 50);
          if (changesTask(envelope))
            fetchTimer ??= setTimeout(() => {
              fetchTimer = undefined;
              setTick((t) => t + 1);
            }, REFETCH_MS);
        }
      } catch (e) {
        if (!abort.signal.aborted) setError(e);
      }
    })();
    return () => {
      abort.abort();
      if (flushTimer !== undefined) clearTimeout(flushTimer);
      if (fetchTimer !== undefined) clearTimeout(fetchTimer);
    };
  }, [client, id]);

  const refresh = useCallback(() => setTick((t) => t + 1), []);
  return { task, events, error, refresh };
}
