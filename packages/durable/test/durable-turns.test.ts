// Turns on Restate with PostgreSQL as the store, end to end: a real restate-server (from npm) on
// loopback, real PostgreSQL (KILN_TEST_PG_URL), workers as child processes behind a TCP balancer, the
// fake model server, a real temp git workspace and bwrap. Each test runs a scripted turn whose tool call
// appends a line to a file, crashes one process while the next model call streams, and checks that the
// turn completes, the command ran once, and the thread's events are stored once each, gap-free.
import { type ChildProcess, execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  freePort,
  interruptTurn,
  type RestateServer,
  registerDeployment,
  startRestateServer,
  submitTurn,
} from "@kiln/durable";
import { type EventEnvelope, newId } from "@kiln/protocol";
import { createSecretBox, createUserSecrets } from "@kiln/server";
import { createPostgresTestDatabase, type KilnStore, openStore, type TestDatabase } from "@kiln/store";
import {
  createTempGitRepo,
  type FakeModelServer,
  startFakeModelServer,
  type TempGitRepo,
} from "@kiln/test-support";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTcpBalancer, type TcpBalancer } from "./tcp-balancer.ts";
import { spawnWorker, waitFor } from "./worker-harness.ts";

const pgUrl = process.env.KILN_TEST_PG_URL || undefined;
const title = (what: string) =>
  pgUrl === undefined
    ? `${what} — SKIPPED: KILN_TEST_PG_URL is not set (scripts/pg-test-cluster.sh start)`
    : what;

describe.skipIf(pgUrl === undefined)(title("turns on Restate with PostgreSQL"), () => {
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
  });
  afterAll(async () => {
    await model?.close();
    await store?.close();
    await db?.drop();
  });

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), "kiln-durable-home-"));
    repo = await createTempGitRepo({ "a.txt": "alpha\n" });
    restate = await startRestateServer({ baseDir: await mkdtemp(join(tmpdir(), "kiln-restate-")) });
    balancer = await startTcpBalancer([]);
  });
  afterEach(async () => {
    for (const child of workers.values()) child.kill("SIGKILL");
    workers.clear();
    await balancer?.close();
    await restate?.stop();
    await repo?.cleanup();
    await rm(home, { recursive: true, force: true });
  });

  /** Starts a worker process on a new port and (unless told not to) puts it behind the balancer. */
  async function startWorker(
    behindBalancer = true,
    checkpoints = false,
    secretKey?: string,
  ): Promise<number> {
    const port = await freePort();
    const options = { port, dbUrl: db.url, kilnHome: home, modelUrl: model.url, checkpoints };
    workers.set(port, await spawnWorker(secretKey === undefined ? options : { ...options, secretKey }));
    if (behindBalancer) balancer.upstreams.push(port);
    return port;
  }

  function killWorker(port: number): void {
    workers.get(port)?.kill("SIGKILL");
    workers.delete(port);
    balancer.upstreams.splice(balancer.upstreams.indexOf(port), 1);
  }

  /** A scripted turn: one command appending to count.txt, then a slow answer (the crash window). */
  function scriptTurn(): void {
    model.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo ran >> count.txt" }] },
        { output: [{ type: "message", text: "Counted." }], chunkDelayMs: 150 },
        { output: [{ type: "message", text: "Counted." }] },
      ],
    });
  }

  function sendTurn(threadId: string, turnId: string): Promise<string> {
    return submitTurn(restate.ingressUrl, threadId, {
      userId,
      turnId,
      input: "count once",
      thread: { cwd: repo.dir },
    });
  }

  async function events(threadId: string): Promise<EventEnvelope[]> {
    return (await store.events.listAfter({ userId, threadId }, 0, 1000)) ?? [];
  }

  async function completedTurn(threadId: string): Promise<EventEnvelope[]> {
    await waitFor("turn/completed", async () =>
      (await events(threadId)).some((e) => e.event.type === "turn/completed"),
    );
    return events(threadId);
  }

  function expectOneRunOfEverything(list: EventEnvelope[], turnId: string): void {
    expect(list.map((e) => e.seq)).toEqual(list.map((_, i) => i + 1));
    const types = list.map((e) => e.event.type);
    expect(types.filter((t) => t === "turn/started")).toHaveLength(1);
    expect(types.filter((t) => t === "turn/completed")).toHaveLength(1);
    const commands = list.filter(
      (e) => e.event.type === "item/completed" && e.event.item.type === "commandExecution",
    );
    expect(commands).toHaveLength(1);
    const done = list.at(-1)?.event;
    expect(done).toMatchObject({ type: "turn/completed", turnId, status: "completed" });
    const answer = list.find(
      (e) => e.event.type === "item/completed" && e.event.item.type === "agentMessage",
    );
    expect(answer?.event).toMatchObject({ item: { type: "agentMessage", text: "Counted." } });
  }

  it("finishes a turn on another worker when its worker is SIGKILLed mid-turn, without running the command again", async () => {
    const first = await startWorker();
    // The replacement is started now (process start-up is not what is tested) but gets connections
    // only once the first worker is dead, so the turn cannot have run on it before.
    const second = await startWorker(false);
    await registerDeployment(restate.adminUrl, balancer.url);
    scriptTurn();
    const threadId = newId("thr");
    const turnId = newId("turn");
    await sendTurn(threadId, turnId);
    // The second model request starts only once the command's step is journaled.
    await waitFor("the model call after the command", () => model.requests.length >= 2);
    killWorker(first);
    balancer.upstreams.push(second);

    const list = await completedTurn(threadId);
    expect(await readFile(join(repo.dir, "count.txt"), "utf8")).toBe("ran\n");
    expect(model.requests).toHaveLength(3);
    expectOneRunOfEverything(list, turnId);
  });

  it("continues a turn on a worker with its own disk from the checkpoint of the last completed step", async () => {
    const first = await startWorker(true, true);
    const second = await startWorker(false, true);
    await registerDeployment(restate.adminUrl, balancer.url);
    model.setScenario({
      steps: [
        { output: [{ type: "exec_command", cmd: "echo one >> notes.txt" }] },
        // The crash window: the first worker dies while this call streams.
        { output: [{ type: "exec_command", cmd: "cat notes.txt a.txt > seen.txt" }], chunkDelayMs: 150 },
        { output: [{ type: "exec_command", cmd: "cat notes.txt a.txt > seen.txt" }] },
        { output: [{ type: "message", text: "Seen." }] },
      ],
    });
    const threadId = newId("thr");
    const turnId = newId("turn");
    await sendTurn(threadId, turnId);
    await waitFor("the model call after the first command", () => model.requests.length >= 2);
    killWorker(first);
    // The dead worker's disk is gone with it: the next worker has none of the thread's files.
    await rm(repo.dir, { recursive: true, force: true });
    balancer.upstreams.push(second);

    const list = await completedTurn(threadId);
    expect(list.at(-1)?.event).toMatchObject({ type: "turn/completed", turnId, status: "completed" });
    expect(list.map((e) => e.seq)).toEqual(list.map((_, i) => i + 1));
    expect(await readFile(join(repo.dir, "notes.txt"), "utf8")).toBe("one\n");
    expect(await readFile(join(repo.dir, "seen.txt"), "utf8")).toBe("one\nalpha\n");
    // The repository came back whole: its history and what changed since.
    const git = (args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile("git", ["-C", repo.dir, ...args], (error, stdout) =>
          error ? reject(error) : resolve(stdout),
        ),
      );
    expect(await git(["status", "--porcelain"])).toBe("?? notes.txt\n?? seen.txt\n");
    expect(await store.workspaceCheckpoints.latest({ userId, threadId })).toMatchObject({
      threadId,
      files: expect.any(Number),
    });
  });

  it("runs a user's turn with the user's own provider key when the worker has the API nodes' secret key", async () => {
    const secretKey = randomBytes(32).toString("base64");
    await startWorker(true, false, secretKey);
    await registerDeployment(restate.adminUrl, balancer.url);
    const secrets = createUserSecrets({ store, box: createSecretBox(Buffer.from(secretKey, "base64")) });
    await secrets.putSecret(userId, "OPENAI_API_KEY", "sk-the-users-own");
    model.setScenario({ steps: [{ output: [{ type: "message", text: "Paid by you." }] }] });
    const threadId = newId("thr");
    await sendTurn(threadId, newId("turn"));
    await completedTurn(threadId);
    expect(model.requests.map((r) => r.headers.authorization)).toEqual(["Bearer sk-the-users-own"]);
    await secrets.deleteSecret(userId, "OPENAI_API_KEY");
  });

  it("finishes a turn when restate-server is SIGKILLed mid-turn and started again", async () => {
    await startWorker();
    await registerDeployment(restate.adminUrl, balancer.url);
    scriptTurn();
    const threadId = newId("thr");
    const turnId = newId("turn");
    await sendTurn(threadId, turnId);
    await waitFor("the model call after the command", () => model.requests.length >= 2);
    await restate.kill();
    restate = await restate.restart();

    const list = await completedTurn(threadId);
    expect(await readFile(join(repo.dir, "count.txt"), "utf8")).toBe("ran\n");
    expectOneRunOfEverything(list, turnId);
  });

  it("interrupts a running command when the turn's invocation is cancelled, and ends the turn interrupted", async () => {
    await startWorker();
    await registerDeployment(restate.adminUrl, balancer.url);
    model.setScenario({
      steps: [
        {
          output: [
            { type: "exec_command", cmd: "echo started >> count.txt; sleep 20; echo slept >> count.txt" },
          ],
        },
      ],
    });
    const threadId = newId("thr");
    const turnId = newId("turn");
    const invocationId = await sendTurn(threadId, turnId);
    await waitFor("the command to start", async () =>
      (await readFile(join(repo.dir, "count.txt"), "utf8").catch(() => "")).includes("started"),
    );
    const cancelledAt = Date.now();
    await interruptTurn(restate.adminUrl, invocationId);

    const list = await completedTurn(threadId);
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    expect(list.at(-1)?.event).toMatchObject({
      type: "turn/completed",
      turnId,
      status: "interrupted",
      error: { code: "turn_interrupted" },
    });
    expect(list.map((e) => e.seq)).toEqual(list.map((_, i) => i + 1));
    expect(await readFile(join(repo.dir, "count.txt"), "utf8")).toBe("started\n");
  });

  it("completes 10 concurrent turns on the surviving worker when one of two workers is SIGKILLed, running no command twice", async () => {
    const first = await startWorker();
    await startWorker();
    await registerDeployment(restate.adminUrl, balancer.url);
    const turns = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => ({
        marker: `thread-${i}-marker`,
        repo: await createTempGitRepo({ "a.txt": "alpha\n" }),
        threadId: newId("thr"),
        turnId: newId("turn"),
      })),
    );
    try {
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
          { when: { bodyIncludes: marker }, output: [{ type: "message" as const, text: "Counted." }] },
        ]),
      });
      for (const turn of turns) {
        await submitTurn(restate.ingressUrl, turn.threadId, {
          userId,
          turnId: turn.turnId,
          input: `count once (${turn.marker})`,
          thread: { cwd: turn.repo.dir },
        });
      }
      await waitFor("half of the turns past their command", () => model.requests.length >= 15);
      killWorker(first);

      for (const turn of turns) {
        const list = await completedTurn(turn.threadId);
        expect(list.map((e) => e.seq)).toEqual(list.map((_, i) => i + 1));
        expect(list.at(-1)?.event).toMatchObject({
          type: "turn/completed",
          turnId: turn.turnId,
          status: "completed",
        });
        // A command cut off by the kill is reported to the model, not run again.
        const count = await readFile(join(turn.repo.dir, "count.txt"), "utf8").catch(() => "");
        const interrupted = list.some(
          (e) => e.event.type === "warning" && e.event.message.includes("was interrupted"),
        );
        expect({ count, interrupted }).toEqual(
          interrupted
            ? { count: expect.stringMatching(/^(ran\n)?$/), interrupted }
            : { count: "ran\n", interrupted },
        );
      }
    } finally {
      for (const turn of turns) await turn.repo.cleanup();
    }
  });
});
