import { z } from "zod";
import { OVERLOADED_ERROR_TYPE } from "./anthropic-error.ts";
import { assertNever } from "./assert-never.ts";
import type { IdAllocator } from "./id-allocator.ts";
import { type ModelOutput, splitIntoChunks } from "./model-output.ts";
import type { RenderedStream, SseFrame } from "./sse-frame.ts";
import type { TokenUsage } from "./usage.ts";

/**
 * Renders one scenario step as an Anthropic Messages SSE stream, event for event as the real API sends
 * it: `message_start` (the message with empty content and the input usage), per content block
 * `content_block_start`, its deltas and `content_block_stop` (a `ping` after the first block's start),
 * then `message_delta` (stop reason and output tokens) and `message_stop`. Every frame has an `event:`
 * line naming its type (the SDK skips frames without one). Text → a `text` block; reasoning → a
 * `thinking` block with `thinking_delta`s and a `signature_delta`; every tool call, `apply_patch`
 * included (as `{"input": patch}`), → a `tool_use` block whose input streams as `input_json_delta`
 * fragments. When the step's output tokens exceed the request's `max_tokens`, the stop reason is
 * `max_tokens` (the output is still sent whole).
 */

/** The part of a `POST /v1/messages` body the fake server checks and echoes back. */
export const AnthropicRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.unknown()),
  max_tokens: z.number().int().nonnegative(),
  stream: z.literal(true, { error: "the fake model server only serves streaming requests (stream: true)" }),
  system: z.union([z.string(), z.array(z.unknown())]).optional(),
  tools: z.array(z.unknown()).optional(),
});
export type AnthropicRequest = z.infer<typeof AnthropicRequest>;

/** Everything one Messages stream is made from. */
export interface AnthropicStreamInput {
  request: AnthropicRequest;
  outputs: readonly ModelOutput[];
  usage: TokenUsage;
  ids: IdAllocator;
  /** `completed` ends with `message_delta` + `message_stop`; `failed` with an `error` event
   *  (`overloaded_error`) carrying the message. */
  ending: { type: "completed" } | { type: "failed"; message: string };
}

type WireEvent = { type: string } & Record<string, unknown>;

/** Renders the whole stream up front; the server decides how much of it to send. */
export function renderAnthropicStream(input: AnthropicStreamInput): RenderedStream {
  const { request, outputs, usage, ids, ending } = input;
  const messageId = ids.next("msg_");
  const events: WireEvent[] = [
    {
      type: "message_start",
      message: {
        id: messageId,
        type: "message",
        role: "assistant",
        model: request.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          // Anthropic counts cache reads apart from `input_tokens`; the scenario's input includes them.
          input_tokens: Math.max(0, usage.inputTokens - usage.cachedTokens),
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: usage.cachedTokens,
          output_tokens: Math.min(1, usage.outputTokens),
          service_tier: "standard",
        },
      },
    },
  ];

  let defaultDisconnectAfter = events.length;
  outputs.forEach((output, index) => {
    const [start, ...rest] = renderBlock(output, index, messageId, ids);
    if (start !== undefined) events.push(start);
    if (index === 0) events.push({ type: "ping" });
    events.push(...rest);
    if (index === 0) defaultDisconnectAfter = events.length;
  });

  switch (ending.type) {
    case "completed": {
      const truncated = usage.outputTokens > request.max_tokens;
      const usesTools = outputs.some((o) => o.type === "function_call" || o.type === "custom_tool_call");
      events.push({
        type: "message_delta",
        delta: {
          stop_reason: truncated ? "max_tokens" : usesTools ? "tool_use" : "end_turn",
          stop_sequence: null,
        },
        usage: { output_tokens: truncated ? request.max_tokens : usage.outputTokens },
      });
      events.push({ type: "message_stop" });
      break;
    }
    case "failed":
      events.push({ type: "error", error: { type: OVERLOADED_ERROR_TYPE, message: ending.message } });
      break;
    default:
      return assertNever(ending);
  }

  const frames: SseFrame[] = events.map((event) => ({ event: event.type, data: JSON.stringify(event) }));
  return { frames, defaultDisconnectAfter };
}

/** One content block: its start event, deltas and stop event. */
function renderBlock(output: ModelOutput, index: number, messageId: string, ids: IdAllocator): WireEvent[] {
  const delta = (d: Record<string, unknown>): WireEvent => ({ type: "content_block_delta", index, delta: d });
  const stop: WireEvent = { type: "content_block_stop", index };
  switch (output.type) {
    case "message":
      return [
        { type: "content_block_start", index, content_block: { type: "text", text: "" } },
        ...splitIntoChunks(output.text).map((text) => delta({ type: "text_delta", text })),
        stop,
      ];
    case "reasoning": {
      // Opaque like the real thing; a client must only echo it back.
      const signature = `EqQB${Buffer.from(JSON.stringify({ messageId, index, thinking: output.summary })).toString("base64")}`;
      return [
        {
          type: "content_block_start",
          index,
          content_block: { type: "thinking", thinking: "", signature: "" },
        },
        ...splitIntoChunks(output.summary).map((thinking) => delta({ type: "thinking_delta", thinking })),
        delta({ type: "signature_delta", signature }),
        stop,
      ];
    }
    case "function_call":
      return renderToolUse(output.name, output.arguments, index, ids);
    case "custom_tool_call":
      return renderToolUse(output.name, JSON.stringify({ input: output.input }), index, ids);
    default:
      return assertNever(output);
  }
}

/** A `tool_use` block; like the real API, the input streams from an empty first fragment. */
function renderToolUse(name: string, json: string, index: number, ids: IdAllocator): WireEvent[] {
  return [
    {
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id: ids.next("toolu_"), name, input: {} },
    },
    ...["", ...splitIntoChunks(json)].map((partial_json) => ({
      type: "content_block_delta",
      index,
      delta: { type: "input_json_delta", partial_json },
    })),
    { type: "content_block_stop", index },
  ];
}
