// The in-process fan-out of thread events: the executor publishes the envelopes it committed together
// (one batch, in seq order) once they are in the store (so a subscriber that reads the store's backlog
// and then the hub misses nothing), and every subscriber of that thread gets the batch synchronously,
// as the same array object (fan-out consumers format it once for all: sse-frames.ts). A subscriber
// buffers on its own: publishing never waits for a client.
import type { EventEnvelope } from "@kiln/protocol";

/** Receives a thread's envelopes one at a time, in seq order. Must not throw or block. */
export type EventListener = (envelope: EventEnvelope) => void;

/**
 * Receives a thread's envelopes a batch at a time: consecutive seqs, every batch after the previous
 * one. The array is shared by every subscriber: read it, never change it. Must not throw or block.
 */
export type BatchListener = (batch: readonly EventEnvelope[]) => void;

interface Subscription {
  listener: BatchListener;
  onClose: (() => void) | undefined;
}

/** Live events of every thread of this process. */
export class EventHub {
  private readonly listeners = new Map<string, Set<Subscription>>();
  private readonly closed = new AbortController();

  /** Aborted when the hub closes (server shutdown): followers end their streams. */
  get signal(): AbortSignal {
    return this.closed.signal;
  }

  /** Listens to one thread's events; returns the function that stops listening. */
  subscribe(threadId: string, listener: EventListener): () => void {
    return this.subscribeBatches(threadId, (batch) => {
      for (const envelope of batch) listener(envelope);
    });
  }

  /**
   * Listens to one thread's batches of events; returns the function that stops listening. `onClose`
   * runs when the hub closes (instead of one `signal` listener per subscriber: there may be
   * thousands).
   */
  subscribeBatches(threadId: string, listener: BatchListener, onClose?: () => void): () => void {
    let set = this.listeners.get(threadId);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(threadId, set);
    }
    const subscription: Subscription = { listener, onClose };
    set.add(subscription);
    return () => {
      const current = this.listeners.get(threadId);
      if (current === undefined) return;
      current.delete(subscription);
      if (current.size === 0) this.listeners.delete(threadId);
    };
  }

  /** Sends an envelope (already stored) to the thread's subscribers. */
  publish(envelope: EventEnvelope): void {
    this.publishBatch([envelope]);
  }

  /**
   * Sends envelopes stored together to their thread's subscribers, as one batch: all of one thread,
   * consecutive seqs, in order.
   */
  publishBatch(batch: readonly EventEnvelope[]): void {
    const first = batch[0];
    if (first === undefined) return;
    const set = this.listeners.get(first.threadId);
    if (set === undefined) return;
    // A copy: a listener may unsubscribe itself (or another) while we go through them.
    for (const subscription of [...set]) subscription.listener(batch);
  }

  /** Whether anyone follows the thread (a live source reads the store only for followed threads). */
  hasSubscribers(threadId: string): boolean {
    return this.listeners.has(threadId);
  }

  /** The threads someone follows now. */
  subscribedThreads(): string[] {
    return [...this.listeners.keys()];
  }

  /** How many subscriptions are open (for metrics). */
  subscriberCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /** Ends every follower. */
  close(): void {
    if (this.closed.signal.aborted) return;
    this.closed.abort();
    for (const set of [...this.listeners.values()])
      for (const subscription of [...set]) subscription.onClose?.();
  }
}
