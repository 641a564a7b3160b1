/**
 * Error bodies shaped like Anthropic's (`{"type":"error","error":{"type","message"},"request_id"}`), with
 * the error type the real Messages API uses for each status, so clients exercise their real error mapping.
 */
export function anthropicErrorBody(status: number, message?: string, requestId?: string): unknown {
  const known = KNOWN[status];
  return {
    type: "error",
    error: {
      type: known?.type ?? (status >= 500 ? "api_error" : "invalid_request_error"),
      message: message ?? known?.message ?? `fake model server: HTTP ${status}`,
    },
    request_id: requestId ?? null,
  };
}

/** The `error.type` Anthropic sends for an overloaded model mid-stream (and with HTTP 529). */
export const OVERLOADED_ERROR_TYPE = "overloaded_error";

const KNOWN: Record<number, { type: string; message: string }> = {
  400: { type: "invalid_request_error", message: "Invalid request." },
  401: { type: "authentication_error", message: "invalid x-api-key" },
  402: { type: "billing_error", message: "Your credit balance is too low to access the Anthropic API." },
  403: { type: "permission_error", message: "Your API key does not have permission to use this model." },
  404: { type: "not_found_error", message: "model: not found" },
  413: { type: "request_too_large", message: "Request exceeds the maximum allowed number of bytes." },
  429: {
    type: "rate_limit_error",
    message: "This request would exceed the rate limit for your organization. Please try again later.",
  },
  500: { type: "api_error", message: "Internal server error" },
  504: { type: "timeout_error", message: "Request timed out" },
  529: { type: OVERLOADED_ERROR_TYPE, message: "Overloaded" },
};
