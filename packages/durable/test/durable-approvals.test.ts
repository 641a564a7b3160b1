// Durable approvals end to end over HTTP: an API node (`kiln serve --engine restate`, the bundled CLI
// as a child process), one worker (a child process), a real restate-server (from npm), a real
// PostgreSQL (KILN_TEST_PG_URL), the fake model server, a real temp git workspace and bwrap. A turn
// under the `untrusted` policy asks to run a command; while it waits (on an awakeable) the worker is
// SIGKILLed and restate-server is SIGKILLed and started again. The API node must still list the same
// approval, and approving it must complete the turn with the command run once.
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type RestateServer, registerDeployment, startRestateServer } from "@kiln/durable";
import type { PendingApprovalResource } from "@kiln/protocol";
import { createPostgresTestDatabase, type TestDatabase } from "@kiln/store";
import { createTempGitRepo, type FakeModelServer, startFakeModelServer } from "@kiln/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiNode, spawnWorker, startApiNode, waitFor } from "./worker-harness.ts";

const pgUrl = process.env.KILN_TEST_PG_URL || undefined;

describe.skipIf(pgUrl === undefined)(
  `durable approvals${pgUrl === undefined ? " — SKIPPED: KILN_TEST_PG_URL is not set (scripts/pg-test-cluster.sh start)" : ""}`,
  () => {
    let db: TestDatabase;
    let model: FakeModelServer;
    let home: string;
    let restate: RestateServer;
    let worker: ChildProcess | undefined;
    let workerPort: number;
    let api: ApiNode;
    const dirs: string[] = [];

    beforeAll(async () => {
      db = await createPostgresTestDatabase(pgUrl ?? "");
      model = await startFakeModelServer({ scenario: { steps: [] } });
      home = await mkdtemp(join(tmpdir(), "kiln-approvals-home-"));
      dirs.push(home);
      await writeFile(
        join(home, "config.toml"),
        `openai_base_url = "${model.url}"\n\n[model_providers.openai]\nretry_base_delay_ms = 10\n`,
      );
      const restateDir = await mkdtemp(join(tmpdir(), "kiln-restate-"));
      dirs.push(restateDir);
      restate = await startRestateServer({ baseDir: restateDir });
      workerPort = await freePort();
      await startWorker();
      await registerDeployment(restate.adminUrl, `http://127.0.0.1:${workerPort}`);
      await startApi();
    }, 60_000);

    afterAll(async () => {
      api?.process.kill("SIGKILL");
      worker?.kill("SIGKILL");
      await restate?.stop();
      await model?.close();
      await db?.drop();
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    });

    /** Starts the worker at its fixed address (Restate pins an invocation to its deployment). */
    async function startWorker(): Promise<void> {
      worker = await spawnWorker({ port: workerPort, dbUrl: db.url, kilnHome: home, modelUrl: model.url });
    }

    async function startApi(): Promise<void> {
      const dataDir = await mkdtemp(join(tmpdir(), "kiln-approvals-data-"));
      dirs.push(dataDir);
      api = await startApiNode({ restate, dbUrl: db.url, kilnHome: home, dataDir, port: await freePort() });
    }

    const call = <T>(method: string, path: string, body?: unknown) => api.call<T>(method, path, body);
    const streamUntilCompleted = (threadId: string, turns = 1) => api.stream(threadId, { turns });

    const approvals = async () =>
      (await call<{ approvals: PendingApprovalResource[] }>("GET", "/approvals")).body.approvals;

    it("keeps a pending approval through a worker SIGKILL and a restate-server restart, and approving it completes the turn with the command run once", async () => {
      const repo = await createTempGitRepo({ "a.txt": "alpha\n" });
      dirs.push(repo.dir);
      model.setScenario({
        steps: [
          { output: [{ type: "exec_command", cmd: "echo ran >> count.txt" }] },
          { output: [{ type: "message", text: "Counted." }] },
        ],
      });
      const created = await call<{ id: string }>("POST", "/threads", {
        cwd: repo.dir,
        approvalPolicy: "untrusted",
      });
      expect(created.status).toBe(201);
      const threadId = created.body.id;
      const started = await call<{ turnId: string }>("POST", `/threads/${threadId}/turns`, {
        input: "count once",
      });
      expect(started.status).toBe(202);
      const turnId = started.body.turnId;

      await waitFor("the approval to be asked", async () => (await approvals()).length === 1);
      const [asked] = await approvals();
      expect(asked).toEqual({
        id: expect.stringMatching(/^apr_/),
        threadId,
        turnId,
        askedAt: expect.any(Number),
        approval: {
          id: asked?.id,
          type: "approval",
          callId: expect.any(String),
          kind: "command",
          summary: "echo ran >> count.txt",
          escalated: false,
          decision: "pending",
        },
      });

      worker?.kill("SIGKILL");
      await restate.kill();
      restate = await restate.restart();
      await startWorker();
      // Still listed, same id, on the API node (the store is the truth); nothing ran meanwhile.
      expect(await approvals()).toEqual([asked]);
      expect(await readFile(join(repo.dir, "count.txt"), "utf8").catch(() => "")).toBe("");

      const answered = await call("POST", `/approvals/${asked?.id}`, { decision: "approved" });
      expect(answered).toEqual({ status: 200, body: { id: asked?.id, threadId, decision: "approved" } });

      await waitFor("the turn to finish", async () => {
        const thread = await call<{ status: string; turns: { finishedAt?: number }[] }>(
          "GET",
          `/threads/${threadId}`,
        );
        return thread.body.status === "idle" && thread.body.turns.every((t) => t.finishedAt !== undefined);
      });
      const thread = await call<{ turns: { id: string; status: string; error?: unknown }[] }>(
        "GET",
        `/threads/${threadId}`,
      );
      expect(thread.body.turns.map((t) => ({ id: t.id, status: t.status, error: t.error }))).toEqual([
        { id: turnId, status: "completed" },
      ]);
      expect(await readFile(join(repo.dir, "count.txt"), "utf8")).toBe("ran\n");
      expect(await approvals()).toEqual([]);
      const events = (await streamUntilCompleted(threadId)).map((e) => e.event);
      const approvalEvents = events.filter(
        (e) => (e.type === "item/started" || e.type === "item/completed") && e.item.type === "approval",
      );
      expect(approvalEvents).toEqual([
        { type: "item/started", item: asked?.approval },
        { type: "item/completed", item: { ...asked?.approval, decision: "approved" } },
      ]);
      const commands = events.filter(
        (e) => e.type === "item/completed" && e.item.type === "commandExecution",
      );
      expect(commands).toEqual([
        {
          type: "item/completed",
          item: expect.objectContaining({
            command: "echo ran >> count.txt",
            exitCode: 0,
            status: "completed",
          }),
        },
      ]);
    }, 90_000);

    it("remembers an approval for the session in the thread's later turns", async () => {
      const repo = await createTempGitRepo({ "a.txt": "alpha\n" });
      dirs.push(repo.dir);
      const turn = [
        { output: [{ type: "exec_command" as const, cmd: "echo ran >> count.txt" }] },
        { output: [{ type: "message" as const, text: "Counted." }] },
      ];
      model.setScenario({ steps: [...turn, ...turn] });
      const created = await call<{ id: string }>("POST", "/threads", {
        cwd: repo.dir,
        approvalPolicy: "untrusted",
      });
      const threadId = created.body.id;
      const idle = async () =>
        (await call<{ status: string; turns: { finishedAt?: number }[] }>("GET", `/threads/${threadId}`))
          .body;
      await call("POST", `/threads/${threadId}/turns`, { input: "count once" });
      await waitFor("the approval to be asked", async () => (await approvals()).length === 1);
      const [asked] = await approvals();
      await call("POST", `/approvals/${asked?.id}`, { decision: "approved_for_session" });
      await waitFor("the first turn to finish", async () => {
        const thread = await idle();
        return thread.status === "idle" && thread.turns.every((t) => t.finishedAt !== undefined);
      });

      // The second turn (a new invocation, maybe on another worker) runs the same command unasked.
      expect((await call("POST", `/threads/${threadId}/turns`, { input: "count again" })).status).toBe(202);
      await waitFor("the second turn to finish", async () => {
        const thread = await idle();
        return thread.turns.length === 2 && thread.turns.every((t) => t.finishedAt !== undefined);
      });
      expect(await readFile(join(repo.dir, "count.txt"), "utf8")).toBe("ran\nran\n");
      const events = (await streamUntilCompleted(threadId, 2)).map((e) => e.event);
      expect(events.filter((e) => e.type === "item/started" && e.item.type === "approval")).toHaveLength(1);
      expect(
        events.filter((e) => e.type === "item/completed" && e.item.type === "commandExecution"),
      ).toHaveLength(2);
    }, 60_000);

    it("answers a pending approval aborted when its turn is interrupted, and runs nothing", async () => {
      const repo = await createTempGitRepo({ "a.txt": "alpha\n" });
      dirs.push(repo.dir);
      model.setScenario({ steps: [{ output: [{ type: "exec_command", cmd: "echo ran >> count.txt" }] }] });
      const created = await call<{ id: string }>("POST", "/threads", {
        cwd: repo.dir,
        approvalPolicy: "untrusted",
      });
      const threadId = created.body.id;
      await call("POST", `/threads/${threadId}/turns`, { input: "count once" });
      await waitFor("the approval to be asked", async () => (await approvals()).length === 1);
      expect((await call("POST", `/threads/${threadId}/interrupt`)).status).toBe(202);
      await waitFor("the turn to end", async () => {
        const thread = await call<{ status: string; turns: { status: string }[] }>(
          "GET",
          `/threads/${threadId}`,
        );
        return thread.body.status === "idle" && thread.body.turns[0]?.status === "interrupted";
      });
      expect(await approvals()).toEqual([]);
      expect(await readFile(join(repo.dir, "count.txt"), "utf8").catch(() => "")).toBe("");
    }, 60_000);
  },
);
