// `kiln tasks create`: a prompt run against an environment on the server, as 1–4 attempts. Without
// --wait it prints the new task and returns; with --wait it follows the task's progress to its end and
// shows the result (exit 0 completed, 1 failed or cancelled).
import { UsageError } from "../exec/parse-exec-args.ts";
import type { CliIo } from "../exec/run-exec.ts";
import { exitCodeOf, followTask, untilInterrupted } from "./follow-task.ts";
import { parseCommandArgs, parseIntOption } from "./parse-remote-args.ts";
import { readAll } from "./prompt-input.ts";
import { runRemoteCommand } from "./remote-command.ts";
import { resolveEnvironmentId } from "./resolve-environment.ts";
import { formatTaskDetails } from "./task-format.ts";

/** `kiln tasks create --help`. */
export const TASKS_CREATE_HELP = `Usage: kiln tasks create --env ENV [OPTIONS] PROMPT|-

Creates a task: the agent works on PROMPT ("-" reads it from stdin) in a copy of the environment's
repository, as independent attempts, on the server.

Options:
  --env ENV         The environment (its id or its name)
  --branch B        Start from this branch (default: the environment's)
  --attempts N      Independent attempts, 1–4 (default 1)
  --title T         The task's title (default: made from the prompt)
  --wait            Follow the task to its end and show the result (exit 1 if it failed)
  --json            Print the task as JSON (with --wait: the finished task)
  --server URL      The server (default: $KILN_SERVER, else the one you logged in to)
  -h, --help        Show this help`;

/** Runs `kiln tasks create`; resolves to the exit code. */
export function runTasksCreate(io: CliIo): Promise<number> {
  return runRemoteCommand(io, "kiln tasks create", TASKS_CREATE_HELP, async ({ connect, colors }) => {
    const { values, positionals } = parseCommandArgs({
      args: io.argv,
      options: {
        env: { type: "string" },
        branch: { type: "string" },
        attempts: { type: "string" },
        title: { type: "string" },
        wait: { type: "boolean" },
        json: { type: "boolean" },
        server: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
    if (values.env === undefined) throw new UsageError("give the environment: --env ENV (its id or name)");
    if (positionals.length > 1) {
      throw new UsageError(`give the prompt as one argument (quote it), or "-" to read it from stdin`);
    }
    const bestOfN = values.attempts === undefined ? 1 : parseIntOption(values.attempts, "--attempts", 1, 4);
    const prompt = await readPrompt(io, positionals[0]);
    const { client } = await connect(values.server);
    const environmentId = await resolveEnvironmentId(client, values.env);
    const created = await client.tasks.create({
      environmentId,
      prompt,
      bestOfN,
      ...(values.branch === undefined ? {} : { branch: values.branch }),
      ...(values.title === undefined ? {} : { title: values.title }),
    });
    if (values.wait !== true) {
      if (values.json === true) {
        io.stdout.write(`${JSON.stringify(created)}\n`);
        return 0;
      }
      io.stdout.write(`Created ${colors.bold(created.id)} on ${created.environmentName}: ${created.title}\n`);
      io.stdout.write(colors.dim(`Follow it with: kiln tasks watch ${created.id}\n`));
      return 0;
    }
    if (values.json !== true)
      io.stdout.write(`Created ${colors.bold(created.id)} on ${created.environmentName}: ${created.title}\n`);
    const task = await untilInterrupted(
      () => created.id,
      (signal) =>
        followTask(client, created.id, {
          colors,
          signal,
          ...(values.json === true ? {} : { out: io.stdout }),
        }),
    );
    io.stdout.write(
      values.json === true ? `${JSON.stringify(task)}\n` : `\n${formatTaskDetails(colors, task, Date.now())}`,
    );
    return exitCodeOf(task);
  });
}

async function readPrompt(io: CliIo, given: string | undefined): Promise<string> {
  if (given !== undefined && given !== "-") {
    if (given.trim() === "") throw new UsageError("the prompt is empty");
    return given;
  }
  if (given === undefined && io.stdin.isTTY === true)
    throw new UsageError('give the prompt (or "-" to read it from stdin)');
  const text = (await readAll(io.stdin)).trim();
  if (text === "") throw new UsageError("the prompt on stdin is empty");
  return text;
}
