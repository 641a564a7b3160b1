// The result of one attempt of a task, in the shape a program wants: the agent's message, the diff,
// the pull request text with its stats, the changed files. Pure: it reads a Task already fetched.
import {
  type Attempt,
  type AttemptStatus,
  type ChangedFile,
  type DiffStats,
  KilnError,
  type Task,
} from "@kiln/protocol";

/** What {@link extract} gives. */
export interface ExtractedAttempt {
  attemptId: string;
  /** The attempt's 0-based index. */
  index: number;
  status: AttemptStatus;
  /** The agent's final message ("" when there is none yet). */
  message: string;
  /** The unified diff against the task's base commit ("" when nothing changed). */
  diff: string;
  pr: {
    /** As the model wrote it, else the task's title. */
    title: string;
    /** As the model wrote it, else the agent's message. */
    body: string;
    stats: DiffStats;
  };
  files: ChangedFile[];
}

/**
 * The chosen attempt of `task`: by id, by index, or (default) the first completed attempt, else
 * attempt 0. Throws `not_found` when there is no such attempt.
 */
export function extract(task: Task, attemptIdOrIndex?: string | number): ExtractedAttempt {
  const attempt = choose(task, attemptIdOrIndex);
  const message = attempt.message ?? "";
  return {
    attemptId: attempt.id,
    index: attempt.index,
    status: attempt.status,
    message,
    diff: attempt.diff ?? "",
    pr: {
      title: attempt.pr?.title ?? task.title,
      body: attempt.pr?.body ?? message,
      stats: attempt.diffStats ?? { filesModified: 0, linesAdded: 0, linesRemoved: 0 },
    },
    files: attempt.files ?? [],
  };
}

function choose(task: Task, which: string | number | undefined): Attempt {
  const found =
    which === undefined
      ? (task.attempts.find((a) => a.status === "completed") ?? task.attempts.find((a) => a.index === 0))
      : typeof which === "number"
        ? task.attempts.find((a) => a.index === which)
        : task.attempts.find((a) => a.id === which);
  if (found !== undefined) return found;
  const known = task.attempts.map((a) => `${a.index} (${a.id})`).join(", ");
  const message =
    known === ""
      ? `task ${task.id} has no attempts yet (status ${task.status}): fetch it again later`
      : `task ${task.id} has no attempt ${which}; its attempts: ${known}`;
  throw new KilnError("not_found", message, { details: { taskId: task.id } });
}
