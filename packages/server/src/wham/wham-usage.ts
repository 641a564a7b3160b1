// The caller's token totals and rate-limit windows → WHAM's `GET /usage`. The first window is the
// primary one (tokens per 5 h by default), the second the secondary one (per week); the windows
// appear both under `rate_limit` (where the Codex CLI reads them) and at the top level (seed 001).
import type { WhamRateLimitWindow, WhamUsage } from "@kiln/protocol";

/** One rate-limit window of a user, as the server's limits compute it. */
export interface WhamUsageWindow {
  /** 0–100 (more is shown as 100). */
  usedPercent: number;
  /** The window's length, in seconds. */
  limitWindowSeconds: number;
  /** When the window resets, Unix ms. */
  resetAt: number;
}

/** What `GET /usage` is built from: the caller's token totals and windows (primary first). */
export interface WhamUsageInput {
  input: number;
  cachedInput: number;
  output: number;
  windows: WhamUsageWindow[];
}

function whamWindow(window: WhamUsageWindow | undefined, now: number): WhamRateLimitWindow | null {
  if (window === undefined) return null;
  return {
    used_percent: Math.min(100, Math.max(0, window.usedPercent)),
    limit_window_seconds: Math.round(window.limitWindowSeconds),
    reset_after_seconds: Math.max(0, Math.ceil((window.resetAt - now) / 1000)),
    reset_at: Math.ceil(window.resetAt / 1000),
  };
}

/** `GET /usage` at `now` (Unix ms). A used-up window makes `allowed` false. */
export function whamUsage(usage: WhamUsageInput, now: number): WhamUsage {
  const primary = whamWindow(usage.windows[0], now);
  const secondary = whamWindow(usage.windows[1], now);
  const limitReached = usage.windows.some((w) => w.usedPercent >= 100);
  return {
    plan_type: "self_hosted",
    rate_limit: {
      allowed: !limitReached,
      limit_reached: limitReached,
      primary_window: primary,
      secondary_window: secondary,
    },
    primary_window: primary,
    secondary_window: secondary,
    tokens: {
      input: Math.round(usage.input),
      cached_input: Math.round(usage.cachedInput),
      output: Math.round(usage.output),
    },
  };
}
