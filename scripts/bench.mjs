// `npm run bench`: figures for `kiln exec` and `kiln serve`, printed as one table and saved raw to
// test-output/bench.json. Sequence: build; the scripted exec task (wall time, per-step overhead, peak
// RSS, per-step breakdown); startup; sandbox spawn; harness; the server (concurrent turns, SSE fan-out,
// memory per idle thread); tasks (task created → first command in its sandbox, cold and cached; 8
// concurrent attempts). Benchmarks and their runs go one after another, never in parallel, so they do
// not compete for the CPUs. Exits 0 whatever the figures are; only a benchmark that could not run (or a
// failed build) makes it exit 1.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { benchExec } from "../bench/exec-bench.mjs";
import { benchHarness } from "../bench/harness-bench.mjs";
import { summarize } from "../bench/measure.mjs";
import { figureRow, mib, ms, renderTable, sectionRow, summaryRow, target } from "../bench/report.mjs";
import { benchSandboxSpawn } from "../bench/sandbox-bench.mjs";
import { benchServer, spread } from "../bench/server-bench.mjs";
import { benchStartup } from "../bench/startup-bench.mjs";
import { stepBreakdown } from "../bench/step-breakdown.mjs";
import { benchTasks } from "../bench/task-bench.mjs";
import { benchCheckpoints } from "../packages/durable/bench/checkpoint-bench.mjs";
import { benchDurable } from "../packages/durable/bench/restate-bench.mjs";
import { benchWorkers } from "../packages/durable/bench/workers-bench.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const STEPS = 20;
const EXEC_RUNS = 5;
const STARTUP_RUNS = 10;
const SPAWN_RUNS = 20;
const TARGET_PER_STEP_MS = 40;
const TARGET_PEAK_RSS_MIB = 100;
const SERVER_TURNS = 50;
const SSE_SUBSCRIBERS = 200;
const IDLE_THREADS = 200;
const TARGET_DELIVERY_P99_MS = 50;
const COLD_TASKS = 3;
const CACHED_TASKS = 5;
const TARGET_CACHED_FIRST_COMMAND_MS = 300;

const began = performance.now();
const cpuModel = cpus()[0]?.model ?? "unknown CPU";
// The load average is printed because other work on the machine moves every figure below.
const load = loadavg()[0].toFixed(2);
console.log(
  `Kiln bench — Node ${process.version}, ${availableParallelism()} CPUs (${cpuModel}), Linux ${release()}, load ${load}\n`,
);

if (spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: root, stdio: "inherit" }).status !== 0) {
  console.error("bench: the build failed (output above), so there is nothing to measure");
  process.exit(1);
}

const errors = [];
const exec = await section("exec", () => benchExec({ root, steps: STEPS, runs: EXEC_RUNS }));
const startup = await section("startup", () => benchStartup({ root, runs: STARTUP_RUNS }));
const sandbox = await section("sandbox spawn", () => benchSandboxSpawn({ root, runs: SPAWN_RUNS }));
const harness = await section("harness", () => benchHarness({ root, runs: 5 }));
const server = await section("server", () =>
  benchServer({ root, turns: SERVER_TURNS, subscribers: SSE_SUBSCRIBERS, idleThreads: IDLE_THREADS }),
);
const tasks = await section("tasks", () =>
  benchTasks({ root, cold: COLD_TASKS, cached: CACHED_TASKS, tasks: 2, bestOfN: 4 }),
);
// Restate + PostgreSQL (docs/scale.md): needs a PostgreSQL (scripts/pg-test-cluster.sh start).
const durable = process.env.KILN_TEST_PG_URL
  ? await section("durable (Restate)", async () => ({
      steps: await benchDurable({ pgUrl: process.env.KILN_TEST_PG_URL, steps: 10, runs: 2, concurrent: 10 }),
      workers: await benchWorkers({ pgUrl: process.env.KILN_TEST_PG_URL, concurrent: 10, steps: 5 }),
      checkpoints: await benchCheckpoints({ pgUrl: process.env.KILN_TEST_PG_URL, files: 5000, runs: 3 }),
    }))
  : null;

const figures = {
  exec: exec && execFigures(exec),
  startup: startup && {
    bundle: summarize(startup.bundle),
    wrapper: startup.wrapper && summarize(startup.wrapper),
  },
  sandbox: sandbox && {
    first: sandbox.first,
    sandboxed: summarize(sandbox.sandboxed),
    plain: summarize(sandbox.plain),
  },
};
console.log(
  renderTable([
    ...execRows(figures.exec),
    ...startupRows(figures.startup, startup),
    ...sandboxRows(figures.sandbox),
    ...harnessRows(harness),
    ...serverRows(server),
    ...taskRows(tasks),
    ...durableRows(durable),
  ]),
);
if (figures.exec) console.log(`\n${breakdownText(figures.exec.breakdown, figures.sandbox)}`);
for (const { name, error } of errors) console.log(`\n${name}: could not run: ${error.stack ?? error}`);

writeJson({ exec, startup, sandbox, server, tasks, figures });
if (durable) writeFileSync(`${root}test-output/bench-durable.json`, `${JSON.stringify(durable, null, 2)}\n`);
console.log(
  `\nraw numbers: test-output/bench.json · took ${((performance.now() - began) / 1000).toFixed(0)} s`,
);
process.exit(errors.length === 0 ? 0 : 1);

/** Runs one benchmark; a failure is reported at the end and the others still run. */
async function section(name, run) {
  console.error(`… ${name}`);
  try {
    return await run();
  } catch (error) {
    errors.push({ name, error });
    return null;
  }
}

function execFigures({ stepped, empty }) {
  const steppedWall = summarize(stepped.map((r) => r.wallMs));
  const emptyWall = summarize(empty.map((r) => r.wallMs));
  return {
    stepped: steppedWall,
    empty: emptyWall,
    // The 0-step run pays start-up, one model call and exit; what the 20 steps add is the harness's.
    perStepMs: (steppedWall.median - emptyWall.median) / STEPS,
    peakRssKb: summarize(stepped.map((r) => r.peakRssKb)),
    emptyPeakRssKb: summarize(empty.map((r) => r.peakRssKb)),
    breakdown: stepBreakdown(stepped),
  };
}

function execRows(f) {
  if (!f) return [];
  return [
    sectionRow(`1. kiln exec --json, scripted task, ${EXEC_RUNS} runs each (fresh model, KILN_HOME, repo)`),
    summaryRow(`${STEPS}-step task, wall time`, f.stepped, ms),
    summaryRow("0-step task (final message only), wall time", f.empty, ms),
    figureRow(
      "harness overhead per step, incl. sandbox + model round trip",
      ms(f.perStepMs),
      target(f.perStepMs, TARGET_PER_STEP_MS, "ms"),
    ),
    summaryRow(
      `peak RSS (VmHWM) of kiln, ${STEPS}-step task; target vs max`,
      f.peakRssKb,
      mib,
      target(f.peakRssKb.max / 1024, TARGET_PEAK_RSS_MIB, "MiB"),
    ),
    summaryRow("peak RSS of kiln, 0-step task", f.emptyPeakRssKb, mib),
  ];
}

function startupRows(f, raw) {
  if (!f) return [];
  const wrapperRow = f.wrapper
    ? summaryRow(`./kiln --version${rebuildNote(raw.rebuilds)}`, f.wrapper, ms)
    : figureRow(
        "./kiln --version",
        "—",
        "skipped: ./kiln would run npm ci (lockfile newer than node_modules)",
      );
  return [
    sectionRow(`2. startup, ${STARTUP_RUNS} runs each`),
    summaryRow("node packages/cli/dist/kiln.js --version", f.bundle, ms),
    wrapperRow,
  ];
}

function rebuildNote(rebuilds) {
  if (rebuilds === 0) return "";
  return ` (${rebuilds} run${rebuilds === 1 ? "" : "s"} that rebuilt after a source edit left out)`;
}

function sandboxRows(f) {
  if (!f) return [];
  return [
    sectionRow(`3. spawning \`true\`, ${SPAWN_RUNS} runs each, to exit with pipes drained`),
    summaryRow("through @kiln/sandbox, workspace-write (bwrap)", f.sandboxed, ms),
    figureRow("  its first spawn (one-off setup included)", ms(f.first)),
    summaryRow("plain child_process.spawn", f.plain, ms),
  ];
}

function breakdownText(b, sandbox) {
  const row = (label, value) => `  ${label.padEnd(58)}${ms(value).padStart(9)}`;
  const lines = [
    `Where a step goes (medians of ${b.samples} steps; request → request = one step):`,
    row("model answer streamed, parsed, tool dispatched", b.answer),
    row("command, kiln's duration_ms (sandbox + bash + output)", b.command),
    sandbox && row("  of which a bare sandboxed `true` (benchmark 3)", sandbox.sandboxed.median),
    `    by command: ${Object.entries(b.commandByName)
      .map(([name, value]) => `${name} ${ms(value)}`)
      .join(", ")}`,
    row("result recorded, next request built and sent", b.return),
    row("whole step, as seen by the fake model", b.step),
    "",
    row("kiln spawned → first model request (start-up)", b.startup),
    row("last model request → kiln exited", b.windDown),
  ];
  return lines.filter((l) => l !== null && l !== undefined).join("\n");
}

function writeJson({ exec, startup, sandbox, server, tasks, figures }) {
  const raw = (runs) =>
    runs?.map((r) => ({
      wallMs: r.wallMs,
      peakRssKb: r.peakRssKb,
      requests: r.requests.length,
      events: r.events.length,
    }));
  const { raw: steps, ...breakdown } = figures.exec?.breakdown ?? {};
  const json = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      cpuModel,
      kernel: release(),
      loadAverage1m: loadavg()[0],
    },
    units: { time: "ms", memory: "KiB (/proc's kB)" },
    exec: exec && {
      steps: STEPS,
      stepped: raw(exec.stepped),
      empty: raw(exec.empty),
      perStepMs: figures.exec.perStepMs,
      breakdown: { ...breakdown, steps },
    },
    startup,
    sandbox,
    server: server && {
      ...server,
      summary: {
        stepMs: spread(server.concurrent.stepMs),
        turnMs: spread(server.concurrent.turnMs),
        deliveryMs: spread(server.delivery.latencyMs),
        firstSubscriberMs: spread(server.delivery.firstSubscriberMs),
        lastSubscriberMs: spread(server.delivery.lastSubscriberMs),
      },
    },
    tasks,
    targets: {
      perStepMs: TARGET_PER_STEP_MS,
      cachedFirstCommandMs: TARGET_CACHED_FIRST_COMMAND_MS,
      peakRssKb: TARGET_PEAK_RSS_MIB * 1024,
      deliveryP99Ms: TARGET_DELIVERY_P99_MS,
    },
    errors: errors.map(({ name, error }) => ({ name, message: String(error.message ?? error) })),
  };
  mkdirSync(`${root}test-output`, { recursive: true });
  writeFileSync(`${root}test-output/bench.json`, `${JSON.stringify(json, null, 2)}\n`);
}

/** Rows for the model-free harness figures (issue: compaction and resume targets). */
function harnessRows(harness) {
  if (!harness) return [];
  const resume = summarize(harness.resume);
  return [
    sectionRow("4. harness, no model (built @kiln/core)"),
    summaryRow("compact a 200-item history, excluding the model call", summarize(harness.compact), ms),
    summaryRow("resume a thread with a 10,000-item rollout", resume, ms, target(resume.median, 300, "ms")),
  ];
}

/** Rows for `kiln serve` (bench/server-bench.mjs): p50 in the median column, p99 in the max column. */
function serverRows(server) {
  if (!server) return [];
  const { concurrent: c, delivery: d, memory: m } = server;
  const pRow = (label, values, targetText = "") => {
    const s = spread(values);
    return [label, ms(s.p50), "", ms(s.p99), targetText];
  };
  const delivery = spread(d.latencyMs);
  return [
    sectionRow(
      `5. kiln serve as a child process (SQLite, bwrap), fake model; p50 under median, p99 under max`,
    ),
    figureRow(
      `${c.turns} concurrent turns (3 echo commands + message each), wall time`,
      ms(c.wallMs),
      `${c.turnsPerSecond.toFixed(1)} turns/s, ${c.stepsPerSecond.toFixed(1)} steps (model calls)/s`,
    ),
    pRow("  step latency: model call to model call of one thread", c.stepMs),
    pRow("  turn latency: turn/started to turn/completed", c.turnMs),
    pRow(
      `event delivery to ${d.subscribers} SSE subscribers (${d.method}), receivedAt − at`,
      d.latencyMs,
      `p99 ${target(delivery.p99, TARGET_DELIVERY_P99_MS, "ms")}`,
    ),
    pRow("  per event, the first subscriber to get it", d.firstSubscriberMs),
    pRow("  per event, the last subscriber to get it", d.lastSubscriberMs),
    figureRow(
      `memory per idle thread (VmRSS growth over ${m.threads} threads / ${m.threads})`,
      `${m.perThreadKb.toFixed(0)} KiB`,
      `VmRSS ${mib(m.baselineKb)} before, ${mib(m.afterKb)} after`,
    ),
  ];
}

/** Rows for the task service (bench/task-bench.mjs): creation → first command, and concurrent attempts. */
function durableRows(d) {
  if (!d) {
    return [
      sectionRow("7. turns on Restate + PostgreSQL"),
      figureRow("(skipped)", "—", 'KILN_TEST_PG_URL is not set: eval "$(scripts/pg-test-cluster.sh start)"'),
    ];
  }
  const { steps: s, workers: w, checkpoints: c } = d;
  return [
    sectionRow(`7. turns on Restate + PostgreSQL (restate-server from npm, bwrap), fake model`),
    figureRow(`${s.steps}-command turn, in-process (median)`, ms(s.inProcessTurnMs)),
    figureRow(`the same turn on Restate, 1 worker, until turn/completed stored`, ms(s.restateTurnMs)),
    figureRow("overhead per step via Restate (model + tool steps)", ms(s.overheadPerStepMs)),
    figureRow(
      `${w.concurrentTurns} concurrent turns of ${w.commandsPerTurn} commands, 1 kiln worker`,
      `${w.oneWorker.turnsPerSecond.toFixed(1)} turns/s (${ms(w.oneWorker.wallMs)})`,
    ),
    figureRow(
      "  the same with 2 kiln workers behind one address",
      `${w.twoWorkers.turnsPerSecond.toFixed(1)} turns/s (${ms(w.twoWorkers.wallMs)})`,
    ),
    figureRow(
      `workspace checkpoint (--workspaces checkpoint), ${c.files} files / ${mib(c.bytes / 1024)}: first save`,
      ms(c.firstSaveMs),
    ),
    figureRow("  save after one file changed (paid by each mutating step)", ms(c.oneChangeSaveMs)),
    figureRow("  save with nothing changed (no new checkpoint)", ms(c.unchangedSaveMs)),
    figureRow("  restore into an empty directory (a worker taking a turn over)", ms(c.restoreEmptyMs)),
    figureRow("  restore with nothing to change", ms(c.restoreUnchangedMs)),
  ];
}

function taskRows(tasks) {
  if (!tasks) return [];
  const { cold, cached, concurrent: c } = tasks;
  const of = (runs, key) => summarize(runs.map((r) => r[key]));
  const firstCached = of(cached, "firstCommandMs");
  const pRow = (label, values) => {
    const s = spread(values);
    return [label, ms(s.p50), "", ms(s.p99), ""];
  };
  return [
    sectionRow(
      "6. tasks on kiln serve (SQLite, bwrap), fake model: POST /tasks → the agent's first command running",
    ),
    summaryRow(
      `cold: new repo + environment (setup: sleep 0.2), ${cold.length} tasks`,
      of(cold, "firstCommandMs"),
      ms,
    ),
    summaryRow("  of which → environment ready (clone + setup)", of(cold, "readyMs"), ms),
    summaryRow(
      `cached environment (setup skipped), ${cached.length} tasks one after another`,
      firstCached,
      ms,
      target(firstCached.median, TARGET_CACHED_FIRST_COMMAND_MS, "ms"),
    ),
    summaryRow("  of which → environment ready (mirror fetch, cache hit)", of(cached, "readyMs"), ms),
    summaryRow(
      "  of which → attempt running (workspace copied, turn started)",
      of(cached, "attemptRunningMs"),
      ms,
    ),
    figureRow(
      `${c.tasks} tasks × bestOfN ${c.bestOfN} = ${c.attempts} attempts at once (2 commands + message), wall`,
      ms(c.wallMs),
      `${availableParallelism()} CPUs; cached environment; p50 under median, p99 under max below`,
    ),
    pRow("  per attempt: POST /tasks → its run finished", c.attemptMs),
    pRow("  per attempt: run started → run finished (agent + diff)", c.runMs),
  ];
}
