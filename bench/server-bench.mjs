// `kiln serve` figures: the real bundled server as a child process (temp data dir, SQLite, bwrap
// sandboxes) driven over its HTTP API by this process, against one fake model process.
// Sequence: start the fake model (every thread's steps matched by a marker in its prompt) →
//   1. server A: 50 threads each run one turn at once (3 `echo` commands, then a message); wall time,
//      throughput, and per-thread step latency from the `at` of consecutive `usage/updated` events
//      (one per model call, so one step = model answer → tool run → next request → its answer);
//   2. server A: 200 SSE subscribers on one thread, one turn of a few steps; for every event each
//      subscriber receives, receivedAt − envelope.at (both wall clocks of this machine). The readers
//      (sse-subscribers.mjs) only timestamp what arrives and parse it afterwards, in this process or
//      spread over worker threads, so that the figure is the server's and not the readers' own work;
//   3. server B (fresh, so the figures above leave no garbage in it): VmRSS after 200 idle threads
//      (each with one completed turn, so it is loaded) minus VmRSS before, per thread.
// Every child is killed on the way out, also when this process exits early.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { startFakeModel } from "./fake-model.mjs";
import { openSubscribers } from "./sse-subscribers.mjs";

const PASSWORD = "bench-admin-password";

/** How the delivery figure was taken (kiln serve is always its own process), for the printed line. */
function deliveryMethod(workers) {
  const threads = workers === 0 ? "1 thread" : `${workers} worker threads`;
  return `readers on ${threads} of the bench, timestamp only`;
}

/** Nearest-rank percentile `p` (0–100) of `values`. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** `{ n, p50, p99, max }` of `values`. */
export function spread(values) {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
  };
}

/**
 * Runs the three server benchmarks one after another and resolves with their raw numbers:
 * `{ concurrent, delivery, memory }` (see the file comment; times in ms, memory in kB).
 */
export async function benchServer({
  root,
  turns = 50,
  subscribers = 200,
  idleThreads = 200,
  deliveryRounds = 1,
  subscriberWorkers = 0,
  memory: withMemory = true,
}) {
  const cleanups = [];
  const killAll = () => {
    for (const stop of cleanups.splice(0).reverse()) stop();
  };
  const onExit = () => killAll();
  const onSignal = (signal) => {
    killAll();
    process.kill(process.pid, signal);
  };
  process.once("exit", onExit);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const home = mkdtempSync(join(tmpdir(), "kiln-bench-serve-"));
  try {
    const model = await startFakeModel(root, scenario({ turns, idleThreads, deliveryRounds }));
    cleanups.push(() => void model.close());
    writeFileSync(
      join(home, "config.toml"),
      `model = "gpt-test"\nopenai_base_url = "${model.url}"\n\n[model_providers.openai]\nretry_base_delay_ms = 20\n`,
    );
    const serverA = await startServe(root, home, join(home, "data-a"));
    cleanups.push(serverA.kill);
    const adminA = await signIn(serverA.url);
    const concurrent = await benchConcurrentTurns(serverA.url, adminA, turns);
    const rounds = [];
    for (let round = 0; round < deliveryRounds; round++)
      rounds.push(
        await benchDelivery(serverA.url, adminA, subscribers, fanOutMarker(round), subscriberWorkers),
      );
    const delivery = { ...mergeRounds(rounds), method: deliveryMethod(subscriberWorkers) };
    serverA.kill();
    if (!withMemory) return { concurrent, delivery, memory: null, modelRequests: model.requests.length };

    const serverB = await startServe(root, home, join(home, "data-b"));
    cleanups.push(serverB.kill);
    const adminB = await signIn(serverB.url);
    const memory = await benchIdleMemory(serverB, adminB, idleThreads);
    serverB.kill();
    return { concurrent, delivery, memory, modelRequests: model.requests.length };
  } finally {
    killAll();
    process.removeListener("exit", onExit);
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    rmSync(home, { recursive: true, force: true });
  }
}

/** Every step any benchmark needs, each served only to the thread whose prompt carries its marker. */
function scenario({ turns, idleThreads, deliveryRounds }) {
  const steps = [];
  const commandsThenMessage = (marker) => {
    for (let i = 1; i <= 3; i++)
      steps.push({ when: { bodyIncludes: marker }, output: [{ type: "exec_command", cmd: `echo ${i}` }] });
    steps.push({ when: { bodyIncludes: marker }, output: [{ type: "message", text: "Done." }] });
  };
  for (let k = 0; k < turns; k++) commandsThenMessage(turnMarker(k));
  for (let round = 0; round < deliveryRounds; round++) commandsThenMessage(fanOutMarker(round));
  for (let k = 0; k < idleThreads + WARM_UP_THREADS; k++)
    steps.push({ when: { bodyIncludes: idleMarker(k) }, output: [{ type: "message", text: "Ok." }] });
  return { steps };
}

// Closing brackets keep `<TURN-1>` from matching the prompt of `<TURN-10>`.
const turnMarker = (k) => `<TURN-${k}>`;
const idleMarker = (k) => `<IDLE-${k}>`;
const fanOutMarker = (round) => `<FANOUT-${round}>`;
const WARM_UP_THREADS = 5;

// 1. Concurrent turns ------------------------------------------------------------------------------

async function benchConcurrentTurns(url, token, turns) {
  const threads = await Promise.all(
    Array.from({ length: turns }, () =>
      api(url, token, "POST", "/api/v1/threads", { approvalPolicy: "never" }),
    ),
  );
  const follower = await followThreads(url, token);
  await follower.subscribe(threads.map((t) => t.id));
  const started = performance.now();
  await Promise.all(
    threads.map((t, k) =>
      api(url, token, "POST", `/api/v1/threads/${t.id}/turns`, {
        input: `${turnMarker(k)} Run three echo commands, then say done.`,
      }),
    ),
  );
  const envelopes = await follower.completed(threads.map((t) => t.id));
  const wallMs = performance.now() - started;
  follower.close();

  const stepMs = [];
  const turnMs = [];
  for (const t of threads) {
    const events = envelopes.get(t.id) ?? [];
    checkTurn(events, 3, `thread ${t.id}`);
    const calls = events.filter((e) => e.event.type === "usage/updated").map((e) => e.at);
    for (let i = 1; i < calls.length; i++) stepMs.push(calls[i] - calls[i - 1]);
    const at = (type) => events.find((e) => e.event.type === type)?.at ?? Number.NaN;
    turnMs.push(at("turn/completed") - at("turn/started"));
  }
  const modelCalls = turns * 4;
  return {
    turns,
    modelCalls,
    commands: turns * 3,
    wallMs,
    turnsPerSecond: turns / (wallMs / 1000),
    stepsPerSecond: modelCalls / (wallMs / 1000),
    stepMs,
    turnMs,
  };
}

/** Throws unless the turn completed with `commands` successful commands and a final message. */
function checkTurn(events, commands, what) {
  const completed = events.filter((e) => e.event.type === "item/completed").map((e) => e.event.item);
  const ran = completed.filter((i) => i.type === "commandExecution" && i.exitCode === 0).length;
  const end = events.find((e) => e.event.type === "turn/completed")?.event;
  const problems = [
    end?.status !== "completed" && `the turn ended ${end?.status} ${JSON.stringify(end?.error ?? "")}`,
    ran !== commands && `${ran} of ${commands} commands succeeded`,
    !completed.some((i) => i.type === "agentMessage") && "no final message",
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`${what}: ${problems.join("; ")}`);
}

// 2. Event delivery to SSE subscribers --------------------------------------------------------------

async function benchDelivery(url, token, subscribers, marker, workers) {
  const thread = await api(url, token, "POST", "/api/v1/threads", { approvalPolicy: "never" });
  const before = await metric(url, "kiln_event_subscribers");
  const streams = openSubscribers({
    url,
    token,
    path: `/api/v1/threads/${thread.id}/events`,
    count: subscribers,
    workers,
  });
  await streams.open;
  // Subscribed means registered with the hub, not just answered: wait for the server's own count.
  await until(async () => (await metric(url, "kiln_event_subscribers")) >= before + subscribers, 15_000);
  await api(url, token, "POST", `/api/v1/threads/${thread.id}/turns`, {
    input: `${marker} Run three echo commands, then say done.`,
  });
  const received = await streams.done;
  streams.close();
  checkTurn(
    received[0].map((r) => r.envelope),
    3,
    "the fan-out turn",
  );
  const latencyMs = received.flatMap((frames) => frames.map((f) => f.receivedAt - f.envelope.at));
  // Per event, the first and the last subscriber to get it: the store-and-publish path vs the fan-out.
  const bySeq = new Map();
  for (const frames of received) {
    for (const f of frames) {
      const ms = f.receivedAt - f.envelope.at;
      const seen = bySeq.get(f.envelope.seq) ?? { first: ms, last: ms };
      bySeq.set(f.envelope.seq, { first: Math.min(seen.first, ms), last: Math.max(seen.last, ms) });
    }
  }
  const counts = received.map((frames) => frames.length);
  return {
    subscribers,
    eventsPerSubscriber: { min: Math.min(...counts), max: Math.max(...counts) },
    latencyMs,
    firstSubscriberMs: [...bySeq.values()].map((v) => v.first),
    lastSubscriberMs: [...bySeq.values()].map((v) => v.last),
  };
}

/** The rounds of the delivery benchmark as one sample set (every round: a fresh thread, one turn). */
function mergeRounds(rounds) {
  const all = (key) => rounds.flatMap((r) => r[key]);
  return {
    subscribers: rounds[0].subscribers,
    rounds: rounds.length,
    eventsPerSubscriber: {
      min: Math.min(...rounds.map((r) => r.eventsPerSubscriber.min)),
      max: Math.max(...rounds.map((r) => r.eventsPerSubscriber.max)),
    },
    latencyMs: all("latencyMs"),
    firstSubscriberMs: all("firstSubscriberMs"),
    lastSubscriberMs: all("lastSubscriberMs"),
  };
}

// 3. Memory per idle thread --------------------------------------------------------------------------

async function benchIdleMemory(server, token, idleThreads) {
  // A few threads first, so that what every thread needs once (modules, JIT) is in the baseline.
  await runIdleThreads(server.url, token, 0, WARM_UP_THREADS);
  const baselineKb = await settledRss(server.pid);
  await runIdleThreads(server.url, token, WARM_UP_THREADS, idleThreads);
  const afterKb = await settledRss(server.pid);
  return { threads: idleThreads, baselineKb, afterKb, perThreadKb: (afterKb - baselineKb) / idleThreads };
}

/** Creates `count` threads (markers from `first`), each with one one-step turn, 10 at a time. */
async function runIdleThreads(url, token, first, count) {
  const follower = await followThreads(url, token);
  for (let k = first; k < first + count; k += 10) {
    const batch = Array.from({ length: Math.min(10, first + count - k) }, (_, i) => k + i);
    const ids = await Promise.all(
      batch.map(async (m) => {
        const thread = await api(url, token, "POST", "/api/v1/threads", { approvalPolicy: "never" });
        await follower.subscribe([thread.id]);
        await api(url, token, "POST", `/api/v1/threads/${thread.id}/turns`, { input: `${idleMarker(m)} hi` });
        return thread.id;
      }),
    );
    const envelopes = await follower.completed(ids);
    for (const id of ids) {
      const end = envelopes.get(id)?.find((e) => e.event.type === "turn/completed")?.event;
      if (end?.status !== "completed") throw new Error(`idle thread ${id}: the turn ended ${end?.status}`);
    }
  }
  follower.close();
}

/** The median of five VmRSS reads 200 ms apart, after a second's pause, in kB. */
async function settledRss(pid) {
  await sleep(1000);
  const samples = [];
  for (let i = 0; i < 5; i++) {
    samples.push(readVmRssKb(pid));
    await sleep(200);
  }
  return percentile(samples, 50);
}

function readVmRssKb(pid) {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

// The server process and its API ----------------------------------------------------------------------

/** Starts `kiln serve --port 0` on `dataDir` and resolves with `{ url, pid, kill }` once it listens. */
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
  // Logs (pino, level info as by default) go nowhere: an undrained pipe would stall the server.
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
      resolve({ url: match[1], pid: child.pid, kill });
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`kiln serve exited (${code ?? signal}) before listening:\n${stderr}`));
    });
  });
}

async function signIn(url) {
  const body = await api(url, undefined, "POST", "/api/v1/auth/login", {
    username: "admin",
    password: PASSWORD,
  });
  return body.accessToken;
}

/** Calls the API; a non-2xx answer throws with its body. */
async function api(url, token, method, path, body) {
  const headers = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return text === "" ? undefined : JSON.parse(text);
}

/** A gauge or counter from /metrics (no labels). */
async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, "m").exec(text);
  if (match === null) throw new Error(`/metrics has no ${name}`);
  return Number(match[1]);
}

/**
 * One WebSocket following many threads. `subscribe(ids)` resolves once each is subscribed;
 * `completed(ids)` once each has sent a `turn/completed`, with the envelopes per thread.
 */
async function followThreads(url, token) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/api/v1/ws`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const envelopes = new Map();
  const subscribed = new Set();
  const ended = new Set();
  let waiters = [];
  let failure;
  const wake = () => {
    waiters = waiters.filter((w) => !w());
  };
  ws.on("message", (data) => {
    const message = JSON.parse(String(data));
    if (message.type === "subscribed") subscribed.add(message.threadId);
    else if (message.type === "error" || message.type === "resync")
      failure = new Error(`WebSocket: ${JSON.stringify(message)}`);
    else if (typeof message.seq === "number") {
      const list = envelopes.get(message.threadId) ?? [];
      list.push(message);
      envelopes.set(message.threadId, list);
      if (message.event.type === "turn/completed") ended.add(message.threadId);
    }
    wake();
  });
  ws.on("close", () => {
    failure ??= new Error("the WebSocket closed");
    wake();
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const waitFor = (done, what) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`WebSocket: timed out waiting for ${what}`)), 60_000);
      const check = () => {
        if (failure !== undefined) {
          clearTimeout(timer);
          reject(failure);
          return true;
        }
        if (!done()) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      if (!check()) waiters.push(check);
    });
  return {
    async subscribe(ids) {
      for (const id of ids) ws.send(JSON.stringify({ type: "subscribe", threadId: id, after: 0 }));
      await waitFor(() => ids.every((id) => subscribed.has(id)), "subscriptions");
    },
    async completed(ids) {
      await waitFor(() => ids.every((id) => ended.has(id)), "turns to complete");
      return envelopes;
    },
    close: () => {
      failure ??= new Error("closed");
      ws.terminate();
    },
  };
}

async function until(check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await sleep(20);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// `node bench/server-bench.mjs [--rounds N] [--subscribers N] [--workers N]` (after `npm run
// build`): only the concurrent turns (which also warm the server up) and the SSE delivery figure, N
// rounds on fresh threads, readers on N worker threads (0: this thread), without the rest of `npm run
// bench`. Two rounds at most: a round makes ~200 API calls and the server allows a user 600 a minute.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string", default: "1" },
      subscribers: { type: "string", default: "200" },
      workers: { type: "string", default: "0" },
    },
  });
  const root = fileURLToPath(new URL("..", import.meta.url));
  const loadBefore = loadavg()[0].toFixed(2);
  const { concurrent, delivery } = await benchServer({
    root,
    subscribers: Number(values.subscribers),
    deliveryRounds: Number(values.rounds),
    subscriberWorkers: Number(values.workers),
    memory: false,
  });
  const f = (s) => `p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`;
  console.log(`load ${loadBefore} before, ${loadavg()[0].toFixed(2)} after`);
  console.log(`${concurrent.turns} concurrent turns: ${concurrent.wallMs.toFixed(0)} ms`);
  console.log(
    `delivery to ${delivery.subscribers} SSE subscribers (${delivery.method}), ${delivery.rounds} round(s), ` +
      `${delivery.latencyMs.length} frames: ${f(spread(delivery.latencyMs))}`,
  );
  console.log(`  per event, first subscriber: ${f(spread(delivery.firstSubscriberMs))}`);
  console.log(`  per event, last subscriber:  ${f(spread(delivery.lastSubscriberMs))}`);
}
