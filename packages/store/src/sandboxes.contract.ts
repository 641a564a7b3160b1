// The sandbox repository's part of the task-service contract (run from tasks.contract.ts).
import { randomUUID } from "node:crypto";
import { KilnError } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import type { StoredSandbox } from "./kiln-store.ts";
import { T0, type TaskFixtures } from "./task-fixtures.ts";

const MINUTE = 60_000;

/** Defines the sandbox tests inside a store suite. */
export function describeSandboxContract({ store, newUser }: TaskFixtures): void {
  const newSandbox = (userId: string, options: { state?: string; now?: number } = {}) =>
    store().sandboxes.create({
      id: `sbx_${randomUUID()}`,
      userId,
      taskId: "task_1",
      attemptId: "att_1",
      threadId: "thr_1",
      workspace: `/data/workspaces/${randomUUID()}`,
      network: "off",
      state: options.state ?? "running",
      createdAt: options.now ?? T0,
      now: options.now ?? T0,
    });

  describe("sandboxes", () => {
    it("a sandbox is stored whole, listed newest first, and hidden from other users", async () => {
      const user = await newUser();
      const intruder = await newUser();
      const first = await newSandbox(user.id);
      expect(first).toEqual({
        id: first.id,
        userId: user.id,
        taskId: "task_1",
        attemptId: "att_1",
        threadId: "thr_1",
        workspace: first.workspace,
        network: "off",
        state: "running",
        createdAt: T0,
        startedAt: T0,
        lastActiveAt: T0,
      } satisfies StoredSandbox);
      const bare = await store().sandboxes.create({
        id: `sbx_${randomUUID()}`,
        userId: user.id,
        workspace: "/w",
        network: "on",
        state: "stopped",
        createdAt: T0 + 1,
        now: T0 + 1,
      });
      expect(bare).toEqual({
        id: bare.id,
        userId: user.id,
        workspace: "/w",
        network: "on",
        state: "stopped",
        createdAt: T0 + 1,
        lastActiveAt: T0 + 1,
      });
      expect(await store().sandboxes.get(user.id, first.id)).toEqual(first);
      expect(await store().sandboxes.getUnscoped(first.id)).toEqual(first);
      expect(await store().sandboxes.list(user.id)).toEqual([bare, first]);
      expect(await store().sandboxes.get(intruder.id, first.id)).toBeUndefined();
      expect(await store().sandboxes.list(intruder.id)).toEqual([]);
      await expect(
        store().sandboxes.create({ ...bare, id: first.id, createdAt: T0 + 2, now: T0 + 2 }),
      ).rejects.toMatchObject({ code: "conflict", message: `a sandbox ${first.id} already exists` });
    });

    it("starting sets startedAt, stopping clears it, and activity never moves lastActiveAt back", async () => {
      const user = await newUser();
      const sandbox = await newSandbox(user.id, { state: "stopped" });
      const read = () => store().sandboxes.getUnscoped(sandbox.id);
      expect(await store().sandboxes.setState(sandbox.id, "running", T0 + MINUTE)).toBe(true);
      expect(await read()).toEqual({
        ...sandbox,
        state: "running",
        startedAt: T0 + MINUTE,
        lastActiveAt: T0 + MINUTE,
      });
      // Already running: started when it started.
      await store().sandboxes.setState(sandbox.id, "running", T0 + 2 * MINUTE);
      await store().sandboxes.touch(sandbox.id, T0 + 5 * MINUTE);
      await store().sandboxes.touch(sandbox.id, T0 + 3 * MINUTE);
      expect(await read()).toEqual({
        ...sandbox,
        state: "running",
        startedAt: T0 + MINUTE,
        lastActiveAt: T0 + 5 * MINUTE,
      });
      expect(await store().sandboxes.setState(sandbox.id, "stopped", T0 + 20 * MINUTE)).toBe(true);
      expect(await read()).toEqual({ ...sandbox, state: "stopped", lastActiveAt: T0 + 5 * MINUTE });
      expect(await store().sandboxes.setState("sbx_missing", "running", T0)).toBe(false);
    });

    it("idle sandboxes are the running ones last active before the time given", async () => {
      const user = await newUser();
      const idle = await newSandbox(user.id, { now: T0 - 30 * MINUTE });
      const busy = await newSandbox(user.id, { now: T0 - 30 * MINUTE });
      const stopped = await newSandbox(user.id, { state: "stopped", now: T0 - 60 * MINUTE });
      const edge = await newSandbox(user.id, { now: T0 - 15 * MINUTE });
      await store().sandboxes.touch(busy.id, T0 - MINUTE);
      const mine = new Set([idle.id, busy.id, stopped.id, edge.id]);
      const found = await store().sandboxes.listIdle(T0 - 15 * MINUTE);
      expect(found.filter((s) => mine.has(s.id))).toEqual([idle]);
      expect(found.every((s) => s.state === "running" && s.lastActiveAt < T0 - 15 * MINUTE)).toBe(true);
    });

    it("a capability token is found until it expires, only for its user's sandbox, and expired ones are swept", async () => {
      const user = await newUser();
      const other = await newUser();
      const sandbox = await newSandbox(user.id);
      const token = {
        tokenHash: `hash-${randomUUID()}`,
        sandboxId: sandbox.id,
        userId: user.id,
        createdAt: T0,
        expiresAt: T0 + 24 * 60 * MINUTE,
      };
      await store().sandboxes.createToken(token);
      expect(await store().sandboxes.findToken(token.tokenHash, T0 + MINUTE)).toEqual(token);
      expect(await store().sandboxes.findToken(token.tokenHash, token.expiresAt - 1)).toEqual(token);
      expect(await store().sandboxes.findToken(token.tokenHash, token.expiresAt)).toBeUndefined();
      expect(await store().sandboxes.findToken("hash-unknown", T0)).toBeUndefined();

      await expect(store().sandboxes.createToken(token)).rejects.toMatchObject({ code: "conflict" });
      const error = await store()
        .sandboxes.createToken({ ...token, tokenHash: `hash-${randomUUID()}`, userId: other.id })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KilnError);
      expect((error as KilnError).toInfo()).toEqual({
        code: "not_found",
        message: `user ${other.id} has no sandbox ${sandbox.id}`,
        retryable: false,
      });

      const short = { ...token, tokenHash: `hash-${randomUUID()}`, expiresAt: T0 + MINUTE };
      await store().sandboxes.createToken(short);
      expect(await store().sandboxes.deleteExpiredTokens(T0 + 2 * MINUTE)).toBeGreaterThanOrEqual(1);
      expect(await store().sandboxes.findToken(short.tokenHash, T0)).toBeUndefined();
      expect(await store().sandboxes.findToken(token.tokenHash, T0)).toEqual(token);
    });
  });
}
