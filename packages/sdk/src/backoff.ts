// Waiting between reconnects: exponential backoff with jitter (so that many clients dropped at once by
// a restarting server do not all come back in the same millisecond), and a sleep an AbortSignal ends.

/** How a stream reconnects after it dropped. */
export interface ReconnectOptions {
  /** The first wait, in ms (default 250; a server's `retry:` replaces it). */
  initialDelayMs?: number;
  /** The longest wait, in ms (default 10 000). */
  maxDelayMs?: number;
  /** Consecutive failed connects before giving up (default: never give up on a retryable failure). */
  maxAttempts?: number;
  /**
   * How long a connection may stay silent (no event, no keep-alive) before it counts as dropped, in ms
   * (default 45 000: three of the server's 15 s keep-alives). Catches connections that died silently.
   */
  idleTimeoutMs?: number;
}

/** The wait before reconnect number `attempt` (0-based): half fixed, half random ("equal jitter"). */
export function backoffDelay(attempt: number, initialDelayMs: number, maxDelayMs: number): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
