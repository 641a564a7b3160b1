// Follows one thread as an async iterable, for a consumer that pulls: the backlog after `after` from
// the store, then live events from the hub, in seq order, with no gap and no duplicate. It is the
// ThreadFollower (thread-follower.ts) with a queue in front: the follower delivers into the queue and
// is told it is behind until the consumer has taken everything, so past that it holds live events
// (bounded by `maxBuffer`); past the bound, `refetch` re-reads the store and `resync` ends the follow
// with a resync item. A slow consumer never makes the publisher (the turn) wait.
import type { EventEnvelope } from "@kiln/protocol";
import type { KilnStore, ThreadScope } from "@kiln/store";
import type { EventHub } from "./event-hub.ts";
import { type FollowEnd, ThreadFollower } from "./thread-follower.ts";

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

/** The thread's events after `after`, then its live events, until `signal` (or the hub) ends it. */
export async function* followThread(o: FollowOptions): AsyncGenerator<FollowItem> {
  let queue: EventEnvelope[] = [];
  let ended: FollowEnd | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const follower = new ThreadFollower({
    store: o.store,
    hub: o.hub,
    scope: o.scope,
    after: o.after,
    maxBuffer: o.maxBuffer,
    onOverflow: o.onOverflow,
    sink: {
      deliver(envelopes) {
        for (const envelope of envelopes) queue.push(envelope);
        notify();
        return false;
      },
      end(reason) {
        ended = reason;
        notify();
      },
    },
  });
  o.signal.addEventListener("abort", notify);
  follower.start();
  try {
    while (!o.signal.aborted) {
      if (queue.length > 0) {
        const taken = queue;
        queue = [];
        for (const envelope of taken) {
          if (o.signal.aborted) return;
          yield { type: "event", envelope };
        }
        continue;
      }
      if (ended !== undefined) {
        if (ended.type === "resync") yield { type: "resync", after: ended.after };
        if (ended.type === "failed") throw ended.error;
        return;
      }
      follower.resume();
      if (queue.length > 0 || ended !== undefined) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    follower.stop();
    o.signal.removeEventListener("abort", notify);
  }
}
