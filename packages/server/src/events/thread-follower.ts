// Follows one thread for a push consumer (a socket): the store's backlog after `after`, then the hub's
// live batches, in seq order, with no gap and no duplicate. Sequence: subscribe to the hub, then read
// the store (so an event is either in what the read returns or published after it started); live
// batches that come while the store is read, or while the consumer is behind, are held and then sent
// (those the backlog covered are skipped). A caught-up consumer gets each hub batch as it is published,
// synchronously, as the hub's own array (so its bytes can be encoded once for every subscriber).
// Holding is bounded: past `maxBuffer` held events the follower drops them and, when the consumer can
// take more, either re-reads the store from its last seq (`refetch`) or ends with a resync (`resync`).
// A slow consumer therefore never makes the publisher (the turn) wait.
import type { EventEnvelope } from "@kiln/protocol";
import type { KilnStore, ThreadScope } from "@kiln/store";
import type { EventHub } from "./event-hub.ts";

/** Why a follow ended without `stop()`. */
export type FollowEnd =
  /** The hub closed (server shutdown) or the thread is gone. */
  | { type: "closed" }
  /** The consumer fell more than `maxBuffer` events behind (`onOverflow: "resync"`); it had `after`. */
  | { type: "resync"; after: number }
  /** Reading the store failed. */
  | { type: "failed"; error: unknown };

/** Where a follower sends. */
export interface FollowerSink {
  /**
   * Takes envelopes with consecutive seqs that continue the previous ones. `shared`: the array is the
   * hub's batch, the same object for every subscriber. Returns false when the consumer is behind: the
   * follower then holds everything until `resume()`.
   */
  deliver(envelopes: readonly EventEnvelope[], shared: boolean): boolean;
  /** The follow ended (see FollowEnd); nothing is delivered after it. */
  end(reason: FollowEnd): void;
}

/** Options of a ThreadFollower. */
export interface ThreadFollowerOptions {
  store: KilnStore;
  hub: EventHub;
  scope: ThreadScope;
  /** Deliver events with seq > after. */
  after: number;
  /** Live events held for a consumer that is behind (or while the store is read) before overflowing. */
  maxBuffer: number;
  onOverflow: "refetch" | "resync";
  sink: FollowerSink;
}

const PAGE = 500;

/** One consumer's follow of one thread: `start()`, then `resume()` whenever the sink drained. */
export class ThreadFollower {
  private last: number;
  private held: EventEnvelope[] = [];
  private reading = false;
  private blocked = false;
  private overflowed = false;
  private stopped = false;
  private unsubscribe: () => void = () => undefined;
  private wakeReader: (() => void) | undefined;

  constructor(private readonly o: ThreadFollowerOptions) {
    this.last = o.after;
  }

  /** Subscribes to the hub and starts sending the backlog. */
  start(): void {
    if (this.stopped) return;
    if (this.o.hub.signal.aborted) {
      this.finish({ type: "closed" });
      return;
    }
    this.unsubscribe = this.o.hub.subscribeBatches(
      this.o.scope.threadId,
      (batch) => this.onBatch(batch),
      () => this.finish({ type: "closed" }),
    );
    void this.read();
  }

  /** The sink can take more again: sends what was held. */
  resume(): void {
    if (!this.blocked || this.stopped) return;
    this.blocked = false;
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    if (wake !== undefined) wake();
    else this.pump();
  }

  /** Ends the follow (the consumer went away); the sink hears nothing more. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.held = [];
    this.unsubscribe();
    this.wakeReader?.();
  }

  private finish(reason: FollowEnd): void {
    if (this.stopped) return;
    this.stop();
    this.o.sink.end(reason);
  }

  private onBatch(batch: readonly EventEnvelope[]): void {
    if (this.stopped) return;
    if (this.reading || this.blocked) {
      this.hold(batch);
      return;
    }
    const first = batch[0]?.seq ?? 0;
    const lastSeq = batch[batch.length - 1]?.seq ?? 0;
    if (lastSeq <= this.last) return;
    if (first === this.last + 1) this.deliver(batch, true);
    else if (first <= this.last) this.deliver(batch.slice(this.last + 1 - first), false);
    else {
      // Events this follower never saw: the store has them (they were published after being stored).
      this.hold(batch);
      void this.read();
    }
  }

  private hold(batch: readonly EventEnvelope[]): void {
    // Once over the bound, everything goes: the store has it, and is read again when the consumer can.
    if (this.overflowed) return;
    if (this.held.length + batch.length > this.o.maxBuffer) {
      this.held = [];
      this.overflowed = true;
      return;
    }
    for (const envelope of batch) this.held.push(envelope);
  }

  private deliver(envelopes: readonly EventEnvelope[], shared: boolean): void {
    this.last = envelopes[envelopes.length - 1]?.seq ?? this.last;
    if (!this.o.sink.deliver(envelopes, shared)) this.blocked = true;
  }

  /** Sends the store's events after `last` (again while it overflowed meanwhile), then what was held. */
  private async read(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      do {
        this.overflowed = false;
        for (;;) {
          if (this.blocked) await new Promise<void>((resolve) => (this.wakeReader = resolve));
          if (this.stopped) return;
          const page = await this.o.store.events.listAfter(this.o.scope, this.last, PAGE);
          if (this.stopped) return;
          if (page === undefined) {
            this.finish({ type: "closed" });
            return;
          }
          if (page.length > 0) this.deliver(page, false);
          if (page.length < PAGE) break;
        }
        if (this.overflowed && this.o.onOverflow === "resync") {
          this.finish({ type: "resync", after: this.last });
          return;
        }
      } while (this.overflowed);
    } catch (error) {
      this.finish({ type: "failed", error });
      return;
    } finally {
      this.reading = false;
    }
    this.pump();
  }

  /** Sends held events while the sink takes them; a gap or an overflow goes back to the store. */
  private pump(): void {
    while (!this.stopped && !this.blocked && !this.reading) {
      if (this.overflowed) {
        if (this.o.onOverflow === "resync") this.finish({ type: "resync", after: this.last });
        else void this.read();
        return;
      }
      const held = this.held;
      let start = 0;
      while (start < held.length && (held[start]?.seq ?? 0) <= this.last) start++;
      if (start === held.length) {
        this.held = [];
        return;
      }
      if (held[start]?.seq !== this.last + 1) {
        this.held = held.slice(start);
        void this.read();
        return;
      }
      let end = start + 1;
      while (end < held.length && held[end]?.seq === (held[end - 1]?.seq ?? 0) + 1) end++;
      this.held = held.slice(end);
      this.deliver(held.slice(start, end), false);
    }
  }
}
