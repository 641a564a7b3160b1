// The setup log folds a task's events: phases as lines, setup output as it came, and it is over once
// the environment is ready (or failed, or the task ended).
import type { TaskEvent, TaskEventEnvelope } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { foldSetupLog, type SetupLogState } from "./setup-log.tsx";

const envelope = (seq: number, event: TaskEvent): TaskEventEnvelope => ({
  seq,
  taskId: "task_1",
  at: seq,
  event,
});

function fold(events: TaskEvent[]): { state: SetupLogState; doneAt: number | undefined } {
  let state: SetupLogState = { taskId: "task_1", text: "", live: true };
  for (const [i, event] of events.entries()) {
    const next = foldSetupLog(state, envelope(i + 1, event));
    state = next.state;
    if (next.done) return { state, doneAt: i };
  }
  return { state, doneAt: undefined };
}

describe("foldSetupLog", () => {
  it("writes phases and output in order and ends when the environment is ready", () => {
    const { state, doneAt } = fold([
      { type: "task/status", status: "provisioning" },
      { type: "environment/phase", phase: "clone", status: "started" },
      { type: "environment/phase", phase: "clone", status: "completed", durationMs: 1200 },
      { type: "environment/phase", phase: "setup", status: "started" },
      { type: "environment/log", phase: "setup", text: "added 12 packages\n" },
      { type: "environment/phase", phase: "setup", status: "completed", durationMs: 3400 },
      { type: "environment/phase", phase: "ready", status: "completed", baseCommit: "abc" },
      { type: "attempt/status", attemptId: "att_1", status: "running" },
    ]);
    expect(doneAt).toBe(6);
    expect(state).toEqual({
      taskId: "task_1",
      live: false,
      text: [
        "── clone started",
        "── clone completed (1.2 s)",
        "── setup started",
        "added 12 packages",
        "── setup completed (3.4 s)",
        "── ready completed",
        "",
      ].join("\n"),
    });
  });

  it("says when setup was skipped because the prepared environment was cached", () => {
    const { state, doneAt } = fold([
      { type: "environment/phase", phase: "setup", status: "skipped", cacheKey: "k" },
      { type: "environment/phase", phase: "ready", status: "completed" },
    ]);
    expect(doneAt).toBe(1);
    expect(state.text).toBe("── setup skipped — the prepared environment was cached\n── ready completed\n");
  });

  it("ends at a failed phase, with the reason", () => {
    const { state, doneAt } = fold([
      {
        type: "environment/phase",
        phase: "setup",
        status: "failed",
        error: { code: "internal", message: "setup script exited with 1", retryable: false },
      },
    ]);
    expect(doneAt).toBe(0);
    expect(state).toEqual({
      taskId: "task_1",
      live: false,
      text: "── setup failed: setup script exited with 1\n",
    });
  });
});
