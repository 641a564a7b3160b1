// `kiln tasks`: tasks on a Kiln server (create, list, show, watch, diff, apply); each subcommand is
// loaded when it runs.
import type { CliIo } from "../exec/run-exec.ts";

/** `kiln tasks --help`. */
export const TASKS_HELP = `Usage: kiln tasks COMMAND [OPTIONS]

Tasks on a Kiln server (log in first: kiln login --server URL).

Commands:
  create --env ENV [--attempts N] [--wait] PROMPT|-   Start a task
  list [--status S] [--env ENV] [--limit N]           List your tasks
  show TASK_ID                                        A task's attempts and results
  watch TASK_ID                                       Follow a task until it ends
  diff TASK_ID [--attempt N]                          Print an attempt's diff
  apply TASK_ID [--attempt N] [--preflight]           Apply an attempt's diff to this git work tree

Run kiln tasks COMMAND --help for a command's options.`;

/** Runs `kiln tasks …`; resolves to the exit code. */
export async function runTasks(io: CliIo): Promise<number> {
  const [command, ...rest] = io.argv;
  const sub: CliIo = { ...io, argv: rest };
  switch (command) {
    case "create":
      return (await import("./tasks-create.ts")).runTasksCreate(sub);
    case "list":
    case "ls":
      return (await import("./tasks-list.ts")).runTasksList(sub);
    case "show":
      return (await import("./tasks-show.ts")).runTasksShow(sub);
    case "watch":
      return (await import("./tasks-watch.ts")).runTasksWatch(sub);
    case "diff":
      return (await import("./tasks-diff.ts")).runTasksDiff(sub);
    case "apply":
      return (await import("./tasks-apply.ts")).runTasksApply(sub);
    case "help":
    case "--help":
    case "-h":
      io.stdout.write(`${TASKS_HELP}\n`);
      return 0;
    case undefined:
      io.stderr.write(`kiln tasks: give a command\n\n${TASKS_HELP}\n`);
      return 2;
    default:
      io.stderr.write(`kiln tasks: unknown command "${command}"\n\n${TASKS_HELP}\n`);
      return 2;
  }
}
