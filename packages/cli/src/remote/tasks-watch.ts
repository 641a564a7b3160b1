// `kiln tasks watch`: a task's progress from the start, then live, until it ends (exit 0 completed, 1
// failed or cancelled); the connection is resumed when it drops.
import type { CliIo } from "../exec/run-exec.ts";
import { exitCodeOf, followTask, untilInterrupted } from "./follow-task.ts";
import { parseCommandArgs, singlePositional } from "./parse-remote-args.ts";
import { runRemoteCommand } from "./remote-command.ts";
import { formatTaskDetails } from "./task-format.ts";

/** `kiln tasks watch --help`. */
export const TASKS_WATCH_HELP = `Usage: kiln tasks watch TASK_ID

Follows a task: the environment's preparation (clone, setup), each attempt's status and result, until
the task ends. Exits 0 when it completed, 1 when it failed or was cancelled. Ctrl-C stops watching
(the task goes on).

Options:
  --server URL      The server (default: $KILN_SERVER, else the one you logged in to)
  -h, --help        Show this help`;

/** Runs `kiln tasks watch`; resolves to the exit code. */
export function runTasksWatch(io: CliIo): Promise<number> {
  return runRemoteCommand(io, "kiln tasks watch", TASKS_WATCH_HELP, async ({ connect, colors }) => {
    const { values, positionals } = parseCommandArgs({
      args: io.argv,
      options: {
        server: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
    const id = singlePositional(positionals, "task id");
    const { client } = await connect(values.server);
    const task = await untilInterrupted(
      () => id,
      (signal) => followTask(client, id, { colors, signal, out: io.stdout }),
    );
    io.stdout.write(`\n${formatTaskDetails(colors, task, Date.now())}`);
    return exitCodeOf(task);
  });
}
