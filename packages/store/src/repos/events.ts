// A thread's events, numbered by the store. An append bumps `threads.last_seq` first — on PostgreSQL
// that UPDATE row-locks the thread until commit, on SQLite the write transaction is exclusive — so
// concurrent appends to one thread get disjoint ranges, and commit in seq order: a reader never sees
// seq N+1 before seq N.
import { type EventEnvelope, KilnError, ThreadEvent } from "@kiln/protocol";
import { z } from "zod";
import type { EventRepo } from "../kiln-store.ts";
import { clampLimit, jsonText, optionalString, parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor } from "../sql/sql-database.ts";

const EventRow = z
  .object({
    thread_id: z.string(),
    seq: z.number().int().positive(),
    turn_id: optionalString,
    at: z.number(),
    event: jsonText(ThreadEvent),
  })
  .transform(
    (r): EventEnvelope => ({
      seq: r.seq,
      threadId: r.thread_id,
      ...(r.turn_id === undefined ? {} : { turnId: r.turn_id }),
      at: r.at,
      event: r.event,
    }),
  );

const LastSeqRow = z.object({ last_seq: z.number() });

/** A thread's event stream. */
export function createEventRepo(db: SqlExecutor): EventRepo {
  const visibleLastSeq = async (userId: string, threadId: string) => {
    const { rows } = await db.query("SELECT last_seq FROM threads WHERE id = ? AND user_id = ?", [
      threadId,
      userId,
    ]);
    return rows[0] === undefined ? undefined : parseRow(LastSeqRow, rows[0], "thread").last_seq;
  };
  return {
    append(threadId, events) {
      if (events.length === 0) return Promise.resolve([]);
      return db.transaction(async (tx) => {
        const { rows } = await tx.query(
          "UPDATE threads SET last_seq = last_seq + ? WHERE id = ? RETURNING last_seq",
          [events.length, threadId],
        );
        if (rows[0] === undefined)
          throw new KilnError("not_found", `no thread ${threadId} to append events to`);
        const last = parseRow(LastSeqRow, rows[0], "thread").last_seq;
        const envelopes = events.map(
          (e, index): EventEnvelope => ({
            seq: last - events.length + 1 + index,
            threadId,
            ...(e.turnId === undefined ? {} : { turnId: e.turnId }),
            at: e.at,
            event: e.event,
          }),
        );
        // One multi-row INSERT per batch of events (well under both databases' parameter limits).
        for (let start = 0; start < envelopes.length; start += 100) {
          const batch = envelopes.slice(start, start + 100);
          await tx.query(
            `INSERT INTO events (thread_id, seq, turn_id, at, type, event) VALUES ${batch.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")}`,
            batch.flatMap((e) => [
              threadId,
              e.seq,
              e.turnId ?? null,
              e.at,
              e.event.type,
              JSON.stringify(e.event),
            ]),
          );
        }
        return envelopes;
      });
    },
    async listAfter({ userId, threadId }, afterSeq, limit) {
      const lastSeq = await visibleLastSeq(userId, threadId);
      if (lastSeq === undefined) return undefined;
      if (afterSeq >= lastSeq) return [];
      const { rows } = await db.query(
        "SELECT thread_id, seq, turn_id, at, event FROM events WHERE thread_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        [threadId, afterSeq, clampLimit(limit, 500, 1000)],
      );
      return parseRows(EventRow, rows, "event");
    },
    lastSeq: ({ userId, threadId }) => visibleLastSeq(userId, threadId),
  };
}
