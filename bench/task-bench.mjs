// Task-service figures: the real bundled `kiln serve` as a child process (temp data dir, SQLite, bwrap
// sandboxes) driven over its HTTP API on 127.0.0.1, against one fake model process. Sequence:
//   1. cold: `cold` times, a fresh repository and environment (setup `sleep 0.2; echo ready >
//      .prepared`) and one task on it whose scripted model first runs `date +%s%N > started` in the
//      attempt's sandbox. Once the task has completed, the bench reads `started` through
//      GET /sandboxes/{id}/files and subtracts the Date.now() taken just before POST /tasks was sent:
//      both are the wall clock of this machine. The first command starts after one model round trip,
//      which the fake model answers at once;
//   2. cached: `cached` more such tasks, one after another, on the last environment (setup skipped);
//   3. concurrent: `tasks` tasks of bestOfN `bestOfN` created at once on that environment, every
//      attempt a 3-step agent (two commands, then a message). Wall time until the bench has seen every
//      task end; per attempt, POST → its run's finishedAt (server clock = this machine's clock).
// The fake model's steps are keyed by markers in the request bodies, so concurrent attempts share it.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { startFakeModel } from "./fake-model.mjs";
import { createTempRepo } from "./temp-repo.mjs";

const PASSWORD = "bench-admin-password";
const SETUP_SCRIPT = "sleep 0.2; echo ready > .prepared";
const FINAL = new Set(["completed", "failed", "cancelled"]);

/**
 * Runs the three task benchmarks one after another and resolves with their raw numbers (ms):
 * `{ cold, cached, concurrent }`; `cold`/`cached` are lists of `firstCommand()` results.
 */
export async function benchTasks({ root, cold = 3, cached = 5, tasks = 2, bestOfN = 4 }) {
  const cleanups = [];
  const killAll = () => {
    for (const stop of cleanups.splice(0).reverse()) stop();
  };
  process.once("exit", killAll);
  const home = mkdtempSync(join(tmpdir(), "kiln-bench-tasks-"));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  try {
    const model = await startFakeModel(root, scenario({ firstTasks: cold + cached, tasks, bestOfN }));
    cleanups.push(() => void model.close());
    writeFileSync(
      join(home, "config.toml"),
      `model = "gpt-test"\nopenai_base_url = "${model.url}"\n\n[model_providers.openai]\nretry_base_delay_ms = 20\n`,
    );
    const server = await startServe(root, home, join(home, "data"));
    cleanups.push(server.kill);
    const s = { url: server.url, token: await signIn(server.url) };

    const coldRuns = [];
    let envId;
    for (let k = 0; k < cold; k++) {
      const repo = createTempRepo({ "README.md": `# bench ${k}\n`, "src/a.js": "export const a = 1;\n" });
      cleanups.push(repo.cleanup);
      envId = (
        await api(s, "POST", "/api/v1/environments", {
          name: `bench ${k}`,
          repository: repo.dir,
          branch: "main",
          setupScript: SETUP_SCRIPT,
        })
      ).id;
      coldRuns.push(await firstCommand(s, envId, firstMarker(k)));
    }
    const cachedRuns = [];
    for (let k = cold; k < cold + cached; k++) cachedRuns.push(await firstCommand(s, envId, firstMarker(k)));
    // A cold run that skipped setup, or a cached one that ran it, would measure the other case.
    if (coldRuns.some((r) => r.setupSkipped) || cachedRuns.some((r) => !r.setupSkipped))
      throw new Error(
        `the environment cache did not behave as expected: ${JSON.stringify({ coldRuns, cachedRuns })}`,
      );
    const concurrent = await concurrentAttempts(s, envId, tasks, bestOfN);
    return { cold: coldRuns, cached: cachedRuns, concurrent };
  } finally {
    killAll();
    process.removeListener("exit", killAll);
  }
}

/** Steps for `firstTasks` record-the-start tasks, then 3-step attempts for `tasks` × `bestOfN` attempts. */
function scenario({ firstTasks, tasks, bestOfN }) {
  const steps = [];
  for (let k = 0; k < firstTasks; k++) {
    const when = { bodyIncludes: firstMarker(k) };
    steps.push({ when, output: [{ type: "exec_command", cmd: "date +%s%N > started" }] });
    steps.push({ when, output: [{ type: "message", text: "Recorded." }] });
  }
  // The attempts of one task have the same prompt, so a step is keyed by what the previous step left
  // in the request (its command line): the latest step that applies comes first.
  for (let t = 0; t < tasks; t++) {
    const [one, two] = [stageMarker(t, 1), stageMarker(t, 2)];
    steps.push({
      when: { bodyIncludes: two },
      repeat: bestOfN,
      output: [{ type: "message", text: "Done." }],
    });
    steps.push({
      when: { bodyIncludes: one },
      repeat: bestOfN,
      output: [{ type: "exec_command", cmd: `cat notes.txt && echo '${two}' >> notes.txt` }],
    });
    steps.push({
      when: { bodyIncludes: concurrentMarker(t) },
      repeat: bestOfN,
      output: [{ type: "exec_command", cmd: `ls && echo '${one}' > notes.txt` }],
    });
  }
  return { steps };
}

// Closing brackets keep `<FIRST-1>` from matching the prompt of `<FIRST-10>`.
const firstMarker = (k) => `<FIRST-${k}>`;
const concurrentMarker = (t) => `<CONC-${t}>`;
const stageMarker = (t, step) => `[T${t}-STEP-${step}]`;

/**
 * One task whose agent's first command records the time: POST → first command running, and where the
 * time went by the task's own events (`at`, the server's Date.now()).
 */
async function firstCommand(s, envId, marker) {
  const sentAt = Date.now();
  const created = await api(s, "POST", "/api/v1/tasks", {
    environmentId: envId,
    prompt: `${marker} Record when you start.`,
  });
  const events = await followTask(s, created.id);
  const task = await completedTask(s, created.id, 1);
  const file = await api(s, "GET", `/api/v1/sandboxes/${task.attempts[0].sandboxId}/files?path=started`);
  const startedNs = BigInt(file.content.trim());
  const at = (match) => (events.find((e) => match(e.event))?.at ?? Number.NaN) - sentAt;
  return {
    firstCommandMs: Number(startedNs - BigInt(sentAt) * 1_000_000n) / 1e6,
    readyMs: at((e) => e.type === "environment/phase" && e.phase === "ready"),
    attemptRunningMs: at((e) => e.type === "attempt/status" && e.status === "running"),
    setupSkipped: events.some(
      (e) =>
        e.event.type === "environment/phase" && e.event.phase === "setup" && e.event.status === "skipped",
    ),
  };
}

/** `tasks` tasks of `bestOfN` attempts created at once; wall time and per-attempt latencies. */
async function concurrentAttempts(s, envId, tasks, bestOfN) {
  const began = performance.now();
  const sentAt = Date.now();
  const ids = await Promise.all(
    Array.from({ length: tasks }, async (_, t) => {
      const created = await api(s, "POST", "/api/v1/tasks", {
        environmentId: envId,
        prompt: `${concurrentMarker(t)} List the files and write notes.`,
        bestOfN,
      });
      await followTask(s, created.id);
      return created.id;
    }),
  );
  const wallMs = performance.now() - began;
  const attemptMs = [];
  const runMs = [];
  for (const id of ids) {
    const task = await completedTask(s, id, bestOfN);
    for (const attempt of task.attempts) {
      // Both commands ran in the workspace: notes.txt holds one line from each.
      if (attempt.diffStats?.linesAdded !== 2 || attempt.message !== "Done.")
        throw new Error(`attempt ${attempt.id}: ${JSON.stringify({ ...attempt, turns: undefined })}`);
      const run = attempt.turns[0];
      attemptMs.push(run.finishedAt - sentAt);
      runMs.push(run.finishedAt - run.createdAt);
    }
  }
  return { tasks, bestOfN, attempts: tasks * bestOfN, wallMs, attemptMs, runMs };
}

/** GET /tasks/{id}, which must have completed with `attempts` completed attempts. */
async function completedTask(s, id, attempts) {
  const task = await api(s, "GET", `/api/v1/tasks/${id}`);
  const done = task.attempts.filter((a) => a.status === "completed").length;
  if (task.status !== "completed" || done !== attempts) {
    const errors = task.attempts.map((a) => a.error?.message).filter(Boolean);
    throw new Error(`task ${id} ended ${task.status}, ${done}/${attempts} attempts completed: ${errors}`);
  }
  return task;
}

/** Reads the task's SSE stream from the start until a final `task/status`; resolves with the envelopes. */
async function followTask(s, id, timeoutMs = 30_000) {
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new Error(`task ${id} did not end in ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    const response = await fetch(`${s.url}/api/v1/tasks/${id}/events?after=0`, {
      headers: { authorization: `Bearer ${s.token}`, accept: "text/event-stream" },
      signal: abort.signal,
    });
    if (!response.ok) throw new Error(`task ${id} events: HTTP ${response.status} ${await response.text()}`);
    const envelopes = [];
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
        const frame = buffer.slice(0, end).split("\n");
        buffer = buffer.slice(end + 2);
        const data = frame.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart());
        if (data.length === 0) continue;
        if (frame.includes("event: error")) throw new Error(`task ${id} events: ${data.join("\n")}`);
        const envelope = JSON.parse(data.join("\n"));
        envelopes.push(envelope);
        if (envelope.event.type === "task/status" && FINAL.has(envelope.event.status)) return envelopes;
      }
    }
    throw new Error(`task ${id}: the event stream ended before the task did`);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** Starts `kiln serve --port 0` on `dataDir` and resolves with `{ url, kill }` once it listens. */
function startServe(root, kilnHome, dataDir) {
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: kilnHome,
    KILN_HOME: kilnHome,
    LANG: "C.UTF-8",
    OPENAI_API_KEY: "bench-key",
    KILN_ADMIN_PASSWORD: PASSWORD,
    KILN_SHUTDOWN_GRACE_MS: "0",
  };
  // stdout (pino logs) is dropped; stderr is read to the end, as an undrained pipe would stall it.
  const child = spawn(
    process.execPath,
    [join(root, "packages/cli/dist/kiln.js"), "serve", "--port", "0", "--data-dir", dataDir],
    { env, stdio: ["ignore", "ignore", "pipe"] },
  );
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  let stderr = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`kiln serve did not start in 20 s:\n${stderr}`));
    }, 20_000);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match === null) return;
      clearTimeout(timer);
      resolve({ url: match[1], kill });
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`kiln serve exited (${code ?? signal}) before listening:\n${stderr}`));
    });
  });
}

async function signIn(url) {
  const body = await api({ url }, "POST", "/api/v1/auth/login", { username: "admin", password: PASSWORD });
  return body.accessToken;
}

/** Calls the API as `s.token` (if any); a non-2xx answer throws with its body. */
async function api(s, method, path, body) {
  const headers = {};
  if (s.token !== undefined) headers.authorization = `Bearer ${s.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${s.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return text === "" ? undefined : JSON.parse(text);
}

// `node bench/task-bench.mjs` (after `npm run build`): only these figures, raw, as JSON.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const loadBefore = loadavg()[0].toFixed(2);
  const result = await benchTasks({ root });
  console.log(JSON.stringify({ loadBefore, loadAfter: loadavg()[0].toFixed(2), ...result }, null, 2));
}
