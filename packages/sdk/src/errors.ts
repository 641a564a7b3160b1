// The SDK's errors. Every one is a KilnError (so `error.code` works the same as inside Kiln); each says
// what happened and what to do, and keeps the HTTP detail a program needs (status, request id).
import { type ErrorCode, type ErrorInfo, KilnError } from "@kiln/protocol";

/** The server answered a request with an error (`{ error: ErrorInfo }`, HTTP 4xx/5xx). */
export class KilnApiError extends KilnError {
  /** The HTTP status (for an error sent inside an event stream: the status its code maps to). */
  readonly status: number;
  /** The error as the server sent it. */
  readonly info: ErrorInfo;
  /** The server's `x-request-id`, to find the request in its log. */
  readonly requestId: string | undefined;

  constructor(status: number, info: ErrorInfo, requestId?: string) {
    super(info.code, info.message, {
      retryable: info.retryable,
      ...(info.details === undefined ? {} : { details: info.details }),
    });
    this.name = "KilnApiError";
    this.status = status;
    this.info = info;
    this.requestId = requestId;
  }
}

/** The server could not be reached, or the connection broke before an answer arrived. */
export class KilnNetworkError extends KilnError {
  /** The URL that was being requested. */
  readonly url: string;

  constructor(url: string, cause: unknown) {
    super(
      "internal",
      `could not reach the Kiln server at ${url}: ${describeCause(cause)}; check the URL and that the server is running`,
      {
        cause,
        retryable: true,
        details: { url },
      },
    );
    this.name = "KilnNetworkError";
    this.url = url;
  }
}

/** The server answered with a body that does not match the API's schema (a version mismatch?). */
export class KilnResponseError extends KilnError {
  constructor(what: string, problems: string[], cause?: unknown) {
    super(
      "internal",
      `the server's answer to ${what} does not match the API: ${problems.join("; ")}. Is the server the same version as the SDK?`,
      { details: { request: what, problems }, ...(cause === undefined ? {} : { cause }) },
    );
    this.name = "KilnResponseError";
  }
}

/** Tokens are missing, or the server refused the refresh token: the user has to log in again. */
export class KilnLoginRequiredError extends KilnError {
  constructor(reason: string, cause?: unknown) {
    super("unauthorized", `${reason}: log in again (TokenManager.login, or \`kiln login\`)`, {
      ...(cause === undefined ? {} : { cause }),
    });
    this.name = "KilnLoginRequiredError";
  }
}

/** The ErrorCode for an HTTP status, for error bodies that are not Kiln's (a proxy's 502 page). */
export function codeOfStatus(status: number): ErrorCode {
  if (status === 400) return "invalid_request";
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 413) return "payload_too_large";
  if (status === 429) return "rate_limited";
  if (status === 504 || status === 408) return "timeout";
  return "internal";
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  // undici reports "fetch failed" and puts the reason (ECONNREFUSED …) in `cause`.
  const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : "";
  return `${cause.message}${inner}`;
}
