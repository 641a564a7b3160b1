// A user's token use against the server's limits, in fixed windows (5 hours and a week by default,
// aligned to the epoch so every node computes the same window): what WHAM's `GET /usage` reports.
import type { KilnStore } from "@kiln/store";
import type { WhamUsageInput } from "../wham/wham-usage.ts";

/** Token limits per window. */
export interface UsageLimits {
  /** Tokens per 5-hour window (default 5 million). */
  tokensPer5h: number;
  /** Tokens per week (default 50 million). */
  tokensPerWeek: number;
}

/** The default limits. */
export const DEFAULT_USAGE_LIMITS: UsageLimits = { tokensPer5h: 5_000_000, tokensPerWeek: 50_000_000 };

const FIVE_HOURS = 5 * 3600_000;
const WEEK = 7 * 24 * 3600_000;

/** The caller's usage windows (primary 5 h, secondary a week) and all-time totals of the week. */
export function createUsageWindows(deps: { store: KilnStore; limits: UsageLimits; now: () => number }) {
  return async (userId: string): Promise<WhamUsageInput> => {
    const now = deps.now();
    const window = async (length: number, limit: number) => {
      const start = Math.floor(now / length) * length;
      const totals = await deps.store.usage.totalsSince(userId, start);
      return {
        totals,
        window: {
          usedPercent: limit <= 0 ? 100 : Math.round((totals.usage.totalTokens / limit) * 1000) / 10,
          limitWindowSeconds: length / 1000,
          resetAt: start + length,
        },
      };
    };
    const primary = await window(FIVE_HOURS, deps.limits.tokensPer5h);
    const secondary = await window(WEEK, deps.limits.tokensPerWeek);
    return {
      input: secondary.totals.usage.inputTokens,
      cachedInput: secondary.totals.usage.cachedInputTokens,
      output: secondary.totals.usage.outputTokens,
      windows: [primary.window, secondary.window],
    };
  };
}
