// Follows a thread's events live and folds them: the SDK's stream resumes after a dropped connection
// with the last seq it saw, and the fold skips any seq already folded, so every event shows once.
// Events are folded in batches (a frame's worth of deltas re-renders once).
import type { EventEnvelope } from "@kiln/protocol";
import type { KilnClient } from "@kiln/sdk";
import { useCallback, useEffect, useRef, useState } from "react";
import { errorMessage } from "../lib/format.ts";
import { applyEvents, EMPTY_TIMELINE, type TimelineState } from "./fold-events.ts";

/** Where the stream is. */
export type StreamStatus = "idle" | "connecting" | "live" | "failed";

/** What {@link useThreadEvents} gives. */
export interface ThreadEvents {
  timeline: TimelineState;
  status: StreamStatus;
  /** Why the stream stopped (status `failed`). */
  error: string | undefined;
  /** Connects again after a failure, from the last event folded. */
  retry: () => void;
}

/** How long events are gathered before one fold and render, in ms. */
const BATCH_MS = 50;

/** The live, folded events of `threadId` (nothing while it is undefined or `enabled` is false). */
export function useThreadEvents(
  client: KilnClient,
  threadId: string | undefined,
  options: { enabled?: boolean } = {},
): ThreadEvents {
  const enabled = options.enabled ?? true;
  const [timeline, setTimeline] = useState<TimelineState>(EMPTY_TIMELINE);
  const [status, setStatus] = useState<StreamStatus>("idle");
  const [error, setError] = useState<string | undefined>();
  const [round, setRound] = useState(0);
  const lastSeq = useRef(0);
  const shownThread = useRef<string | undefined>(undefined);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `round` is retry()'s trigger
  useEffect(() => {
    if (shownThread.current !== threadId) {
      shownThread.current = threadId;
      lastSeq.current = 0;
      setTimeline(EMPTY_TIMELINE);
    }
    if (threadId === undefined || !enabled) {
      setStatus("idle");
      return;
    }
    const abort = new AbortController();
    let buffer: EventEnvelope[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      const batch = buffer;
      buffer = [];
      setTimeline((current) => applyEvents(current, batch));
    };
    setStatus("connecting");
    setError(undefined);
    void (async () => {
      try {
        const stream = client.threads.events(threadId, { after: lastSeq.current, signal: abort.signal });
        for await (const envelope of stream) {
          if (buffer.length === 0 && timer === undefined) setStatus("live");
          lastSeq.current = Math.max(lastSeq.current, envelope.seq);
          buffer.push(envelope);
          timer ??= setTimeout(flush, BATCH_MS);
        }
      } catch (e) {
        if (abort.signal.aborted) return;
        flush();
        setStatus("failed");
        setError(errorMessage(e));
      }
    })();
    return () => {
      abort.abort();
      if (timer !== undefined) clearTimeout(timer);
      if (buffer.length > 0) flush();
    };
  }, [client, threadId, enabled, round]);

  const retry = useCallback(() => setRound((r) => r + 1), []);
  return { timeline, status, error, retry };
}
