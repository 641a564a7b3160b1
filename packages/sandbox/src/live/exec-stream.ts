// One exec in a live sandbox, as a stream: stdout and stderr chunks as the command writes them, then one
// `exit` chunk. Sequence: resolve the working directory inside the workspace → spawn on separate pipes
// (a string command runs as `bash -lc`) → queue output until the reader pulls it → on timeout, abort or
// the reader leaving early, kill the whole sandboxed process tree.
import type { SandboxExecChunk } from "@kiln/protocol";
import type { SandboxProcess, SpawnOptions } from "../types.ts";
import { killUntilExited } from "./kill-until-exited.ts";
import { openDirectory, pathComponents, type WorkspaceRoot } from "./workspace-path.ts";

/** What to run. */
export interface ExecRequest {
  /** A shell command line (run as `bash -lc`), or argv. */
  command: string | string[];
  /** Working directory, relative to the workspace or absolute inside it (default: the workspace). */
  cwd?: string;
  /** Kill the command after this long (default one hour, the API's maximum). */
  timeoutMs?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Aborting kills the command; the stream still ends with its `exit` chunk. */
  signal?: AbortSignal;
}

/** Starts a process in the sandbox (the live sandbox tracks it, applies limits, starts itself). */
export type SandboxSpawner = (options: Omit<SpawnOptions, "policy">) => Promise<SandboxProcess>;

/** Default timeout of an exec. */
export const defaultExecTimeoutMs = 3600_000;

/** Output held for a reader that falls behind; beyond it output is dropped (and that is said). */
const maxPendingChars = 8 * 1024 * 1024;

/** Runs `request` and streams its output. Nothing starts until iteration does. */
export async function* execChunks(
  root: WorkspaceRoot,
  spawn: SandboxSpawner,
  request: ExecRequest,
): AsyncGenerator<SandboxExecChunk> {
  request.signal?.throwIfAborted();
  const names = pathComponents(root, request.cwd ?? "");
  const dir = await openDirectory(root, names);
  await dir.handle.close();
  const cwd = dir.relative === "" ? root.real : `${root.real}/${dir.relative}`;
  const argv = typeof request.command === "string" ? ["bash", "-lc", request.command] : request.command;

  const started = performance.now();
  const controller = new AbortController();
  let timedOut = false;
  const timeoutMs = request.timeoutMs ?? defaultExecTimeoutMs;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort();
  request.signal?.addEventListener("abort", onAbort, { once: true });

  const queue: SandboxExecChunk[] = [];
  let pending = 0;
  let dropped = 0;
  let wake: (() => void) | undefined;
  const push = (chunk: SandboxExecChunk) => {
    queue.push(chunk);
    wake?.();
  };
  const output = (type: "stdout" | "stderr") => (data: string) => {
    if (pending + data.length > maxPendingChars) {
      dropped += data.length;
      return;
    }
    if (dropped > 0) {
      push({ type: "stderr", data: droppedNotice(dropped) });
      dropped = 0;
    }
    pending += data.length;
    const last = queue.at(-1);
    // Coalesce while the reader is away: fewer, larger chunks.
    if (last?.type === type) last.data += data;
    else push({ type, data });
  };

  let child: SandboxProcess | undefined;
  let ended = false;
  try {
    child = await spawn({
      argv,
      cwd,
      separateStderr: true,
      signal: controller.signal,
      ...(request.env === undefined ? {} : { env: request.env }),
    });
    child.onData(output("stdout"));
    child.onStderr?.(output("stderr"));
    void child.exited.then((status) => {
      ended = true;
      if (dropped > 0) push({ type: "stderr", data: droppedNotice(dropped) });
      push({
        type: "exit",
        exit_code: status.exitCode,
        signal: status.signal,
        duration_ms: Math.round(performance.now() - started),
        timed_out: timedOut,
      });
    });
    for (;;) {
      const chunk = queue.shift();
      if (chunk === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      if (chunk.type !== "exit") pending -= chunk.data.length;
      yield chunk;
      if (chunk.type === "exit") return;
    }
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener("abort", onAbort);
    // The reader left before the exit chunk: nothing may keep running. (Not after the exit: its
    // process group id may already belong to someone else.)
    if (!ended && child !== undefined) killUntilExited(child);
  }
}

function droppedNotice(characters: number): string {
  return `\n[kiln: ${characters} characters of output were dropped: the reader fell behind]\n`;
}
