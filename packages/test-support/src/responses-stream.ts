import { z } from "zod";
import { assertNever } from "./assert-never.ts";
import type { IdAllocator } from "./id-allocator.ts";
import { type ModelOutput, splitIntoChunks } from "./model-output.ts";
import type { RenderedStream, SseFrame } from "./sse-frame.ts";
import type { TokenUsage } from "./usage.ts";

/**
 * Renders one scenario step as the OpenAI Responses SSE stream (see spec/responses-wire.md):
 * `response.created`, `response.in_progress`, then per item `response.output_item.added`, its deltas and
 * `response.output_item.done`, then `response.completed` (or `response.failed`). Every event carries
 * `type` and a `sequence_number` counted from 0 within the response.
 */

/** The part of a `POST /responses` body the fake server checks and echoes back. */
export const ResponsesRequest = z.looseObject({
  model: z.string().min(1),
  input: z.array(z.unknown()),
  stream: z.literal(true, { error: "the fake model server only serves streaming requests (stream: true)" }),
  instructions: z.string().nullish(),
  tools: z.array(z.unknown()).optional(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.boolean().optional(),
  store: z.boolean().optional(),
  prompt_cache_key: z.string().optional(),
  max_output_tokens: z.number().nullish(),
  reasoning: z.looseObject({ effort: z.string().nullish(), summary: z.string().nullish() }).nullish(),
  include: z.array(z.string()).nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
});
export type ResponsesRequest = z.infer<typeof ResponsesRequest>;

/** Everything one Responses stream is made from. */
export interface ResponsesStreamInput {
  request: ResponsesRequest;
  outputs: readonly ModelOutput[];
  usage: TokenUsage;
  ids: IdAllocator;
  /** `completed` ends with `response.completed`; `failed` with `response.failed` carrying the message. */
  ending: { type: "completed" } | { type: "failed"; message: string };
}

type WireEvent = { type: string } & Record<string, unknown>;

/** Renders the whole stream up front; the server decides how much of it to send. */
export function renderResponsesStream(input: ResponsesStreamInput): RenderedStream {
  const { request, outputs, usage, ids, ending } = input;
  const createdAt = Math.floor(Date.now() / 1000);
  const responseId = ids.next("resp_");
  const withEncryptedReasoning = request.include?.includes("reasoning.encrypted_content") ?? false;

  const events: WireEvent[] = [];
  const base = responseObject(request, responseId, createdAt);
  events.push({ type: "response.created", response: { ...base } });
  events.push({ type: "response.in_progress", response: { ...base } });

  const doneItems: unknown[] = [];
  let defaultDisconnectAfter = events.length;
  outputs.forEach((output, outputIndex) => {
    const itemEvents = renderItem(output, outputIndex, ids, withEncryptedReasoning);
    events.push(...itemEvents.events);
    doneItems.push(itemEvents.doneItem);
    if (outputIndex === 0) defaultDisconnectAfter = events.length;
  });

  const wireUsage = {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedTokens },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
  switch (ending.type) {
    case "completed":
      events.push({
        type: "response.completed",
        response: {
          ...base,
          status: "completed",
          completed_at: Math.floor(Date.now() / 1000),
          output: doneItems,
          usage: wireUsage,
        },
      });
      break;
    case "failed":
      events.push({
        type: "response.failed",
        response: {
          ...base,
          status: "failed",
          error: { code: "server_error", message: ending.message },
          output: doneItems,
          usage: wireUsage,
        },
      });
      break;
    default:
      return assertNever(ending);
  }

  const frames: SseFrame[] = events.map((event, sequence) => ({
    event: event.type,
    data: JSON.stringify({ ...event, sequence_number: sequence }),
  }));
  return { frames, defaultDisconnectAfter };
}

/** The `response` object as the real API sends it in `response.created` (request fields echoed). */
function responseObject(request: ResponsesRequest, id: string, createdAt: number): Record<string, unknown> {
  return {
    id,
    object: "response",
    created_at: createdAt,
    status: "in_progress",
    background: false,
    error: null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: request.model,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    prompt_cache_key: request.prompt_cache_key ?? null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: request.reasoning?.summary ?? null },
    service_tier: "default",
    store: request.store ?? true,
    temperature: 1,
    text: { format: { type: "text" }, verbosity: "medium" },
    tool_choice: request.tool_choice ?? "auto",
    tools: request.tools ?? [],
    top_p: 1,
    truncation: "disabled",
    usage: null,
    user: null,
    metadata: request.metadata ?? {},
  };
}

function renderItem(
  output: ModelOutput,
  outputIndex: number,
  ids: IdAllocator,
  withEncryptedReasoning: boolean,
): { events: WireEvent[]; doneItem: unknown } {
  switch (output.type) {
    case "message":
      return renderMessage(output.text, outputIndex, ids.next("msg_"));
    case "reasoning":
      return renderReasoning(output.summary, outputIndex, ids.next("rs_"), withEncryptedReasoning);
    case "function_call": {
      const id = ids.next("fc_");
      const callId = ids.next("call_");
      const at = { item_id: id, output_index: outputIndex };
      const item = { id, type: "function_call", call_id: callId, name: output.name };
      const doneItem = { ...item, arguments: output.arguments, status: "completed" };
      return {
        events: [
          {
            type: "response.output_item.added",
            output_index: outputIndex,
            item: { ...item, arguments: "", status: "in_progress" },
          },
          ...splitIntoChunks(output.arguments).map((delta) => ({
            type: "response.function_call_arguments.delta",
            ...at,
            delta,
          })),
          {
            type: "response.function_call_arguments.done",
            ...at,
            name: output.name,
            arguments: output.arguments,
          },
          { type: "response.output_item.done", output_index: outputIndex, item: doneItem },
        ],
        doneItem,
      };
    }
    case "custom_tool_call": {
      const id = ids.next("ctc_");
      const callId = ids.next("call_");
      const at = { item_id: id, output_index: outputIndex };
      const item = { id, type: "custom_tool_call", call_id: callId, name: output.name };
      const doneItem = { ...item, input: output.input, status: "completed" };
      return {
        events: [
          {
            type: "response.output_item.added",
            output_index: outputIndex,
            item: { ...item, input: "", status: "in_progress" },
          },
          ...splitIntoChunks(output.input).map((delta) => ({
            type: "response.custom_tool_call_input.delta",
            ...at,
            delta,
          })),
          { type: "response.custom_tool_call_input.done", ...at, input: output.input },
          { type: "response.output_item.done", output_index: outputIndex, item: doneItem },
        ],
        doneItem,
      };
    }
    default:
      return assertNever(output);
  }
}

function renderMessage(
  text: string,
  outputIndex: number,
  id: string,
): { events: WireEvent[]; doneItem: unknown } {
  const at = { item_id: id, output_index: outputIndex, content_index: 0 };
  const part = { type: "output_text", annotations: [], text };
  const doneItem = { id, type: "message", status: "completed", role: "assistant", content: [part] };
  return {
    events: [
      {
        type: "response.output_item.added",
        output_index: outputIndex,
        item: { id, type: "message", status: "in_progress", role: "assistant", content: [] },
      },
      { type: "response.content_part.added", ...at, part: { ...part, text: "" } },
      ...splitIntoChunks(text).map((delta) => ({
        type: "response.output_text.delta",
        ...at,
        delta,
        logprobs: [],
      })),
      { type: "response.output_text.done", ...at, text, logprobs: [] },
      { type: "response.content_part.done", ...at, part },
      { type: "response.output_item.done", output_index: outputIndex, item: doneItem },
    ],
    doneItem,
  };
}

function renderReasoning(
  summary: string,
  outputIndex: number,
  id: string,
  withEncryptedReasoning: boolean,
): { events: WireEvent[]; doneItem: unknown } {
  const at = { item_id: id, output_index: outputIndex, summary_index: 0 };
  // Opaque like the real thing (a Fernet token); a client must only echo it back.
  const encrypted = withEncryptedReasoning
    ? { encrypted_content: `gAAAAA${Buffer.from(JSON.stringify({ id, summary })).toString("base64url")}` }
    : {};
  const summaryParts = summary === "" ? [] : [{ type: "summary_text", text: summary }];
  const doneItem = { id, type: "reasoning", summary: summaryParts, ...encrypted };
  const summaryEvents: WireEvent[] =
    summary === ""
      ? []
      : [
          { type: "response.reasoning_summary_part.added", ...at, part: { type: "summary_text", text: "" } },
          ...splitIntoChunks(summary).map((delta) => ({
            type: "response.reasoning_summary_text.delta",
            ...at,
            delta,
          })),
          { type: "response.reasoning_summary_text.done", ...at, text: summary },
          {
            type: "response.reasoning_summary_part.done",
            ...at,
            part: { type: "summary_text", text: summary },
          },
        ];
  return {
    events: [
      {
        type: "response.output_item.added",
        output_index: outputIndex,
        item: { id, type: "reasoning", summary: [] },
      },
      ...summaryEvents,
      { type: "response.output_item.done", output_index: outputIndex, item: doneItem },
    ],
    doneItem,
  };
}
