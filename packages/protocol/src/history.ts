import { z } from "zod";

/**
 * What the model sees: the conversation history in the OpenAI Responses wire shape (snake_case, as on
 * the wire). Chat Completions and other wires are converted from this at the client.
 */
export const ContentPart = z.discriminatedUnion("type", [
  z.object({ type: z.literal("input_text"), text: z.string() }),
  z.object({ type: z.literal("output_text"), text: z.string() }),
  z.object({ type: z.literal("input_image"), image_url: z.string() }),
]);
export type ContentPart = z.infer<typeof ContentPart>;

/** A message in the model's history. */
export const HistoryMessage = z.object({
  type: z.literal("message"),
  id: z.string().optional(),
  role: z.enum(["user", "assistant", "developer", "system"]),
  content: z.array(ContentPart),
});
/** The model's reasoning (summary and, when given, opaque encrypted content to echo back). */
export const HistoryReasoning = z.object({
  type: z.literal("reasoning"),
  id: z.string().optional(),
  summary: z.array(z.object({ type: z.literal("summary_text"), text: z.string() })),
  encrypted_content: z.string().nullable().optional(),
});
/** A call of a function tool. */
export const HistoryFunctionCall = z.object({
  type: z.literal("function_call"),
  id: z.string().optional(),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
});
/** A function tool's result. */
export const HistoryFunctionCallOutput = z.object({
  type: z.literal("function_call_output"),
  call_id: z.string(),
  output: z.string(),
});
/** A call of a freeform (custom) tool, e.g. apply_patch. */
export const HistoryCustomToolCall = z.object({
  type: z.literal("custom_tool_call"),
  id: z.string().optional(),
  call_id: z.string(),
  name: z.string(),
  input: z.string(),
});
/** A freeform tool's result. */
export const HistoryCustomToolCallOutput = z.object({
  type: z.literal("custom_tool_call_output"),
  call_id: z.string(),
  output: z.string(),
});

/** One entry of the model-facing history. */
export const HistoryItem = z.discriminatedUnion("type", [
  HistoryMessage,
  HistoryReasoning,
  HistoryFunctionCall,
  HistoryFunctionCallOutput,
  HistoryCustomToolCall,
  HistoryCustomToolCallOutput,
]);
export type HistoryItem = z.infer<typeof HistoryItem>;
export type HistoryMessage = z.infer<typeof HistoryMessage>;
export type HistoryFunctionCall = z.infer<typeof HistoryFunctionCall>;
export type HistoryCustomToolCall = z.infer<typeof HistoryCustomToolCall>;

/** A tool call as the model made it (function or freeform). */
export type HistoryToolCall = HistoryFunctionCall | HistoryCustomToolCall;

/** Whether a history item is a tool call. */
export function isToolCall(item: HistoryItem): item is HistoryToolCall {
  return item.type === "function_call" || item.type === "custom_tool_call";
}
