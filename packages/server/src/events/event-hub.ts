// The in-process fan-out of thread events: the executor publishes each envelope once it is in the
// store (so a subscriber that reads the store's backlog and then the hub misses nothing), and every
// subscriber of that thread gets it synchronously. A subscriber buffers on its own: publishing never
// waits for a client.
import type { EventEnvelope } from "@kiln/protocol";

/** Receives a thread's envelopes, in seq order. Must not throw or block. */
export type EventListener = (envelope: EventEnvelope) => void;

/** Live events of every thread of this process. */
export class EventHub {
  private readonly listeners = new Map<string, Set<EventListener>>();
  private readonly closed = new AbortController();

  /** Aborted when the hub closes (server shutdown): followers end their streams. */
  get signal(): AbortSignal {
    return this.closed.signal;
  }

  /** Listens to one thread's events; returns the function that stops listening. */
  subscribe(threadId: string, listener: EventListener): () => void {
    let set = this.listeners.get(threadId);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(threadId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(threadId);
      if (current === undefined) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(threadId);
    };
  }

  /** Sends an envelope (already stored) to the thread's subscribers. */
  publish(envelope: EventEnvelope): void {
    const set = this.listeners.get(envelope.threadId);
    if (set === undefined) return;
    for (const listener of [...set]) listener(envelope);
  }

  /** How many subscriptions are open (for metrics). */
  subscriberCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /** Ends every follower. */
  close(): void {
    this.closed.abort();
  }
}
