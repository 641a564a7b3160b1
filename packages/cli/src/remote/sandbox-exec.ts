// `kiln sandbox exec`: one command in a sandbox, its output on our stdout and stderr, its exit code as
// ours (124 when it timed out, 128 + N when signal N killed it). The SDK's exec answers once the
// command has ended (it has no streamed exec yet), so the output comes at the end.
import { constants } from "node:os";
import type { SandboxExecResult } from "@kiln/protocol";
import { UsageError } from "../exec/parse-exec-args.ts";
import type { CliIo } from "../exec/run-exec.ts";
import { parseCommandArgs, parseIntOption } from "./parse-remote-args.ts";
import { colorsFor, runRemoteCommand } from "./remote-command.ts";

/** `kiln sandbox exec --help`. */
export const SANDBOX_EXEC_HELP = `Usage: kiln sandbox exec TASK_OR_SANDBOX_ID [--cwd DIR] [--timeout MS] -- CMD [ARG…]

Runs a command in a sandbox (a task id means its first attempt's sandbox) and exits with its exit
code. One CMD argument is a shell command line (run with bash -lc: pipes, redirections); several are
the program and its arguments, run as they are.

Options:
  --cwd DIR         Where to run it, relative to the workspace (default: the workspace)
  --timeout MS      Kill it after MS milliseconds (exit 124)
  --server URL      The server (default: $KILN_SERVER, else the one you logged in to)
  -h, --help        Show this help`;

/** Runs `kiln sandbox exec`; resolves to the command's exit code. */
export function runSandboxExec(io: CliIo): Promise<number> {
  return runRemoteCommand(io, "kiln sandbox exec", SANDBOX_EXEC_HELP, async ({ connect }) => {
    const end = io.argv.indexOf("--");
    const own = end === -1 ? io.argv : io.argv.slice(0, end);
    const { values, positionals } = parseCommandArgs({
      args: own,
      options: {
        cwd: { type: "string" },
        timeout: { type: "string" },
        server: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
    const [id, ...beforeDashes] = positionals;
    if (id === undefined) throw new UsageError("give the task or sandbox id");
    const command = [...beforeDashes, ...(end === -1 ? [] : io.argv.slice(end + 1))];
    if (command.length === 0) throw new UsageError("give the command after --");
    const timeout =
      values.timeout === undefined ? undefined : parseIntOption(values.timeout, "--timeout", 1, 3_600_000);
    const { client } = await connect(values.server);
    const result = await client.sandboxes.exec(id, {
      command: command.length === 1 ? (command[0] as string) : command,
      ...(values.cwd === undefined ? {} : { cwd: values.cwd }),
      ...(timeout === undefined ? {} : { timeout_ms: timeout }),
    });
    io.stdout.write(result.stdout);
    io.stderr.write(result.stderr);
    const code = exitCodeOf(result);
    if (result.timed_out === true) {
      io.stderr.write(
        colorsFor(io.stderr, io.env).dim(
          `kiln: the command timed out${timeout === undefined ? "" : ` after ${timeout} ms`}\n`,
        ),
      );
    } else if (result.exit_code === null) {
      io.stderr.write(
        colorsFor(io.stderr, io.env).dim(`kiln: the command was killed by ${result.signal ?? "a signal"}\n`),
      );
    }
    return code;
  });
}

/** The shell's convention: the exit code, else 124 for a timeout, else 128 + the signal's number. */
export function exitCodeOf(result: SandboxExecResult): number {
  if (result.exit_code !== null) return result.exit_code;
  if (result.timed_out === true) return 124;
  const signal =
    result.signal === null || result.signal === undefined
      ? undefined
      : constants.signals[result.signal as NodeJS.Signals];
  return signal === undefined ? 1 : 128 + signal;
}
