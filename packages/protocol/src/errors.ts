import { z } from "zod";

/** Every error Kiln reports has one of these codes. */
export const ErrorCode = z.enum([
  "invalid_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "rate_limited",
  "payload_too_large",
  "config_invalid",
  "sandbox_unavailable",
  "sandbox_denied",
  "path_escape",
  "patch_invalid",
  "tool_error",
  "model_error",
  "model_rate_limited",
  "model_unavailable",
  "model_stream_disconnected",
  "context_window_exceeded",
  "turn_interrupted",
  "budget_exceeded",
  "rollout_corrupt",
  "environment_failed",
  "publish_failed",
  "timeout",
  "internal",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** An error as data: what every API, event and CLI message carries. */
export const ErrorInfo = z.object({
  /** Machine-readable code. */
  code: ErrorCode,
  /** One or two sentences for a person: what happened and what to do. */
  message: z.string(),
  /** Whether the same request may succeed if tried again later. */
  retryable: z.boolean(),
  /** Extra structured context (field paths, limits, ids). */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfo>;

/** HTTP status for every error code (exhaustive by construction). */
export const errorHttpStatus: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  payload_too_large: 413,
  config_invalid: 400,
  sandbox_unavailable: 503,
  sandbox_denied: 403,
  path_escape: 400,
  patch_invalid: 400,
  tool_error: 500,
  model_error: 502,
  model_rate_limited: 429,
  model_unavailable: 503,
  model_stream_disconnected: 502,
  context_window_exceeded: 400,
  turn_interrupted: 409,
  budget_exceeded: 402,
  rollout_corrupt: 500,
  environment_failed: 422,
  publish_failed: 502,
  timeout: 504,
  internal: 500,
};

const retryableCodes: ReadonlySet<ErrorCode> = new Set([
  "rate_limited",
  "model_rate_limited",
  "model_unavailable",
  "model_stream_disconnected",
  "sandbox_unavailable",
]);

/** The error every Kiln module throws: a code, a message for a person, and optional details. */
export class KilnError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { details?: Record<string, unknown>; cause?: unknown; retryable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KilnError";
    this.code = code;
    this.details = options?.details;
    this.retryable = options?.retryable ?? retryableCodes.has(code);
  }

  /** The error as data. */
  toInfo(): ErrorInfo {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** Converts anything thrown into an ErrorInfo (unknown errors become `internal`). */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof KilnError) return error.toInfo();
  const message = error instanceof Error ? error.message : String(error);
  return { code: "internal", message, retryable: false };
}

/** Compile-time exhaustiveness check for `switch` statements. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
