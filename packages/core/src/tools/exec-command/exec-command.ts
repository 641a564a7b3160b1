// exec_command: starts a command in the sandbox, streams its output as events, and returns when it
// exits or when `yield_time_ms` passes — then it goes on in the background as a session that
// `write_stdin` continues.

import { realpath, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { type CommandExecutionItem, KilnError, type SandboxPolicy } from "@kiln/protocol";
import { z } from "zod";
import {
  describeArgumentError,
  parseJsonArguments,
  type Tool,
  type ToolContext,
  ToolError,
} from "../tool.ts";
import description from "./description.md";
import { collect, type ExecSession } from "./exec-sessions.ts";
import { isReadOnlyCommand } from "./is-read-only-command.ts";
import { truncateOutput } from "./truncate-output.ts";

const ExecCommandArgs = z.object({
  cmd: z.string().min(1, "cmd must not be empty"),
  workdir: z.string().optional(),
  yield_time_ms: z.number().int().min(0).max(300_000).optional(),
  max_output_tokens: z.number().int().positive().optional(),
  tty: z.boolean().optional(),
  login: z.boolean().optional(),
  shell: z.string().optional(),
  sandbox_permissions: z.enum(["use_default", "require_escalated"]).optional(),
  justification: z.string().optional(),
  prefix_rule: z.array(z.string()).optional(),
  timeout_ms: z.number().int().positive().optional(),
});
export type ExecCommandArgs = z.infer<typeof ExecCommandArgs>;

const DEFAULT_YIELD_MS = 10_000;
/** Output deltas are coalesced so a chatty command does not write an event per byte. */
const DELTA_FLUSH_MS = 50;
/** …or as soon as this much is pending. */
const DELTA_FLUSH_CHARS = 64 * 1024;
/** Live output journaled per command at most. */
const MAX_STREAMED_CHARS = 1024 * 1024;

/** Environment every sandboxed command gets (on top of the sandbox's clean base). */
const COMMAND_ENV = { PAGER: "cat", GIT_PAGER: "cat", NO_COLOR: "1", CI: "1" };

/** The exec_command tool. */
export function createExecCommandTool(): Tool<ExecCommandArgs> {
  return {
    name: "exec_command",
    spec: {
      type: "function",
      name: "exec_command",
      description,
      parameters: {
        type: "object",
        properties: {
          cmd: { type: "string", description: "Shell command to execute." },
          workdir: {
            type: "string",
            description: "Working directory, relative to the workspace or absolute.",
          },
          yield_time_ms: { type: "number", description: "How long to wait for output before yielding." },
          max_output_tokens: { type: "number", description: "Maximum number of tokens to return." },
          tty: { type: "boolean", description: "Run in a pseudo-terminal." },
          login: { type: "boolean", description: "Run with a login shell." },
          shell: { type: "string", description: "Shell binary (default /bin/bash)." },
          sandbox_permissions: {
            type: "string",
            enum: ["use_default", "require_escalated"],
            description: "require_escalated asks a person to run this outside the sandbox.",
          },
          justification: { type: "string", description: "Why escalation is needed (one sentence)." },
          prefix_rule: {
            type: "array",
            items: { type: "string" },
            description: "A command prefix the person may approve for the rest of the session.",
          },
          timeout_ms: { type: "number", description: "Kill the command after this many ms." },
        },
        required: ["cmd"],
        additionalProperties: false,
      },
    },
    parse(call) {
      const parsed = ExecCommandArgs.safeParse(parseJsonArguments(call));
      if (!parsed.success)
        throw ToolError.respondToModel(describeArgumentError("exec_command", parsed.error.issues));
      return parsed.data;
    },
    isMutating: (args) =>
      args.tty === true || args.sandbox_permissions === "require_escalated" || !isReadOnlyCommand(args.cmd),
    execute: (args, ctx) => runWithFailureEscalation(args, ctx),
  };
}

/** What a command blocked by the sandbox typically prints. */
const SANDBOX_DENIAL =
  /Permission denied|Read-only file system|Operation not permitted|Network is unreachable|Could not resolve host|Temporary failure in name resolution|Connection refused/;

/**
 * `on-failure`: commands run in the sandbox; one that fails the way sandboxed commands fail is offered
 * to the person to run again outside the sandbox.
 */
async function runWithFailureEscalation(args: ExecCommandArgs, ctx: ToolContext): Promise<string> {
  // A durable turn may stop at the question below and run this call again with the answer: the
  // sandboxed attempt must not run twice.
  const sandboxed = () => runExecCommand(args, ctx, false);
  const result = await (ctx.once === undefined ? sandboxed() : ctx.once("sandboxed", sandboxed));
  if (
    ctx.approvalPolicy !== "on-failure" ||
    ctx.sandboxPolicy.mode === "danger-full-access" ||
    args.sandbox_permissions === "require_escalated" ||
    /^Exit code: 0\n/.test(result) ||
    !result.startsWith("Exit code:") ||
    !SANDBOX_DENIAL.test(result)
  ) {
    return result;
  }
  const denial = result.split("\n").find((line) => SANDBOX_DENIAL.test(line)) ?? "";
  const decision = await ctx.askApproval({
    kind: "command",
    callId: ctx.callId,
    summary: args.cmd,
    reason: `it failed in the sandbox: ${denial.trim()}`,
    escalated: true,
  });
  if (decision === "aborted") throw new KilnError("turn_interrupted", "the turn was aborted at an approval");
  if (decision === "denied") return `${result}\n(The user declined to run it outside the sandbox.)`;
  return runExecCommand({ ...args, sandbox_permissions: "require_escalated" }, ctx, true);
}

async function runExecCommand(
  args: ExecCommandArgs,
  ctx: ToolContext,
  preApproved: boolean,
): Promise<string> {
  const cwd = args.workdir === undefined ? ctx.cwd : resolve(ctx.cwd, args.workdir);
  const isDir = await stat(cwd).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw ToolError.respondToModel(`workdir does not exist or is not a directory: ${cwd}`);
  // The sandbox mounts the working directory: it must be one the thread may use, not any host path.
  if (ctx.sandboxPolicy.mode !== "danger-full-access") {
    const real = await realpath(cwd);
    const roots = await Promise.all(
      [ctx.cwd, ...ctx.sandboxPolicy.writableRoots].map((r) => realpath(r).catch(() => r)),
    );
    if (!roots.some((root) => real === root || real.startsWith(`${root}/`))) {
      throw ToolError.respondToModel(
        `workdir must be inside the workspace (${ctx.cwd}): ${cwd} is outside it`,
      );
    }
  }

  const item: CommandExecutionItem = {
    id: ctx.newItemId(),
    type: "commandExecution",
    command: args.cmd,
    cwd,
    aggregatedOutput: "",
    exitCode: null,
    durationMs: null,
    status: "in_progress",
  };
  let policy: SandboxPolicy = ctx.sandboxPolicy;
  if (
    ctx.approvalPolicy === "untrusted" &&
    args.sandbox_permissions !== "require_escalated" &&
    !isReadOnlyCommand(args.cmd)
  ) {
    const decision = await ctx.askApproval({
      kind: "command",
      callId: ctx.callId,
      summary: args.cmd,
      escalated: false,
    });
    if (decision === "aborted")
      throw new KilnError("turn_interrupted", "the turn was aborted at an approval");
    if (decision === "denied") {
      ctx.emit({ type: "item/completed", item: { ...item, status: "declined", durationMs: 0 } });
      return "The user declined to run this command. Do not retry it; find another way or ask the user.";
    }
  }
  if (
    args.sandbox_permissions === "require_escalated" &&
    policy.mode !== "danger-full-access" &&
    preApproved
  ) {
    policy = { ...policy, mode: "danger-full-access" };
  } else if (args.sandbox_permissions === "require_escalated" && policy.mode !== "danger-full-access") {
    const decision = await ctx.askApproval({
      kind: "command",
      callId: ctx.callId,
      summary: args.cmd,
      reason: args.justification,
      escalated: true,
      prefixRule: args.prefix_rule,
    });
    if (decision === "aborted")
      throw new KilnError("turn_interrupted", "the turn was aborted at an approval");
    if (decision === "denied") {
      ctx.emit({ type: "item/completed", item: { ...item, status: "declined", durationMs: 0 } });
      return "The user declined to run this command outside the sandbox. Do not retry it escalated; find another way or ask the user.";
    }
    policy = { ...policy, mode: "danger-full-access" };
  }

  ctx.emit({ type: "item/started", item });
  const started = performance.now();
  const shell = args.shell ?? "/bin/bash";
  const process = await ctx.sandbox.spawn({
    argv: [shell, args.login === true ? "-lc" : "-c", args.cmd],
    cwd,
    policy,
    env: args.tty === true ? { ...COMMAND_ENV, TERM: "xterm-256color" } : COMMAND_ENV,
    tty: args.tty === true,
  });
  const session = ctx.sessions.track(args.cmd, cwd, process);
  const stopDeltas = streamDeltas(session, item.id, ctx);
  const killTimer =
    args.timeout_ms === undefined ? undefined : setTimeout(() => process.kill("SIGKILL"), args.timeout_ms);
  const onAbort = () => process.kill("SIGKILL");
  // The turn may have been interrupted while the sandbox was starting: an abort listener added now
  // would never fire.
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const { output, exited } = await collect(session, args.yield_time_ms ?? DEFAULT_YIELD_MS, ctx.signal);
    stopDeltas(exited);
    const durationMs = Math.round(performance.now() - started);
    const maxTokens = args.max_output_tokens ?? ctx.outputTokenLimit;
    const shown = truncateOutput(output, maxTokens);
    if (ctx.signal.aborted) {
      ctx.emit({
        type: "item/completed",
        item: { ...item, aggregatedOutput: shown, durationMs, status: "interrupted" },
      });
      throw new KilnError("turn_interrupted", "the turn was interrupted while a command was running");
    }
    if (!exited) {
      const sessionId = ctx.sessions.keep(session);
      ctx.emit({
        type: "item/completed",
        item: { ...item, aggregatedOutput: shown, durationMs, status: "in_progress", sessionId },
      });
      return formatResult({ sessionId, wallMs: durationMs, output: shown });
    }
    const timedOut =
      args.timeout_ms !== undefined && durationMs >= args.timeout_ms && session.exit?.signal === "SIGKILL";
    const exitCode =
      session.exit?.exitCode ?? (session.exit?.signal ? 128 + signalNumber(session.exit.signal) : -1);
    const text = timedOut ? `${shown}\ncommand timed out after ${args.timeout_ms} ms and was killed` : shown;
    ctx.emit({
      type: "item/completed",
      item: {
        ...item,
        aggregatedOutput: text,
        exitCode,
        durationMs,
        status: exitCode === 0 ? "completed" : "failed",
      },
    });
    return formatResult({ exitCode, wallMs: durationMs, output: text });
  } finally {
    // The timeout outlives the call for a background command, but never the process itself.
    if (killTimer !== undefined) void session.done.then(() => clearTimeout(killTimer));
    ctx.signal.removeEventListener("abort", onAbort);
  }
}

/** Streams output deltas while the call waits; returns a stop function. */
function streamDeltas(session: ExecSession, itemId: string, ctx: ToolContext): (final: boolean) => void {
  let pending = "";
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (pending === "") return;
    ctx.emit({ type: "item/commandExecution/outputDelta", itemId, delta: pending });
    pending = "";
  };
  let live = true;
  let streamed = 0;
  const unsubscribe = session.process.onData((chunk) => {
    if (!live) return;
    // Live output is for watching; past a cap it stops (the final item still has head and tail).
    if (streamed >= MAX_STREAMED_CHARS) return;
    const room = MAX_STREAMED_CHARS - streamed;
    const piece =
      chunk.length > room
        ? `${chunk.slice(0, room)}\n…live output stops here; the result keeps the end…\n`
        : chunk;
    streamed += chunk.length;
    pending += piece;
    if (pending.length >= DELTA_FLUSH_CHARS) flush();
    else timer ??= setTimeout(flush, DELTA_FLUSH_MS);
  });
  return () => {
    live = false;
    unsubscribe();
    if (timer !== undefined) clearTimeout(timer);
    flush();
  };
}

/** The text the model gets back (the format of shared/spec/responses-wire.md). */
export function formatResult(result: {
  exitCode?: number;
  sessionId?: number;
  wallMs: number;
  output: string;
}): string {
  const head =
    result.sessionId === undefined
      ? `Exit code: ${result.exitCode ?? -1}`
      : `Process running with session ID ${result.sessionId}`;
  return `${head}\nWall time: ${(result.wallMs / 1000).toFixed(2)} seconds\nOutput:\n${result.output}`;
}

function signalNumber(signal: string): number {
  const table: Record<string, number> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGKILL: 9,
    SIGTERM: 15,
    SIGPIPE: 13,
  };
  return table[signal] ?? 0;
}
