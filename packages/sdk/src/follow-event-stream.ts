// Follows an event stream of the API (a thread's or a task's: SSE, `id:` = seq, `data:` = envelope)
// across dropped connections. Sequence: connect with `?after=<last seq seen>` → yield each envelope
// whose seq is past the last one (so a replay after a reconnect never yields an event twice) → when
// the connection drops, ends, goes silent past the idle timeout, or the server reports a retryable
// error, wait (backoff with jitter) and connect again. It gives up on a 4xx other than 408/429, on an
// answer that does not match the schema, and on abort.
import { errorHttpStatus } from "@kiln/protocol";
import type { z } from "zod";
import { backoffDelay, type ReconnectOptions, sleep } from "./backoff.ts";
import { KilnApiError, KilnNetworkError } from "./errors.ts";
import { errorInfoOf, type HttpClient, parseAnswer } from "./http-client.ts";
import { readSse } from "./sse-parser.ts";

/** Options of an event stream. */
export interface EventStreamOptions {
  /** Yield events whose seq is greater than this (default 0: from the start). */
  after?: number;
  /** Ends the stream (the iterator then throws the signal's reason). */
  signal?: AbortSignal;
  reconnect?: ReconnectOptions;
}

/** The envelopes of the stream at `path`, resumed across dropped connections; endless until aborted. */
export async function* followEventStream<S extends z.ZodType<{ seq: number }>>(
  http: HttpClient,
  path: string,
  schema: S,
  options: EventStreamOptions = {},
): AsyncGenerator<z.output<S>> {
  const { signal } = options;
  const maxDelayMs = options.reconnect?.maxDelayMs ?? 10_000;
  const maxAttempts = options.reconnect?.maxAttempts ?? Number.POSITIVE_INFINITY;
  const idleTimeoutMs = options.reconnect?.idleTimeoutMs ?? 45_000;
  let initialDelayMs = options.reconnect?.initialDelayMs ?? 250;
  let last = options.after ?? 0;
  let failures = 0;
  for (;;) {
    signal?.throwIfAborted();
    const connection = new AbortController();
    const onAbort = () => connection.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const watch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        connection.abort(new KilnNetworkError(http.url(path), `no data for ${idleTimeoutMs} ms`));
      }, idleTimeoutMs);
    };
    let progressed = false;
    let failure: unknown;
    try {
      watch();
      const response = await http.send("GET", path, {
        query: { after: last },
        signal: connection.signal,
        headers: { accept: "text/event-stream" },
      });
      if (response.body === null) throw new KilnNetworkError(http.url(path), "the answer has no body");
      const items = readSse(response.body);
      for (;;) {
        const next = await readNext(items, http.url(path));
        if (next.done) break;
        const item = next.value;
        progressed = true;
        watch();
        if (item.type === "comment") continue;
        if (item.type === "retry") {
          initialDelayMs = item.ms;
          continue;
        }
        if (item.event === "error") {
          const info = errorInfoOf(500, item.data, `GET ${path}`);
          throw new KilnApiError(errorHttpStatus[info.code], info);
        }
        const envelope = parseAnswer(schema, item.data, `GET ${path} (event ${item.id || "without id"})`);
        if (envelope.seq <= last) continue;
        last = envelope.seq;
        // A consumer may take its time with an event: that is not the connection going silent.
        clearTimeout(idle);
        yield envelope;
        watch();
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!isRetryable(error)) throw error;
      failure = error;
    } finally {
      clearTimeout(idle);
      signal?.removeEventListener("abort", onAbort);
      connection.abort();
    }
    failures = progressed ? 0 : failures + 1;
    if (failures >= maxAttempts) {
      throw failure ?? new KilnNetworkError(http.url(path), `the stream ended ${failures} times in a row`);
    }
    await sleep(backoffDelay(failures, initialDelayMs, maxDelayMs), signal);
  }
}

/** The next item; a failure to read the body (the connection broke) is a KilnNetworkError. */
async function readNext<T>(items: AsyncGenerator<T>, url: string): Promise<IteratorResult<T>> {
  try {
    return await items.next();
  } catch (error) {
    if (error instanceof KilnNetworkError) throw error;
    throw new KilnNetworkError(url, error);
  }
}

/** Whether reconnecting may help: a broken connection, a 5xx, a 408 or a 429. */
function isRetryable(error: unknown): boolean {
  if (error instanceof KilnNetworkError) return true;
  if (error instanceof KilnApiError)
    return error.status >= 500 || error.status === 408 || error.status === 429;
  return false;
}
