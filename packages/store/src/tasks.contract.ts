// The behaviour of the task service's repositories (environments, tasks and their runs, sandboxes)
// on every database, as one suite that sqlite.test.ts and postgres.test.ts run. Like
// store.contract.ts, each test makes its own users, so the tests stay independent on one database.
import { randomUUID } from "node:crypto";
import { type KilnError, newId } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeEnvironmentContract } from "./environments.contract.ts";
import type { KilnStore, StoredTask } from "./kiln-store.ts";
import { openStore } from "./open-store.ts";
import { encodeTaskCursor } from "./repos/task-cursor.ts";
import { describeSandboxContract } from "./sandboxes.contract.ts";
import { createTaskFixtures, T0 } from "./task-fixtures.ts";
import { describeTaskRunContract } from "./task-runs.contract.ts";
import type { TestDatabase } from "./test-database.ts";

/** Defines the task-service contract suite for one database; `newDatabase` makes an empty one. */
export function describeTaskStoreContract(name: string, newDatabase: () => Promise<TestDatabase>): void {
  describe(name, () => {
    let store: KilnStore;
    let database: TestDatabase | undefined;
    beforeAll(async () => {
      database = await newDatabase();
      store = await openStore(database.url);
    });
    afterAll(async () => {
      await store?.close();
      await database?.drop();
    });
    const fixtures = createTaskFixtures(() => store);
    const { newUser, newEnvironment, newTask } = fixtures;

    describeEnvironmentContract(fixtures);
    describeSandboxContract(fixtures);
    describeTaskRunContract(fixtures);

    describe("tasks", () => {
      it("a task is created with its queued attempts and its first user turn, and read back whole", async () => {
        const user = await newUser();
        const env = await newEnvironment(user.id);
        const attemptIds = ["a", "b", "c"].map((x) => `att_${x}_${randomUUID()}`);
        const id = newId("task", T0);
        const task = await store.tasks.create({
          task: {
            id,
            userId: user.id,
            environmentId: env.id,
            title: "Add dark mode",
            branch: "feature",
            bestOfN: 3,
            status: "queued",
            model: "gpt-test",
            approvalPolicy: "never",
            preApplyPatch: "diff --git a/x b/x\n",
            prompt: "add a dark mode toggle",
          },
          attemptIds,
          userTurn: {
            id: `turn_${randomUUID()}`,
            index: 0,
            input: [{ type: "text", text: "add a dark mode toggle" }],
          },
          now: T0,
        });
        const expected: StoredTask = {
          id,
          userId: user.id,
          environmentId: env.id,
          title: "Add dark mode",
          branch: "feature",
          bestOfN: 3,
          status: "queued",
          model: "gpt-test",
          approvalPolicy: "never",
          preApplyPatch: "diff --git a/x b/x\n",
          prompt: "add a dark mode toggle",
          archived: false,
          createdAt: T0,
          updatedAt: T0,
          lastSeq: 0,
        };
        expect(task).toEqual(expected);
        expect(await store.tasks.get(user.id, id)).toEqual(expected);
        expect(await store.tasks.getUnscoped(id)).toEqual(expected);
        expect(await store.tasks.attempts(id)).toEqual(
          attemptIds.map((attemptId, index) => ({
            id: attemptId,
            taskId: id,
            index,
            status: "queued",
            createdAt: T0,
            updatedAt: T0,
          })),
        );
        const [turn] = await store.tasks.userTurns(id);
        expect(turn).toEqual({
          id: turn?.id,
          taskId: id,
          index: 0,
          input: [{ type: "text", text: "add a dark mode toggle" }],
          attemptIds,
          createdAt: T0,
        });
      });

      it("a create that fails part-way leaves nothing behind", async () => {
        const user = await newUser();
        const env = await newEnvironment(user.id);
        const { attemptIds: taken } = await newTask(user.id, env.id);
        const id = newId("task", T0 + 1);
        const userTurn = {
          id: `turn_${randomUUID()}`,
          index: 0,
          input: [{ type: "text" as const, text: "x" }],
        };
        const base = {
          id,
          userId: user.id,
          environmentId: env.id,
          title: "t",
          branch: "main",
          status: "queued",
          prompt: "x",
        };
        // The second attempt id is another task's: the task row and the first attempt must go too.
        const fresh = `att_${randomUUID()}`;
        await expect(
          store.tasks.create({
            task: { ...base, bestOfN: 2 },
            attemptIds: [fresh, taken[0]!],
            userTurn,
            now: T0 + 1,
          }),
        ).rejects.toMatchObject({
          code: "conflict",
          message: `one of the attempt ids ${fresh}, ${taken[0]} is already taken`,
        });
        expect(await store.tasks.getUnscoped(id)).toBeUndefined();
        expect(await store.tasks.attempts(id)).toEqual([]);
        expect((await store.environments.get(user.id, env.id))?.taskCount).toBe(1);

        await expect(
          store.tasks.create({ task: { ...base, bestOfN: 2 }, attemptIds: [fresh], userTurn, now: T0 + 1 }),
        ).rejects.toMatchObject({ code: "invalid_request" });
        await expect(
          store.tasks.create({
            task: { ...base, bestOfN: 2 },
            attemptIds: [fresh, fresh],
            userTurn,
            now: T0 + 1,
          }),
        ).rejects.toMatchObject({ code: "invalid_request" });

        // Every id it used is free again.
        const task = await store.tasks.create({
          task: { ...base, bestOfN: 1 },
          attemptIds: [fresh],
          userTurn,
          now: T0 + 1,
        });
        expect(task.id).toBe(id);
        expect((await store.tasks.userTurns(id)).map((t) => t.id)).toEqual([userTurn.id]);
      });

      it("another user can neither see, list, find, rename, archive nor read the events of a task", async () => {
        const owner = await newUser();
        const intruder = await newUser();
        const env = await newEnvironment(owner.id);
        const { task } = await newTask(owner.id, env.id, { title: "secret plans" });
        await store.tasks.appendEvents(task.id, [
          { at: T0, event: { type: "task/status", status: "running" } },
        ]);

        expect(await store.tasks.get(intruder.id, task.id)).toBeUndefined();
        expect(await store.tasks.list(intruder.id)).toEqual({ tasks: [] });
        expect(await store.tasks.list(intruder.id, { search: "secret" })).toEqual({ tasks: [] });
        expect(await store.tasks.list(intruder.id, { environmentId: env.id })).toEqual({ tasks: [] });
        expect(await store.tasks.rename(intruder.id, task.id, "mine", T0 + 1)).toBeUndefined();
        expect(await store.tasks.setArchived(intruder.id, task.id, true, T0 + 1)).toBeUndefined();
        expect(await store.tasks.eventsAfter(intruder.id, task.id, 0)).toBeUndefined();
        expect(await store.tasks.get(owner.id, task.id)).toEqual({ ...task, lastSeq: 1 });
      });

      it("a listing pages newest first with ties broken by id, unshifted by tasks created meanwhile", async () => {
        const user = await newUser();
        const env = await newEnvironment(user.id);
        const times = [T0 + 1, T0 + 2, T0 + 3, T0 + 3, T0 + 3, T0 + 3, T0 + 4];
        const made: StoredTask[] = [];
        for (const now of times) made.push((await newTask(user.id, env.id, { now })).task);
        const expected = [...made]
          .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
          .map((t) => t.id);

        const first = await store.tasks.list(user.id, { limit: 3 });
        expect(first.tasks.map((t) => t.id)).toEqual(expected.slice(0, 3));
        await newTask(user.id, env.id, { now: T0 + 100 });
        const seen = first.tasks.map((t) => t.id);
        let cursor = first.nextCursor;
        while (cursor !== undefined) {
          const page = await store.tasks.list(user.id, { limit: 3, cursor });
          seen.push(...page.tasks.map((t) => t.id));
          cursor = page.nextCursor;
        }
        expect(seen).toEqual(expected);
        expect((await store.tasks.list(user.id, { limit: 0 })).tasks).toHaveLength(1);
        expect((await store.tasks.list(user.id, { limit: 10_000 })).nextCursor).toBeUndefined();
      });

      it("a cursor that is not one a listing gave is invalid_request", async () => {
        const user = await newUser();
        for (const cursor of ["", "not a cursor!", Buffer.from("[1]").toString("base64url")]) {
          const error = await store.tasks.list(user.id, { cursor }).catch((e: unknown) => e);
          expect((error as KilnError).toInfo()).toEqual({
            code: "invalid_request",
            message: "the cursor is not valid: pass the nextCursor of the previous page unchanged",
            retryable: false,
            details: { field: "cursor" },
          });
        }
        const valid = encodeTaskCursor({ createdAt: T0, id: "task_anything" });
        expect(await store.tasks.list(user.id, { cursor: valid })).toEqual({ tasks: [] });
      });

      it("a listing filters by status, environment, archived, and title or prompt ignoring case, with % and _ literal", async () => {
        const user = await newUser();
        const web = await newEnvironment(user.id);
        const api = await newEnvironment(user.id);
        const ids = async (query: Parameters<KilnStore["tasks"]["list"]>[1]) =>
          (await store.tasks.list(user.id, query)).tasks.map((t) => t.id);
        const unicode = (await newTask(user.id, web.id, { title: "Fix the Ünïcode Parser", now: T0 + 1 }))
          .task;
        const percent = (await newTask(user.id, web.id, { prompt: "raise coverage to 100%", now: T0 + 2 }))
          .task;
        const under = (
          await newTask(user.id, api.id, { title: "rename snake_case", status: "running", now: T0 + 3 })
        ).task;
        const plain = (await newTask(user.id, api.id, { title: "x", prompt: "100 snakeXcase", now: T0 + 4 }))
          .task;
        await store.tasks.setArchived(user.id, percent.id, true, T0 + 5);

        expect(await ids({ search: "ÜNÏCODE parser" })).toEqual([unicode.id]);
        expect(await ids({ search: "100%" })).toEqual([percent.id]);
        expect(await ids({ search: "snake_case" })).toEqual([under.id]);
        expect(await ids({ search: "" })).toEqual([plain.id, under.id, percent.id, unicode.id]);
        expect(await ids({ status: "running" })).toEqual([under.id]);
        expect(await ids({ environmentId: web.id })).toEqual([percent.id, unicode.id]);
        expect(await ids({ environmentId: web.id, archived: false })).toEqual([unicode.id]);
        expect(await ids({ archived: true })).toEqual([percent.id]);
        expect(await ids({ environmentId: api.id, search: "SNAKE" })).toEqual([plain.id, under.id]);
      });

      it("an update changes only the given fields, error null clears it, and listByStatus finds tasks", async () => {
        const user = await newUser();
        const env = await newEnvironment(user.id);
        const { task } = await newTask(user.id, env.id, { status: "provisioning" });
        const error = { code: "sandbox_unavailable" as const, message: "setup failed", retryable: false };
        expect(
          await store.tasks.update(task.id, { status: "failed", baseCommit: "abc123", error }, T0 + 1),
        ).toBe(true);
        expect(await store.tasks.get(user.id, task.id)).toEqual({
          ...task,
          status: "failed",
          baseCommit: "abc123",
          error,
          updatedAt: T0 + 1,
        });
        expect(await store.tasks.update(task.id, { error: null, title: "Renamed" }, T0 + 2)).toBe(true);
        expect(await store.tasks.get(user.id, task.id)).toEqual({
          ...task,
          title: "Renamed",
          status: "failed",
          baseCommit: "abc123",
          updatedAt: T0 + 2,
        });
        expect((await store.tasks.list(user.id, { search: "renamed" })).tasks.map((t) => t.id)).toEqual([
          task.id,
        ]);
        expect(await store.tasks.update("task_missing", { status: "failed" }, T0)).toBe(false);

        expect(await store.tasks.rename(user.id, task.id, "Again", T0 + 3)).toMatchObject({ title: "Again" });
        expect(await store.tasks.setArchived(user.id, task.id, true, T0 + 4)).toMatchObject({
          archived: true,
        });
        expect(await store.tasks.setArchived(user.id, task.id, false, T0 + 5)).toMatchObject({
          archived: false,
          updatedAt: T0 + 5,
        });
        const running = (await newTask(user.id, env.id, { status: "running" })).task;
        const found = await store.tasks.listByStatus(["running", "failed"]);
        expect(found.map((t) => t.id)).toEqual(expect.arrayContaining([task.id, running.id]));
        expect(found.every((t) => t.status === "running" || t.status === "failed")).toBe(true);
        expect(await store.tasks.listByStatus([])).toEqual([]);
      });
    });
  });
}
