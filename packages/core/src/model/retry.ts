// Bounded retries of a model call: 429, 5xx and broken streams are tried again with exponential backoff
// (or the server's `retry-after`), and each retry is announced so the user sees "Reconnecting… n/5".
import { type ErrorInfo, KilnError } from "@kiln/protocol";
import type { ModelClient, ModelRequest, ModelStreamEvent } from "./model-client.ts";

/** A retry about to happen: everything the failed attempt yielded is void. */
export interface RetryNotice {
  type: "retrying";
  attempt: number;
  maxAttempts: number;
  delayMs: number;
  error: ErrorInfo;
}

/** Retry settings. */
export interface RetryOptions {
  maxRetries: number;
  baseDelayMs: number;
  /** Upper bound of one wait (a longer `retry-after` fails the call instead of stalling the turn). */
  maxDelayMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Streams a model call, retrying transient failures. Yields `retrying` notices between attempts. */
export async function* streamWithRetry(
  client: ModelClient,
  request: ModelRequest,
  signal: AbortSignal,
  options: RetryOptions,
): AsyncIterable<ModelStreamEvent | RetryNotice> {
  const sleep = options.sleep ?? abortableSleep;
  const maxDelay = options.maxDelayMs ?? 120_000;
  for (let attempt = 0; ; attempt++) {
    try {
      for await (const event of client.stream(request, signal)) yield event;
      return;
    } catch (error) {
      if (
        !(error instanceof KilnError) ||
        !error.retryable ||
        attempt >= options.maxRetries ||
        signal.aborted
      ) {
        throw error;
      }
      const hinted = typeof error.details?.retryAfterMs === "number" ? error.details.retryAfterMs : undefined;
      const backoff = options.baseDelayMs * 2 ** attempt * (0.9 + Math.random() * 0.2);
      const delayMs = Math.round(hinted ?? backoff);
      if (delayMs > maxDelay) throw error;
      yield {
        type: "retrying",
        attempt: attempt + 1,
        maxAttempts: options.maxRetries,
        delayMs,
        error: error.toInfo(),
      };
      await sleep(delayMs, signal);
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new KilnError("turn_interrupted", "the turn was interrupted"));
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new KilnError("turn_interrupted", "the turn was interrupted"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
