// Prepares a task environment. Sequence:
//   1. clone: bring the repository's mirror up to date, resolve the branch's commit, compute the
//      cache key (environment-cache-key.ts);
//   2. setup: when `<cacheDir>/prepared/<key>` carries its ready marker, `skipped`. Otherwise clone the
//      mirror into a temp dir next to it, check out the commit on a local branch, run the setup script
//      in the sandbox, add what it created to `.git/info/exclude`, write the ready marker and rename the
//      temp dir into place (atomic: a prepared dir is complete or absent). Concurrent calls for one key
//      in this process share this step;
//   3. ready.
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { KilnError, toErrorInfo } from "@kiln/protocol";
import { environmentCacheKey } from "./environment-cache-key.ts";
import type {
  EnvironmentEvent,
  PreparedEnvironment,
  PrepareEnvironmentOptions,
} from "./environment-types.ts";
import { excludeSetupArtifacts } from "./exclude-setup-artifacts.ts";
import { normalizeRepository, resolveBranch, updateMirror } from "./repository-mirror.ts";
import { gitOutput, interruptedError } from "./run-git.ts";
import { runSetupScript } from "./run-setup-script.ts";

/** The ready marker, inside `.git` so that it is copied with the tree but never part of a diff. */
const readyMarker = "kiln-environment.json";

/** One setup step, shared by every caller that asked for its key while it runs. */
interface SharedPreparation {
  promise: Promise<PreparedEnvironment>;
  /** Setup events so far, replayed to a caller that joins late. */
  history: EnvironmentEvent[];
  listeners: Set<(event: EnvironmentEvent) => void>;
  /** Aborted when the last caller waiting for it gives up. */
  controller: AbortController;
  callers: number;
}

// In-process on purpose: two tasks started together for one environment must not run its setup
// twice. Across processes the atomic rename decides, and the loser's work is discarded.
const preparations = new Map<string, SharedPreparation>();

/**
 * Makes sure a prepared tree exists for the repository's branch, setup script and environment
 * variables, and returns it. Emits `clone` → `setup` (`skipped` when cached) → `ready` phase events
 * and the setup script's output as log events. Errors are `KilnError`s: `environment_failed` (clone,
 * missing branch, failing setup), `timeout` (setup too slow), `turn_interrupted` (aborted).
 */
export async function prepareEnvironment(options: PrepareEnvironmentOptions): Promise<PreparedEnvironment> {
  const emit = options.onEvent ?? (() => {});
  const signal = options.signal;
  const repository = normalizeRepository(options.repository);
  const cacheDir = resolve(options.cacheDir);
  if (!(options.setupTimeoutMs > 0)) {
    throw new KilnError(
      "invalid_request",
      `The setup timeout must be positive, got ${options.setupTimeoutMs}.`,
    );
  }

  const cloneStarted = Date.now();
  emit({ type: "phase", phase: "clone", status: "started" });
  let mirror: string;
  let baseCommit: string;
  let cacheKey: string;
  try {
    mirror = await updateMirror(repository, cacheDir, signal);
    baseCommit = await resolveBranch(mirror, repository, options.branch, signal);
    cacheKey = await environmentCacheKey(
      mirror,
      {
        repository,
        branch: options.branch,
        commit: baseCommit,
        setupScript: options.setupScript,
        env: options.env,
      },
      signal,
    );
  } catch (thrown) {
    const error = signal?.aborted ? interruptedError("Preparing the environment") : thrown;
    const durationMs = Date.now() - cloneStarted;
    emit({ type: "phase", phase: "clone", status: "failed", durationMs, error: toErrorInfo(error) });
    throw error;
  }
  emit({
    type: "phase",
    phase: "clone",
    status: "completed",
    baseCommit,
    cacheKey,
    durationMs: Date.now() - cloneStarted,
  });

  const id = `${cacheDir}\0${cacheKey}`;
  let shared = preparations.get(id);
  if (shared === undefined || shared.controller.signal.aborted) {
    const job: SetupJob = {
      repository,
      branch: options.branch,
      setupScript: options.setupScript,
      env: options.env,
      secrets: options.secrets,
      setupTimeoutMs: options.setupTimeoutMs,
      setupNetwork: options.setupNetwork ?? true,
      provider: options.provider,
      cacheDir,
      mirror,
      baseCommit,
      cacheKey,
    };
    shared = startPreparation(id, job);
  }
  const prepared = await joinPreparation(shared, emit, signal);
  emit({ type: "phase", phase: "ready", status: "completed", cacheKey, baseCommit });
  return prepared;
}

/** What the shared setup step needs (a later caller with the same key reuses the first one's). */
type SetupJob = Omit<PrepareEnvironmentOptions, "signal" | "onEvent" | "setupNetwork"> & {
  setupNetwork: boolean;
  mirror: string;
  baseCommit: string;
  cacheKey: string;
};

function startPreparation(id: string, job: SetupJob): SharedPreparation {
  const history: EnvironmentEvent[] = [];
  const listeners = new Set<(event: EnvironmentEvent) => void>();
  const controller = new AbortController();
  const emit = (event: EnvironmentEvent) => {
    history.push(event);
    for (const listener of listeners) listener(event);
  };
  const promise = setUp(job, emit, controller.signal).finally(() => {
    if (preparations.get(id) === shared) preparations.delete(id);
  });
  // Callers handle the outcome; this only keeps a preparation nobody waits for from being "unhandled".
  promise.catch(() => {});
  const shared: SharedPreparation = { promise, history, listeners, controller, callers: 0 };
  preparations.set(id, shared);
  return shared;
}

function joinPreparation(
  shared: SharedPreparation,
  emit: (event: EnvironmentEvent) => void,
  signal: AbortSignal | undefined,
): Promise<PreparedEnvironment> {
  for (const event of shared.history) emit(event);
  // A wrapper of its own, so that two callers passing the same function are still two listeners.
  const listener = (event: EnvironmentEvent) => emit(event);
  shared.listeners.add(listener);
  shared.callers += 1;
  return new Promise((resolvePrepared, reject) => {
    const leave = () => {
      shared.listeners.delete(listener);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      leave();
      shared.callers -= 1;
      if (shared.callers === 0) shared.controller.abort();
      const error = interruptedError("Preparing the environment");
      emit({ type: "phase", phase: "setup", status: "failed", error: error.toInfo() });
      reject(error);
    };
    shared.promise.then(
      (prepared) => {
        leave();
        resolvePrepared(prepared);
      },
      (error: unknown) => {
        leave();
        reject(error);
      },
    );
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
}

async function setUp(
  job: SetupJob,
  emit: (event: EnvironmentEvent) => void,
  signal: AbortSignal,
): Promise<PreparedEnvironment> {
  const { baseCommit, cacheKey } = job;
  const dir = join(job.cacheDir, "prepared", cacheKey);
  if (await isReady(dir, cacheKey)) {
    emit({ type: "phase", phase: "setup", status: "skipped", cacheKey });
    return { dir, baseCommit, cacheKey, cached: true };
  }

  const started = Date.now();
  emit({ type: "phase", phase: "setup", status: "started", cacheKey });
  const log = (text: string) => emit({ type: "log", phase: "setup", text });
  await mkdir(join(job.cacheDir, "prepared"), { recursive: true });
  const temp = await mkdtemp(join(job.cacheDir, "prepared", `.tmp-${cacheKey.slice(0, 12)}-`));
  try {
    await checkOut(job, temp, signal);
    if (job.setupScript.trim() !== "") {
      await runSetupScript({
        dir: temp,
        script: job.setupScript,
        env: job.env,
        secrets: job.secrets,
        timeoutMs: job.setupTimeoutMs,
        network: job.setupNetwork,
        provider: job.provider,
        signal,
        onLog: log,
      });
    }
    const artifacts = await excludeSetupArtifacts(temp, signal);
    if (artifacts.changedTracked.length > 0) {
      log(
        `[Kiln: the setup script changed tracked files (${artifacts.changedTracked.join(", ")}); ` +
          "these changes will be part of every task's diff.]\n",
      );
    }
    if (artifacts.skipped.length > 0) {
      log(
        `[Kiln: could not exclude ${artifacts.skipped.length} created file(s) with a newline in the name.]\n`,
      );
    }
    const marker = { cacheKey, baseCommit, branch: job.branch, preparedAt: new Date().toISOString() };
    await writeFile(join(temp, ".git", readyMarker), `${JSON.stringify(marker)}\n`);
    await moveIntoPlace(temp, dir, cacheKey);
  } catch (error) {
    const durationMs = Date.now() - started;
    emit({
      type: "phase",
      phase: "setup",
      status: "failed",
      cacheKey,
      durationMs,
      error: toErrorInfo(error),
    });
    throw error;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  emit({ type: "phase", phase: "setup", status: "completed", cacheKey, durationMs: Date.now() - started });
  return { dir, baseCommit, cacheKey, cached: false };
}

/** Clones the mirror into `dir` and checks out the commit on a local branch named like the remote one. */
async function checkOut(job: SetupJob, dir: string, signal: AbortSignal): Promise<void> {
  const what = "Could not check out the repository";
  const common = { what, code: "environment_failed" as const, signal };
  // --no-hardlinks: the prepared tree must not share inodes with the mirror (the sandbox's ACL grant on
  // the tree would otherwise reach into the mirror's objects).
  await gitOutput(["clone", "--quiet", "--no-hardlinks", "--no-checkout", "--", job.mirror, dir], {
    ...common,
    cwd: join(job.cacheDir, "prepared"),
  });
  // Publishing pushes to the real repository, not to Kiln's mirror of it.
  await gitOutput(["remote", "set-url", "origin", job.repository], { ...common, cwd: dir });
  await gitOutput(["checkout", "--quiet", "-B", job.branch, job.baseCommit, "--"], { ...common, cwd: dir });
}

async function moveIntoPlace(temp: string, dir: string, cacheKey: string): Promise<void> {
  try {
    await rename(temp, dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    // Another process finished the same preparation first: keep its tree, ours is deleted.
    if (await isReady(dir, cacheKey)) return;
    // A directory without the marker is a leftover (nothing renames an unfinished tree into place).
    await rm(dir, { recursive: true, force: true });
    await rename(temp, dir);
  }
}

async function isReady(dir: string, cacheKey: string): Promise<boolean> {
  const text = await readFile(join(dir, ".git", readyMarker), "utf8").catch(() => undefined);
  if (text === undefined) return false;
  try {
    return (JSON.parse(text) as { cacheKey?: unknown }).cacheKey === cacheKey;
  } catch {
    return false;
  }
}
