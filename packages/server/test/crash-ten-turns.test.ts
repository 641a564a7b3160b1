// The crash test: `kiln serve` runs 10 scripted turns at once (each: a command with a side effect, a
// 5 s command, a final message), is SIGKILLed while every turn is inside its second command, and is
// started again on the same data directory. Every turn completes, no command ran twice (each thread
// counts its side effects in its own file), and every thread's event stream — read from the start or
// resumed from the middle with `after` — is gap-free and duplicate-free.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ScenarioStep } from "@kiln/test-support";
import { type FakeModelServer, startFakeModelServer } from "@kiln/test-support";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createPostgresDatabase, postgresAdminUrl, postgresSuiteTitle } from "./postgres-test-store.ts";
import { type ServeProcess, startServe } from "./serve-process.ts";
import { callApi, signIn, writeModelConfig } from "./server-harness.ts";
import { readSse, type SseFrame } from "./sse-client.ts";

const THREADS = 10;
const COUNT_CMD = "echo run >> count.txt";
const SLEEP_CMD = "echo slept >> sleeps.txt && sleep 5";

let model: FakeModelServer;
let home: string;
let env: Record<string, string>;
const running: ServeProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  model = await startFakeModelServer({ scenario: { steps: [] } });
  home = await mkdtemp(join(tmpdir(), "kiln-crash-"));
  await writeModelConfig(home, model.url);
  env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    KILN_HOME: home,
    LANG: "C.UTF-8",
    OPENAI_API_KEY: "test",
    KILN_ADMIN_PASSWORD: "admin-password",
    KILN_LOG_LEVEL: "warn",
  };
});

afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    await p.exited;
  }
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await model.close();
  await rm(home, { recursive: true, force: true });
});

/** The marker in turn `k`'s input: every model request of that thread contains it, and no other's. */
const marker = (k: number) => `TURN-${String(k).padStart(2, "0")}`;

/** Turn `k`'s script. The final message may be asked for twice: a model call cut off by the kill is
 *  made again after the restart. */
function stepsOf(k: number): ScenarioStep[] {
  const when = { bodyIncludes: marker(k) };
  return [
    { when, output: [{ type: "exec_command", cmd: COUNT_CMD }] },
    { when, output: [{ type: "exec_command", cmd: SLEEP_CMD, yield_time_ms: 30_000 }] },
    { when, output: [{ type: "message", text: `Done ${marker(k)}.` }], repeat: 2 },
  ];
}

const commandStarted = (command: string) => (f: SseFrame) =>
  f.envelope.event.type === "item/started" &&
  f.envelope.event.item.type === "commandExecution" &&
  f.envelope.event.item.command === command;

async function until<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function crashTenTurns(extraArgs: string[]): Promise<void> {
  model.setScenario({ steps: Array.from({ length: THREADS }, (_, i) => stepsOf(i + 1)).flat() });
  const dataDir = join(home, "data");
  const first = await startServe(dataDir, env, extraArgs);
  running.push(first);
  const admin = await signIn(first.url, "admin", "admin-password");

  const threads: { id: string; cwd: string; turnId: string }[] = [];
  for (let k = 1; k <= THREADS; k++) {
    const created = await callApi(first.url, admin.token, "POST", "/api/v1/threads", {
      approvalPolicy: "never",
    });
    expect(created.status).toBe(201);
    threads.push({ id: created.body.id, cwd: created.body.info.cwd, turnId: "" });
  }
  await Promise.all(
    threads.map(async (thread, i) => {
      const started = await callApi(first.url, admin.token, "POST", `/api/v1/threads/${thread.id}/turns`, {
        input: `count, then wait ${marker(i + 1)}`,
      });
      expect(started.status).toBe(202);
      thread.turnId = started.body.turnId;
    }),
  );
  // Every turn has finished its first command and is inside its second one.
  await Promise.all(
    threads.map((thread) =>
      readSse(first.url, admin.token, `/api/v1/threads/${thread.id}/events`, commandStarted(SLEEP_CMD)),
    ),
  );
  first.child.kill("SIGKILL");
  expect((await first.exited).signal).toBe("SIGKILL");

  const second = await startServe(dataDir, env, extraArgs);
  running.push(second);
  for (const [i, thread] of threads.entries()) {
    const k = i + 1;
    const finished = await until(async () => {
      const got = await callApi(second.url, admin.token, "GET", `/api/v1/threads/${thread.id}`);
      return got.body.status === "idle" ? got.body : undefined;
    }, `thread ${thread.id} to finish its turn`);
    expect(finished.turns).toEqual([expect.objectContaining({ id: thread.turnId, status: "completed" })]);
    const last = finished.lastSeq as number;

    const { frames } = await readSse(
      second.url,
      admin.token,
      `/api/v1/threads/${thread.id}/events?after=0`,
      (f) => f.envelope.seq >= last,
    );
    const envelopes = frames.map((f) => f.envelope);
    expect(envelopes.map((e) => e.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(frames.map((f) => f.id)).toEqual(envelopes.map((e) => String(e.seq)));
    expect(envelopes.filter((e) => e.event.type === "turn/completed").map((e) => e.event)).toEqual([
      expect.objectContaining({ turnId: thread.turnId, status: "completed" }),
    ]);
    const countRuns = envelopes.filter(
      (e) =>
        e.event.type === "item/completed" &&
        e.event.item.type === "commandExecution" &&
        e.event.item.command === COUNT_CMD,
    );
    expect(countRuns).toHaveLength(1);

    const middle = Math.floor(last / 2);
    const resumed = await readSse(
      second.url,
      admin.token,
      `/api/v1/threads/${thread.id}/events?after=${middle}`,
      (f) => f.envelope.seq >= last,
    );
    expect(resumed.frames.map((f) => f.envelope)).toEqual(envelopes.slice(middle));

    expect(await readFile(join(thread.cwd, "count.txt"), "utf8")).toBe("run\n");
    // The command that was running when the process died is not run again blindly: the model is
    // told it was interrupted.
    const sleeps = await readFile(join(thread.cwd, "sleeps.txt"), "utf8").catch(() => "");
    expect(["", "slept\n"]).toContain(sleeps);
    const lastRequest = model.requests.filter((r) => JSON.stringify(r.body).includes(marker(k))).at(-1);
    const { input } = (lastRequest?.body ?? { input: [] }) as { input: { type: string; output?: string }[] };
    const outputs = input.filter((i) => i.type === "function_call_output").map((i) => i.output ?? "");
    expect(outputs).toEqual([
      expect.stringMatching(/^Exit code: 0/),
      expect.stringMatching(/interrupted: the Kiln process stopped while it was running/),
    ]);
  }
}

describe("kiln serve SIGKILLed with 10 turns running", () => {
  it("completes every turn after a restart, runs no command twice, and serves gap-free, duplicate-free event streams", async () => {
    await crashTenTurns([]);
  }, 60_000);
});

describe.skipIf(postgresAdminUrl === undefined)(postgresSuiteTitle("kiln serve --db, SIGKILLed"), () => {
  it("completes every turn after a restart, runs no command twice, and serves gap-free, duplicate-free event streams", async () => {
    const db = await createPostgresDatabase();
    cleanups.push(() => db.drop());
    await crashTenTurns(["--db", db.url]);
  }, 60_000);
});
