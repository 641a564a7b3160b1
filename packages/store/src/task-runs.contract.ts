// Attempts, user turns, runs and task events: their part of the task-service contract (run from
// tasks.contract.ts).
import { randomUUID } from "node:crypto";
import type { TaskEvent } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import type { StoredAssistantTurn } from "./kiln-store.ts";
import { T0, type TaskFixtures } from "./task-fixtures.ts";

/** Defines the tests of a task's parts and events inside a store suite. */
export function describeTaskRunContract({ store, newUser, newEnvironment, newTask }: TaskFixtures): void {
  describe("attempts, user turns and runs", () => {
    it("an attempt's fields are set one by one, and a follow-up user turn names some of the task's attempts", async () => {
      const user = await newUser();
      const env = await newEnvironment(user.id);
      const { task, attemptIds } = await newTask(user.id, env.id, { bestOfN: 2 });
      const other = await newTask(user.id, env.id);
      const published = { branch: "kiln/x-0", commit: "def", publishedAt: T0 + 9 };
      expect(
        await store().tasks.updateAttempt(attemptIds[0]!, { threadId: "thr_1", sandboxId: "sbx_1" }, T0 + 1),
      ).toBe(true);
      expect(
        await store().tasks.updateAttempt(attemptIds[0]!, { status: "completed", published }, T0 + 2),
      ).toBe(true);
      expect(await store().tasks.updateAttempt("att_missing", { status: "running" }, T0)).toBe(false);
      expect((await store().tasks.attempts(task.id))[0]).toEqual({
        id: attemptIds[0],
        taskId: task.id,
        index: 0,
        threadId: "thr_1",
        sandboxId: "sbx_1",
        status: "completed",
        published,
        createdAt: T0,
        updatedAt: T0 + 2,
      });

      const input = [{ type: "text" as const, text: "now add tests" }];
      const followUp = {
        id: `turn_${randomUUID()}`,
        taskId: task.id,
        index: 1,
        input,
        attemptIds: [attemptIds[1]!],
      };
      expect(await store().tasks.addUserTurn(followUp, T0 + 3)).toEqual({ ...followUp, createdAt: T0 + 3 });
      expect((await store().tasks.userTurns(task.id)).map((t) => t.index)).toEqual([0, 1]);
      await expect(
        store().tasks.addUserTurn({ ...followUp, id: `turn_${randomUUID()}` }, T0 + 4),
      ).rejects.toMatchObject({ code: "conflict" });
      await expect(
        store().tasks.addUserTurn({ ...followUp, index: 2, attemptIds: other.attemptIds }, T0 + 4),
      ).rejects.toMatchObject({ code: "invalid_request" });
      await expect(
        store().tasks.addUserTurn(
          { ...followUp, id: `turn_${randomUUID()}`, taskId: "task_missing", index: 2, attemptIds: [] },
          T0 + 4,
        ),
      ).rejects.toMatchObject({ code: "not_found" });
    });

    it("a run is created and replaced by id, big diffs whole, and runs are ordered by time then attempt", async () => {
      const user = await newUser();
      const env = await newEnvironment(user.id);
      const { task, attemptIds } = await newTask(user.id, env.id, { bestOfN: 2 });
      const [userTurn] = await store().tasks.userTurns(task.id);
      const run = (attempt: number, createdAt: number): StoredAssistantTurn => ({
        id: `turn_${randomUUID()}`,
        taskId: task.id,
        attemptId: attemptIds[attempt]!,
        userTurnId: userTurn!.id,
        status: "running",
        createdAt,
        updatedAt: createdAt,
      });
      // Inserted out of order: attempt 1's run first, and a later one before both.
      const late = run(0, T0 + 10);
      const second = run(1, T0 + 1);
      const first = run(0, T0 + 1);
      for (const r of [late, second, first]) await store().tasks.putAssistantTurn(r);
      expect(await store().tasks.assistantTurns(task.id)).toEqual([first, second, late]);

      const diff = `diff --git a/big b/big\n${"+ a line of a large change\n".repeat(80_000)}`;
      const done: StoredAssistantTurn = {
        ...first,
        status: "completed",
        message: "Done.",
        diff,
        diffStats: { filesModified: 1, linesAdded: 80_000, linesRemoved: 0 },
        files: [{ path: "big", kind: "added", additions: 80_000, deletions: 0, binary: false }],
        pr: { title: "Add big", body: "It is big." },
        usage: {
          inputTokens: 10,
          cachedInputTokens: 0,
          outputTokens: 5,
          reasoningOutputTokens: 0,
          totalTokens: 15,
        },
        error: { code: "internal", message: "warned", retryable: false },
        updatedAt: T0 + 20,
        finishedAt: T0 + 20,
      };
      await store().tasks.putAssistantTurn(done);
      expect(await store().tasks.assistantTurns(task.id)).toEqual([done, second, late]);

      const other = await newTask(user.id, env.id);
      const [otherTurn] = await store().tasks.userTurns(other.task.id);
      await expect(
        store().tasks.putAssistantTurn({
          ...first,
          taskId: other.task.id,
          attemptId: other.attemptIds[0]!,
          userTurnId: otherTurn!.id,
        }),
      ).rejects.toMatchObject({ code: "conflict" });
      await expect(
        store().tasks.putAssistantTurn({ ...run(0, T0), attemptId: other.attemptIds[0]! }),
      ).rejects.toMatchObject({ code: "not_found" });
      expect(await store().tasks.assistantTurns(other.task.id)).toEqual([]);
    });
  });

  describe("task events", () => {
    const status = (s: "running" | "completed"): { at: number; event: TaskEvent } => ({
      at: T0,
      event: { type: "task/status", status: s },
    });

    it("events get seq 1, 2, 3 … and are read back after a seq, in order, up to a limit", async () => {
      const user = await newUser();
      const env = await newEnvironment(user.id);
      const { task, attemptIds } = await newTask(user.id, env.id);
      expect(await store().tasks.eventsAfter(user.id, task.id, 0)).toEqual([]);
      const phase: TaskEvent = {
        type: "environment/phase",
        phase: "setup",
        status: "skipped",
        cacheKey: "k",
      };
      const appended = await store().tasks.appendEvents(task.id, [
        status("running"),
        { at: T0 + 1, event: phase },
        { at: T0 + 2, event: { type: "attempt/status", attemptId: attemptIds[0]!, status: "running" } },
      ]);
      expect(appended).toEqual([
        { seq: 1, taskId: task.id, ...status("running") },
        { seq: 2, taskId: task.id, at: T0 + 1, event: phase },
        {
          seq: 3,
          taskId: task.id,
          at: T0 + 2,
          event: { type: "attempt/status", attemptId: attemptIds[0], status: "running" },
        },
      ]);
      expect(await store().tasks.eventsAfter(user.id, task.id, 0)).toEqual(appended);
      expect(await store().tasks.eventsAfter(user.id, task.id, 1, 1)).toEqual([appended[1]]);
      expect(await store().tasks.eventsAfter(user.id, task.id, 3)).toEqual([]);
      expect((await store().tasks.get(user.id, task.id))?.lastSeq).toBe(3);
      expect(await store().tasks.appendEvents(task.id, [])).toEqual([]);
      await expect(store().tasks.appendEvents("task_missing", [status("running")])).rejects.toMatchObject({
        code: "not_found",
      });
    });

    it("twenty concurrent appends of five events each get seqs 1 to 100 with no gaps or duplicates", async () => {
      const user = await newUser();
      const env = await newEnvironment(user.id);
      const { task } = await newTask(user.id, env.id);
      const batches = await Promise.all(
        Array.from({ length: 20 }, (_, b) =>
          store().tasks.appendEvents(
            task.id,
            Array.from({ length: 5 }, (_, i) => ({
              at: T0,
              event: { type: "environment/log" as const, phase: "setup" as const, text: `${b}:${i}` },
            })),
          ),
        ),
      );
      for (const [b, batch] of batches.entries()) {
        const start = batch[0]?.seq ?? 0;
        expect(batch.map((e) => e.seq)).toEqual([start, start + 1, start + 2, start + 3, start + 4]);
        expect(batch.map((e) => (e.event.type === "environment/log" ? e.event.text : ""))).toEqual(
          Array.from({ length: 5 }, (_, i) => `${b}:${i}`),
        );
      }
      const stored = await store().tasks.eventsAfter(user.id, task.id, 0, 1000);
      expect(stored?.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(stored).toEqual(batches.flat().sort((a, b) => a.seq - b.seq));
    });
  });
}
