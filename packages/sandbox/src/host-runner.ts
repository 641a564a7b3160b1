// Runs a command directly on the host (`danger-full-access`): no confinement at all, only a filtered
// environment, its own process group, and the same output and exit handling as a sandbox.
import { stat } from "node:fs/promises";
import { KilnError } from "@kiln/protocol";
import type { CommandRunner } from "./bwrap-runner.ts";
import { launchArgs } from "./launch-script.ts";
import { hostEnv } from "./sandbox-env.ts";
import { spawnPiped } from "./spawn-piped.ts";
import { spawnPty } from "./spawn-pty.ts";
import { findSystemTool } from "./system-tools.ts";

/** Creates the host runner. Without bash it still works, minus closing inherited fds and exact stderr interleaving. */
export function createHostRunner(): CommandRunner {
  const bash = findSystemTool("bash");

  return {
    async spawn(options) {
      options.signal?.throwIfAborted();
      const [command, ...rest] = [...(options.hostPrefix ?? []), ...options.argv];
      if (command === undefined || options.argv.length === 0) {
        throw new KilnError("invalid_request", "Nothing to run: argv is empty.");
      }
      const info = await stat(options.cwd).catch(() => undefined);
      if (info?.isDirectory() !== true) {
        throw new KilnError(
          "sandbox_denied",
          `Working directory ${options.cwd} does not exist or is not a directory.`,
        );
      }
      const tty = options.tty === true;
      // danger-full-access means "as if Kiln's user ran it", so this is where Kiln's environment is the input.
      const env = hostEnv(process.env, tty, options.env);
      const separateStderr = !tty && options.separateStderr === true;
      const launch = { mergeStderr: !tty && !separateStderr, seccompFromArg0: false };
      const [file, args] =
        bash === undefined ? [command, rest] : [bash, launchArgs(launch, "kiln", [command, ...rest])];
      const spec = {
        file,
        args,
        cwd: options.cwd,
        env,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      };
      if (!tty) return spawnPiped({ ...spec, separateStderr });
      return spawnPty({
        ...spec,
        cols: options.cols ?? 80,
        rows: options.rows ?? 24,
        term: env.TERM ?? "xterm-256color",
      });
    },
  };
}
