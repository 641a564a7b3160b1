// `kiln exec`: parse arguments → resolve the prompt → start or resume a thread → stream the turn as
// JSON lines or human progress → write -o → exit 0 (completed), 1 (failed), 2 (bad usage/config).
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type AgentThread, Kiln } from "@kiln/core";
import { createExecJsonProjector, type EventEnvelope, type InputPart, KilnError } from "@kiln/protocol";
import { createHumanRenderer } from "./human-renderer.ts";
import { EXEC_HELP, type ExecArgs, parseExecArgs, UsageError } from "./parse-exec-args.ts";
import { openTerminalApprover, type TerminalApprover } from "./terminal-approver.ts";

/** The process around a command: streams and environment (injectable for tests). */
export interface CliIo {
  argv: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Runs `kiln exec`; resolves to the exit code. */
export async function runExec(io: CliIo): Promise<number> {
  if (io.argv.includes("--help") || io.argv.includes("-h")) {
    io.stdout.write(`${EXEC_HELP}\n`);
    return 0;
  }
  let args: ExecArgs;
  try {
    args = parseExecArgs(io.argv);
  } catch (error) {
    if (error instanceof UsageError) return usage(io, error.message);
    throw error;
  }
  const cwd = resolve(io.cwd, args.cd ?? ".");
  if (!existsSync(cwd)) return usage(io, `--cd ${args.cd}: no such directory`);
  if (!args.skipGitRepoCheck && args.resume === undefined && !insideGitRepo(cwd)) {
    return usage(
      io,
      `${cwd} is not inside a git repository: run kiln exec in one, or pass --skip-git-repo-check`,
    );
  }
  const prompt = await readPrompt(args, io);
  if (prompt === undefined && args.resume === undefined) {
    return usage(
      io,
      'no prompt: give one as an argument (kiln exec "fix the failing test") or on standard input',
    );
  }
  let outputSchema: Record<string, unknown> | undefined;
  if (args.outputSchema !== undefined) {
    try {
      outputSchema = JSON.parse(readFileSync(resolve(cwd, args.outputSchema), "utf8")) as Record<
        string,
        unknown
      >;
    } catch (error) {
      return usage(
        io,
        `--output-schema ${args.outputSchema}: cannot read it as JSON (${(error as Error).message})`,
      );
    }
  }

  const kiln = new Kiln({ env: io.env, cwd, profile: args.profile, overrides: args.config });
  const terminal = openTerminalApprover(io.stderr);
  let thread: AgentThread;
  try {
    thread = openThread(kiln, args, cwd, terminal);
  } catch (error) {
    terminal?.close();
    if (error instanceof KilnError && (error.code === "config_invalid" || error.code === "invalid_request")) {
      return usage(io, error.message);
    }
    if (error instanceof KilnError) return fail(io, error.message);
    throw error;
  }

  const input: InputPart[] | undefined =
    prompt === undefined
      ? undefined
      : [
          { type: "text", text: prompt },
          ...args.images.map((path) => ({ type: "localImage" as const, path })),
        ];
  if (input === undefined && !thread.hasUnfinishedTurn) {
    thread.close();
    return usage(io, `thread ${thread.id} has no unfinished turn to continue: give a prompt`);
  }

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    io.stderr.write("\ninterrupting… (Ctrl-C again to quit at once)\n");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);

  const useColor =
    args.color === "always" ||
    (args.color === "auto" && io.stderr.isTTY === true && io.env.NO_COLOR === undefined);
  const human = createHumanRenderer(io.stderr, io.stdout, useColor);
  const projector = createExecJsonProjector();
  let turnStarted = false;
  const print = (envelope: EventEnvelope) => {
    // A turn cut off by a crash is closed before the new one starts; it is history, not this run's result.
    if (envelope.event.type === "turn/started") turnStarted = true;
    if (!turnStarted && envelope.event.type === "turn/completed") return;
    if (!args.json) {
      human.render(envelope);
      return;
    }
    for (const line of projector.project(envelope.event)) io.stdout.write(`${JSON.stringify(line)}\n`);
  };
  if (args.resume !== undefined) {
    if (args.json) io.stdout.write(`${JSON.stringify({ type: "thread.started", thread_id: thread.id })}\n`);
    else
      human.render({
        seq: 0,
        threadId: thread.id,
        at: Date.now(),
        event: { type: "thread/started", thread: thread.info },
      });
  }

  let status = "failed";
  let lastMessage = "";
  try {
    const events =
      input === undefined
        ? thread.resumeUnfinished({ signal: controller.signal })
        : thread.runStreamed(input, {
            signal: controller.signal,
            ...(outputSchema === undefined ? {} : { outputSchema }),
          });
    const consume = async (stream: AsyncIterable<EventEnvelope>) => {
      for await (const envelope of stream) {
        print(envelope);
        const event = envelope.event;
        if (event.type === "warning" && args.json) io.stderr.write(`kiln: ${event.message}\n`);
        if (event.type === "item/completed" && event.item.type === "agentMessage")
          lastMessage = event.item.text;
        if (event.type === "turn/completed" && turnStarted) status = event.status;
      }
    };
    await consume(events);
    // Plan mode: the turn ends with a proposed plan; a person at a terminal may approve it at once.
    if (status === "completed" && thread.lastProposedPlan !== undefined && terminal !== undefined) {
      if (await terminal.confirm("\nImplement this plan now (in code mode)?")) {
        turnStarted = false;
        await consume(thread.approvePlan({ signal: controller.signal }));
      }
    }
  } catch (error) {
    if (!(error instanceof KilnError)) throw error;
    if (args.json)
      io.stdout.write(`${JSON.stringify({ type: "turn.failed", error: { message: error.message } })}\n`);
    else io.stderr.write(`kiln: ${error.message}\n`);
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
    thread.close();
    terminal?.close();
  }
  if (args.outputLastMessage !== undefined)
    writeAtomically(resolve(cwd, args.outputLastMessage), lastMessage);
  return status === "completed" ? 0 : 1;
}

function openThread(
  kiln: Kiln,
  args: ExecArgs,
  cwd: string,
  terminal: TerminalApprover | undefined,
): AgentThread {
  const onApproval = terminal === undefined ? {} : { onApproval: terminal.approve };
  if (args.resume !== undefined) {
    const options = {
      ...onApproval,
      ...(args.model === undefined ? {} : { model: args.model }),
      ...(args.sandbox === undefined ? {} : { sandbox: args.sandbox }),
      ...(args.approvalPolicy === undefined ? {} : { approvalPolicy: args.approvalPolicy }),
    };
    return args.resume.threadId === undefined
      ? kiln.resumeLatest(cwd, options)
      : kiln.resumeThread(args.resume.threadId, options);
  }
  return kiln.startThread({
    cwd,
    ...(args.model === undefined ? {} : { model: args.model }),
    ...(args.sandbox === undefined ? {} : { sandbox: args.sandbox }),
    ...(args.approvalPolicy === undefined ? {} : { approvalPolicy: args.approvalPolicy }),
    ...(args.mode === undefined ? {} : { mode: args.mode }),
    additionalDirectories: args.addDirs,
    ...onApproval,
  });
}

async function readPrompt(args: ExecArgs, io: CliIo): Promise<string | undefined> {
  if (args.prompt !== undefined && args.prompt !== "-") return args.prompt;
  if (io.stdin.isTTY === true && args.prompt !== "-") return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
  const text = Buffer.concat(chunks).toString("utf8").trim();
  return text === "" ? undefined : text;
}

function insideGitRepo(dir: string): boolean {
  let d = dir;
  for (;;) {
    if (existsSync(join(d, ".git"))) return true;
    const parent = dirname(d);
    if (parent === d) return false;
    d = parent;
  }
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.kiln-tmp-${process.pid}`;
  writeFileSync(tmp, text.endsWith("\n") || text === "" ? text : `${text}\n`);
  renameSync(tmp, path);
}

function usage(io: CliIo, message: string): number {
  io.stderr.write(`kiln exec: ${message}\n`);
  return 2;
}

function fail(io: CliIo, message: string): number {
  io.stderr.write(`kiln exec: ${message}\n`);
  return 1;
}
