// Feeds this process's hub with events another process stored (a worker of a durable engine): told
// that a thread has new events (`notify`, from PostgreSQL NOTIFY or a poll), the relay reads the
// thread's events after the last seq it published and publishes them as one batch, so that SSE,
// WebSocket and task followers work as they do on a single node. Reads are serialized per thread and
// happen only while someone follows the thread; otherwise the relay only remembers the seq.
// Followers tolerate overlaps and gaps (thread-follower.ts re-reads the store on a gap), so a lost
// notification delays events until the next one, never loses them.
import type { KilnStore } from "@kiln/store";
import type { EventHub } from "./event-hub.ts";

/** A live event source of this process (closed at shutdown). */
export interface LiveEventSource {
  close(): Promise<void>;
}

/** Makes a live event source that publishes into `hub` (see `ServerDeps.liveEvents`). */
export type LiveEventSourceFactory = (hub: EventHub) => Promise<LiveEventSource>;

/** What a relay is told. */
export interface StoreRelay {
  /**
   * The thread has events up to `lastSeq` (absent: unknown), starting at `firstSeq` when known.
   * Resolves once they are published (or skipped: nobody follows the thread).
   */
  notify(change: { userId: string; threadId: string; firstSeq?: number; lastSeq?: number }): Promise<void>;
}

const PAGE = 1000;

/** A relay from `store` into `hub`. */
export function createStoreRelay(store: KilnStore, hub: EventHub): StoreRelay {
  const published = new Map<string, number>();
  const chains = new Map<string, Promise<void>>();

  const pull = async (userId: string, threadId: string): Promise<void> => {
    for (;;) {
      const after = published.get(threadId) ?? 0;
      const page = await store.events.listAfter({ userId, threadId }, after, PAGE);
      if (page === undefined || page.length === 0) return;
      const last = page[page.length - 1]?.seq ?? after;
      published.set(threadId, last);
      hub.publishBatch(page);
      if (page.length < PAGE) return;
    }
  };

  return {
    notify({ userId, threadId, firstSeq, lastSeq }) {
      if (!published.has(threadId) && firstSeq !== undefined) published.set(threadId, firstSeq - 1);
      if (!hub.hasSubscribers(threadId)) {
        if (lastSeq !== undefined) published.set(threadId, Math.max(published.get(threadId) ?? 0, lastSeq));
        return chains.get(threadId) ?? Promise.resolve();
      }
      if (lastSeq !== undefined && (published.get(threadId) ?? 0) >= lastSeq) {
        return chains.get(threadId) ?? Promise.resolve();
      }
      const next = (chains.get(threadId) ?? Promise.resolve()).then(() => pull(userId, threadId));
      const settled = next.catch(() => undefined);
      chains.set(threadId, settled);
      void settled.then(() => {
        if (chains.get(threadId) === settled) chains.delete(threadId);
      });
      return next;
    },
  };
}
