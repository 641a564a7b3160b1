// One MCP server tool as a Kiln tool: parse the model's JSON arguments → ask for approval when the
// policy wants it → emit `item/started` → call the server (tool timeout, turn signal) → emit
// `item/completed` → give the model the text content. A failed call (isError, timeout, a server that
// died) is tool output the model can read, never a failed turn; only an interrupt ends the turn.
import { createHash } from "node:crypto";
import { type HistoryToolCall, KilnError, type McpToolCallItem } from "@kiln/protocol";
import type { ContentBlock, Tool as McpToolDefinition } from "@modelcontextprotocol/sdk/types.js";
import { truncateOutput } from "../tools/exec-command/truncate-output.ts";
import { parseJsonArguments, type Tool, type ToolContext, ToolError } from "../tools/tool.ts";

/** The arguments of an MCP tool call: a JSON object, passed to the server as given. */
export type McpToolArgs = Record<string, unknown>;

/** What a tool call returned, normalised from the MCP result. */
export interface McpCallResult {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown> | undefined;
  isError: boolean;
}

/** How a tool reaches its server (one per connection). */
export interface McpToolCaller {
  /** Calls `name`; rejects when the call times out, is aborted, or the connection is gone. */
  callTool(
    name: string,
    args: McpToolArgs,
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<McpCallResult>;
}

/** Everything needed to offer one server tool to the model. */
export interface McpToolOptions {
  /** The server's name (the `[mcp_servers.NAME]` key). */
  server: string;
  /** The tool as the server listed it. */
  definition: McpToolDefinition;
  caller: McpToolCaller;
  /** Per-call timeout (`tool_timeout_sec`). */
  timeoutMs: number;
}

const MAX_TOOL_NAME = 64;
const MAX_SUMMARY = 200;

/** The model-facing name of a server tool: `server__tool`, in `[a-zA-Z0-9_-]`, at most 64 characters. */
export function mcpToolName(server: string, tool: string): string {
  const full = `${server}__${tool}`;
  const clean = full.replace(/[^a-zA-Z0-9_-]/g, "_");
  if (clean.length <= MAX_TOOL_NAME) return clean;
  // Too long: keep a readable prefix and make it unique with a hash of the full name.
  const hash = createHash("sha1").update(full).digest("hex").slice(0, 8);
  return `${clean.slice(0, MAX_TOOL_NAME - hash.length - 1)}_${hash}`;
}

/** A Kiln tool that calls one tool of an MCP server. */
export function createMcpTool(options: McpToolOptions): Tool<McpToolArgs> {
  const { server, definition } = options;
  const name = mcpToolName(server, definition.name);
  const readOnly = definition.annotations?.readOnlyHint === true;
  /** Threads in which a person approved this tool for the rest of the session. */
  const approvedThreads = new Set<string>();
  const text = definition.description ?? definition.title ?? definition.annotations?.title ?? "";
  return {
    name,
    spec: {
      type: "function",
      name,
      description: `[mcp: ${server}] ${text}`.trim(),
      parameters: toolParameters(definition.inputSchema),
    },
    parse: (call) => parseObjectArguments(call, name),
    isMutating: () => !readOnly,
    async execute(args, ctx) {
      const item: McpToolCallItem = {
        id: ctx.newItemId(),
        type: "mcpToolCall",
        server,
        tool: definition.name,
        arguments: args,
        status: "in_progress",
      };
      const needsApproval =
        !approvedThreads.has(ctx.threadId) &&
        (ctx.approvalPolicy === "untrusted" || (ctx.approvalPolicy === "on-request" && !readOnly));
      if (needsApproval) {
        const decision = await ctx.askApproval({
          kind: "tool",
          callId: ctx.callId,
          summary: callSummary(server, definition.name, args),
          escalated: false,
        });
        if (decision === "aborted")
          throw new KilnError("turn_interrupted", "the turn was aborted at an approval");
        if (decision === "denied") {
          ctx.emit({ type: "item/completed", item: { ...item, status: "declined" } });
          return `The user declined this call to ${server}.${definition.name}. Do not retry it; find another way or ask the user.`;
        }
        if (decision === "approved_for_session") approvedThreads.add(ctx.threadId);
      }
      return callAndReport(options, item, args, ctx);
    },
  };
}

async function callAndReport(
  options: McpToolOptions,
  item: McpToolCallItem,
  args: McpToolArgs,
  ctx: ToolContext,
): Promise<string> {
  const label = `${options.server}.${options.definition.name}`;
  ctx.emit({ type: "item/started", item });
  let result: McpCallResult;
  try {
    result = await options.caller.callTool(options.definition.name, args, {
      signal: ctx.signal,
      timeoutMs: options.timeoutMs,
    });
  } catch (error) {
    if (ctx.signal.aborted) {
      ctx.emit({ type: "item/completed", item: { ...item, status: "interrupted" } });
      throw new KilnError("turn_interrupted", `the turn was interrupted while ${label} was running`);
    }
    const message = describeCallError(error, options.timeoutMs);
    ctx.emit({ type: "item/completed", item: { ...item, error: message, status: "failed" } });
    return `Error: the MCP tool ${label} failed: ${message}`;
  }
  const output = truncateOutput(resultText(result), ctx.outputTokenLimit);
  ctx.emit({
    type: "item/completed",
    item: {
      ...item,
      result: result.content,
      ...(result.isError ? { error: output } : {}),
      status: result.isError ? "failed" : "completed",
    },
  });
  return result.isError ? `Error: ${output}` : output;
}

/** The text the model gets: text blocks joined, other blocks as placeholders. */
export function resultText(result: McpCallResult): string {
  const parts = result.content.map(blockText);
  if (parts.length === 0 && result.structuredContent !== undefined)
    return JSON.stringify(result.structuredContent);
  return parts.join("\n");
}

function blockText(block: ContentBlock): string {
  switch (block.type) {
    case "text":
      return block.text;
    case "image":
      return "[image]";
    case "audio":
      return "[audio]";
    case "resource":
      return "text" in block.resource ? block.resource.text : `[resource: ${block.resource.uri}]`;
    case "resource_link":
      return `[resource: ${block.uri}]`;
    default:
      return `[${(block as { type: string }).type}]`;
  }
}

/** The model's arguments as a JSON object, or a ToolError it can act on. */
function parseObjectArguments(call: HistoryToolCall, name: string): McpToolArgs {
  const value = parseJsonArguments(call);
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw ToolError.respondToModel(`arguments for ${name} must be a JSON object`);
  return value as McpToolArgs;
}

/**
 * The server's input schema, made acceptable to model APIs: an object schema with `properties`, and
 * without the `$schema` dialect marker some providers reject.
 */
function toolParameters(schema: McpToolDefinition["inputSchema"]): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = schema;
  return { ...rest, type: "object", properties: schema.properties ?? {} };
}

/** One line for the person deciding: `server.tool({"a":1})`, capped. */
function callSummary(server: string, tool: string, args: McpToolArgs): string {
  const json = JSON.stringify(args);
  const shown = json.length > MAX_SUMMARY ? `${json.slice(0, MAX_SUMMARY - 1)}…` : json;
  return `${server}.${tool}(${shown})`;
}

/** RequestTimeout in the MCP SDK's error codes. */
const MCP_REQUEST_TIMEOUT = -32001;

function describeCallError(error: unknown, timeoutMs: number): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === MCP_REQUEST_TIMEOUT) return `timed out after ${formatSeconds(timeoutMs)}`;
  const message = error instanceof Error ? error.message : String(error);
  if (/connection closed|not connected/i.test(message))
    return `the server is not running any more (${message})`;
  return message;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))} s`;
}
