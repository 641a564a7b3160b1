// Anthropic Messages API over SSE, through the official `@anthropic-ai/sdk`. Sequence: convert the
// Responses-shaped history (system prompt apart; tool calls → `tool_use` blocks, their outputs →
// `tool_result` blocks; adjacent same-role turns merged so roles alternate; signed thinking blocks echoed
// back), stream the raw events, build each history item when its content block stops, and complete on
// `message_stop`. Freeform tools (apply_patch) become functions with one string argument `input`, and
// their calls come back as custom tool calls, so the rest of the harness sees one shape whatever the wire.
import Anthropic from "@anthropic-ai/sdk";
import { assertNever, type ContentPart, type HistoryItem, KilnError, type Usage } from "@kiln/protocol";
import { z } from "zod";
import { toAnthropicError } from "./anthropic-errors.ts";
import { withIdleTimeout } from "./idle-timeout.ts";
import { modelInfo } from "./model-catalog.ts";
import type { ModelClient, ModelRequest, ModelStreamEvent, ToolSpec } from "./model-client.ts";
import type { ProviderConnection } from "./responses-client.ts";

type MessageParam = Anthropic.MessageParam;
type ContentBlockParam = Anthropic.ContentBlockParam;
type StreamEvent = Anthropic.RawMessageStreamEvent;

/** Prefix of a reasoning item's `encrypted_content` that holds an Anthropic thinking block (as JSON). */
export const ANTHROPIC_THINKING_PREFIX = "anthropic:";

/** Extended-thinking budget per reasoning effort. */
const THINKING_BUDGET: Readonly<Record<string, number>> = {
  low: 2048,
  medium: 8192,
  high: 24576,
  xhigh: 24576,
};

/** A thinking block as the API signed it: echoed back verbatim in later requests. */
const SignedThinking = z.discriminatedUnion("type", [
  z.object({ type: z.literal("thinking"), thinking: z.string(), signature: z.string() }),
  z.object({ type: z.literal("redacted_thinking"), data: z.string() }),
]);
type SignedThinking = z.infer<typeof SignedThinking>;

/** A ModelClient for the Anthropic Messages wire. */
export function createAnthropicClient(connection: ProviderConnection): ModelClient {
  const client = new Anthropic({
    baseURL: connection.baseUrl,
    // Always a key in code: the SDK would otherwise read ANTHROPIC_API_KEY or credential files itself.
    apiKey: connection.apiKey ?? "not-needed",
    maxRetries: 0,
    defaultHeaders: connection.headers,
    timeout: 10 * 60_000,
  });
  return {
    wire: "anthropic",
    async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelStreamEvent> {
      const freeform = new Set(request.tools.filter((t) => t.type === "custom").map((t) => t.name));
      const body = toMessagesRequest(request);
      const state = newStreamState();
      const idle = withIdleTimeout(signal, connection.idleTimeoutMs);
      try {
        const stream = await client.messages.create(body, { signal: idle.signal });
        for await (const event of stream) {
          idle.touch();
          for (const out of translate(event, state, freeform)) {
            yield out;
            if (out.type === "completed") return;
          }
        }
      } catch (error) {
        throw toAnthropicError(idle.timedOut() ? idleError(connection.idleTimeoutMs) : error, signal);
      } finally {
        idle.dispose();
      }
      // The SDK ends the iteration quietly when its request is aborted.
      if (idle.timedOut()) throw idleError(connection.idleTimeoutMs);
      if (signal.aborted) throw new KilnError("turn_interrupted", "the turn was interrupted");
      throw new KilnError("model_stream_disconnected", "stream closed before message_stop");
    },
  };
}

function idleError(ms: number): KilnError {
  const span = ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
  return new KilnError("model_stream_disconnected", `the model sent nothing for ${span}`);
}

// ---- Request ----

/** The Messages request for a model call. */
function toMessagesRequest(request: ModelRequest): Anthropic.MessageCreateParamsStreaming {
  const info = modelInfo(request.model, { wire: "anthropic" });
  const { system, messages } = toMessages(request);
  const thinks = info.reasoning && canThink(messages);
  return {
    model: request.model,
    max_tokens: info.maxOutputTokens,
    stream: true,
    // The system prompt (with the tools before it) and the history so far are cached across the calls
    // of a turn: without these breakpoints Anthropic caches nothing.
    ...(system === ""
      ? {}
      : { system: [{ type: "text", text: system, cache_control: { type: "ephemeral" } }] }),
    messages: withCacheBreakpoint(messages),
    ...(request.tools.length === 0
      ? {}
      : {
          tools: request.tools.map(toAnthropicTool),
          tool_choice: {
            type: "auto",
            ...(request.parallelToolCalls ? {} : { disable_parallel_tool_use: true }),
          },
        }),
    ...(thinks ? thinkingParams(request.model, request.reasoningEffort, info.maxOutputTokens) : {}),
  };
}

function toMessages(request: ModelRequest): { system: string; messages: MessageParam[] } {
  const system = [request.instructions];
  const messages: MessageParam[] = [];
  const push = (role: "user" | "assistant", blocks: ContentBlockParam[]) => {
    if (blocks.length === 0) return;
    const last = messages.at(-1);
    if (last?.role !== role || typeof last.content === "string") {
      messages.push({ role, content: blocks });
      return;
    }
    // Tool results must lead a user turn, ahead of any text typed after the calls.
    const content = last.content;
    const results = blocks.filter((b) => b.type === "tool_result");
    const lead = content.findIndex((b) => b.type !== "tool_result");
    content.splice(lead === -1 ? content.length : lead, 0, ...results);
    content.push(...blocks.filter((b) => b.type !== "tool_result"));
  };
  for (const item of request.input) {
    switch (item.type) {
      case "message": {
        if (item.role === "developer" || item.role === "system") {
          const text = item.content.map((p) => (p.type === "input_image" ? "" : p.text)).join("\n");
          if (text.trim() !== "") system.push(text);
          continue;
        }
        push(item.role, item.content.flatMap(toContentBlocks));
        continue;
      }
      case "reasoning": {
        const block = signedThinking(item.encrypted_content);
        if (block !== undefined) push("assistant", [block]);
        continue;
      }
      case "function_call":
        push("assistant", [
          { type: "tool_use", id: item.call_id, name: item.name, input: parseArguments(item.arguments) },
        ]);
        continue;
      case "custom_tool_call":
        push("assistant", [
          { type: "tool_use", id: item.call_id, name: item.name, input: { input: item.input } },
        ]);
        continue;
      case "function_call_output":
      case "custom_tool_call_output":
        push("user", [
          {
            type: "tool_result",
            tool_use_id: item.call_id,
            ...(item.output === "" ? {} : { content: item.output }),
          },
        ]);
        continue;
      default:
        assertNever(item);
    }
  }
  if (request.outputSchema !== undefined) {
    system.push(
      `Answer with a single JSON value that matches this JSON Schema, and nothing else (no code fences, no prose):\n${JSON.stringify(request.outputSchema)}`,
    );
  }
  return { system: system.filter((s) => s !== "").join("\n\n"), messages };
}

function toContentBlocks(part: ContentPart): ContentBlockParam[] {
  const blocks: ContentBlockParam[] = [];
  switch (part.type) {
    case "input_text":
    case "output_text":
      // The API rejects empty text blocks.
      if (part.text !== "") blocks.push({ type: "text", text: part.text });
      return blocks;
    case "input_image":
      blocks.push(toImageBlock(part.image_url));
      return blocks;
    default:
      return assertNever(part);
  }
}

const IMAGE_DATA_URL = /^data:(image\/(?:png|jpeg|gif|webp));base64,(.*)$/s;

function toImageBlock(url: string): ContentBlockParam {
  const match = IMAGE_DATA_URL.exec(url);
  if (match !== null) {
    const mediaType = match[1] as "image/png" | "image/jpeg" | "image/gif" | "image/webp";
    return { type: "image", source: { type: "base64", media_type: mediaType, data: match[2] ?? "" } };
  }
  if (/^https?:\/\//.test(url)) return { type: "image", source: { type: "url", url } };
  const kind = url.startsWith("data:") ? url.slice(5, url.indexOf(";")) : "unknown";
  return { type: "text", text: `[image omitted: ${kind} is not a PNG, JPEG, GIF or WebP image]` };
}

/** A thinking block stored by this client, or undefined for reasoning from another provider. */
function signedThinking(encrypted: string | null | undefined): ContentBlockParam | undefined {
  if (encrypted?.startsWith(ANTHROPIC_THINKING_PREFIX) !== true) return undefined;
  try {
    const parsed = SignedThinking.safeParse(JSON.parse(encrypted.slice(ANTHROPIC_THINKING_PREFIX.length)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // Not JSON: a corrupt block cannot be echoed (the API checks signatures), so it is left out.
    return undefined;
  }
}

/** Tool arguments as an object: the API takes `input` as JSON, not as text. */
function parseArguments(args: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(args);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    // The model sent invalid JSON (its call failed as a tool error); the API still needs an object.
    return {};
  }
}

function toAnthropicTool(tool: ToolSpec): Anthropic.Tool {
  switch (tool.type) {
    case "function":
      return {
        name: tool.name,
        description: tool.description,
        input_schema: { ...tool.parameters, type: "object" },
      };
    case "custom":
      return {
        name: tool.name,
        description: tool.description,
        input_schema: {
          type: "object",
          properties: {
            input: { type: "string", description: "The entire contents of the apply_patch command" },
          },
          required: ["input"],
        },
      };
    default:
      return assertNever(tool);
  }
}

/** Models on which a thinking budget is deprecated in favour of adaptive thinking (the SDK warns on every
 *  call that sends one). */
const ADAPTIVE_THINKING = /claude-(opus-4-[6-9]|mythos)/;

/** Extended thinking for an effort (none for `none`/`minimal` or no effort): a budget kept below
 *  `max_tokens` (which it counts against), or adaptive thinking with the effort where budgets are
 *  deprecated. */
function thinkingParams(
  model: string,
  effort: string | undefined,
  maxTokens: number,
): Pick<Anthropic.MessageCreateParamsStreaming, "thinking" | "output_config"> {
  const budget = effort === undefined ? undefined : THINKING_BUDGET[effort];
  if (budget === undefined) return {};
  if (ADAPTIVE_THINKING.test(model.toLowerCase())) {
    const level = effort === "low" || effort === "medium" || effort === "xhigh" ? effort : "high";
    return { thinking: { type: "adaptive" }, output_config: { effort: level } };
  }
  return { thinking: { type: "enabled", budget_tokens: Math.max(1024, Math.min(budget, maxTokens - 4096)) } };
}

/**
 * With thinking on, the API requires the assistant turn being continued with tool results to start with
 * its thinking block. A turn made without thinking (effort raised mid-thread, history from another
 * provider) cannot get one, so that call goes without thinking.
 */
function canThink(messages: MessageParam[]): boolean {
  const last = messages.at(-1);
  if (last?.role !== "user" || typeof last.content === "string") return true;
  if (!last.content.some((b) => b.type === "tool_result")) return true;
  const assistant = messages.at(-2);
  if (assistant?.role !== "assistant" || typeof assistant.content === "string") return false;
  const first = assistant.content[0]?.type;
  return first === "thinking" || first === "redacted_thinking";
}

/** Marks the last block of the last message as a prompt-cache breakpoint (where the API allows one). */
function withCacheBreakpoint(messages: MessageParam[]): MessageParam[] {
  const last = messages.at(-1);
  if (last === undefined || typeof last.content === "string") return messages;
  const block = last.content.at(-1);
  if (block === undefined || block.type === "thinking" || block.type === "redacted_thinking") return messages;
  const marked = { ...block, cache_control: { type: "ephemeral" } } as ContentBlockParam;
  return [
    ...messages.slice(0, -1),
    { ...last, content: [...last.content.slice(0, -1), marked] } as MessageParam,
  ];
}

// ---- Stream ----

interface BlockState {
  type: string;
  text: string;
  signature: string;
  data: string;
  id: string;
  name: string;
  json: string;
  input: unknown;
}

function newBlock(start: Anthropic.RawContentBlockStartEvent["content_block"]): BlockState {
  const block: BlockState = {
    type: start.type,
    text: "",
    signature: "",
    data: "",
    id: "",
    name: "",
    json: "",
    input: {},
  };
  switch (start.type) {
    case "text":
      block.text = start.text;
      return block;
    case "thinking":
      block.text = start.thinking;
      block.signature = start.signature;
      return block;
    case "redacted_thinking":
      block.data = start.data;
      return block;
    case "tool_use":
      block.id = start.id;
      block.name = start.name;
      block.input = start.input;
      return block;
    default:
      return block;
  }
}

interface StreamState {
  messageId: string | undefined;
  blocks: Map<number, BlockState>;
  inputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  outputTokens: number;
  thinkingTokens: number;
}

function newStreamState(): StreamState {
  return {
    messageId: undefined,
    blocks: new Map(),
    inputTokens: 0,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    outputTokens: 0,
    thinkingTokens: 0,
  };
}

interface WireUsage {
  input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  output_tokens?: number | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
}

/** Folds one stream event into the state; returns what Kiln sees of it. */
function translate(event: StreamEvent, state: StreamState, freeform: Set<string>): ModelStreamEvent[] {
  switch (event.type) {
    case "message_start":
      state.messageId = event.message.id;
      takeUsage(state, event.message.usage);
      return [];
    case "content_block_start":
      state.blocks.set(event.index, newBlock(event.content_block));
      return [];
    case "content_block_delta": {
      const block = state.blocks.get(event.index);
      if (block === undefined) return [];
      const delta = event.delta;
      switch (delta.type) {
        case "text_delta":
          block.text += delta.text;
          return [{ type: "text_delta", delta: delta.text }];
        case "thinking_delta":
          block.text += delta.thinking;
          return [{ type: "reasoning_delta", delta: delta.thinking }];
        case "signature_delta":
          block.signature += delta.signature;
          return [];
        case "input_json_delta":
          block.json += delta.partial_json;
          return [];
        default:
          return [];
      }
    }
    case "content_block_stop": {
      const block = state.blocks.get(event.index);
      state.blocks.delete(event.index);
      const item = block === undefined ? undefined : toHistoryItem(block, freeform);
      return item === undefined ? [] : [{ type: "item_done", item }];
    }
    case "message_delta": {
      takeUsage(state, event.usage);
      const reason = event.delta.stop_reason;
      if (reason === "max_tokens" || reason === "model_context_window_exceeded") {
        throw new KilnError(
          "context_window_exceeded",
          `the model stopped (${reason}): the output or context limit was reached`,
          { details: { stopReason: reason } },
        );
      }
      if (reason === "refusal") {
        throw new KilnError("model_error", "the model refused to continue this conversation", {
          retryable: false,
          details: { stopReason: reason },
        });
      }
      return [];
    }
    case "message_stop":
      return [{ type: "completed", usage: usageOf(state), responseId: state.messageId }];
    default:
      // Newer event types (and `ping`) carry nothing Kiln needs.
      return [];
  }
}

function takeUsage(state: StreamState, usage: WireUsage | null | undefined): void {
  if (usage === null || usage === undefined) return;
  // Counts are cumulative: a later event's number replaces an earlier one.
  if (typeof usage.input_tokens === "number") state.inputTokens = usage.input_tokens;
  if (typeof usage.cache_read_input_tokens === "number")
    state.cacheReadTokens = usage.cache_read_input_tokens;
  if (typeof usage.cache_creation_input_tokens === "number")
    state.cacheCreationTokens = usage.cache_creation_input_tokens;
  if (typeof usage.output_tokens === "number") state.outputTokens = usage.output_tokens;
  const thinking = usage.output_tokens_details?.thinking_tokens;
  if (typeof thinking === "number") state.thinkingTokens = thinking;
}

/** Anthropic counts cache reads and writes apart from `input_tokens`; Kiln's input includes both. */
function usageOf(state: StreamState): Usage {
  const input = state.inputTokens + state.cacheReadTokens + state.cacheCreationTokens;
  return {
    inputTokens: input,
    cachedInputTokens: state.cacheReadTokens,
    outputTokens: state.outputTokens,
    reasoningOutputTokens: state.thinkingTokens,
    totalTokens: input + state.outputTokens,
  };
}

function toHistoryItem(block: BlockState, freeform: Set<string>): HistoryItem | undefined {
  switch (block.type) {
    case "text":
      return block.text === ""
        ? undefined
        : { type: "message", role: "assistant", content: [{ type: "output_text", text: block.text }] };
    case "thinking":
      return reasoningItem(block.text, {
        type: "thinking",
        thinking: block.text,
        signature: block.signature,
      });
    case "redacted_thinking":
      return reasoningItem("", { type: "redacted_thinking", data: block.data });
    case "tool_use": {
      const args = block.json !== "" ? block.json : JSON.stringify(block.input ?? {});
      if (!freeform.has(block.name)) {
        return { type: "function_call", call_id: block.id, name: block.name, arguments: args };
      }
      return { type: "custom_tool_call", call_id: block.id, name: block.name, input: freeformInput(args) };
    }
    default:
      // Server-tool blocks and others Kiln does not offer.
      return undefined;
  }
}

function reasoningItem(summary: string, block: SignedThinking): HistoryItem {
  return {
    type: "reasoning",
    summary: summary === "" ? [] : [{ type: "summary_text", text: summary }],
    encrypted_content: `${ANTHROPIC_THINKING_PREFIX}${JSON.stringify(block)}`,
  };
}

/** A freeform tool's text from its `{"input": …}` arguments (raw text passes through as it is). */
function freeformInput(args: string): string {
  try {
    const parsed = JSON.parse(args) as { input?: unknown };
    if (typeof parsed.input === "string") return parsed.input;
  } catch {
    // Not JSON: the model sent the raw text.
  }
  return args;
}
