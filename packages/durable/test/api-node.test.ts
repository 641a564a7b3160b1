// The scale-out check of issue 7, end to end over HTTP: one API node (`kiln serve --engine restate`,
// the bundled CLI as a child process), two workers (child processes behind a TCP balancer, as behind
// a Kubernetes Service), a real restate-server (from npm) and a real PostgreSQL (KILN_TEST_PG_URL),
// the fake model server, real temp git workspaces and bwrap. Ten scripted turns are started over the
// API node's HTTP API; one worker is SIGKILLed mid-turn, then restate-server is SIGKILLed and
// started again. Every turn must complete, no command may run twice, and the API node must stream
// the events the workers stored (PostgreSQL LISTEN/NOTIFY) with seq resume.
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  freePort,
  type RestateServer,
  registerDeployment,
  runningInvocation,
  startRestateServer,
} from "@kiln/durable";
import { createPostgresTestDatabase, type TestDatabase } from "@kiln/store";
import {
  createTempGitRepo,
  type FakeModelServer,
  startFakeModelServer,
  type TempGitRepo,
} from "@kiln/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpBalancer, type TcpBalancer } from "./tcp-balancer.ts";
import { type ApiNode, spawnWorker, startApiNode, waitFor } from "./worker-harness.ts";

const pgUrl = process.env.KILN_TEST_PG_URL || undefined;

describe.skipIf(pgUrl === undefined)(
  `an API node with two workers on Restate${pgUrl === undefined ? " — SKIPPED: KILN_TEST_PG_URL is not set (scripts/pg-test-cluster.sh start)" : ""}`,
  () => {
    let db: TestDatabase;
    let model: FakeModelServer;
    let home: string;
    let restate: RestateServer;
    let balancer: TcpBalancer;
    let api: ApiNode;
    const workers = new Map<number, ChildProcess>();
    const dirs: string[] = [];

    beforeAll(async () => {
      db = await createPostgresTestDatabase(pgUrl ?? "");
      model = await startFakeModelServer({ scenario: { steps: [] } });
      home = await mkdtemp(join(tmpdir(), "kiln-api-node-home-"));
      dirs.push(home);
      await writeFile(
        join(home, "config.toml"),
        `openai_base_url = "${model.url}"\n\n[model_providers.openai]\nretry_base_delay_ms = 10\n`,
      );
      const restateDir = await mkdtemp(join(tmpdir(), "kiln-restate-"));
      dirs.push(restateDir);
      restate = await startRestateServer({ baseDir: restateDir });
      balancer = await startTcpBalancer([]);
      await Promise.all([startWorker(), startWorker()]);
      await registerDeployment(restate.adminUrl, balancer.url);
      await startApi();
    }, 60_000);

    afterAll(async () => {
      api?.process.kill("SIGKILL");
      for (const child of workers.values()) child.kill("SIGKILL");
      await balancer?.close();
      await restate?.stop();
      await model?.close();
      await db?.drop();
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    });

    async function startWorker(): Promise<number> {
      const port = await freePort();
      workers.set(port, await spawnWorker({ port, dbUrl: db.url, kilnHome: home, modelUrl: model.url }));
      balancer.upstreams.push(port);
      return port;
    }

    async function startApi(): Promise<void> {
      const dataDir = await mkdtemp(join(tmpdir(), "kiln-api-node-data-"));
      dirs.push(dataDir);
      api = await startApiNode({ restate, dbUrl: db.url, kilnHome: home, dataDir, port: await freePort() });
    }

    const call = <T>(method: string, path: string, body?: unknown) => api.call<T>(method, path, body);
    const streamUntilCompleted = (threadId: string, after: number) => api.stream(threadId, { after });

    it("completes 10 turns started over HTTP through a worker SIGKILL and a restate-server SIGKILL, running no command twice, and streams them from PostgreSQL", async () => {
      const turns: { marker: string; repo: TempGitRepo; threadId: string; turnId: string }[] = [];
      for (let i = 0; i < 10; i++) {
        const repo = await createTempGitRepo({ "a.txt": "alpha\n" });
        dirs.push(repo.dir);
        const created = await call<{ id: string; status: string }>("POST", "/threads", { cwd: repo.dir });
        expect(created).toMatchObject({ status: 201, body: { status: "idle" } });
        turns.push({ marker: `thread-${i}-marker`, repo, threadId: created.body.id, turnId: "" });
      }
      model.setScenario({
        steps: turns.flatMap(({ marker }) => [
          {
            when: { bodyIncludes: marker },
            output: [{ type: "exec_command" as const, cmd: "echo ran >> count.txt" }],
          },
          {
            when: { bodyIncludes: marker },
            output: [{ type: "message" as const, text: "Counted." }],
            chunkDelayMs: 100,
          },
          // A model call cut off by a kill is made again (it has no side effects): once per kill.
          { when: { bodyIncludes: marker }, output: [{ type: "message" as const, text: "Counted." }] },
          { when: { bodyIncludes: marker }, output: [{ type: "message" as const, text: "Counted." }] },
        ]),
      });
      // A follower from before the first turn: every event reaches it live, through NOTIFY.
      const first = turns[0];
      if (first === undefined) throw new Error("no turns");
      const live = streamUntilCompleted(first.threadId, 0);
      for (const turn of turns) {
        const started = await call<{ turnId: string; status: string }>(
          "POST",
          `/threads/${turn.threadId}/turns`,
          { input: `count once (${turn.marker})` },
        );
        expect(started).toMatchObject({ status: 202, body: { status: "running" } });
        turn.turnId = started.body.turnId;
      }
      // One turn at a time per thread, across API nodes: the store knows the running turn.
      expect(await call("POST", `/threads/${first.threadId}/turns`, { input: "again" })).toMatchObject({
        status: 409,
        body: { error: { code: "conflict" } },
      });

      /** How many of the turns have not finished (the kills below must land mid-turn). */
      const unfinished = async () => {
        let n = 0;
        for (const turn of turns) {
          const got = await call<{ turns: { finishedAt?: number }[] }>("GET", `/threads/${turn.threadId}`);
          if (got.body.turns.some((t) => t.finishedAt === undefined)) n++;
        }
        return n;
      };
      await waitFor("some turns past their command", () => model.requests.length >= 12);
      expect(await unfinished()).toBeGreaterThan(0);
      const [victim] = workers.keys();
      if (victim === undefined) throw new Error("no worker");
      workers.get(victim)?.kill("SIGKILL");
      workers.delete(victim);
      balancer.upstreams.splice(balancer.upstreams.indexOf(victim), 1);
      await waitFor("more turns past their command", () => model.requests.length >= 18);
      expect(await unfinished()).toBeGreaterThan(0);
      await restate.kill();
      restate = await restate.restart();

      for (const turn of turns) {
        await waitFor(`turn ${turn.turnId} to finish`, async () => {
          const thread = await call<{ status: string; turns: { finishedAt?: number }[] }>(
            "GET",
            `/threads/${turn.threadId}`,
          );
          return thread.body.status === "idle" && thread.body.turns.every((t) => t.finishedAt !== undefined);
        });
        const thread = await call<{ turns: { id: string; status: string; error?: unknown }[] }>(
          "GET",
          `/threads/${turn.threadId}`,
        );
        expect(thread.body.turns.map((t) => ({ id: t.id, status: t.status, error: t.error }))).toEqual([
          { id: turn.turnId, status: "completed" },
        ]);
        // Resume from seq 2: the backlog comes from the store, in order, up to turn/completed.
        const resumed = await streamUntilCompleted(turn.threadId, 2);
        expect(resumed.map((e) => e.seq)).toEqual(resumed.map((_, i) => i + 3));
        expect(resumed.at(-1)?.event).toMatchObject({ type: "turn/completed", turnId: turn.turnId });
        const commands = resumed.filter(
          (e) => e.event.type === "item/completed" && e.event.item.type === "commandExecution",
        );
        // A command cut off by a kill is reported to the model, never run again: its side effect
        // (a line in count.txt) happens at most once, and exactly once when it was not cut off.
        const count = await readFile(join(turn.repo.dir, "count.txt"), "utf8").catch(() => "");
        const interrupted = resumed.some(
          (e) => e.event.type === "warning" && e.event.message.includes("was interrupted"),
        );
        expect({ count, interrupted, commands: commands.length }).toEqual(
          interrupted
            ? { count: expect.stringMatching(/^(ran\n)?$/), interrupted, commands: expect.any(Number) }
            : { count: "ran\n", interrupted, commands: 1 },
        );
        expect(commands.length).toBeLessThanOrEqual(1);
      }
      const streamed = await live;
      expect(streamed.map((e) => e.seq)).toEqual(streamed.map((_, i) => i + 1));
      expect(streamed.at(-1)?.event).toMatchObject({
        type: "turn/completed",
        turnId: first.turnId,
        status: "completed",
      });
    }, 90_000);

    it("interrupts a running turn over HTTP by cancelling its invocation, which any API node can look up", async () => {
      const repo = await createTempGitRepo({ "a.txt": "alpha\n" });
      dirs.push(repo.dir);
      const thread = await call<{ id: string }>("POST", "/threads", { cwd: repo.dir });
      model.setScenario({
        steps: [
          {
            output: [
              { type: "exec_command", cmd: "echo started >> count.txt; sleep 20; echo slept >> count.txt" },
            ],
          },
        ],
      });
      const started = await call<{ turnId: string }>("POST", `/threads/${thread.body.id}/turns`, {
        input: "sleep",
      });
      await waitFor("the command to start", async () =>
        (await readFile(join(repo.dir, "count.txt"), "utf8").catch(() => "")).includes("started"),
      );
      expect(await runningInvocation(restate.adminUrl, thread.body.id)).toMatch(/^inv_/);
      const cancelledAt = Date.now();
      expect(await call("POST", `/threads/${thread.body.id}/interrupt`)).toEqual({
        status: 202,
        body: { threadId: thread.body.id, turnId: started.body.turnId },
      });
      const events = await streamUntilCompleted(thread.body.id, 0);
      expect(Date.now() - cancelledAt).toBeLessThan(5_000);
      expect(events.at(-1)?.event).toMatchObject({
        type: "turn/completed",
        turnId: started.body.turnId,
        status: "interrupted",
      });
      await waitFor("the turn's row to finish", async () => {
        const got = await call<{ status: string; turns: { status: string }[] }>(
          "GET",
          `/threads/${thread.body.id}`,
        );
        return got.body.status === "idle" && got.body.turns[0]?.status === "interrupted";
      });
      expect(await readFile(join(repo.dir, "count.txt"), "utf8")).toBe("started\n");
      // The invocation completes just after it stored the turn's end.
      await waitFor("the invocation to complete", async () => {
        return (await runningInvocation(restate.adminUrl, thread.body.id)) === undefined;
      });
    });

    it("closes a turn whose invocation was killed through Restate's admin API, and the thread takes new turns after it", async () => {
      const repo = await createTempGitRepo({ "a.txt": "alpha\n" });
      dirs.push(repo.dir);
      const thread = await call<{ id: string }>("POST", "/threads", { cwd: repo.dir });
      const threadId = thread.body.id;
      model.setScenario({
        steps: [
          { output: [{ type: "exec_command", cmd: "echo started >> count.txt; sleep 30" }] },
          { output: [{ type: "message", text: "again" }] },
        ],
      });
      const started = await call<{ turnId: string }>("POST", `/threads/${threadId}/turns`, {
        input: "sleep",
      });
      await waitFor("the command to start", async () =>
        (await readFile(join(repo.dir, "count.txt"), "utf8").catch(() => "")).includes("started"),
      );
      const invocationId = await runningInvocation(restate.adminUrl, threadId);
      const killed = await fetch(`${restate.adminUrl}/invocations/${invocationId}/kill`, { method: "PATCH" });
      expect(killed.ok).toBe(true);
      await waitFor("the killed invocation to be gone", async () => {
        return (await runningInvocation(restate.adminUrl, threadId)) === undefined;
      });
      // Killed, the turn never finished: a new one is refused until it is closed.
      expect((await call("POST", `/threads/${threadId}/turns`, { input: "next" })).status).toBe(409);
      expect(await call("POST", `/threads/${threadId}/interrupt`)).toEqual({
        status: 202,
        body: { threadId, turnId: started.body.turnId },
      });
      const next = await call<{ turnId: string }>("POST", `/threads/${threadId}/turns`, { input: "next" });
      expect(next.status).toBe(202);
      await waitFor("the next turn to finish", async () => {
        const got = await call<{ status: string; turns: { finishedAt?: number }[] }>(
          "GET",
          `/threads/${threadId}`,
        );
        return got.body.turns.length === 2 && got.body.turns.every((t) => t.finishedAt !== undefined);
      });
      const events = await streamUntilCompleted(threadId, 0);
      expect(events.at(-1)?.event).toMatchObject({
        type: "turn/completed",
        turnId: started.body.turnId,
        status: "interrupted",
        error: { message: expect.stringContaining("killed outside Kiln") },
      });
      const after = await streamUntilCompleted(threadId, events.at(-1)?.seq ?? 0);
      expect(after.at(-1)?.event).toMatchObject({
        type: "turn/completed",
        turnId: next.body.turnId,
        status: "completed",
      });
      const all = [...events, ...after];
      expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    });

    it("steers a running turn over HTTP: the model gets the input at its next call, and the thread's stream shows it", async () => {
      const repo = await createTempGitRepo({ "a.txt": "alpha\n" });
      dirs.push(repo.dir);
      const thread = await call<{ id: string }>("POST", "/threads", { cwd: repo.dir });
      model.setScenario({
        steps: [
          { output: [{ type: "exec_command", cmd: "echo started >> count.txt; sleep 1" }] },
          { output: [{ type: "message", text: "Steered." }] },
        ],
      });
      const started = await call<{ turnId: string }>("POST", `/threads/${thread.body.id}/turns`, {
        input: "work",
      });
      await waitFor("the command to start", async () =>
        (await readFile(join(repo.dir, "count.txt"), "utf8").catch(() => "")).includes("started"),
      );
      expect(
        await call("POST", `/threads/${thread.body.id}/steer`, { input: "STEER-MARK: also check b" }),
      ).toEqual({
        status: 202,
        body: { threadId: thread.body.id, turnId: started.body.turnId },
      });
      const events = await streamUntilCompleted(thread.body.id, 0);
      expect(events.at(-1)?.event).toMatchObject({ type: "turn/completed", status: "completed" });
      expect(JSON.stringify(model.requests[1]?.body)).toContain("STEER-MARK: also check b");
      const users = events.flatMap(({ event }) =>
        event.type === "item/completed" && event.item.type === "userMessage" ? [event.item.content] : [],
      );
      expect(users).toEqual([
        [{ type: "text", text: "work" }],
        [{ type: "text", text: "STEER-MARK: also check b" }],
      ]);
      // Once the turn has ended there is nothing to steer.
      await waitFor("the turn's row to finish", async () => {
        const got = await call<{ status: string }>("GET", `/threads/${thread.body.id}`);
        return got.body.status === "idle";
      });
      expect(await call("POST", `/threads/${thread.body.id}/steer`, { input: "late" })).toMatchObject({
        status: 409,
        body: { error: { code: "conflict" } },
      });
    });

    it("holds a durable turn's final message to its output schema", async () => {
      const repo = await createTempGitRepo({ "a.txt": "alpha\n" });
      dirs.push(repo.dir);
      const thread = await call<{ id: string }>("POST", "/threads", { cwd: repo.dir });
      model.setScenario({
        steps: [
          { output: [{ type: "message", text: "forty-two" }] },
          { output: [{ type: "message", text: '{"answer":42}' }] },
        ],
      });
      const outputSchema = {
        type: "object",
        properties: { answer: { type: "number" } },
        required: ["answer"],
        additionalProperties: false,
      };
      const started = await call("POST", `/threads/${thread.body.id}/turns`, {
        input: "answer",
        outputSchema,
      });
      expect(started.status).toBe(202);
      const events = await streamUntilCompleted(thread.body.id, 0);
      expect(events.at(-1)?.event).toMatchObject({ type: "turn/completed", status: "completed" });
      expect(JSON.stringify(model.requests[0]?.body)).toContain('"answer"');
      expect(JSON.stringify(model.requests[1]?.body)).toContain(
        "must be JSON that matches the output schema",
      );
    });

    it("runs a task on the workers: the attempt's thread has the task's tools and instructions, and its diff and PR are recorded", async () => {
      const repo = await createTempGitRepo({
        "add.mjs": "export function add(a, b) {\n  return a - b;\n}\n",
      });
      dirs.push(repo.dir);
      const patch =
        "*** Begin Patch\n*** Update File: add.mjs\n@@\n export function add(a, b) {\n-  return a - b;\n+  return a + b;\n }\n*** End Patch";
      model.setScenario({
        steps: [
          { output: [{ type: "apply_patch", patch }] },
          {
            output: [
              { type: "function_call", name: "make_pr", arguments: { title: "Fix add", body: "Adds." } },
            ],
          },
          { output: [{ type: "message", text: "Fixed add." }] },
        ],
      });
      const env = await call<{ id: string }>("POST", "/environments", {
        name: "adder",
        repository: repo.dir,
        branch: "main",
      });
      expect(env.status).toBe(201);
      const created = await call<{ id: string }>("POST", "/tasks", {
        environmentId: env.body.id,
        prompt: "fix add",
      });
      expect(created.status).toBe(201);
      type Task = {
        status: string;
        attempts: { status: string; diff?: string; pr?: unknown; message?: string }[];
      };
      let task: Task | undefined;
      await waitFor("the task to finish", async () => {
        task = (await call<Task>("GET", `/tasks/${created.body.id}`)).body;
        return ["completed", "failed", "cancelled"].includes(task.status);
      });
      expect(task?.status).toBe("completed");
      expect(task?.attempts[0]).toMatchObject({
        status: "completed",
        pr: { title: "Fix add", body: "Adds." },
        message: "Fixed add.",
      });
      expect(task?.attempts[0]?.diff).toContain("+  return a + b;");
      // The worker gave the model the task's instructions and the make_pr tool.
      const first = JSON.stringify(model.requests[0]?.body);
      expect(first).toContain("call `make_pr`");
      const tools = (model.requests[0]?.body as { tools?: { name: string }[] } | undefined)?.tools ?? [];
      expect(tools.map((t) => t.name)).toContain("make_pr");
    });

    it("forks a durable thread at a turn and rolls one back, planned from its stored rollout, with the model seeing the right history", async () => {
      const repo = await createTempGitRepo({ "a.txt": "alpha\n" });
      dirs.push(repo.dir);
      const created = await call<{ id: string }>("POST", "/threads", { cwd: repo.dir });
      const threadId = created.body.id;
      const turn = async (id: string, input: string) => {
        const events = streamUntilCompleted(
          id,
          (await call<{ lastSeq: number }>("GET", `/threads/${id}`)).body.lastSeq,
        );
        expect((await call("POST", `/threads/${id}/turns`, { input })).status).toBe(202);
        expect((await events).at(-1)?.event).toMatchObject({ type: "turn/completed", status: "completed" });
        await waitFor("the thread to be idle", async () => {
          return (await call<{ status: string }>("GET", `/threads/${id}`)).body.status === "idle";
        });
      };
      model.setScenario({
        steps: [
          { output: [{ type: "message", text: "one" }] },
          { output: [{ type: "message", text: "two" }] },
          { output: [{ type: "message", text: "forked" }] },
          { output: [{ type: "message", text: "three" }] },
        ],
      });
      await turn(threadId, "FIRST-INPUT");
      await turn(threadId, "SECOND-INPUT");

      const fork = await call<{ id: string; info: { parentThreadId?: string } }>(
        "POST",
        `/threads/${threadId}/fork`,
        { atTurn: 1 },
      );
      expect(fork).toMatchObject({ status: 201, body: { info: { parentThreadId: threadId } } });
      const beforeRollback = (await call<{ lastSeq: number }>("GET", `/threads/${threadId}`)).body.lastSeq;
      const rolled = await call<{ id: string }>("POST", `/threads/${threadId}/rollback`, { turns: 1 });
      expect(rolled.status).toBe(200);

      await turn(fork.body.id, "FORK-INPUT");
      await turn(threadId, "THIRD-INPUT");
      const bodies = model.requests.map((r) => JSON.stringify(r.body));
      const forked = bodies.find((b) => b.includes("FORK-INPUT")) ?? "";
      const third = bodies.find((b) => b.includes("THIRD-INPUT")) ?? "";
      expect([forked.includes("FIRST-INPUT"), forked.includes("SECOND-INPUT")]).toEqual([true, false]);
      expect([third.includes("FIRST-INPUT"), third.includes("SECOND-INPUT")]).toEqual([true, false]);
      const events = await streamUntilCompleted(threadId, beforeRollback);
      expect(events[0]?.event).toMatchObject({
        message: expect.stringMatching(/^Rolled back 1 turn \(turn_/),
      });

      // Out of range: a 400 naming the field, and nothing changes.
      expect(await call("POST", `/threads/${threadId}/rollback`, { turns: 9 })).toMatchObject({
        status: 400,
        body: { error: { code: "invalid_request", details: { field: "turns" } } },
      });
      expect(await call("POST", `/threads/${threadId}/fork`, { atTurn: 9 })).toMatchObject({
        status: 400,
        body: { error: { code: "invalid_request", details: { field: "atTurn" } } },
      });
    });
  },
);
