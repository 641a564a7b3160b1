// `kiln tasks diff`: an attempt's diff against the task's base commit, as the server has it
// (`git apply`-able, binary-safe), on stdout.
import type { CliIo } from "../exec/run-exec.ts";
import { attemptWarning, chooseAttempt } from "./choose-attempt.ts";
import { parseCommandArgs, singlePositional } from "./parse-remote-args.ts";
import { colorsFor, runRemoteCommand } from "./remote-command.ts";

/** `kiln tasks diff --help`. */
export const TASKS_DIFF_HELP = `Usage: kiln tasks diff TASK_ID [--attempt N]

Prints an attempt's diff against the commit the task started from (git apply can apply it).

Options:
  --attempt N       The attempt: its number as kiln tasks show gives it (from 0) or its id
                    (default: the first completed attempt, else attempt 0)
  --server URL      The server (default: $KILN_SERVER, else the one you logged in to)
  -h, --help        Show this help`;

/** Runs `kiln tasks diff`; resolves to the exit code. */
export function runTasksDiff(io: CliIo): Promise<number> {
  return runRemoteCommand(io, "kiln tasks diff", TASKS_DIFF_HELP, async ({ connect }) => {
    const { values, positionals } = parseCommandArgs({
      args: io.argv,
      options: {
        attempt: { type: "string" },
        server: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
    const id = singlePositional(positionals, "task id");
    const { client } = await connect(values.server);
    const task = await client.tasks.get(id);
    const attempt = chooseAttempt(task, values.attempt);
    const dim = colorsFor(io.stderr, io.env).dim;
    const warning = attemptWarning(task.id, attempt);
    if (warning !== undefined) io.stderr.write(dim(`kiln: ${warning}\n`));
    const diff = await client.tasks.diff(task.id, attempt.attemptId);
    if (diff === "") {
      io.stderr.write(dim(`kiln: attempt ${attempt.index} of ${task.id} changed nothing\n`));
      return 0;
    }
    io.stdout.write(diff);
    return 0;
  });
}
