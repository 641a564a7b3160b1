import type { ApprovalPolicy, HistoryToolCall, PlanStep, SandboxPolicy, ThreadEvent } from "@kiln/protocol";
import { KilnError } from "@kiln/protocol";
import type { SandboxProvider } from "@kiln/sandbox";
import type { SubAgentControl } from "../agent/sub-agents.ts";
import type { ToolSpec } from "../model/model-client.ts";
import type { ExecSessions } from "./exec-command/exec-sessions.ts";

/** What a tool may use while it runs one call. */
export interface ToolContext {
  threadId: string;
  turnId: string;
  callId: string;
  /** The thread's working directory (the workspace). */
  cwd: string;
  sandbox: SandboxProvider;
  sandboxPolicy: SandboxPolicy;
  approvalPolicy: ApprovalPolicy;
  sessions: ExecSessions;
  /** Default cap of command output given back to the model, in tokens. */
  outputTokenLimit: number;
  signal: AbortSignal;
  emit(event: ThreadEvent): void;
  newItemId(): string;
  /** Asks for a person's decision (or applies the policy's rule when nobody can answer). */
  askApproval(request: ApprovalRequest): Promise<ApprovalDecision>;
  /** The thread's sub-agents, when it may spawn them. */
  agents?: SubAgentControl | undefined;
  /** The turn's plan (update_plan). */
  plan: { itemId: string | undefined; steps: PlanStep[] };
  /**
   * Runs a part of the call that acts (e.g. the sandboxed attempt of a command) once per call: under
   * a durable journal, a call that asks for an approval after that part is stopped at the question and
   * runs again once it is answered, and this part then answers its first result instead of acting
   * again. Without a journal (or outside such a call) it just runs `fn`.
   */
  once?<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** What needs a person's decision. */
export interface ApprovalRequest {
  kind: "command" | "patch" | "tool";
  callId: string;
  /** One line for the person: the command, or the files a patch touches. */
  summary: string;
  /** Why it is asked (the model's justification, or the sandbox failure). */
  reason?: string | undefined;
  /** The call wants to run outside the sandbox. */
  escalated: boolean;
  /** A command prefix the model proposes for approving similar commands for the session. */
  prefixRule?: string[] | undefined;
}

/** A person's answer (or the policy's). */
export type ApprovalDecision = "approved" | "approved_for_session" | "approved_prefix" | "denied" | "aborted";

/** A tool the model can call. It declares honestly whether a call may change anything. */
export interface Tool<Args = unknown> {
  readonly name: string;
  readonly spec: ToolSpec;
  /** Validates the model's call; throws `ToolError` with a message the model can act on. */
  parse(call: HistoryToolCall): Args;
  /** Whether this call may change files, processes or the outside world (mutating calls run one at a time). */
  isMutating(args: Args): boolean;
  /** Runs the call and returns the text the model gets back. */
  execute(args: Args, ctx: ToolContext): Promise<string>;
  /**
   * Under a step journal, whether this call runs outside a journaled step because it journals its own
   * operations (a durable engine's child calls cannot run inside a step). Such a call runs alone.
   */
  runsOutsideSteps?(ctx: ToolContext): boolean;
}

/** An error the model can fix: it becomes the tool's output instead of ending the turn. */
export class ToolError extends KilnError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("tool_error", message, details === undefined ? undefined : { details });
    this.name = "ToolError";
  }

  /** A tool error whose message is given to the model as the call's output. */
  static respondToModel(message: string): ToolError {
    return new ToolError(message);
  }
}

/** The JSON arguments of a function call, or a ToolError the model can act on. */
export function parseJsonArguments(call: HistoryToolCall): unknown {
  if (call.type !== "function_call") return { input: call.input };
  try {
    return JSON.parse(call.arguments === "" ? "{}" : call.arguments);
  } catch {
    throw ToolError.respondToModel(`failed to parse function arguments for ${call.name}: not valid JSON`);
  }
}

/** A zod error as one line a model can act on. */
export function describeArgumentError(
  tool: string,
  issues: { path: PropertyKey[]; message: string }[],
): string {
  const first = issues[0];
  if (first === undefined) return `invalid arguments for ${tool}`;
  const where = first.path.length === 0 ? "" : ` at "${first.path.map(String).join(".")}"`;
  return `invalid arguments for ${tool}${where}: ${first.message}`;
}
