// A thread's rollout lines (the same `RolloutLine`s `kiln exec` writes to JSONL), stored so that the
// server resumes a thread from the database. Lines carry their own seq; a duplicate is a `conflict`.
import { KilnError, RolloutLine } from "@kiln/protocol";
import { z } from "zod";
import type { RolloutRepo } from "../kiln-store.ts";
import { jsonText, parseRow } from "../sql/rows.ts";
import type { SqlExecutor } from "../sql/sql-database.ts";

const LineRow = z.object({ seq: z.number(), line: jsonText(RolloutLine) });

/** A thread's durable journal. */
export function createRolloutRepo(db: SqlExecutor): RolloutRepo {
  return {
    async append(threadId, lines) {
      if (lines.length === 0) return;
      await db.transaction(async (tx) => {
        for (let start = 0; start < lines.length; start += 200) {
          const batch = lines.slice(start, start + 200);
          try {
            await tx.query(
              `INSERT INTO rollout_lines (thread_id, seq, kind, line) VALUES ${batch.map(() => "(?, ?, ?, ?)").join(", ")}`,
              batch.flatMap((l) => [threadId, l.seq, l.kind, JSON.stringify(l)]),
            );
          } catch (error) {
            if (error instanceof KilnError && error.code === "conflict") {
              throw new KilnError(
                "conflict",
                `thread ${threadId} already has rollout line ${batch[0]?.seq} or after`,
                {
                  cause: error,
                },
              );
            }
            throw error;
          }
        }
      });
    },
    async read(threadId) {
      const { rows } = await db.query(
        "SELECT seq, line FROM rollout_lines WHERE thread_id = ? ORDER BY seq",
        [threadId],
      );
      return rows.map((row, index) => {
        const result = LineRow.safeParse(row);
        if (result.success) return result.data.line;
        throw new KilnError(
          "rollout_corrupt",
          `stored rollout line ${index + 1} of thread ${threadId} is not valid`,
          {
            cause: result.error,
            details: { threadId, line: index + 1, issues: z.prettifyError(result.error) },
          },
        );
      });
    },
    async lastSeq(threadId) {
      const { rows } = await db.query(
        "SELECT COALESCE(MAX(seq), 0) AS seq FROM rollout_lines WHERE thread_id = ?",
        [threadId],
      );
      return parseRow(z.object({ seq: z.number() }), rows[0], "rollout line").seq;
    },
  };
}
