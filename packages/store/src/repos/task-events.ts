// A task's event stream, numbered like a thread's (see events.ts): an append bumps `tasks.last_seq`
// first — on PostgreSQL that UPDATE row-locks the task until commit, on SQLite the write transaction
// is exclusive — so concurrent appends get disjoint, gap-free ranges and commit in seq order.
import { KilnError, type TaskEventEnvelope } from "@kiln/protocol";
import { z } from "zod";
import type { TaskRepo } from "../kiln-store.ts";
import { clampLimit, parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor } from "../sql/sql-database.ts";
import { TaskEventRow } from "./task-rows.ts";

const LastSeqRow = z.object({ last_seq: z.number() });

/** Events per multi-row INSERT (well under both databases' parameter limits). */
const BATCH = 100;

/** The part of the task repository about events. */
export type TaskEventRepo = Pick<TaskRepo, "appendEvents" | "eventsAfter">;

/** Task events. */
export function createTaskEventRepo(db: SqlExecutor): TaskEventRepo {
  return {
    appendEvents(taskId, events) {
      if (events.length === 0) return Promise.resolve([]);
      return db.transaction(async (tx) => {
        const { rows } = await tx.query(
          "UPDATE tasks SET last_seq = last_seq + ? WHERE id = ? RETURNING last_seq",
          [events.length, taskId],
        );
        if (rows[0] === undefined) throw new KilnError("not_found", `no task ${taskId} to append events to`);
        const last = parseRow(LastSeqRow, rows[0], "task").last_seq;
        const envelopes = events.map(
          (e, index): TaskEventEnvelope => ({
            seq: last - events.length + 1 + index,
            taskId,
            at: e.at,
            event: e.event,
          }),
        );
        for (let start = 0; start < envelopes.length; start += BATCH) {
          const batch = envelopes.slice(start, start + BATCH);
          await tx.query(
            `INSERT INTO task_events (task_id, seq, at, type, event) VALUES ${batch.map(() => "(?, ?, ?, ?, ?)").join(", ")}`,
            batch.flatMap((e) => [taskId, e.seq, e.at, e.event.type, JSON.stringify(e.event)]),
          );
        }
        return envelopes;
      });
    },
    async eventsAfter(userId, taskId, afterSeq, limit) {
      const owner = await db.query("SELECT last_seq FROM tasks WHERE id = ? AND user_id = ?", [
        taskId,
        userId,
      ]);
      if (owner.rows[0] === undefined) return undefined;
      if (afterSeq >= parseRow(LastSeqRow, owner.rows[0], "task").last_seq) return [];
      const { rows } = await db.query(
        "SELECT task_id, seq, at, event FROM task_events WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        [taskId, afterSeq, clampLimit(limit, 500, 1000)],
      );
      return parseRows(TaskEventRow, rows, "task event");
    },
  };
}
