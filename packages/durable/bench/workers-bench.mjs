// Throughput of N concurrent scripted turns on Restate with 1 and with 2 `kiln worker` processes (the
// bundled CLI, as deployed) behind one round-robin TCP address, as docs/scale.md prescribes. Every
// turn runs `steps` commands in a real bwrap sandbox and answers; its end is read from PostgreSQL.
// Needs KILN_TEST_PG_URL and the built packages (`npm run build`).
//   node packages/durable/bench/workers-bench.mjs
// Prints JSON; `benchWorkers()` returns the same figures for scripts/bench.mjs.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { freePort, registerDeployment, startRestateServer, submitTurn } from "@kiln/durable";
import { newId } from "@kiln/protocol";
import { createPostgresTestDatabase, openStore } from "@kiln/store";
import { createTempGitRepo, startFakeModelServer } from "@kiln/test-support";
import { runStandalone } from "./run-standalone.mjs";

const kilnBin = fileURLToPath(new URL("../../cli/dist/kiln.js", import.meta.url));

/** Runs `concurrent` turns of `steps` commands with 1 and with 2 workers. */
export async function benchWorkers({ pgUrl, concurrent = 10, steps = 5 }) {
  const db = await createPostgresTestDatabase(pgUrl);
  const store = await openStore(db.url);
  const userId = `usr_${newId("thr").slice(4)}`;
  await store.users.create({ id: userId, username: "bench", role: "user", passwordHash: "x", now: 1 });
  const model = await startFakeModelServer({ scenario: { steps: [] } });
  const home = await mkdtemp(join(tmpdir(), "kiln-workers-bench-"));
  await writeFile(join(home, "config.toml"), `openai_base_url = "${model.url}"\n`);
  const restate = await startRestateServer({ baseDir: home });
  const repos = [];
  const children = [];
  const run = async (workers) => {
    const ports = [];
    for (let i = 0; i < workers; i++) ports.push(await startWorker(db.url, restate.adminUrl, home, children));
    const proxy = await roundRobin(ports);
    try {
      await registerDeployment(restate.adminUrl, proxy.url);
      const turns = [];
      for (let i = 0; i < concurrent; i++) {
        const repo = await createTempGitRepo({ "a.txt": "alpha\n" });
        repos.push(repo);
        turns.push({ marker: `w${workers}-t${i}-${newId("thr")}`, cwd: repo.dir, threadId: newId("thr") });
      }
      model.setScenario({
        steps: turns.flatMap(({ marker }) =>
          Array.from({ length: steps }, () => ({
            when: { bodyIncludes: marker },
            output: [{ type: "exec_command", cmd: "true" }],
          })).concat([{ when: { bodyIncludes: marker }, output: [{ type: "message", text: "done" }] }]),
        ),
      });
      const t = performance.now();
      await Promise.all(
        turns.map(async ({ marker, cwd, threadId }) => {
          await submitTurn(restate.ingressUrl, threadId, {
            userId,
            turnId: newId("turn"),
            input: `go ${marker}`,
            thread: { cwd },
          });
          await completed(store, userId, threadId);
        }),
      );
      const wallMs = performance.now() - t;
      return { workers, wallMs, turnsPerSecond: concurrent / (wallMs / 1000) };
    } finally {
      for (const child of children.splice(0)) child.kill("SIGKILL");
      await proxy.close();
    }
  };
  try {
    const one = await run(1);
    const two = await run(2);
    return { concurrentTurns: concurrent, commandsPerTurn: steps, oneWorker: one, twoWorkers: two };
  } finally {
    for (const child of children) child.kill("SIGKILL");
    await restate.stop();
    await model.close();
    await store.close();
    await db.drop();
    for (const r of repos) await r.cleanup();
    await rm(home, { recursive: true, force: true });
  }
}

/** Starts `kiln worker` (not registered: the proxy's address is) and resolves to its port. */
async function startWorker(dbUrl, adminUrl, kilnHome, children) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [kilnBin, "worker", "--restate-admin", adminUrl, "--db", dbUrl, "--port", String(port), "--no-register"],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: { PATH: process.env.PATH, KILN_HOME: kilnHome, OPENAI_API_KEY: "k", RESTATE_LOGGING: "WARN" },
    },
  );
  children.push(child);
  const lines = createInterface({ input: child.stderr });
  await new Promise((resolve, reject) => {
    lines.on("line", (line) => {
      if (line.includes("serving on")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`kiln worker exited (${code}) before serving`)));
  });
  return port;
}

/** A layer-4 round-robin proxy on loopback over `ports`. */
async function roundRobin(ports) {
  let next = 0;
  const sockets = new Set();
  const server = createServer((client) => {
    const upstream = connect(ports[next++ % ports.length], "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function completed(store, userId, threadId) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const events = (await store.events.listAfter({ userId, threadId }, 0, 1000)) ?? [];
    const done = events.find((e) => e.event.type === "turn/completed");
    if (done !== undefined) {
      if (done.event.status !== "completed") throw new Error(`turn ${done.event.status}`);
      return;
    }
    if (Date.now() > deadline) throw new Error(`turn of ${threadId} did not complete in 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

await runStandalone(import.meta.url, benchWorkers);
