// `--attempt N` of `kiln tasks diff` and `kiln tasks apply`: an attempt's index (as `kiln tasks show`
// numbers them, from 0) or its id; by default the first completed attempt, else attempt 0 (the SDK's
// `extract` rule). A pick whose diff may still change, or that failed, is said on stderr.
import { assertNever, type Task } from "@kiln/protocol";
import { type ExtractedAttempt, extract } from "@kiln/sdk";

/** The attempt `flag` names (see the module comment); `not_found` listing the task's attempts otherwise. */
export function chooseAttempt(task: Task, flag: string | undefined): ExtractedAttempt {
  if (flag === undefined) return extract(task);
  return extract(task, /^\d+$/.test(flag) ? Number(flag) : flag);
}

/** A warning about the chosen attempt's state, or undefined when it completed. */
export function attemptWarning(taskId: string, attempt: ExtractedAttempt): string | undefined {
  switch (attempt.status) {
    case "completed":
      return undefined;
    case "queued":
    case "provisioning":
    case "running":
      return `attempt ${attempt.index} of ${taskId} is ${attempt.status}: its diff may still change`;
    case "failed":
    case "cancelled":
      return `attempt ${attempt.index} of ${taskId} ${attempt.status}: its diff is what it changed before it stopped`;
    default:
      return assertNever(attempt.status);
  }
}
