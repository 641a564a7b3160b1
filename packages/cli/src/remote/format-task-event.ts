// One task event as progress lines for a person: the task's status, the environment's phases (clone →
// setup → ready) and setup log, each attempt's status and result. Agent events are on the attempts'
// threads, not here.
import { assertNever, type TaskEventEnvelope } from "@kiln/protocol";
import type { Colors } from "./remote-command.ts";
import { formatStats, formatStatus, plural } from "./task-format.ts";

/** The progress text of `envelope` (one or more lines, each ending in `\n`). `attemptName` names an attempt id. */
export function formatTaskEvent(
  c: Colors,
  envelope: TaskEventEnvelope,
  attemptName: (attemptId: string) => string,
): string {
  const { event } = envelope;
  switch (event.type) {
    case "task/status": {
      const error = event.error === undefined ? "" : `: ${event.error.message}`;
      return `${c.bold("task")} ${formatStatus(c, event.status)}${error}\n`;
    }
    case "environment/phase": {
      const took =
        event.durationMs === undefined ? "" : c.dim(` (${(event.durationMs / 1000).toFixed(1)} s)`);
      const commit = event.baseCommit === undefined ? "" : c.dim(` at ${event.baseCommit.slice(0, 12)}`);
      const why = event.status === "skipped" ? c.dim(" (cached)") : "";
      const error = event.error === undefined ? "" : `: ${c.red(event.error.message)}`;
      if (event.phase === "ready" && event.status === "completed")
        return `environment ready${commit}${took}\n`;
      const status = event.status === "failed" ? c.red(event.status) : event.status;
      return `environment ${event.phase} ${status}${why}${commit}${took}${error}\n`;
    }
    case "environment/log": {
      const lines = event.text.replace(/\n$/, "").split("\n");
      return lines.map((line) => `${c.dim(`  ${event.phase} │`)} ${line}\n`).join("");
    }
    case "userTurn/created": {
      const what = event.userTurn.index === 0 ? "prompt" : `follow-up ${event.userTurn.index}`;
      return `${what} sent to ${plural(event.userTurn.attemptIds.length, "attempt")}\n`;
    }
    case "attempt/status": {
      const error = event.error === undefined ? "" : `: ${c.red(event.error.message)}`;
      return `${attemptName(event.attemptId)} ${formatStatus(c, event.status)}${error}\n`;
    }
    case "attempt/result": {
      const pr = event.pr === undefined ? "" : ` · PR: ${event.pr.title}`;
      const files = plural(event.diffStats.filesModified, "file");
      return `${attemptName(event.attemptId)} changed ${files} ${formatStats(c, event.diffStats)}${pr}\n`;
    }
    case "attempt/published": {
      const pr = event.published.pullRequest?.url;
      return `${attemptName(event.attemptId)} published to branch ${event.published.branch}${pr === undefined ? "" : ` — ${pr}`}\n`;
    }
    default:
      return assertNever(event);
  }
}
