// extract() picks an attempt of a task and gives its result in the shape a program wants.
import { type Attempt, KilnError, Task } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { extract } from "../src/index.ts";

const at = 1_700_000_000_000;
const stats = { filesModified: 1, linesAdded: 1, linesRemoved: 1 };
const diff =
  "diff --git a/add.mjs b/add.mjs\n--- a/add.mjs\n+++ b/add.mjs\n@@ -1,3 +1,3 @@\n-  return a - b;\n+  return a + b;\n";
const file = { path: "add.mjs", kind: "modified" as const, additions: 1, deletions: 1, binary: false };

function attempt(index: number, fields: Partial<Attempt>): Attempt {
  return {
    id: `att_${index}`,
    index,
    threadId: `thr_${index}`,
    sandboxId: `sbx_${index}`,
    status: "completed",
    turns: [],
    createdAt: at,
    updatedAt: at,
    ...fields,
  };
}

/** A task with a failed attempt 0, a completed attempt 1 (with a PR text) and a running attempt 2. */
const task: Task = Task.parse({
  id: "task_1",
  title: "Fix add",
  environmentId: "env_1",
  environmentName: "calc",
  branch: "main",
  bestOfN: 3,
  status: "running",
  baseCommit: "abc123",
  archived: false,
  userTurns: [],
  attempts: [
    attempt(0, {
      status: "failed",
      error: { code: "model_error", message: "the model failed", retryable: false },
    }),
    attempt(1, {
      message: "Fixed add; the test passes.",
      diff,
      diffStats: stats,
      files: [file],
      pr: { title: "Fix add: a + b", body: "Fixes add." },
    }),
    attempt(2, { status: "running", message: "Looking at add.mjs" }),
  ],
  createdAt: at,
  updatedAt: at,
  lastSeq: 12,
});

describe("extract", () => {
  it("takes the first completed attempt by default, with its message, diff, PR text, stats and files", () => {
    expect(extract(task)).toEqual({
      attemptId: "att_1",
      index: 1,
      status: "completed",
      message: "Fixed add; the test passes.",
      diff,
      pr: { title: "Fix add: a + b", body: "Fixes add.", stats },
      files: [file],
    });
  });

  it("takes an attempt by index or id; without a PR text the title is the task's and the body the message", () => {
    const running = {
      attemptId: "att_2",
      index: 2,
      status: "running",
      message: "Looking at add.mjs",
      diff: "",
      pr: {
        title: "Fix add",
        body: "Looking at add.mjs",
        stats: { filesModified: 0, linesAdded: 0, linesRemoved: 0 },
      },
      files: [],
    };
    expect(extract(task, 2)).toEqual(running);
    expect(extract(task, "att_2")).toEqual(running);
  });

  it("falls back to attempt 0 when none completed", () => {
    const noneDone = { ...task, attempts: task.attempts.filter((a) => a.status !== "completed") };
    expect(extract(noneDone)).toMatchObject({ attemptId: "att_0", status: "failed", message: "", diff: "" });
  });

  it("throws not_found naming the attempts when the chosen one does not exist", () => {
    expect(() => extract(task, 3)).toThrow(KilnError);
    expect(() => extract(task, "att_9")).toThrow(
      "task task_1 has no attempt att_9; its attempts: 0 (att_0), 1 (att_1), 2 (att_2)",
    );
    expect(() => extract({ ...task, attempts: [] })).toThrow(
      "task task_1 has no attempts yet (status running): fetch it again later",
    );
  });
});
