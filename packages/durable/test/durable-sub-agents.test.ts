// Sub-agents on Restate, end to end: a real restate-server (from npm), real PostgreSQL
// (KILN_TEST_PG_URL), workers as child processes behind a TCP balancer, the fake model server, a real
// temp git workspace and bwrap. A parent turn spawns a child, which must run as a call to another
// KilnThread object (its own invocation, its own journal, its own stored events), survive the SIGKILL
// of the worker running it without running its command twice, and report back to the parent.
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  freePort,
  type RestateServer,
  registerDeployment,
  startRestateServer,
  submitTurn,
} from "@kiln/durable";
import { type EventEnvelope, newId } from "@kiln/protocol";
import { createPostgresTestDatabase, type KilnStore, openStore, type TestDatabase } from "@kiln/store";
import {
  createTempGitRepo,
  type FakeModelServer,
  startFakeModelServer,
  type TempGitRepo,
} from "@kiln/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpBalancer, type TcpBalancer } from "./tcp-balancer.ts";
import { spawnWorker, waitFor } from "./worker-harness.ts";

const pgUrl = process.env.KILN_TEST_PG_URL || undefined;

describe.skipIf(pgUrl === undefined)(
  `sub-agents on Restate${pgUrl === undefined ? " — SKIPPED: KILN_TEST_PG_URL is not set (scripts/pg-test-cluster.sh start)" : ""}`,
  () => {
    let db: TestDatabase;
    let store: KilnStore;
    let userId: string;
    let model: FakeModelServer;
    let home: string;
    let repo: TempGitRepo;
    let restate: RestateServer;
    let balancer: TcpBalancer;
    const workers = new Map<number, ChildProcess>();

    beforeAll(async () => {
      db = await createPostgresTestDatabase(pgUrl ?? "");
      store = await openStore(db.url);
      userId = `usr_${newId("thr").slice(4)}`;
      await store.users.create({ id: userId, username: "durable", role: "user", passwordHash: "x", now: 1 });
      model = await startFakeModelServer({ scenario: { steps: [] } });
      home = await mkdtemp(join(tmpdir(), "kiln-durable-home-"));
      repo = await createTempGitRepo({ "a.txt": "alpha\n" });
      restate = await startRestateServer({ baseDir: await mkdtemp(join(tmpdir(), "kiln-restate-")) });
      balancer = await startTcpBalancer([]);
    });
    afterAll(async () => {
      for (const child of workers.values()) child.kill("SIGKILL");
      await balancer?.close();
      await restate?.stop();
      await repo?.cleanup();
      await rm(home, { recursive: true, force: true });
      await model?.close();
      await store?.close();
      await db?.drop();
    });

    async function startWorker(behindBalancer: boolean): Promise<number> {
      const port = await freePort();
      workers.set(port, await spawnWorker({ port, dbUrl: db.url, kilnHome: home, modelUrl: model.url }));
      if (behindBalancer) balancer.upstreams.push(port);
      return port;
    }

    function killWorker(port: number): void {
      workers.get(port)?.kill("SIGKILL");
      workers.delete(port);
      balancer.upstreams.splice(balancer.upstreams.indexOf(port), 1);
    }

    async function events(threadId: string): Promise<EventEnvelope[]> {
      return (await store.events.listAfter({ userId, threadId }, 0, 1000)) ?? [];
    }

    async function turnsCompleted(threadId: string, count: number): Promise<EventEnvelope[]> {
      await waitFor(`${count} turn(s) of ${threadId} completed`, async () => {
        const list = await events(threadId);
        return list.filter((e) => e.event.type === "turn/completed").length >= count;
      });
      return events(threadId);
    }

    /** Restate's own record of the invocations on a thread object (admin SQL introspection). */
    async function invocationsOf(threadId: string): Promise<{ id: string; invoked_by_id: string | null }[]> {
      const response = await fetch(new URL("/query", restate.adminUrl), {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({
          query: `SELECT id, invoked_by_id FROM sys_invocation WHERE target_service_name = 'KilnThread' AND target_service_key = '${threadId}'`,
        }),
      });
      return ((await response.json()) as { rows: { id: string; invoked_by_id: string | null }[] }).rows;
    }

    const bodyOf = (i: number) => JSON.stringify(model.requests[i]?.body ?? "");

    it("runs a sub-agent as a call to its own thread object, across a worker SIGKILL, running its command once", async () => {
      const first = await startWorker(true);
      const second = await startWorker(false);
      await registerDeployment(restate.adminUrl, balancer.url);
      const usage = { input_tokens: 10, output_tokens: 1 };
      model.setScenario({
        steps: [
          {
            when: { bodyIncludes: "PARENT-TASK" },
            output: [
              { type: "function_call", name: "spawn_agent", arguments: { message: "CHILD-TASK: count" } },
            ],
            usage,
          },
          {
            when: { bodyIncludes: "PARENT-TASK" },
            output: [{ type: "function_call", name: "wait_agent", arguments: {} }],
            usage,
          },
          {
            when: { bodyIncludes: "PARENT-TASK" },
            output: [{ type: "message", text: "The child counted." }],
            usage,
          },
          {
            when: { bodyIncludes: "CHILD-TASK" },
            output: [{ type: "exec_command", cmd: "echo child >> child.txt" }],
            usage: { input_tokens: 100, output_tokens: 5 },
          },
          // The crash window: the worker dies while this answer streams.
          {
            when: { bodyIncludes: "CHILD-TASK" },
            output: [{ type: "message", text: "counted once" }],
            usage: { input_tokens: 100, output_tokens: 5 },
            chunkDelayMs: 200,
          },
          {
            when: { bodyIncludes: "CHILD-TASK" },
            output: [{ type: "message", text: "counted once" }],
            usage: { input_tokens: 100, output_tokens: 5 },
          },
        ],
      });
      const parentId = newId("thr");
      const turnId = newId("turn");
      await submitTurn(restate.ingressUrl, parentId, {
        userId,
        turnId,
        input: "PARENT-TASK: delegate",
        thread: { cwd: repo.dir },
      });
      // A parent's later requests carry CHILD-TASK too (in its spawn_agent call): the child's do not carry PARENT-TASK.
      const childRequests = () =>
        model.requests.filter(
          (_, i) => bodyOf(i).includes("CHILD-TASK") && !bodyOf(i).includes("PARENT-TASK"),
        ).length;
      // The child's second model call starts once its command's step is journaled.
      await waitFor("the child's model call after its command", () => childRequests() >= 2);
      killWorker(first);
      balancer.upstreams.push(second);

      const list = await turnsCompleted(parentId, 1);
      expect(list.map((e) => e.seq)).toEqual(list.map((_, i) => i + 1));
      const done = list.at(-1)?.event;
      expect(done).toMatchObject({ type: "turn/completed", turnId, status: "completed" });
      // 3 parent calls of 11 tokens + the child's 2 calls of 105 (journaled: a re-run call counts once).
      expect(done?.type === "turn/completed" && done.usage.totalTokens).toBe(3 * 11 + 2 * 105);
      expect(await readFile(join(repo.dir, "child.txt"), "utf8")).toBe("child\n");

      const spawned = list.find((e) => e.event.type === "item/completed" && e.event.item.type === "subAgent");
      const childId =
        spawned?.event.type === "item/completed" && spawned.event.item.type === "subAgent"
          ? spawned.event.item.childThreadId
          : "";
      expect(childId).toMatch(/^thr_/);
      // The parent's stream shows the child's work and its end.
      expect(list.flatMap((e) => (e.event.type === "subAgent/item" ? [e.event.item.type] : []))).toEqual([
        "commandExecution",
        "agentMessage",
      ]);
      expect(list.find((e) => e.event.type === "subAgent/turnCompleted")?.event).toMatchObject({
        childThreadId: childId,
        status: "completed",
        finalResponse: "counted once",
      });
      // The model got the child's answer from wait_agent.
      const lastParent = model.requests
        .map((_, i) => bodyOf(i))
        .filter((b) => b.includes("PARENT-TASK"))
        .at(-1);
      expect(lastParent).toContain('\\"final_message\\":\\"counted once\\"');

      // The child is a thread of its own: its row (linked to the parent) and its own gap-free events.
      expect((await store.threads.get({ userId, threadId: childId }))?.info.parentThreadId).toBe(parentId);
      const childEvents = await events(childId);
      expect(childEvents.map((e) => e.seq)).toEqual(childEvents.map((_, i) => i + 1));
      expect(childEvents.filter((e) => e.event.type === "turn/completed")).toHaveLength(1);
      // …and Restate ran it as its own invocation, called by the parent's.
      const [parentInvocation] = await invocationsOf(parentId);
      const childInvocations = await invocationsOf(childId);
      expect(childInvocations).toEqual([{ id: expect.any(String), invoked_by_id: parentInvocation?.id }]);
    });

    it("lets a later turn of the parent wait for a sub-agent spawned in an earlier one", async () => {
      if (balancer.upstreams.length === 0) await startWorker(true);
      await registerDeployment(restate.adminUrl, balancer.url);
      model.setScenario({
        steps: [
          {
            when: { bodyIncludes: "FIRST-TURN" },
            output: [{ type: "function_call", name: "spawn_agent", arguments: { message: "SLOW-CHILD" } }],
          },
          { when: { bodyIncludes: "FIRST-TURN" }, output: [{ type: "message", text: "spawned" }] },
          // A parent's request carries SLOW-CHILD too (its spawn_agent call): its steps come first.
          {
            when: { bodyIncludes: "SECOND-TURN" },
            output: [{ type: "function_call", name: "wait_agent", arguments: {} }],
          },
          { when: { bodyIncludes: "SECOND-TURN" }, output: [{ type: "message", text: "waited" }] },
          {
            when: { bodyIncludes: "SLOW-CHILD" },
            output: [{ type: "exec_command", cmd: "sleep 1; echo slow >> slow.txt" }],
          },
          { when: { bodyIncludes: "SLOW-CHILD" }, output: [{ type: "message", text: "slow child done" }] },
        ],
      });
      const parentId = newId("thr");
      await submitTurn(restate.ingressUrl, parentId, {
        userId,
        turnId: newId("turn"),
        input: "FIRST-TURN",
        thread: { cwd: repo.dir },
      });
      await turnsCompleted(parentId, 1);
      expect(await readFile(join(repo.dir, "slow.txt"), "utf8").catch(() => "")).toBe("");
      await submitTurn(restate.ingressUrl, parentId, { userId, turnId: newId("turn"), input: "SECOND-TURN" });
      const list = await turnsCompleted(parentId, 2);
      expect(list.at(-1)?.event).toMatchObject({ type: "turn/completed", status: "completed" });
      expect(await readFile(join(repo.dir, "slow.txt"), "utf8")).toBe("slow\n");
      const waited = model.requests
        .map((_, i) => bodyOf(i))
        .filter((b) => b.includes("SECOND-TURN"))
        .at(-1);
      expect(waited).toContain('\\"status\\":\\"completed\\",\\"final_message\\":\\"slow child done\\"');
    });
  },
);
