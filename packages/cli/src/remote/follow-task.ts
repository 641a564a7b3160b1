// Follows a task until it ends, printing its progress: fetch the task (its attempts' ids, and the seq of
// its last event) → replay its events from the start and then live ones through the SDK's resumable
// stream (a dropped connection is resumed with no gap) → stop at the task's terminal status (one newer
// than the task's last event, if it was still running when fetched, so that a finished earlier run's
// `completed` does not end the watch of a follow-up) → fetch the final task. Ctrl-C stops watching only:
// the task goes on on the server.
import { KilnError, type Task } from "@kiln/protocol";
import { isTerminalStatus, type KilnClient } from "@kiln/sdk";
import { formatTaskEvent } from "./format-task-event.ts";
import type { Colors } from "./remote-command.ts";

/** Options of {@link followTask}. */
export interface FollowTaskOptions {
  /** Where progress goes (undefined: nowhere). */
  out?: NodeJS.WritableStream;
  colors: Colors;
  signal?: AbortSignal;
}

/** Follows task `id` to its end (see the module comment) and resolves with the final task. */
export async function followTask(client: KilnClient, id: string, options: FollowTaskOptions): Promise<Task> {
  const call = options.signal === undefined ? {} : { signal: options.signal };
  const initial = await client.tasks.get(id, call);
  const names = new Map(initial.attempts.map((a) => [a.id, `attempt ${a.index}`]));
  const attemptName = (attemptId: string) => names.get(attemptId) ?? `attempt ${attemptId}`;
  const finished = isTerminalStatus(initial.status);
  for await (const envelope of client.tasks.watch(id, { after: 0, ...call })) {
    options.out?.write(formatTaskEvent(options.colors, envelope, attemptName));
    const { event } = envelope;
    if (finished && envelope.seq >= initial.lastSeq) break;
    if (
      !finished &&
      event.type === "task/status" &&
      isTerminalStatus(event.status) &&
      envelope.seq > initial.lastSeq
    ) {
      break;
    }
  }
  return client.tasks.get(id, call);
}

/**
 * Runs `body` with a signal that aborts on Ctrl-C (SIGINT); an interrupted body ends with a KilnError
 * saying the task goes on and how to watch it again.
 */
export async function untilInterrupted<T>(
  taskId: () => string | undefined,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new KilnError("turn_interrupted", "interrupted"));
  process.once("SIGINT", onInterrupt);
  try {
    return await body(controller.signal);
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    const id = taskId();
    throw new KilnError(
      "turn_interrupted",
      id === undefined
        ? "interrupted"
        : `stopped watching; the task goes on on the server: \`kiln tasks watch ${id}\` to follow it again`,
    );
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

/** The exit code for a finished task: 0 completed, 1 failed or cancelled. */
export function exitCodeOf(task: Task): number {
  return task.status === "completed" ? 0 : 1;
}
