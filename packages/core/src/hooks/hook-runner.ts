// Runs the user's hooks for one event: each matching hook, in order, as a process on the host (hooks are
// the user's own trusted programs, not the model's, so they are not sandboxed). The hook reads a JSON
// payload on stdin. A `pre_tool_use` hook blocks the call by exiting with code 2 (its stderr is the
// reason) or by printing `{"decision":"block","reason":"…"}`; the first block wins and later hooks do not
// run. A hook that fails or times out is a warning: the call goes on.
import { spawn } from "node:child_process";
import { assertNever, HookDecision, type HookInput, KilnError } from "@kiln/protocol";
import {
  DEFAULT_HOOK_TIMEOUT_MS,
  type HookDefinition,
  type HookEvent,
  type HooksConfig,
} from "./hooks-config.ts";

/** What the caller knows about the moment a hook runs for. */
export interface HookPayload {
  threadId: string;
  turnId?: string | undefined;
  /** The thread's working directory; defaults to the runner's `cwd`. */
  cwd?: string | undefined;
  toolName?: string | undefined;
  /** The call's parsed JSON arguments, or the freeform input (a patch). */
  toolInput?: unknown;
  toolOutput?: string | undefined;
  finalMessage?: string | undefined;
}

/** What the hooks of one event decided. */
export interface HookOutcome {
  /** Set when a `pre_tool_use` hook blocked the call: its reason and which hook it was. */
  blocked?: { reason: string; hook: string };
  /** Hooks that failed, timed out or could not start (one line each, for the user). */
  warnings: string[];
}

/** Runs the configured hooks. */
export interface HookRunner {
  /** Runs the hooks of `event` that match; throws `turn_interrupted` when `signal` aborts meanwhile. */
  run(event: HookEvent, payload: HookPayload, signal?: AbortSignal): Promise<HookOutcome>;
}

/** Bytes of a hook's stdout or stderr kept; the rest is dropped. */
const MAX_CAPTURE = 64 * 1024;
/** How long to wait for a hook's pipes after it exited (a background child may hold them open). */
const PIPE_GRACE_MS = 1_000;

interface CompiledHook {
  definition: HookDefinition;
  name: string;
  matcher: RegExp | undefined;
}

type ProcessResult =
  | { type: "exited"; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  | { type: "timed_out" }
  | { type: "aborted" }
  | { type: "failed_to_start"; message: string };

/** A runner for `config`; hooks run in `options.cwd` (or the payload's) with PATH, HOME and LANG of `options.env`. */
export function createHookRunner(
  config: HooksConfig,
  options: { cwd: string; env: Record<string, string | undefined> },
): HookRunner {
  const compiled = {
    session_start: config.session_start.map(compile),
    pre_tool_use: config.pre_tool_use.map(compile),
    post_tool_use: config.post_tool_use.map(compile),
    stop: config.stop.map(compile),
  } satisfies Record<HookEvent, CompiledHook[]>;
  const baseEnv: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "LANG"]) {
    const value = options.env[key];
    if (value !== undefined) baseEnv[key] = value;
  }

  return {
    async run(event, payload, signal) {
      const toolEvent = event === "pre_tool_use" || event === "post_tool_use";
      const hooks = compiled[event].filter(
        (h) => !toolEvent || h.matcher === undefined || h.matcher.test(payload.toolName ?? ""),
      );
      const warnings: string[] = [];
      if (hooks.length === 0) return { warnings };
      const cwd = payload.cwd ?? options.cwd;
      const input: HookInput = {
        event,
        thread_id: payload.threadId,
        turn_id: payload.turnId,
        cwd,
        tool_name: payload.toolName,
        tool_input: payload.toolInput,
        tool_output: payload.toolOutput,
        final_message: payload.finalMessage,
      };
      const stdin = `${JSON.stringify(input)}\n`;
      const env = { ...baseEnv, KILN_HOOK_EVENT: event };
      for (const hook of hooks) {
        if (signal?.aborted) throw interrupted();
        const timeoutMs = hook.definition.timeout_ms ?? DEFAULT_HOOK_TIMEOUT_MS;
        const result = await runProcess(hook.definition.command, { stdin, cwd, env, timeoutMs, signal });
        const prefix = `hook \`${hook.name}\` (${event})`;
        switch (result.type) {
          case "aborted":
            throw interrupted();
          case "timed_out":
            warnings.push(
              `${prefix} failed: timed out after ${timeoutMs} ms (set timeout_ms to allow longer)`,
            );
            continue;
          case "failed_to_start":
            warnings.push(`${prefix} failed: it could not start: ${result.message}`);
            continue;
          case "exited": {
            const block = blockReason(result);
            if (block === undefined) {
              if (result.code !== 0) warnings.push(`${prefix} failed: ${exitDescription(result)}`);
              continue;
            }
            if (event === "pre_tool_use") return { blocked: { reason: block, hook: hook.name }, warnings };
            warnings.push(`${prefix} asked to block, but only pre_tool_use hooks can block: ${block}`);
            continue;
          }
          default:
            return assertNever(result);
        }
      }
      return { warnings };
    },
  };
}

function compile(definition: HookDefinition): CompiledHook {
  const { matcher, command } = definition;
  const all = matcher === undefined || matcher === "" || matcher === "*";
  const text = typeof command === "string" ? command : command.join(" ");
  return {
    definition,
    name: text.length > 80 ? `${text.slice(0, 77)}...` : text,
    // The whole tool name must match: "exec" is not "exec_command".
    matcher: all ? undefined : new RegExp(`^(?:${matcher})$`),
  };
}

/** The reason a hook that exited gives for blocking: exit code 2 (stderr), or a JSON decision (exit 0). */
function blockReason(result: Extract<ProcessResult, { type: "exited" }>): string | undefined {
  if (result.code === 2) return result.stderr.trim() || "the hook exited with code 2 without giving a reason";
  if (result.code !== 0) return undefined;
  const text = result.stdout.trim();
  if (!text.startsWith("{")) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined; // Not a decision: plain output is allowed and ignored.
  }
  const decision = HookDecision.safeParse(json);
  if (!decision.success || decision.data.decision !== "block") return undefined;
  return decision.data.reason?.trim() || "the hook blocked the call without giving a reason";
}

function exitDescription(result: Extract<ProcessResult, { type: "exited" }>): string {
  const how = result.code === null ? `killed by ${result.signal ?? "a signal"}` : `exit code ${result.code}`;
  const firstLine = result.stderr.trim().split("\n")[0];
  return firstLine ? `${how}: ${firstLine}` : how;
}

function interrupted(): KilnError {
  return new KilnError("turn_interrupted", "the turn was interrupted");
}

/** Runs one hook process in its own process group, so a timeout kills everything it started. */
function runProcess(
  command: string | string[],
  options: {
    stdin: string;
    cwd: string;
    env: Record<string, string>;
    timeoutMs: number;
    signal: AbortSignal | undefined;
  },
): Promise<ProcessResult> {
  const [file, args] =
    typeof command === "string" ? ["/bin/sh", ["-c", command]] : [command[0] ?? "", command.slice(1)];
  return new Promise((resolve) => {
    let settled = false;
    let ended: "timed_out" | "aborted" | undefined;
    let exited = false;
    let stdout = "";
    let stderr = "";
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL"); // The group is gone already: the hook itself may still be there.
      }
    };
    const onAbort = () => {
      ended ??= "aborted";
      killGroup();
    };
    const timer = setTimeout(() => {
      if (!exited) ended ??= "timed_out";
      killGroup();
    }, options.timeoutMs);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const finish = (result: ProcessResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      resolve(result);
    };
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      if (stdout.length < MAX_CAPTURE) stdout += chunk.slice(0, MAX_CAPTURE - stdout.length);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < MAX_CAPTURE) stderr += chunk.slice(0, MAX_CAPTURE - stderr.length);
    });
    child.on("error", (error) => finish({ type: "failed_to_start", message: error.message }));
    child.on("exit", () => {
      exited = true;
      // A process the hook left in the background may keep the pipes open: stop reading after a grace.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, PIPE_GRACE_MS).unref();
    });
    child.on("close", (code, signal) => {
      if (ended !== undefined) finish({ type: ended });
      else finish({ type: "exited", code, signal, stdout, stderr });
    });
    // A hook that does not read its stdin may exit before the payload is written (EPIPE): that is fine.
    child.stdin.on("error", () => {});
    child.stdin.end(options.stdin);
    if (options.signal?.aborted) onAbort();
  });
}
