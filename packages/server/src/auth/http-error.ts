// Every error body the API sends is `{ error: ErrorInfo }`. Client mistakes carry their KilnError's
// code and message; anything unexpected becomes a bare `internal` error — its message may hold data
// (a secret, a query) that must never reach a client.
import { type ErrorInfo, errorHttpStatus, KilnError } from "@kiln/protocol";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The JSON body of an error response. */
export type ErrorBody = { error: ErrorInfo };

/** The body for an error: a KilnError as data, anything else as a generic `internal` error. */
export function errorBody(error: unknown): ErrorBody {
  if (error instanceof KilnError) return { error: error.toInfo() };
  return {
    error: {
      code: "internal",
      message: "the server failed to handle this request; see its log",
      retryable: false,
    },
  };
}

/**
 * Sends `error` as `{ error: ErrorInfo }` with the status of its code; an error whose details hold
 * `retryAfterSeconds` (rate limits) also gets a `retry-after` header.
 */
export function errorResponse(c: Context, error: unknown, headers: Record<string, string> = {}): Response {
  const body = errorBody(error);
  const status = errorHttpStatus[body.error.code] as ContentfulStatusCode;
  const retryAfter = body.error.details?.retryAfterSeconds;
  const all = typeof retryAfter === "number" ? { "retry-after": String(retryAfter), ...headers } : headers;
  return c.json(body, status, all);
}

/** An `onError` for a top-level app: every error becomes a response (unexpected ones a bare 500). */
export function handleHttpError(error: Error, c: Context): Response {
  return errorResponse(c, error);
}

/**
 * An `onError` for route groups mounted into the server: KilnErrors become responses; anything
 * else is rethrown to the server's own handler, which logs it before answering 500.
 */
export function respondToKilnErrors(error: Error, c: Context): Response {
  if (error instanceof KilnError) return errorResponse(c, error);
  throw error;
}
