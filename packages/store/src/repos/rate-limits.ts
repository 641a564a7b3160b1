// Fixed-window counters: one row per key holding the current window's start and count, bumped by a
// single atomic upsert (a new window restarts the count at 1). Keys name the limit and the subject,
// e.g. `login:ip:203.0.113.9`; one key must always be used with the same window length.
import { KilnError } from "@kiln/protocol";
import { z } from "zod";
import type { RateLimitRepo } from "../kiln-store.ts";
import { parseRow } from "../sql/rows.ts";
import type { SqlExecutor } from "../sql/sql-database.ts";

const HitRow = z.object({ count: z.number().int(), window_start: z.number() });

/** Rate-limit counters. */
export function createRateLimitRepo(db: SqlExecutor): RateLimitRepo {
  return {
    async hit(key, windowMs, now) {
      if (!Number.isSafeInteger(windowMs) || windowMs <= 0) {
        throw new KilnError(
          "internal",
          `a rate-limit window must be a positive whole number of ms, not ${windowMs}`,
        );
      }
      const windowStart = Math.floor(now / windowMs) * windowMs;
      const { rows } = await db.query(
        `INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.count + 1 ELSE 1 END,
           window_start = excluded.window_start
         RETURNING count, window_start`,
        [key, windowStart],
      );
      const row = parseRow(HitRow, rows[0], "rate-limit counter");
      return { count: row.count, windowStart: row.window_start, resetAt: row.window_start + windowMs };
    },
    async prune(before) {
      return (await db.query("DELETE FROM rate_limits WHERE window_start < ?", [before])).rowCount;
    },
  };
}
