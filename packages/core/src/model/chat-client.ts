// OpenAI-compatible Chat Completions (Ollama, vLLM, llama.cpp, LM Studio, OpenRouter) through the
// official `openai` package. History is converted from the Responses shape; freeform tools (apply_patch)
// become functions with one string argument `input`, and their calls come back as custom tool calls so
// the rest of the harness sees one shape whatever the wire.
import { assertNever, emptyUsage, type HistoryItem, KilnError, newId, type Usage } from "@kiln/protocol";
import OpenAI from "openai";
import { withIdleTimeout } from "./idle-timeout.ts";
import type { ModelClient, ModelRequest, ModelStreamEvent, ToolSpec } from "./model-client.ts";
import { toModelError } from "./model-errors.ts";
import type { ProviderConnection } from "./responses-client.ts";

type ChatMessage = OpenAI.Chat.Completions.ChatCompletionMessageParam;
type ChatTool = OpenAI.Chat.Completions.ChatCompletionTool;

/** A ModelClient for the Chat Completions wire. */
export function createChatClient(connection: ProviderConnection): ModelClient {
  const client = new OpenAI({
    baseURL: connection.baseUrl,
    apiKey: connection.apiKey ?? "not-needed",
    maxRetries: 0,
    defaultHeaders: connection.headers,
    timeout: 10 * 60_000,
  });
  return {
    wire: "chat",
    async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelStreamEvent> {
      const freeform = new Set(request.tools.filter((t) => t.type === "custom").map((t) => t.name));
      const idle = withIdleTimeout(signal, connection.idleTimeoutMs);
      const calls = new Map<number, { id: string; name: string; arguments: string }>();
      let text = "";
      let usage: Usage | undefined;
      let finished = false;
      try {
        const stream = await client.chat.completions.create(
          {
            model: request.model,
            messages: toMessages(request),
            ...(request.tools.length === 0
              ? {}
              : { tools: request.tools.map(toChatTool), parallel_tool_calls: request.parallelToolCalls }),
            ...(request.outputSchema === undefined
              ? {}
              : {
                  response_format: {
                    type: "json_schema" as const,
                    json_schema: { name: "kiln_output_schema", schema: request.outputSchema, strict: true },
                  },
                }),
            stream: true,
            stream_options: { include_usage: true },
          },
          { signal: idle.signal },
        );
        for await (const chunk of stream) {
          idle.touch();
          if (chunk.usage) usage = chatUsage(chunk.usage);
          const choice = chunk.choices[0];
          if (choice === undefined) continue;
          const delta = choice.delta;
          if (typeof delta?.content === "string" && delta.content !== "") {
            text += delta.content;
            yield { type: "text_delta", delta: delta.content };
          }
          for (const fragment of delta?.tool_calls ?? []) {
            const call = calls.get(fragment.index) ?? { id: "", name: "", arguments: "" };
            if (fragment.id) call.id = fragment.id;
            if (fragment.function?.name) call.name += fragment.function.name;
            if (fragment.function?.arguments) call.arguments += fragment.function.arguments;
            calls.set(fragment.index, call);
          }
          if (choice.finish_reason === "length") {
            throw new KilnError(
              "context_window_exceeded",
              "the model stopped: the output or context limit was reached",
            );
          }
          if (choice.finish_reason) finished = true;
        }
      } catch (error) {
        throw toModelError(
          idle.timedOut() ? new KilnError("model_stream_disconnected", "the model went quiet") : error,
          signal,
        );
      } finally {
        idle.dispose();
      }
      if (!finished) throw new KilnError("model_stream_disconnected", "stream closed before the final chunk");
      if (text !== "") {
        yield {
          type: "item_done",
          item: { type: "message", role: "assistant", content: [{ type: "output_text", text }] },
        };
      }
      for (const [, call] of [...calls.entries()].sort((a, b) => a[0] - b[0])) {
        const callId = call.id || newId("call"); // some servers send no ids; ids must be unique per thread
        yield { type: "item_done", item: toHistoryCall(callId, call.name, call.arguments, freeform) };
      }
      yield { type: "completed", usage: usage ?? emptyUsage(), responseId: undefined };
    },
  };
}

function toHistoryCall(callId: string, name: string, args: string, freeform: Set<string>): HistoryItem {
  if (freeform.has(name)) {
    try {
      const parsed = JSON.parse(args) as { input?: unknown };
      if (typeof parsed.input === "string")
        return { type: "custom_tool_call", call_id: callId, name, input: parsed.input };
    } catch {
      // Not JSON: the model sent the raw text; pass it on as it is.
    }
    return { type: "custom_tool_call", call_id: callId, name, input: args };
  }
  return { type: "function_call", call_id: callId, name, arguments: args };
}

function toChatTool(tool: ToolSpec): ChatTool {
  switch (tool.type) {
    case "function":
      return {
        type: "function",
        function: { name: tool.name, description: tool.description, parameters: tool.parameters },
      };
    case "custom":
      return {
        type: "function",
        function: {
          name: tool.name,
          description: tool.description,
          parameters: {
            type: "object",
            properties: {
              input: { type: "string", description: "The entire contents of the apply_patch command" },
            },
            required: ["input"],
            additionalProperties: false,
          },
        },
      };
    default:
      return assertNever(tool);
  }
}

function toMessages(request: ModelRequest): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: "system", content: request.instructions }];
  let pendingCalls: OpenAI.Chat.Completions.ChatCompletionMessageToolCall[] = [];
  let pendingText = "";
  const flush = () => {
    if (pendingCalls.length === 0 && pendingText === "") return;
    messages.push({
      role: "assistant",
      content: pendingText === "" ? null : pendingText,
      ...(pendingCalls.length === 0 ? {} : { tool_calls: pendingCalls }),
    });
    pendingCalls = [];
    pendingText = "";
  };
  for (const item of request.input) {
    switch (item.type) {
      case "message": {
        const text = item.content
          .map((part) => (part.type === "input_image" ? "" : part.text))
          .filter((t) => t !== "")
          .join("\n");
        if (item.role === "assistant") {
          pendingText += text;
          continue;
        }
        flush();
        const images = item.content.filter((p) => p.type === "input_image");
        if (item.role === "user" && images.length > 0) {
          messages.push({
            role: "user",
            content: [
              { type: "text", text },
              ...images.map((p) => ({ type: "image_url" as const, image_url: { url: p.image_url } })),
            ],
          });
          continue;
        }
        messages.push({ role: item.role === "user" ? "user" : "system", content: text });
        continue;
      }
      case "function_call":
        pendingCalls.push({
          id: item.call_id,
          type: "function",
          function: { name: item.name, arguments: item.arguments },
        });
        continue;
      case "custom_tool_call":
        pendingCalls.push({
          id: item.call_id,
          type: "function",
          function: { name: item.name, arguments: JSON.stringify({ input: item.input }) },
        });
        continue;
      case "function_call_output":
      case "custom_tool_call_output":
        flush();
        messages.push({ role: "tool", tool_call_id: item.call_id, content: item.output });
        continue;
      case "reasoning":
        continue;
      default:
        assertNever(item);
    }
  }
  flush();
  return messages;
}

function chatUsage(usage: OpenAI.Completions.CompletionUsage): Usage {
  return {
    inputTokens: usage.prompt_tokens,
    cachedInputTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    outputTokens: usage.completion_tokens,
    reasoningOutputTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
    totalTokens: usage.prompt_tokens + usage.completion_tokens,
  };
}
