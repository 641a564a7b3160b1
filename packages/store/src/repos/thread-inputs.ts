// Steering input for durable turns: an API node adds it, the worker running the turn takes it inside
// a step under the step's key. Taking marks the untaken rows with the key and answers every row marked
// with it, so a step retried after a crash (same key) gets the same input back, plus any that arrived
// meanwhile: nothing is lost or given twice.
import { InputPart } from "@kiln/protocol";
import { z } from "zod";
import type { ThreadInputRepo } from "../kiln-store.ts";
import { jsonText, parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor } from "../sql/sql-database.ts";

const InputRow = z.object({ input: jsonText(z.array(InputPart)) });
const SeqRow = z.object({ seq: z.coerce.number() });
const TakenRow = InputRow.extend(SeqRow.shape);

/** Steering input of durable turns. */
export function createThreadInputRepo(db: SqlExecutor): ThreadInputRepo {
  return {
    async add({ userId, threadId, turnId, input, now }) {
      const { rows } = await db.query(
        "INSERT INTO thread_inputs (user_id, thread_id, turn_id, input, created_at) VALUES (?, ?, ?, ?, ?) RETURNING seq",
        [userId, threadId, turnId, JSON.stringify(input), now],
      );
      return parseRow(SeqRow, rows[0], "thread input").seq;
    },
    async take(turnId, key) {
      // One statement: rows nobody took and rows this key took before (a retried step) are marked with
      // the key and answered.
      const { rows } = await db.query(
        `UPDATE thread_inputs SET taken_key = ?
         WHERE turn_id = ? AND (taken_key IS NULL OR taken_key = ?)
         RETURNING seq, input`,
        [key, turnId, key],
      );
      return parseRows(TakenRow, rows, "thread input")
        .sort((a, b) => a.seq - b.seq)
        .map((row) => row.input);
    },
    async withdraw(seq) {
      const { rowCount } = await db.query("DELETE FROM thread_inputs WHERE seq = ? AND taken_key IS NULL", [
        seq,
      ]);
      return rowCount > 0;
    },
    async prune(threadId, turnId) {
      const { rowCount } = await db.query("DELETE FROM thread_inputs WHERE thread_id = ? AND turn_id <> ?", [
        threadId,
        turnId,
      ]);
      return rowCount;
    },
  };
}
