// `kiln sandbox`: a task attempt's sandbox on a Kiln server: run one command, or open a shell.
import type { CliIo } from "../exec/run-exec.ts";

/** `kiln sandbox --help`. */
export const SANDBOX_HELP = `Usage: kiln sandbox COMMAND TASK_OR_SANDBOX_ID …

A task attempt's sandbox on a Kiln server (a task id means its first attempt's sandbox).

Commands:
  exec ID [--cwd DIR] [--timeout MS] -- CMD…   Run a command; exits with its exit code
  shell ID                                     An interactive shell

Run kiln sandbox COMMAND --help for a command's options.`;

/** Runs `kiln sandbox …`; resolves to the exit code. */
export async function runSandbox(io: CliIo): Promise<number> {
  const [command, ...rest] = io.argv;
  const sub: CliIo = { ...io, argv: rest };
  switch (command) {
    case "exec":
      return (await import("./sandbox-exec.ts")).runSandboxExec(sub);
    case "shell":
      return (await import("./sandbox-shell.ts")).runSandboxShell(sub);
    case "help":
    case "--help":
    case "-h":
      io.stdout.write(`${SANDBOX_HELP}\n`);
      return 0;
    case undefined:
      io.stderr.write(`kiln sandbox: give a command\n\n${SANDBOX_HELP}\n`);
      return 2;
    default:
      io.stderr.write(`kiln sandbox: unknown command "${command}"\n\n${SANDBOX_HELP}\n`);
      return 2;
  }
}
