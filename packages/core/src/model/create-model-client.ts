import { assertNever, KilnError } from "@kiln/protocol";
import type { ResolvedConfig } from "../config/load-config.ts";
import { createChatClient } from "./chat-client.ts";
import type { ModelClient, ModelRequest, ModelStreamEvent } from "./model-client.ts";
import { createResponsesClient, type ProviderConnection } from "./responses-client.ts";

/** The model client for the configured provider; a missing API key is a clear error up front. */
export function createModelClient(config: ResolvedConfig): ModelClient {
  const provider = config.modelProvider;
  if (config.apiKeyEnv !== undefined && config.apiKey === undefined) {
    throw new KilnError(
      "config_invalid",
      `${config.apiKeyEnv} is not set: export ${config.apiKeyEnv}=<your key> for model provider "${config.modelProviderId}"${config.modelProviderId === "openai" ? " (CODEX_API_KEY works too)" : ""}`,
    );
  }
  const connection = {
    baseUrl: provider.base_url,
    apiKey: config.apiKey,
    headers: provider.http_headers,
    idleTimeoutMs: provider.stream_idle_timeout_ms,
  };
  switch (provider.wire_api) {
    case "responses":
      return createResponsesClient(connection);
    case "chat":
      return createChatClient(connection);
    case "anthropic":
      return lazyAnthropicClient(connection);
    default:
      return assertNever(provider.wire_api);
  }
}

/** The Anthropic SDK is loaded on the first call: OpenAI-wire users never pay for it at start-up. */
function lazyAnthropicClient(connection: ProviderConnection): ModelClient {
  let client: Promise<ModelClient> | undefined;
  return {
    wire: "anthropic",
    async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelStreamEvent> {
      client ??= import("./anthropic-client.ts").then((m) => m.createAnthropicClient(connection));
      yield* (await client).stream(request, signal);
    },
  };
}
