// Figures for docs/scale.md: the per-step overhead of running a turn on Restate (each model call and
// tool call a journaled `ctx.run`, events written to PostgreSQL) against the same turn in-process, and
// the throughput of N concurrent scripted turns on one worker. Needs KILN_TEST_PG_URL (an admin URL,
// scripts/pg-test-cluster.sh start) and the built packages (`npm run build`).
//   node packages/durable/bench/restate-bench.mjs
// Prints JSON; `benchDurable()` returns the same figures for scripts/bench.mjs.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Kiln } from "@kiln/core";
import { registerDeployment, startDurableWorker, startRestateServer, submitTurn } from "@kiln/durable";
import { newId } from "@kiln/protocol";
import { createPostgresTestDatabase, openStore } from "@kiln/store";
import { createTempGitRepo, startFakeModelServer } from "@kiln/test-support";
import { runStandalone } from "./run-standalone.mjs";

/** Runs the benchmark; `steps` tool steps per turn, `runs` turns each way, `concurrent` turns at once. */
export async function benchDurable({ pgUrl, steps = 20, runs = 3, concurrent = 10 }) {
  const db = await createPostgresTestDatabase(pgUrl);
  const store = await openStore(db.url);
  const userId = `usr_${newId("thr").slice(4)}`;
  await store.users.create({ id: userId, username: "bench", role: "user", passwordHash: "x", now: 1 });
  const model = await startFakeModelServer({ scenario: { steps: [] } });
  const home = await mkdtemp(join(tmpdir(), "kiln-durable-bench-"));
  const kiln = new Kiln({
    env: { KILN_HOME: home, OPENAI_API_KEY: "k", PATH: process.env.PATH },
    overrides: [`openai_base_url="${model.url}"`],
  });
  const restate = await startRestateServer({ baseDir: home });
  const worker = await startDurableWorker({ store, kiln });
  await registerDeployment(restate.adminUrl, worker.url);
  const repos = [];
  const scenario = (marker, n) =>
    Array.from({ length: n }, () => ({
      when: { bodyIncludes: marker },
      output: [{ type: "exec_command", cmd: "true" }],
    })).concat([{ when: { bodyIncludes: marker }, output: [{ type: "message", text: "done" }] }]);
  const repo = async () => {
    const r = await createTempGitRepo({ "a.txt": "alpha\n" });
    repos.push(r);
    return r.dir;
  };
  const durableTurn = async (marker, cwd) => {
    const threadId = newId("thr");
    await submitTurn(restate.ingressUrl, threadId, {
      userId,
      turnId: newId("turn"),
      input: `go ${marker}`,
      thread: { cwd },
    });
    for (;;) {
      const events = (await store.events.listAfter({ userId, threadId }, 0, 1000)) ?? [];
      const done = events.find((e) => e.event.type === "turn/completed");
      if (done !== undefined) {
        if (done.event.status !== "completed") throw new Error(`turn ${done.event.status}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  try {
    const inProcess = [];
    const onRestate = [];
    for (let i = 0; i < runs; i++) {
      const cwd = await repo();
      model.setScenario({ steps: scenario(`run-${i}`, steps) });
      const thread = kiln.startThread({ cwd });
      let t = performance.now();
      const result = await thread.run(`go run-${i}`);
      inProcess.push(performance.now() - t);
      thread.close();
      if (result.status !== "completed") throw new Error(`in-process turn ${result.status}`);
      model.setScenario({ steps: scenario(`durable-${i}`, steps) });
      t = performance.now();
      await durableTurn(`durable-${i}`, cwd);
      onRestate.push(performance.now() - t);
    }
    const cwds = await Promise.all(Array.from({ length: concurrent }, repo));
    model.setScenario({ steps: cwds.flatMap((_, i) => scenario(`many-${i}`, 5)) });
    const t = performance.now();
    await Promise.all(cwds.map((cwd, i) => durableTurn(`many-${i}`, cwd)));
    const manyMs = performance.now() - t;
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return {
      steps,
      inProcessTurnMs: median(inProcess),
      restateTurnMs: median(onRestate),
      overheadPerStepMs: (median(onRestate) - median(inProcess)) / (steps + 1),
      concurrentTurns: concurrent,
      concurrentStepsPerTurn: 5,
      concurrentWallMs: manyMs,
      turnsPerSecond: concurrent / (manyMs / 1000),
    };
  } finally {
    // Turns are timed until `turn/completed` is stored; let their invocations finish before the
    // worker goes (closing it under them only makes the SDK log aborted streams).
    await settled(restate.adminUrl);
    await worker.close();
    await restate.stop();
    await model.close();
    await store.close();
    await db.drop();
    for (const r of repos) await r.cleanup();
    await rm(home, { recursive: true, force: true });
  }
}

await runStandalone(import.meta.url, benchDurable);

/** Waits (at most 5 s) until Restate lists no invocation that has not completed. */
async function settled(adminUrl) {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const response = await fetch(new URL("/query", adminUrl), {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: "SELECT id FROM sys_invocation WHERE status <> 'completed'" }),
    }).catch(() => undefined);
    const rows = response?.ok ? ((await response.json()).rows ?? []) : [];
    if (rows.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
