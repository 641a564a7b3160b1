import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KilnError } from "@kiln/protocol";
import type { SandboxProvider } from "../types.ts";
import { interruptedError } from "./run-git.ts";
import { createSetupLog } from "./setup-log.ts";

/** What {@link runSetupScript} runs, where, and how it reports. */
export interface RunSetupScriptOptions {
  /** The checkout: the working directory and the only writable root. */
  dir: string;
  script: string;
  env: Record<string, string>;
  secrets: Record<string, string>;
  timeoutMs: number;
  network: boolean;
  provider: SandboxProvider;
  signal?: AbortSignal;
  /** Receives the output in bounded, secret-masked chunks. */
  onLog: (text: string) => void;
}

/**
 * Runs a setup script with `bash -e` in a `workspace-write` sandbox whose only writable root is the
 * checkout. Throws `timeout` when it runs past `timeoutMs`, `environment_failed` when it fails, both
 * with the last lines of its output.
 */
export async function runSetupScript(options: RunSetupScriptOptions): Promise<void> {
  // The script goes to a file rather than `bash -c`: a single argument is limited to 128 KiB, and on
  // stdin it would be eaten by the first command that reads stdin. Inside `.git` it is readable by the
  // sandbox (which mounts `.git` read-only) and never shows up as an untracked file.
  const scriptPath = join(options.dir, ".git", "kiln-setup.sh");
  await writeFile(scriptPath, options.script, { mode: 0o644 });
  try {
    const child = await options.provider
      .spawn({
        argv: ["bash", "-e", scriptPath],
        cwd: options.dir,
        policy: { mode: "workspace-write", writableRoots: [options.dir], networkAccess: options.network },
        env: { ...options.env, ...options.secrets },
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      })
      .catch((error: unknown) => {
        throw options.signal?.aborted ? interruptedError("Preparing the environment") : error;
      });
    const log = createSetupLog(options.onLog, Object.values(options.secrets));
    child.onData((chunk) => log.write(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    const status = await child.exited.finally(() => clearTimeout(timer));
    log.end();

    if (options.signal?.aborted) throw interruptedError("Preparing the environment");
    const output = log.tail() || "(no output)";
    if (timedOut) {
      throw new KilnError(
        "timeout",
        `The setup script did not finish within ${formatDuration(options.timeoutMs)} and was stopped. ` +
          `Make it faster, or raise the environment's setup timeout. Its last output:\n${output}`,
        { details: { phase: "setup", timeoutMs: options.timeoutMs } },
      );
    }
    if (status.exitCode !== 0) {
      const how =
        status.exitCode === null
          ? `was killed by ${status.signal}`
          : `failed with exit code ${status.exitCode}`;
      throw new KilnError(
        "environment_failed",
        `The setup script ${how}. Fix the script (or what it installs) and try again. Its last output:\n${output}`,
        { details: { phase: "setup", exitCode: status.exitCode, signal: status.signal } },
      );
    }
  } finally {
    await rm(scriptPath, { force: true });
  }
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6000) / 10} min`;
}
