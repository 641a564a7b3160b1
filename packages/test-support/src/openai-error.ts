/**
 * Error bodies shaped like OpenAI's (`{"error":{"message","type","param","code"}}`), with the message
 * and type the real API uses for common statuses, so clients exercise their real error mapping.
 */
export function openAiErrorBody(status: number, message?: string, code?: string | null): unknown {
  const known = KNOWN[status];
  return {
    error: {
      message: message ?? known?.message ?? `fake model server: HTTP ${status}`,
      type: known?.type ?? (status >= 500 ? "server_error" : "invalid_request_error"),
      param: null,
      code: code === undefined ? (known?.code ?? null) : code,
    },
  };
}

const KNOWN: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: "Invalid request.", type: "invalid_request_error", code: null },
  401: { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" },
  403: {
    message: "You are not allowed to sample from this model.",
    type: "invalid_request_error",
    code: null,
  },
  404: {
    message: "The model does not exist or you do not have access to it.",
    type: "invalid_request_error",
    code: "model_not_found",
  },
  429: {
    message: "Rate limit reached for requests. Please try again later.",
    type: "requests",
    code: "rate_limit_exceeded",
  },
  500: {
    message: "The server had an error while processing your request. Sorry about that!",
    type: "server_error",
    code: null,
  },
  502: { message: "Bad gateway.", type: "server_error", code: null },
  503: {
    message: "The engine is currently overloaded, please try again later.",
    type: "server_error",
    code: null,
  },
};
