// Errors of the Anthropic wire as coded KilnErrors, matching what the OpenAI clients report: HTTP statuses
// (429 → model_rate_limited with retry-after, 5xx/529 → model_unavailable, other 4xx → model_error, not
// retried) and `error` events mid-stream (which the SDK throws as an APIError without a status).
import { APIConnectionError, APIError, APIUserAbortError } from "@anthropic-ai/sdk";
import { KilnError } from "@kiln/protocol";
import { retryAfter, toModelError } from "./model-errors.ts";

/** Converts an error from `@anthropic-ai/sdk` (or the network) into a coded KilnError. */
export function toAnthropicError(error: unknown, signal: AbortSignal): KilnError {
  if (error instanceof KilnError) return error;
  if (signal.aborted || error instanceof APIUserAbortError) {
    return new KilnError("turn_interrupted", "the turn was interrupted", { cause: error });
  }
  if (error instanceof APIConnectionError) {
    return new KilnError("model_stream_disconnected", `cannot reach the model server: ${error.message}`, {
      cause: error,
    });
  }
  if (error instanceof APIError) {
    return error.status === undefined ? streamError(error) : httpError(error, error.status);
  }
  return toModelError(error, signal);
}

const PROMPT_TOO_LONG = /prompt is too long|context (window|length)|too many tokens/i;

function httpError(error: APIError, status: number): KilnError {
  const retryAfterMs = retryAfter(error.headers);
  const details = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  const text = apiText(error);
  const options = { details, cause: error };
  if (status === 429) {
    return new KilnError("model_rate_limited", `the model provider is rate limiting: ${text}`, options);
  }
  if (status === 408 || status === 409 || status >= 500) {
    return new KilnError("model_unavailable", `the model provider failed (HTTP ${status}): ${text}`, options);
  }
  if (status === 401 || status === 403) {
    return new KilnError(
      "model_error",
      `the model provider refused the API key (HTTP ${status}): ${text}. Check the key in the provider's env_key variable`,
      { ...options, retryable: false },
    );
  }
  if (status === 413 || (status === 400 && PROMPT_TOO_LONG.test(text))) {
    return new KilnError(
      "context_window_exceeded",
      `the conversation is too long for the model: ${text}`,
      options,
    );
  }
  return new KilnError("model_error", `the model provider rejected the request (HTTP ${status}): ${text}`, {
    ...options,
    retryable: false,
  });
}

/** An `error` event in the middle of a stream (the SDK throws it as an APIError without a status). */
function streamError(error: APIError): KilnError {
  const type = error.type ?? "unknown";
  const text = apiText(error);
  const options = { details: { errorType: type }, cause: error };
  switch (type) {
    case "rate_limit_error":
      return new KilnError("model_rate_limited", `the model provider is rate limiting: ${text}`, options);
    case "invalid_request_error":
      if (PROMPT_TOO_LONG.test(text)) {
        return new KilnError(
          "context_window_exceeded",
          `the conversation is too long for the model: ${text}`,
          options,
        );
      }
      return new KilnError("model_error", `the model stream reported an error: ${text}`, {
        ...options,
        retryable: false,
      });
    case "authentication_error":
    case "permission_error":
    case "not_found_error":
    case "billing_error":
      return new KilnError("model_error", `the model stream reported an error: ${text}`, {
        ...options,
        retryable: false,
      });
    default:
      // overloaded_error, api_error, timeout_error and whatever else may pass if tried again.
      return new KilnError(
        "model_unavailable",
        `the model provider failed mid-stream (${type}): ${text}`,
        options,
      );
  }
}

function apiText(error: APIError): string {
  if (typeof error.apiMessage === "string" && error.apiMessage !== "") return error.apiMessage;
  const body = error.error as { error?: { message?: unknown } } | undefined;
  return typeof body?.error?.message === "string" ? body.error.message : error.message;
}
