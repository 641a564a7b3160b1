// Model usage, one row per call. Each row carries its UTC day (computed here, so that grouping by day
// is the same on both databases and needs no date functions).
import { addUsage, emptyUsage } from "@kiln/protocol";
import { z } from "zod";
import type { UsageRepo, UsageTotals } from "../kiln-store.ts";
import { parseRows } from "../sql/rows.ts";
import type { SqlExecutor, SqlValue } from "../sql/sql-database.ts";

const SUMS = `COUNT(*) AS calls,
  CAST(SUM(input_tokens) AS BIGINT) AS input_tokens,
  CAST(SUM(cached_input_tokens) AS BIGINT) AS cached_input_tokens,
  CAST(SUM(output_tokens) AS BIGINT) AS output_tokens,
  CAST(SUM(reasoning_output_tokens) AS BIGINT) AS reasoning_output_tokens,
  CAST(SUM(total_tokens) AS BIGINT) AS total_tokens,
  COALESCE(SUM(cost_usd), 0) AS cost_usd`;

const SumsRow = z.object({
  calls: z.number().int(),
  input_tokens: z.number().int(),
  cached_input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  reasoning_output_tokens: z.number().int(),
  total_tokens: z.number().int(),
  cost_usd: z.number(),
});

const toTotals = (r: z.output<typeof SumsRow>): UsageTotals => ({
  calls: r.calls,
  usage: {
    inputTokens: r.input_tokens,
    cachedInputTokens: r.cached_input_tokens,
    outputTokens: r.output_tokens,
    reasoningOutputTokens: r.reasoning_output_tokens,
    totalTokens: r.total_tokens,
  },
  costUsd: r.cost_usd,
});

const DayRow = SumsRow.extend({ day: z.string() }).transform((r) => ({ day: r.day, ...toTotals(r) }));
const TurnRow = SumsRow.extend({ turn_id: z.string() }).transform((r) => ({
  turnId: r.turn_id,
  ...toTotals(r),
}));

/** `YYYY-MM-DD` of a Unix ms time, in UTC. */
export function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** Model usage. */
export function createUsageRepo(db: SqlExecutor): UsageRepo {
  return {
    async record({ userId, threadId, turnId, model, usage, costUsd, at }) {
      await db.query(
        `INSERT INTO usage_records (user_id, thread_id, turn_id, model, input_tokens, cached_input_tokens,
           output_tokens, reasoning_output_tokens, total_tokens, cost_usd, at, day)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          userId,
          threadId,
          turnId,
          model,
          usage.inputTokens,
          usage.cachedInputTokens,
          usage.outputTokens,
          usage.reasoningOutputTokens,
          usage.totalTokens,
          costUsd ?? null,
          at,
          utcDay(at),
        ],
      );
    },
    async perDay(userId, range = {}) {
      const where = ["user_id = ?"];
      const params: SqlValue[] = [userId];
      if (range.from !== undefined) {
        where.push("day >= ?");
        params.push(range.from);
      }
      if (range.to !== undefined) {
        where.push("day <= ?");
        params.push(range.to);
      }
      const { rows } = await db.query(
        `SELECT day, ${SUMS} FROM usage_records WHERE ${where.join(" AND ")} GROUP BY day ORDER BY day`,
        params,
      );
      return parseRows(DayRow, rows, "usage sum");
    },
    async totalsSince(userId, since) {
      const { rows } = await db.query(`SELECT ${SUMS} FROM usage_records WHERE user_id = ? AND at >= ?`, [
        userId,
        since,
      ]);
      const row = rows[0] as Record<string, unknown> | undefined;
      if (row === undefined || row.calls === 0 || row.input_tokens === null) {
        return { calls: 0, usage: emptyUsage(), costUsd: 0 };
      }
      return toTotals(SumsRow.parse(row));
    },
    async forThread({ userId, threadId }) {
      const owner = await db.query("SELECT 1 AS one FROM threads WHERE id = ? AND user_id = ?", [
        threadId,
        userId,
      ]);
      if (owner.rows.length === 0) return undefined;
      const { rows } = await db.query(
        `SELECT turn_id, ${SUMS} FROM usage_records WHERE thread_id = ? GROUP BY turn_id ORDER BY MIN(id)`,
        [threadId],
      );
      const turns = parseRows(TurnRow, rows, "usage sum");
      const total = turns.reduce<UsageTotals>(
        (sum, t) => ({
          calls: sum.calls + t.calls,
          usage: addUsage(sum.usage, t.usage),
          costUsd: sum.costUsd + t.costUsd,
        }),
        { calls: 0, usage: emptyUsage(), costUsd: 0 },
      );
      return { total, turns };
    },
  };
}
