// A task's own events folded for the task view: the environment's phases with their times and
// errors, the setup log per phase, each event once.
import type { TaskEvent, TaskEventEnvelope } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { applyTaskEvents, changesTask, EMPTY_TASK_EVENTS } from "./task-events.ts";

const env = (seq: number, event: TaskEvent): TaskEventEnvelope => ({ seq, taskId: "task_1", at: seq, event });

describe("applyTaskEvents", () => {
  it("tracks each phase and its log, and skips events it already folded", () => {
    const events = [
      env(1, { type: "task/status", status: "provisioning" }),
      env(2, { type: "environment/phase", phase: "clone", status: "started" }),
      env(3, { type: "environment/phase", phase: "clone", status: "completed", durationMs: 420 }),
      env(4, { type: "environment/phase", phase: "setup", status: "started" }),
      env(5, { type: "environment/log", phase: "setup", text: "npm ci\n" }),
      env(6, { type: "environment/log", phase: "setup", text: "added 12 packages\n" }),
      env(7, {
        type: "environment/phase",
        phase: "setup",
        status: "failed",
        durationMs: 1800,
        error: { code: "environment_failed", message: "setup exited with 1", retryable: false },
      }),
    ];
    const once = applyTaskEvents(EMPTY_TASK_EVENTS, events);
    const twice = applyTaskEvents(once, events.slice(3));
    expect(twice).toBe(once);
    expect(once).toEqual({
      lastSeq: 7,
      phases: {
        clone: { status: "completed", durationMs: 420, error: undefined, log: "" },
        setup: {
          status: "failed",
          durationMs: 1800,
          error: { code: "environment_failed", message: "setup exited with 1", retryable: false },
          log: "npm ci\nadded 12 packages\n",
        },
        ready: { status: "pending", durationMs: undefined, error: undefined, log: "" },
      },
    });
  });

  it("asks for the task again on every event but a log line", () => {
    expect(changesTask(env(1, { type: "environment/log", phase: "setup", text: "x" }))).toBe(false);
    expect(changesTask(env(2, { type: "attempt/status", attemptId: "att_1", status: "running" }))).toBe(true);
  });
});
