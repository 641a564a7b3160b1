// OpenAI Responses API over SSE (shared/spec/responses-wire.md), through the official `openai` package.
// Items are taken from `response.output_item.done`; text deltas only drive live display.
import { HistoryItem, KilnError, type Usage } from "@kiln/protocol";
import OpenAI from "openai";
import { withIdleTimeout } from "./idle-timeout.ts";
import { modelInfo } from "./model-catalog.ts";
import type { ModelClient, ModelRequest, ModelStreamEvent } from "./model-client.ts";
import { toModelError } from "./model-errors.ts";

/** Connection settings of an OpenAI-compatible provider. */
export interface ProviderConnection {
  baseUrl: string;
  apiKey: string | undefined;
  headers?: Record<string, string> | undefined;
  idleTimeoutMs: number;
}

interface ResponsesUsage {
  input_tokens?: number;
  input_tokens_details?: { cached_tokens?: number } | null;
  output_tokens?: number;
  output_tokens_details?: { reasoning_tokens?: number } | null;
}

/** A ModelClient for the Responses wire. */
export function createResponsesClient(connection: ProviderConnection): ModelClient {
  const client = new OpenAI({
    baseURL: connection.baseUrl,
    apiKey: connection.apiKey ?? "",
    maxRetries: 0,
    defaultHeaders: connection.headers,
    timeout: 10 * 60_000,
  });
  return {
    wire: "responses",
    async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelStreamEvent> {
      const body = {
        model: request.model,
        instructions: request.instructions,
        // A reasoning item without encrypted content cannot be resolved by a stateless (store:false) API.
        input: request.input.filter(
          (item) => item.type !== "reasoning" || (item.encrypted_content ?? "") !== "",
        ),
        tools: request.tools,
        tool_choice: "auto",
        parallel_tool_calls: request.parallelToolCalls,
        stream: true,
        store: false,
        ...(request.reasoningEffort === undefined
          ? {}
          : {
              reasoning: {
                effort: request.reasoningEffort,
                ...(request.reasoningSummary === undefined ? {} : { summary: request.reasoningSummary }),
              },
            }),
        // With store:false a reasoning item can only be sent back with its encrypted content, so ask
        // for it whenever the model reasons (whether or not an effort was configured).
        ...(request.reasoningEffort !== undefined || modelInfo(request.model).reasoning
          ? { include: ["reasoning.encrypted_content"] }
          : {}),
        ...(request.promptCacheKey === undefined ? {} : { prompt_cache_key: request.promptCacheKey }),
        ...(request.outputSchema === undefined
          ? {}
          : {
              text: {
                format: {
                  type: "json_schema",
                  name: "kiln_output_schema",
                  schema: request.outputSchema,
                  strict: true,
                },
              },
            }),
      };
      const idle = withIdleTimeout(signal, connection.idleTimeoutMs);
      try {
        const stream = await client.responses.create(
          body as unknown as OpenAI.Responses.ResponseCreateParamsStreaming,
          { signal: idle.signal },
        );
        for await (const event of stream) {
          idle.touch();
          const out = translate(event as unknown as { type: string } & Record<string, unknown>);
          if (out === undefined) continue;
          yield out;
          if (out.type === "completed") return;
        }
      } catch (error) {
        throw toModelError(idle.timedOut() ? idleError(connection.idleTimeoutMs) : error, signal);
      } finally {
        idle.dispose();
      }
      throw new KilnError("model_stream_disconnected", "stream closed before response.completed");
    },
  };
}

function idleError(ms: number): KilnError {
  return new KilnError("model_stream_disconnected", `the model sent nothing for ${Math.round(ms / 1000)} s`);
}

function translate(event: { type: string } & Record<string, unknown>): ModelStreamEvent | undefined {
  switch (event.type) {
    case "response.output_text.delta":
      return { type: "text_delta", delta: String(event.delta ?? "") };
    case "response.reasoning_summary_text.delta":
      return { type: "reasoning_delta", delta: String(event.delta ?? "") };
    case "response.output_item.done": {
      const parsed = HistoryItem.safeParse(event.item);
      return parsed.success ? { type: "item_done", item: parsed.data } : undefined;
    }
    case "response.completed": {
      const response = event.response as { id?: string; usage?: ResponsesUsage } | undefined;
      return { type: "completed", usage: usageFrom(response?.usage), responseId: response?.id };
    }
    case "response.failed":
    case "response.incomplete": {
      const response = event.response as
        | {
            error?: { message?: string; code?: string } | null;
            incomplete_details?: { reason?: string } | null;
          }
        | undefined;
      const reason = response?.error?.message ?? response?.incomplete_details?.reason ?? event.type;
      if (response?.incomplete_details?.reason === "max_output_tokens") {
        throw new KilnError("model_error", "the model stopped: it reached its output token limit", {
          retryable: false,
        });
      }
      if (/context/i.test(reason)) {
        throw new KilnError("context_window_exceeded", `the model stopped: ${reason}`);
      }
      const code = response?.error?.code ?? "";
      const retryable = /rate_limit|server_error|overloaded/.test(code);
      throw new KilnError(retryable ? "model_unavailable" : "model_error", `the model failed: ${reason}`, {
        retryable,
      });
    }
    case "error": {
      const message = typeof event.message === "string" ? event.message : JSON.stringify(event);
      throw new KilnError("model_error", `the model stream reported an error: ${message}`, {
        retryable: true,
      });
    }
    default:
      return undefined;
  }
}

/** Responses usage → Kiln usage. */
export function usageFrom(usage: ResponsesUsage | undefined): Usage {
  const input = usage?.input_tokens ?? 0;
  const output = usage?.output_tokens ?? 0;
  return {
    inputTokens: input,
    cachedInputTokens: usage?.input_tokens_details?.cached_tokens ?? 0,
    outputTokens: output,
    reasoningOutputTokens: usage?.output_tokens_details?.reasoning_tokens ?? 0,
    totalTokens: input + output,
  };
}
