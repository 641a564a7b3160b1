// A command in a pseudo-terminal (node-pty). node-pty decodes the output as UTF-8 with a streaming
// decoder and reports the exit only after the terminal's output has drained. The child is a session
// leader, so its pid is also its process group.
import { constants } from "node:os";
import { KilnError } from "@kiln/protocol";
import { createOutputChannel } from "./output-channel.ts";
import type { LaunchSpec } from "./spawn-piped.ts";
import type { ExitStatus, SandboxProcess } from "./types.ts";

/** A PTY launch: the command line plus the terminal's size and type. */
export interface PtyLaunchSpec extends LaunchSpec {
  cols: number;
  rows: number;
  term: string;
}

/** node-pty, loaded on first use: it is a native addon, and most commands never need a terminal. */
export async function loadNodePty(): Promise<typeof import("node-pty")> {
  try {
    return await import("node-pty");
  } catch (error) {
    throw new KilnError(
      "sandbox_unavailable",
      `node-pty could not be loaded, so terminal sessions are unavailable: ${error instanceof Error ? error.message : String(error)}. Reinstall with \`npm install\` (it builds a native addon).`,
      { cause: error },
    );
  }
}

const signalNames = new Map<number, string>(
  Object.entries(constants.signals).map(([name, number]) => [number, name]),
);

/** Starts `spec` in a new PTY. */
export async function spawnPty(spec: PtyLaunchSpec): Promise<SandboxProcess> {
  spec.signal?.throwIfAborted();
  const pty = await loadNodePty();
  const terminal = pty.spawn(spec.file, spec.args, {
    name: spec.term,
    cols: spec.cols,
    rows: spec.rows,
    cwd: spec.cwd,
    env: spec.env,
  });
  const pid = terminal.pid;
  const output = createOutputChannel();
  terminal.onData((chunk) => output.emit(chunk));

  let running = true;
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

  const exited = new Promise<ExitStatus>((resolve) => {
    terminal.onExit(({ exitCode, signal }) => {
      running = false;
      spec.signal?.removeEventListener("abort", onAbort);
      const signalName =
        signal === undefined || signal === 0 ? null : (signalNames.get(signal) ?? `SIG${signal}`);
      resolve({ exitCode: signalName === null ? exitCode : null, signal: signalName });
    });
  });

  return {
    pid,
    onData: (listener) => output.subscribe(listener),
    write(data) {
      if (running) terminal.write(data);
    },
    resize(cols, rows) {
      if (running) terminal.resize(cols, rows);
    },
    kill,
    exited,
  };
}
