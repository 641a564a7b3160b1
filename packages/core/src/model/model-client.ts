import type { HistoryItem, Usage } from "@kiln/protocol";

/** A tool as offered to the model. */
export type ToolSpec =
  | { type: "function"; name: string; description: string; parameters: Record<string, unknown> }
  | {
      type: "custom";
      name: string;
      description: string;
      format: { type: "grammar"; syntax: "lark"; definition: string };
    };

/** One model call: the whole history every time (stateless). */
export interface ModelRequest {
  model: string;
  instructions: string;
  input: HistoryItem[];
  tools: ToolSpec[];
  parallelToolCalls: boolean;
  reasoningEffort?: string | undefined;
  reasoningSummary?: string | undefined;
  /** JSON Schema the final message must follow (structured output). */
  outputSchema?: Record<string, unknown> | undefined;
  /** Groups requests of one thread for the provider's prompt cache. */
  promptCacheKey?: string | undefined;
}

/** What a model stream yields. A stream that ends without `completed` is a disconnect. */
export type ModelStreamEvent =
  | { type: "text_delta"; delta: string }
  | { type: "reasoning_delta"; delta: string }
  | { type: "item_done"; item: HistoryItem }
  | { type: "completed"; usage: Usage; responseId: string | undefined };

/** Kiln's narrow interface to a model provider, whatever its wire. */
export interface ModelClient {
  readonly wire: "responses" | "chat" | "anthropic";
  /** Streams one model call. Throws `KilnError` (`model_*` codes) on failure. */
  stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelStreamEvent>;
}
