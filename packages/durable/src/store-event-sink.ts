// Writes a turn's events to the shared store with the seq the thread gave them, idempotently: a replayed
// turn (Restate re-runs the handler after a crash, with the same journal) emits the same events with the
// same seqs, and those already stored are skipped. The check and the append are one transaction, and the
// append's seq is compared with the event's: a second writer (a worker Restate gave up on that still
// runs) loses the race and rolls back instead of duplicating events.
import type { EventEnvelope } from "@kiln/protocol";
import { KilnError } from "@kiln/protocol";
import type { KilnStore } from "@kiln/store";

/** Where a durable turn's events go. */
export interface EventSink {
  /** Stores the events not stored yet (by seq); they must follow the stored ones without a gap. */
  write(envelopes: readonly EventEnvelope[]): Promise<void>;
}

/** Tells API nodes that a thread has new events (PostgreSQL NOTIFY: pg-event-notifier.ts). */
export interface EventNotifier {
  notify(change: { userId: string; threadId: string; firstSeq: number; lastSeq: number }): Promise<void>;
  close(): Promise<void>;
}

/**
 * An event sink on the store for one thread of `userId`; `notifier` hears of every batch it stored
 * (a failed notification is only logged by the notifier's owner: followers catch up on the next one).
 */
export function createStoreEventSink(
  store: KilnStore,
  userId: string,
  threadId: string,
  notifier?: EventNotifier,
): EventSink {
  const scope = { userId, threadId };
  const append = (envelopes: readonly EventEnvelope[]) =>
    store.transaction(async (tx) => {
      const last = await tx.events.lastSeq(scope);
      if (last === undefined) throw new KilnError("not_found", `no thread ${threadId} of user ${userId}`);
      const fresh = envelopes.filter((e) => e.seq > last);
      const first = fresh[0];
      if (first === undefined) return;
      if (first.seq !== last + 1) {
        throw new KilnError(
          "internal",
          `thread ${threadId}: event seq ${first.seq} does not follow the stored ${last}: the thread's state and its events disagree`,
        );
      }
      const written = await tx.events.append(
        threadId,
        fresh.map((e) => ({
          ...(e.turnId === undefined ? {} : { turnId: e.turnId }),
          at: e.at,
          event: e.event,
        })),
      );
      if (written[0]?.seq !== first.seq)
        throw new KilnError(
          "conflict",
          `thread ${threadId}: another worker wrote events at seq ${first.seq}`,
        );
      return { firstSeq: first.seq, lastSeq: written[written.length - 1]?.seq ?? first.seq };
    });
  const stored = async (envelopes: readonly EventEnvelope[]) => {
    const range = await append(envelopes);
    if (range !== undefined) await notifier?.notify({ userId, threadId, ...range }).catch(() => undefined);
  };
  return {
    async write(envelopes) {
      if (envelopes.length === 0) return;
      try {
        await stored(envelopes);
      } catch (error) {
        // Another writer stored some of them first: what is left (if anything) follows its events.
        if (!(error instanceof KilnError && error.code === "conflict")) throw error;
        await stored(envelopes);
      }
    },
  };
}
