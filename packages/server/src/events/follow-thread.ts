// Follows one thread: the backlog after `after` from the store, then live events from the hub, in seq
// order, with no gap and no duplicate. The hub listener is registered before the store is read, and
// every live event whose seq the backlog already covered is skipped; a gap (or a live buffer that
// overflowed) sends the follower back to the store. The live buffer is bounded: a slow consumer never
// makes the publisher (the turn) wait. Past the bound, `refetch` re-reads the store (SSE), `resync`
// ends the follow with a resync item so that the client subscribes again (WebSocket).
import type { EventEnvelope } from "@kiln/protocol";
import type { KilnStore, ThreadScope } from "@kiln/store";
import type { EventHub } from "./event-hub.ts";

/** What a follower yields. */
export type FollowItem = { type: "event"; envelope: EventEnvelope } | { type: "resync"; after: number };

/** Options of {@link followThread}. */
export interface FollowOptions {
  store: KilnStore;
  hub: EventHub;
  scope: ThreadScope;
  /** Yield events with seq > after. */
  after: number;
  signal: AbortSignal;
  /** Live events held for a slow consumer before it overflows. */
  maxBuffer: number;
  onOverflow: "refetch" | "resync";
}

const PAGE = 500;

/** The thread's events after `after`, then its live events, until `signal` (or the hub) ends it. */
export async function* followThread(o: FollowOptions): AsyncGenerator<FollowItem> {
  let buffer: EventEnvelope[] = [];
  let overflowed = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const unsubscribe = o.hub.subscribe(o.scope.threadId, (envelope) => {
    if (buffer.length >= o.maxBuffer) {
      buffer = [];
      overflowed = true;
    } else buffer.push(envelope);
    notify();
  });
  const stopped = () => o.signal.aborted || o.hub.signal.aborted;
  o.signal.addEventListener("abort", notify);
  o.hub.signal.addEventListener("abort", notify);
  let last = o.after;
  try {
    while (!stopped()) {
      overflowed = false;
      for (;;) {
        const page = await o.store.events.listAfter(o.scope, last, PAGE);
        if (page === undefined) return;
        for (const envelope of page) {
          if (stopped()) return;
          yield { type: "event", envelope };
          last = envelope.seq;
        }
        if (page.length < PAGE) break;
      }
      while (!stopped() && !overflowed) {
        const envelope = buffer.shift();
        if (envelope === undefined) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          continue;
        }
        if (envelope.seq <= last) continue;
        if (envelope.seq !== last + 1) break;
        yield { type: "event", envelope };
        last = envelope.seq;
      }
      if (overflowed && o.onOverflow === "resync") {
        yield { type: "resync", after: last };
        return;
      }
    }
  } finally {
    unsubscribe();
    o.signal.removeEventListener("abort", notify);
    o.hub.signal.removeEventListener("abort", notify);
  }
}
