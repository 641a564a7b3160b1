// Helpers for the MCP client tests: the stdio fixture server's config, a real ToolContext whose
// events and approval requests are recorded, and model calls.
import { fileURLToPath } from "node:url";
import type { ApprovalPolicy, HistoryFunctionCall, ThreadEvent } from "@kiln/protocol";
import { createSandboxProvider } from "@kiln/sandbox";
import { createExecSessions } from "../src/tools/exec-command/exec-sessions.ts";
import type { ApprovalDecision, ApprovalRequest, ToolContext } from "../src/tools/tool.ts";

/** The stdio MCP fixture server (tools echo, add, fail, slow, env, image, die). */
export const ECHO_SERVER = fileURLToPath(new URL("./fixtures/mcp-echo-server.mjs", import.meta.url));

/** A `[mcp_servers.X]` table that starts the fixture server with this Node. */
export function echoServerTable(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { command: process.execPath, args: [ECHO_SERVER], ...extra };
}

/** A tool context as a thread builds it, recording what the tool emits and asks. */
export interface RecordingContext {
  ctx: ToolContext;
  events: ThreadEvent[];
  approvals: ApprovalRequest[];
}

let nextItem = 0;

/** A context for one call; `decision` answers every approval request. */
export function recordingContext(options: {
  approvalPolicy: ApprovalPolicy;
  decision?: ApprovalDecision;
  signal?: AbortSignal;
  threadId?: string;
  callId?: string;
  cwd?: string;
}): RecordingContext {
  const events: ThreadEvent[] = [];
  const approvals: ApprovalRequest[] = [];
  const cwd = options.cwd ?? process.cwd();
  const ctx: ToolContext = {
    threadId: options.threadId ?? "thr_test",
    turnId: "turn_test",
    callId: options.callId ?? "call_1",
    cwd,
    sandbox: createSandboxProvider("danger-full-access"),
    sandboxPolicy: { mode: "danger-full-access", writableRoots: [cwd], networkAccess: false },
    approvalPolicy: options.approvalPolicy,
    sessions: createExecSessions(),
    outputTokenLimit: 10_000,
    signal: options.signal ?? new AbortController().signal,
    emit: (event) => events.push(event),
    newItemId: () => `item_${++nextItem}`,
    askApproval: async (request) => {
      approvals.push(request);
      return options.decision ?? "approved";
    },
    plan: { itemId: undefined, steps: [] },
  };
  return { ctx, events, approvals };
}

/** A model's function call to `name` with these arguments (a string is sent verbatim). */
export function functionCall(name: string, args: unknown, callId = "call_1"): HistoryFunctionCall {
  return {
    type: "function_call",
    call_id: callId,
    name,
    arguments: typeof args === "string" ? args : JSON.stringify(args),
  };
}
