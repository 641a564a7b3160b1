// `kiln tasks list`: the caller's tasks, newest first, as a table (id, status, attempts done, the lines
// changed by the best attempt, age, title) or as the API's JSON page.
import { TaskStatus, type TaskSummary } from "@kiln/protocol";
import { UsageError } from "../exec/parse-exec-args.ts";
import type { CliIo } from "../exec/run-exec.ts";
import { parseChoice, parseCommandArgs, parseIntOption } from "./parse-remote-args.ts";
import { type Colors, runRemoteCommand } from "./remote-command.ts";
import { resolveEnvironmentId } from "./resolve-environment.ts";
import { type Cell, formatAge, renderTable } from "./task-format.ts";

/** `kiln tasks list --help`. */
export const TASKS_LIST_HELP = `Usage: kiln tasks list [OPTIONS]

Lists your tasks, newest first.

Options:
  --status S        Only tasks in this status (${TaskStatus.options.join(", ")})
  --env ENV         Only tasks of this environment (its id or name)
  --archived        Archived tasks instead of the others
  --limit N         At most N tasks (1–200, default 20)
  --json            Print the page as JSON ({tasks, nextCursor})
  --server URL      The server (default: $KILN_SERVER, else the one you logged in to)
  -h, --help        Show this help`;

/** Runs `kiln tasks list`; resolves to the exit code. */
export function runTasksList(io: CliIo): Promise<number> {
  return runRemoteCommand(io, "kiln tasks list", TASKS_LIST_HELP, async ({ connect, colors }) => {
    const { values, positionals } = parseCommandArgs({
      args: io.argv,
      options: {
        status: { type: "string" },
        env: { type: "string" },
        archived: { type: "boolean" },
        limit: { type: "string" },
        json: { type: "boolean" },
        server: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const status =
      values.status === undefined ? undefined : parseChoice(values.status, "--status", TaskStatus.options);
    const limit = values.limit === undefined ? 20 : parseIntOption(values.limit, "--limit", 1, 200);
    const { client } = await connect(values.server);
    const environmentId =
      values.env === undefined ? undefined : await resolveEnvironmentId(client, values.env);
    const page = await client.tasks.list({
      limit,
      archived: values.archived === true,
      ...(status === undefined ? {} : { status }),
      ...(environmentId === undefined ? {} : { environmentId }),
    });
    if (values.json === true) {
      io.stdout.write(`${JSON.stringify(page)}\n`);
      return 0;
    }
    if (page.tasks.length === 0) {
      io.stdout.write('No tasks. Start one with: kiln tasks create --env ENV "what to do"\n');
      return 0;
    }
    const now = Date.now();
    const header: Cell[] = ["ID", "STATUS", "ATTEMPTS", "+/-", "AGE", "TITLE"].map((text) => ({
      text,
      color: colors.dim,
    }));
    const rows = [header, ...page.tasks.map((task) => taskRow(colors, task, now))];
    // Cut titles to the terminal's width (a terminal that reports no width, or a pipe, gets them whole).
    const width = io.stdout.isTTY === true && io.stdout.columns > 0 ? io.stdout.columns : undefined;
    io.stdout.write(renderTable(rows, width));
    if (page.nextCursor !== undefined) {
      io.stderr.write(colors.dim(`(the newest ${page.tasks.length}; see more with --limit)\n`));
    }
    return 0;
  });
}

function taskRow(c: Colors, task: TaskSummary, now: number): Cell[] {
  const done = task.attempts.filter((a) => a.status === "completed").length;
  // The lines of the attempt a reader would look at first: the first completed one, else attempt 0.
  const best =
    task.attempts.find((a) => a.status === "completed") ?? task.attempts.find((a) => a.index === 0);
  const stats = best?.diffStats;
  return [
    { text: task.id },
    { text: task.status, color: statusColor(c, task.status) },
    { text: `${done}/${task.bestOfN}` },
    stats === undefined
      ? { text: "" }
      : {
          text: `+${stats.linesAdded} -${stats.linesRemoved}`,
          color: (t) => t.replace(/\+\d+/, c.green).replace(/-\d+/, c.red),
        },
    { text: formatAge(task.createdAt, now) },
    { text: task.title },
  ];
}

function statusColor(c: Colors, status: TaskStatus): (text: string) => string {
  if (status === "completed") return c.green;
  if (status === "failed") return c.red;
  if (status === "cancelled") return c.dim;
  return c.yellow;
}
