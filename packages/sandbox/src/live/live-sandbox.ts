// A sandbox the server keeps alive between requests: a workspace, the policy its commands run under
// (`workspace-write`, the workspace as the only writable root), and the processes running in it now.
// It starts on the first exec or terminal, stops (every process killed, the workspace kept) when asked
// or when idle, and starts again on the next exec or terminal.
import { setTimeout as sleep } from "node:timers/promises";
import type { SandboxExecChunk, SandboxState, SandboxStatus } from "@kiln/protocol";
import { KilnError } from "@kiln/protocol";
import type { SandboxProcess, SandboxProvider } from "../types.ts";
import { diskUsage } from "./disk-usage.ts";
import { type ExecRequest, execChunks, type SandboxSpawner } from "./exec-stream.ts";
import { killUntilExited } from "./kill-until-exited.ts";
import { cpuPercentBetween, type ProcessSample, sampleProcessTrees } from "./process-stats.ts";
import type { LimitEnforcer } from "./resource-limits.ts";
import { openTerminal, type TerminalOptions, type TerminalSession } from "./terminal-session.ts";
import { createWorkspaceFiles, type WorkspaceFiles } from "./workspace-files.ts";
import { resolveWorkspaceRoot, type WorkspaceRoot } from "./workspace-path.ts";

/** Which sandbox: its id, its workspace directory on the server, and whether it may use the network. */
export interface LiveSandboxSpec {
  id: string;
  workspace: string;
  networkAccess: boolean;
}

/** A live sandbox: exec, terminals, files, status and stop. */
export interface LiveSandbox {
  readonly id: string;
  readonly workspace: string;
  readonly networkAccess: boolean;
  /** `running` from its first exec or terminal until it is stopped (by `stop()` or the idle timer). */
  readonly state: SandboxState;
  /** When it was last used (exec start/end, terminal input/output, a file operation), ms of the manager's clock. */
  readonly lastActiveAt: number;
  /**
   * Runs a command and streams its stdout and stderr, ending with an `exit` chunk. Nothing starts
   * until iteration does; a bad `cwd` (`path_escape`, `not_found`) is thrown by the first `next()`.
   * Leaving the loop early kills the command.
   */
  exec(request: ExecRequest): AsyncIterable<SandboxExecChunk>;
  /**
   * Opens an interactive login shell (`bash -l`) in a PTY, in the workspace, under the same policy.
   * Returns at once; the shell starts in the background (see `TerminalSession.started`).
   */
  terminal(options: TerminalOptions): TerminalSession;
  /** State, uptime and resource use now (CPU is measured over a short window: this takes ~¼ s). */
  status(signal?: AbortSignal): Promise<SandboxStatus>;
  /** Kills every process (terminals, running execs); the workspace stays. The next exec or terminal starts it again. */
  stop(): Promise<void>;
  /** The workspace's files. */
  readonly files: WorkspaceFiles;
}

/** What a live sandbox needs from its manager. */
export interface LiveSandboxDeps {
  provider: SandboxProvider;
  limits: () => Promise<LimitEnforcer>;
  /** Name of its cgroup(s) (filesystem-safe). */
  limitName: string;
  now: () => number;
  onStateChange: (state: SandboxState) => void;
}

/** The manager's view: the public API plus idle handling and disposal. */
export interface ManagedSandbox extends LiveSandbox {
  /** Stops it when it is running, idle for `idleMs` and has no exec running. */
  stopIfIdle(idleMs: number): Promise<void>;
  /** Stops it and frees its cgroups. */
  dispose(): Promise<void>;
}

/** How long a disk measurement is reused (a workspace with node_modules takes a while to walk). */
const diskCacheMs = 5000;
/** CPU use is measured over at least this window, reusing the previous sample when it is recent. */
const cpuWindowMs = 250;
const cpuSampleMaxAgeMs = 10_000;

/** Creates a live sandbox (stopped; nothing runs until the first exec or terminal). */
export function createLiveSandbox(spec: LiveSandboxSpec, deps: LiveSandboxDeps): ManagedSandbox {
  let state: SandboxState = "stopped";
  let startedAt = 0;
  let lastActiveAt = deps.now();
  // Bumped by stop(): a spawn that was under way when the sandbox stopped is killed once it exists.
  let generation = 0;
  let runningExecs = 0;
  const processes = new Set<SandboxProcess>();
  let root: Promise<WorkspaceRoot> | undefined;
  let prefix: Promise<string[]> | undefined;
  let lastSample: ProcessSample | undefined;
  let disk: { bytes: number; at: number } | undefined;

  const touch = () => {
    lastActiveAt = deps.now();
  };
  const workspaceRoot = () => {
    // A failure is not kept: the workspace may be created after the sandbox was opened.
    root ??= resolveWorkspaceRoot(spec.workspace).catch((error: unknown) => {
      root = undefined;
      throw error;
    });
    return root;
  };

  const spawn: SandboxSpawner = async (options) => {
    touch();
    if (state === "stopped") {
      state = "running";
      startedAt = deps.now();
      deps.onStateChange("running");
    }
    const ownGeneration = generation;
    const real = (await workspaceRoot()).real;
    const enforcer = await deps.limits();
    prefix ??= enforcer.prefixFor(deps.limitName).catch((error: unknown) => {
      prefix = undefined;
      throw error;
    });
    const child = await deps.provider.spawn({
      ...options,
      policy: { mode: "workspace-write", writableRoots: [real], networkAccess: spec.networkAccess },
      hostPrefix: await prefix,
    });
    processes.add(child);
    void child.exited.then(() => processes.delete(child));
    if (generation !== ownGeneration) killUntilExited(child);
    return child;
  };

  const stop = async () => {
    generation++;
    const victims = [...processes];
    for (const child of victims) killUntilExited(child);
    if (state === "running") {
      state = "stopped";
      deps.onStateChange("stopped");
    }
    if (victims.length > 0) await (await deps.limits()).killRemaining(deps.limitName);
    await Promise.allSettled(victims.map((child) => child.exited));
  };

  const measureDisk = async (real: string, signal: AbortSignal | undefined) => {
    if (disk !== undefined && deps.now() - disk.at < diskCacheMs) return disk.bytes;
    try {
      const bytes = await diskUsage(real, signal === undefined ? {} : { signal });
      disk = { bytes, at: deps.now() };
      return bytes;
    } catch (error) {
      // A huge workspace that cannot be measured in time keeps its last known size.
      if (error instanceof KilnError && error.code === "timeout" && signal?.aborted !== true)
        return disk?.bytes ?? 0;
      throw error;
    }
  };

  const measureProcesses = async (signal: AbortSignal | undefined) => {
    const pids = () => [...processes].map((child) => child.pid);
    const recent =
      lastSample !== undefined &&
      performance.now() - lastSample.at >= cpuWindowMs &&
      performance.now() - lastSample.at <= cpuSampleMaxAgeMs;
    const before = recent && lastSample !== undefined ? lastSample : await sampleProcessTrees(pids());
    if (!recent) await sleep(cpuWindowMs, undefined, signal === undefined ? {} : { signal });
    const after = await sampleProcessTrees(pids());
    lastSample = after;
    return { cpuPercent: cpuPercentBetween(before, after), memoryBytes: after.rssBytes, count: after.count };
  };

  const sandbox: ManagedSandbox = {
    id: spec.id,
    workspace: spec.workspace,
    networkAccess: spec.networkAccess,
    get state() {
      return state;
    },
    get lastActiveAt() {
      return lastActiveAt;
    },

    exec(request) {
      return (async function* () {
        runningExecs++;
        touch();
        try {
          yield* execChunks(await workspaceRoot(), spawn, request);
        } finally {
          runningExecs--;
          touch();
        }
      })();
    },

    terminal(options) {
      touch();
      const start = async ({ cols, rows, signal }: TerminalOptions) =>
        spawn({
          argv: ["bash", "-l"],
          cwd: (await workspaceRoot()).real,
          tty: true,
          cols,
          rows,
          ...(signal === undefined ? {} : { signal }),
        });
      return openTerminal(start, options, touch);
    },

    async status(signal) {
      signal?.throwIfAborted();
      const real = (await workspaceRoot()).real;
      const enforcer = await deps.limits();
      const [diskBytes, use] = await Promise.all([
        measureDisk(real, signal),
        state === "running" ? measureProcesses(signal) : undefined,
      ]);
      return {
        state,
        uptime_s: state === "running" ? Math.max(0, Math.floor((deps.now() - startedAt) / 1000)) : 0,
        cpu_percent: use?.cpuPercent ?? 0,
        memory_bytes: use?.memoryBytes ?? 0,
        disk_bytes: diskBytes,
        processes: use?.count ?? 0,
        limits: { ...enforcer.enforced, enforcedBy: enforcer.enforcedBy },
      };
    },

    stop,

    files: lazyFiles(workspaceRoot, touch),

    async stopIfIdle(idleMs) {
      if (state !== "running" || runningExecs > 0) return;
      if (deps.now() - lastActiveAt < idleMs) return;
      await stop();
    },

    async dispose() {
      await stop();
      await (await deps.limits()).release(deps.limitName);
    },
  };
  return sandbox;
}

/** The files API over a workspace root that is resolved on first use. */
function lazyFiles(root: () => Promise<WorkspaceRoot>, touch: () => void): WorkspaceFiles {
  let files: { root: WorkspaceRoot; api: WorkspaceFiles } | undefined;
  const api = async () => {
    const resolved = await root();
    if (files?.root !== resolved) files = { root: resolved, api: createWorkspaceFiles(resolved, touch) };
    return files.api;
  };
  return {
    list: async (path) => (await api()).list(path),
    read: async (path, options) => (await api()).read(path, options),
    write: async (path, content) => (await api()).write(path, content),
    stat: async (path) => (await api()).stat(path),
  };
}
