// A durable thread's rollout lines, kept in the shared store (store.rollout) so that any API node can
// fork the thread or roll it back with the same code a single node uses on its JSONL files. Lines
// are buffered during a turn and stored at its end, after the last seq already stored (a replay makes
// the same lines with the same seqs, so what a cut-off attempt stored is not stored twice). Events are
// in the store's event table already: of them only `turn/completed` is kept (rollbacks count turns
// by it).
import type { RolloutWriter } from "@kiln/core";
import { ROLLOUT_VERSION, type RolloutLine, type ThreadInfo } from "@kiln/protocol";
import type { KilnStore } from "@kiln/store";

/** A rollout writer whose lines go to the store when `flush` is called. */
export interface StoredRollout extends RolloutWriter {
  /** The seq of the last line written (stored or not). */
  readonly lastSeq: number;
  /** Stores the lines not stored yet. */
  flush(): Promise<void>;
}

/**
 * The rollout of thread `info.id`, continuing after line `lastSeq` (0: a new rollout, which starts
 * with the thread's `thread` line).
 */
export function storedRollout(store: KilnStore, info: ThreadInfo, lastSeq: number): StoredRollout {
  const pending: RolloutLine[] = [];
  let seq = lastSeq;
  const add = (kind: RolloutLine["kind"], payload: unknown) => {
    seq++;
    pending.push({ v: ROLLOUT_VERSION, seq, at: Date.now(), kind, payload } as RolloutLine);
  };
  if (lastSeq === 0) add("thread", info);
  return {
    path: `store:${info.id}`,
    get lastSeq() {
      return seq;
    },
    append(kind, payload) {
      if (kind === "event" && (payload as { event: { type: string } }).event.type !== "turn/completed")
        return;
      add(kind, payload);
    },
    sync: () => undefined,
    close: () => undefined,
    async flush() {
      if (pending.length === 0) return;
      const stored = await store.rollout.lastSeq(info.id);
      const fresh = pending.filter((line) => line.seq > stored);
      pending.length = 0;
      await store.rollout.append(info.id, fresh);
    },
  };
}
