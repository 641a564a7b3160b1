// `kiln tasks show`: one task in detail (status, each attempt's status, stats, PR title, files and
// message), or the task as the API's JSON.
import type { CliIo } from "../exec/run-exec.ts";
import { parseCommandArgs, singlePositional } from "./parse-remote-args.ts";
import { runRemoteCommand } from "./remote-command.ts";
import { formatTaskDetails } from "./task-format.ts";

/** `kiln tasks show --help`. */
export const TASKS_SHOW_HELP = `Usage: kiln tasks show TASK_ID [--json]

Shows a task: its status and, for each attempt, its status, the lines it changed, its pull request
title, its files and the agent's last message.

Options:
  --json            Print the task as JSON (with each attempt's diff)
  --server URL      The server (default: $KILN_SERVER, else the one you logged in to)
  -h, --help        Show this help`;

/** Runs `kiln tasks show`; resolves to the exit code. */
export function runTasksShow(io: CliIo): Promise<number> {
  return runRemoteCommand(io, "kiln tasks show", TASKS_SHOW_HELP, async ({ connect, colors }) => {
    const { values, positionals } = parseCommandArgs({
      args: io.argv,
      options: {
        json: { type: "boolean" },
        server: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
    const id = singlePositional(positionals, "task id");
    const { client } = await connect(values.server);
    const task = await client.tasks.get(id);
    io.stdout.write(
      values.json === true ? `${JSON.stringify(task)}\n` : formatTaskDetails(colors, task, Date.now()),
    );
    return 0;
  });
}
