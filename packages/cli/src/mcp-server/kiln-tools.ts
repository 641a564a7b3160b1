// The tools `kiln mcp-server` offers, as Codex's `codex mcp-server` does: `kiln` starts a thread and
// runs one turn, `kiln-reply` runs the next turn of a thread. Each call: open the thread → run the
// turn, forwarding its events as MCP notifications → close the thread → answer with the final
// message and `{threadId, status, finalResponse, usage}`. Anything that goes wrong is a tool error.
import { resolve } from "node:path";
import { type AgentThread, foldTurn, Kiln, type TurnResult } from "@kiln/core";
import {
  ApprovalPolicy,
  type EventEnvelope,
  KilnError,
  SandboxMode,
  type ThreadEvent,
  TurnStatus,
  Usage,
} from "@kiln/protocol";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { configOverrides } from "./config-overrides.ts";

/** What the tools need from the process around them. */
export interface KilnToolsDeps {
  env: Record<string, string | undefined>;
  cwd: string;
  /** Diagnostics (stderr: stdout is the protocol). */
  log(message: string): void;
  /** Aborted when the server shuts down: running turns are interrupted. */
  shutdown: AbortSignal;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const APPROVALS_NOTE =
  'This server is not interactive: when the approval policy asks for a person\'s decision (a command outside the sandbox, a write under read-only, an MCP tool), the request is declined and the agent is told so. Use approval-policy "never" with a sandbox that allows what the task needs.';

const KILN_DESCRIPTION = `Run a Kiln coding agent session: Kiln works on the prompt in a repository (reading code, running commands in a sandbox, editing files) and answers with its final message. Returns the threadId to continue the conversation with kiln-reply. ${APPROVALS_NOTE}`;

const REPLY_DESCRIPTION = `Continue a Kiln session started with the kiln tool: runs the next turn of the thread with this prompt and answers with the final message. ${APPROVALS_NOTE}`;

const KilnInput = {
  prompt: z.string().min(1).describe("The task or question for the agent."),
  cwd: z
    .string()
    .optional()
    .describe("Working directory of the session (default: the server's). Relative to the server's."),
  model: z.string().optional().describe('Model name, e.g. "gpt-5.5" (default: from config.toml).'),
  sandbox: SandboxMode.optional().describe("Sandbox mode (default: from config.toml)."),
  "approval-policy": ApprovalPolicy.optional().describe(
    "When to ask for approval; requests are declined here (non-interactive).",
  ),
  profile: z.string().optional().describe("A [profiles.NAME] of config.toml."),
  config: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Configuration overrides, as -c key=value: {"model_reasoning_effort": "high"}.'),
};

const ReplyInput = {
  threadId: z.string().optional().describe("The threadId returned by the kiln tool."),
  conversationId: z.string().optional().describe("Alias of threadId (Codex's name)."),
  prompt: z.string().min(1).describe("The next message for the agent."),
};

const TurnOutput = {
  threadId: z.string(),
  status: TurnStatus,
  finalResponse: z.string(),
  usage: Usage,
};

/** The registered tools' calls. */
export interface KilnTools {
  /** Resolves once every call in flight has answered (and closed its thread). */
  settled(): Promise<void>;
}

/** Registers `kiln` and `kiln-reply` on `server`. */
export function registerKilnTools(server: McpServer, deps: KilnToolsDeps): KilnTools {
  /** Threads with a turn running in this server: a second turn on one would corrupt its rollout. */
  const running = new Set<string>();
  const calls = new Set<Promise<CallToolResult>>();
  const track = (call: Promise<CallToolResult>): Promise<CallToolResult> => {
    calls.add(call);
    const forget = () => calls.delete(call);
    call.then(forget, forget);
    return call;
  };

  const runOn = async (thread: AgentThread, prompt: string, extra: Extra): Promise<CallToolResult> => {
    if (running.has(thread.id)) return busy(thread.id);
    running.add(thread.id);
    try {
      const signal = AbortSignal.any([extra.signal, deps.shutdown]);
      const events = thread.runStreamed(prompt, { signal });
      const result = await foldTurn(forwarding(events, server, extra, deps));
      return turnResult(thread.id, result);
    } finally {
      running.delete(thread.id);
    }
  };

  server.registerTool(
    "kiln",
    {
      title: "Kiln",
      description: KILN_DESCRIPTION,
      inputSchema: KilnInput,
      outputSchema: TurnOutput,
    },
    (args, extra) =>
      track(
        guarded(deps, async () => {
          const cwd = resolve(deps.cwd, args.cwd ?? ".");
          const kiln = new Kiln({
            env: deps.env,
            cwd,
            profile: args.profile,
            overrides: configOverrides(args.config),
          });
          const thread = kiln.startThread({
            cwd,
            model: args.model,
            sandbox: args.sandbox,
            approvalPolicy: args["approval-policy"],
            onApproval: declineApproval(deps),
          });
          try {
            return await runOn(thread, args.prompt, extra);
          } finally {
            thread.close();
          }
        }),
      ),
  );

  server.registerTool(
    "kiln-reply",
    {
      title: "Kiln reply",
      description: REPLY_DESCRIPTION,
      inputSchema: ReplyInput,
      outputSchema: TurnOutput,
    },
    (args, extra) =>
      track(
        guarded(deps, async () => {
          const threadId = args.threadId ?? args.conversationId;
          if (threadId === undefined) return toolError("give the threadId returned by the kiln tool");
          // Checked before the rollout is opened: opening it while a turn appends to it is unsafe.
          if (running.has(threadId)) return busy(threadId);
          const kiln = new Kiln({ env: deps.env, cwd: deps.cwd });
          const thread = kiln.resumeThread(threadId, { onApproval: declineApproval(deps) });
          try {
            return await runOn(thread, args.prompt, extra);
          } finally {
            thread.close();
          }
        }),
      ),
  );

  return {
    settled: async () => {
      await Promise.allSettled([...calls]);
    },
  };
}

/** Nobody can answer an approval here: decline it, and say so on stderr. */
function declineApproval(deps: KilnToolsDeps) {
  return async (request: { summary: string }) => {
    deps.log(`approval needed for "${request.summary}": declined (kiln mcp-server is not interactive)`);
    return "denied" as const;
  };
}

/** A tool call's process boundary: a KilnError (bad config, unknown thread, …) is a tool error. */
async function guarded(deps: KilnToolsDeps, body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof KilnError) return toolError(error.message);
    deps.log(`kiln mcp-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return toolError(`internal error: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function turnResult(threadId: string, result: TurnResult): CallToolResult {
  const structuredContent = {
    threadId,
    status: result.status,
    finalResponse: result.finalResponse,
    usage: result.usage,
  };
  if (result.status === "completed")
    return { content: [{ type: "text", text: result.finalResponse }], structuredContent };
  const why = result.error?.message ?? `the turn ended ${result.status}`;
  return {
    content: [{ type: "text", text: `The Kiln turn ${result.status} (thread ${threadId}): ${why}` }],
    structuredContent,
    isError: true,
  };
}

function busy(threadId: string): CallToolResult {
  return toolError(`thread ${threadId} is already running a turn: wait for it to finish, then reply`);
}

function toolError(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/**
 * Passes a turn's events through, telling the client as they happen: a progress notification when
 * the call asked for progress, and a log message (the event envelope) for every step worth showing.
 */
async function* forwarding(
  events: AsyncIterable<EventEnvelope>,
  server: McpServer,
  extra: Extra,
  deps: KilnToolsDeps,
): AsyncIterable<EventEnvelope> {
  const progressToken = extra._meta?.progressToken;
  for await (const envelope of events) {
    const message = describeEvent(envelope.event);
    if (message !== undefined) {
      const sent =
        progressToken === undefined
          ? Promise.resolve()
          : extra.sendNotification({
              method: "notifications/progress",
              params: { progressToken, progress: envelope.seq, message },
            });
      const logged = server.sendLoggingMessage({ level: "info", logger: "kiln", data: envelope });
      // Notifications are best effort: a client that went away must not fail the turn.
      Promise.all([sent, logged]).catch((error: unknown) =>
        deps.log(`kiln mcp-server: could not notify the client: ${String(error)}`),
      );
    }
    yield envelope;
  }
}

/** One line for a person, for the events worth a notification (not the deltas). */
function describeEvent(event: ThreadEvent): string | undefined {
  if (event.type === "turn/started") return "turn started";
  if (event.type === "turn/completed") return `turn ${event.status}`;
  if (event.type === "warning") return `warning: ${event.message}`;
  if (event.type === "model/retrying")
    return `reconnecting ${event.attempt}/${event.maxAttempts}: ${event.error.message}`;
  if (event.type !== "item/started" && event.type !== "item/completed") return undefined;
  const item = event.item;
  const verb = event.type === "item/started" ? "started" : "done";
  if (item.type === "commandExecution") return `command ${verb}: ${item.command}`;
  if (item.type === "fileChange") return `patch ${verb}: ${item.changes.map((c) => c.path).join(", ")}`;
  if (item.type === "mcpToolCall") return `mcp ${verb}: ${item.server}.${item.tool}`;
  if (item.type === "agentMessage" && event.type === "item/completed") return `message: ${item.text}`;
  return undefined;
}
