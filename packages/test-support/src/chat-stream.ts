import { z } from "zod";
import { assertNever } from "./assert-never.ts";
import type { IdAllocator } from "./id-allocator.ts";
import { type ModelOutput, splitIntoChunks } from "./model-output.ts";
import type { RenderedStream, SseFrame } from "./sse-frame.ts";
import type { TokenUsage } from "./usage.ts";

/**
 * Renders one scenario step as an OpenAI Chat Completions stream: `chat.completion.chunk`s with a role
 * chunk, `delta.content` pieces, `delta.tool_calls[i]` (id, type and name first, then argument
 * fragments), a chunk with `finish_reason`, with `stream_options.include_usage` a final chunk carrying
 * `usage` and no choices, then `data: [DONE]`. Chat has no freeform tools, so `apply_patch` is a function
 * call with arguments `{"input": patch}`; reasoning items are not sent.
 */

/** The part of a `POST /chat/completions` body the fake server checks and echoes back. */
export const ChatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.unknown()),
  stream: z.literal(true, { error: "the fake model server only serves streaming requests (stream: true)" }),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

/** Everything one chat stream is made from. */
export interface ChatStreamInput {
  request: ChatRequest;
  outputs: readonly ModelOutput[];
  usage: TokenUsage;
  ids: IdAllocator;
  /** `completed` ends with the finish chunk and `[DONE]`; `failed` with an `{"error": …}` chunk. */
  ending: { type: "completed" } | { type: "failed"; message: string };
}

type ToolCall = { name: string; arguments: string };

/** Renders the whole stream up front; the server decides how much of it to send. */
export function renderChatStream(input: ChatStreamInput): RenderedStream {
  const { request, outputs, usage, ids, ending } = input;
  const includeUsage = request.stream_options?.include_usage === true;
  const base = {
    id: ids.next("chatcmpl-"),
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    service_tier: "default",
    system_fingerprint: "fp_kiln_fake",
  };
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });

  const spoken = outputs.filter((o) => o.type !== "reasoning");
  const hasText = spoken.some((o) => o.type === "message");
  const chunks: unknown[] = [chunk({ role: "assistant", content: hasText ? "" : null, refusal: null })];
  let defaultDisconnectAfter = chunks.length;
  let toolIndex = 0;
  spoken.forEach((output, i) => {
    const call = toolCall(output);
    if (call === null) {
      if (output.type === "message") {
        chunks.push(...splitIntoChunks(output.text).map((content) => chunk({ content })));
      }
    } else {
      const index = toolIndex++;
      const header = {
        index,
        id: ids.next("call_"),
        type: "function",
        function: { name: call.name, arguments: "" },
      };
      chunks.push(chunk({ tool_calls: [header] }));
      for (const fragment of splitIntoChunks(call.arguments)) {
        chunks.push(chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }));
      }
    }
    if (i === 0) defaultDisconnectAfter = chunks.length;
  });

  const frames: SseFrame[] = chunks.map((c) => ({ data: JSON.stringify(c) }));
  switch (ending.type) {
    case "completed":
      frames.push({ data: JSON.stringify(chunk({}, toolIndex > 0 ? "tool_calls" : "stop")) });
      if (includeUsage)
        frames.push({ data: JSON.stringify({ ...base, choices: [], usage: chatUsage(usage) }) });
      frames.push({ data: "[DONE]" });
      break;
    case "failed":
      // What OpenAI sends when a chat stream fails midway; the SDK turns it into an APIError.
      frames.push({
        data: JSON.stringify({
          error: { message: ending.message, type: "server_error", param: null, code: "server_error" },
        }),
      });
      break;
    default:
      return assertNever(ending);
  }
  return { frames, defaultDisconnectAfter };
}

function toolCall(output: ModelOutput): ToolCall | null {
  switch (output.type) {
    case "message":
    case "reasoning":
      return null;
    case "function_call":
      return { name: output.name, arguments: output.arguments };
    case "custom_tool_call":
      return { name: output.name, arguments: JSON.stringify({ input: output.input }) };
    default:
      return assertNever(output);
  }
}

function chatUsage(usage: TokenUsage): Record<string, unknown> {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}
