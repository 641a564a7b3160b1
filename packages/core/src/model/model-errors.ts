import { KilnError } from "@kiln/protocol";
import { APIConnectionError, APIError, APIUserAbortError } from "openai";

/** Converts an error from the `openai` package (or the network) into a coded KilnError. */
export function toModelError(error: unknown, signal: AbortSignal): KilnError {
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
    const status = error.status ?? 0;
    const retryAfterMs = retryAfter(error.headers);
    const details = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    const text = apiErrorText(error);
    if (status === 429) {
      return new KilnError("model_rate_limited", `the model provider is rate limiting: ${text}`, {
        details,
        cause: error,
      });
    }
    if (status === 408 || status === 409 || status >= 500) {
      return new KilnError("model_unavailable", `the model provider failed (HTTP ${status}): ${text}`, {
        details,
        cause: error,
      });
    }
    if (status === 401 || status === 403) {
      return new KilnError(
        "model_error",
        `the model provider refused the API key (HTTP ${status}): ${text}. Check the key in the provider's env_key variable`,
        { details, cause: error, retryable: false },
      );
    }
    return new KilnError("model_error", `the model provider rejected the request (HTTP ${status}): ${text}`, {
      details,
      cause: error,
      retryable: false,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && /terminated|socket|ECONNRESET|premature close|aborted/i.test(message)) {
    return new KilnError("model_stream_disconnected", `the model stream broke off: ${message}`, {
      cause: error,
    });
  }
  return new KilnError("model_error", `model call failed: ${message}`, { cause: error, retryable: false });
}

function apiErrorText(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  if (body !== undefined && typeof body.message === "string") return body.message;
  return error.message;
}

/** `retry-after-ms` or `retry-after` (seconds or an HTTP date), in ms. */
export function retryAfter(headers: Headers | undefined): number | undefined {
  if (headers === undefined) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && Number.isFinite(Number(ms))) return Number(ms);
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
