import { ErrorInfo, KilnError } from "@kiln/protocol";
import { z } from "zod";
import type { StoredTurn, TurnRepo } from "../kiln-store.ts";
import { jsonText, optionalNumber, parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor } from "../sql/sql-database.ts";

const SELECT = `SELECT t.id, t.thread_id, th.user_id, t.status, t.started_at, t.updated_at, t.finished_at, t.error
  FROM turns t JOIN threads th ON th.id = t.thread_id`;

const TurnRow = z
  .object({
    id: z.string(),
    thread_id: z.string(),
    user_id: z.string(),
    status: z.string(),
    started_at: z.number(),
    updated_at: z.number(),
    finished_at: optionalNumber,
    error: jsonText(ErrorInfo).nullable(),
  })
  .transform(
    (r): StoredTurn => ({
      id: r.id,
      threadId: r.thread_id,
      userId: r.user_id,
      status: r.status,
      startedAt: r.started_at,
      updatedAt: r.updated_at,
      finishedAt: r.finished_at,
      ...(r.error === null ? {} : { error: r.error }),
    }),
  );

/** Turns the server runs. */
export function createTurnRepo(db: SqlExecutor): TurnRepo {
  return {
    create({ id, threadId, status, now }) {
      return db.transaction(async (tx) => {
        try {
          await tx.query(
            "INSERT INTO turns (id, thread_id, status, started_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            [id, threadId, status, now, now],
          );
        } catch (error) {
          if (error instanceof KilnError && error.code === "conflict") {
            throw new KilnError("conflict", `a turn ${id} already exists`, { cause: error });
          }
          throw error;
        }
        const { rows } = await tx.query(`${SELECT} WHERE t.id = ?`, [id]);
        return parseRow(TurnRow, rows[0], "turn");
      });
    },
    async setStatus(turnId, status, now) {
      const { rowCount } = await db.query(
        "UPDATE turns SET status = ?, updated_at = ? WHERE id = ? AND finished_at IS NULL",
        [status, now, turnId],
      );
      return rowCount > 0;
    },
    async markFinished(turnId, { status, now, error }) {
      const { rowCount } = await db.query(
        "UPDATE turns SET status = ?, updated_at = ?, finished_at = ?, error = ? WHERE id = ? AND finished_at IS NULL",
        [status, now, now, error === undefined ? null : JSON.stringify(error), turnId],
      );
      return rowCount > 0;
    },
    async listUnfinished() {
      const { rows } = await db.query(`${SELECT} WHERE t.finished_at IS NULL ORDER BY t.started_at, t.id`);
      return parseRows(TurnRow, rows, "turn");
    },
    async listByThread({ userId, threadId }) {
      const owner = await db.query("SELECT 1 AS one FROM threads WHERE id = ? AND user_id = ?", [
        threadId,
        userId,
      ]);
      if (owner.rows.length === 0) return undefined;
      const { rows } = await db.query(`${SELECT} WHERE t.thread_id = ? ORDER BY t.started_at, t.id`, [
        threadId,
      ]);
      return parseRows(TurnRow, rows, "turn");
    },
  };
}
