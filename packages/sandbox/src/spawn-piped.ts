// A command on pipes: its own process group (so kill() reaches the whole tree), stdin piped, output
// decoded as a UTF-8 stream, and `exited` settled only after the pipes have drained.
import { spawn } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import { KilnError } from "@kiln/protocol";
import { createOutputChannel } from "./output-channel.ts";
import type { ExitStatus, SandboxProcess } from "./types.ts";

/** An already-wrapped command line to start. */
export interface LaunchSpec {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  signal?: AbortSignal;
  /** Deliver stderr through `onStderr` instead of merging it into `onData` (pipes only). */
  separateStderr?: boolean;
}

/**
 * After the command exits, how long background processes that still hold its output pipe may keep
 * `exited` waiting (host commands only: a sandbox dies with its command).
 */
const drainGraceMs = 500;

/** Starts `spec` on pipes; rejects with `sandbox_unavailable` if it cannot be started at all. */
export async function spawnPiped(spec: LaunchSpec): Promise<SandboxProcess> {
  spec.signal?.throwIfAborted();
  const child = spawn(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (error) =>
      reject(
        new KilnError("sandbox_unavailable", `Could not start ${spec.file}: ${error.message}`, {
          cause: error,
        }),
      ),
    );
  });
  const pid = child.pid!;
  const output = createOutputChannel();
  const errors = spec.separateStderr === true ? createOutputChannel() : output;

  for (const [stream, channel] of [
    [child.stdout, output],
    [child.stderr, errors],
  ] as const) {
    const decoder = new StringDecoder("utf8");
    stream.on("data", (bytes: Buffer) => channel.emit(decoder.write(bytes)));
    stream.on("end", () => channel.emit(decoder.end()));
  }
  // Writing to a command that has already exited fails with EPIPE; that is the command's business,
  // not an error of Kiln's.
  child.stdin.on("error", () => {});

  const kill = (signal: NodeJS.Signals = "SIGKILL") => {
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the whole group is already gone.
    }
  };
  const onAbort = () => kill("SIGKILL");
  spec.signal?.addEventListener("abort", onAbort, { once: true });
  if (spec.signal?.aborted) onAbort();

  child.once("exit", () => {
    const timer = setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
    }, drainGraceMs);
    child.once("close", () => clearTimeout(timer));
  });
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("close", (code, signal) => {
      spec.signal?.removeEventListener("abort", onAbort);
      resolve({ exitCode: code, signal });
    });
  });

  return {
    pid,
    onData: (listener) => output.subscribe(listener),
    ...(spec.separateStderr === true ? { onStderr: (listener) => errors.subscribe(listener) } : {}),
    write(data) {
      if (child.stdin.writable) child.stdin.write(data);
    },
    kill,
    exited,
  };
}
