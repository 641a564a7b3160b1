import { WhamUsage } from "@kiln/protocol";
import { expect, it } from "vitest";
import { whamUsage } from "./wham-usage.ts";

/** The spec's example moment: 1795234760 s. */
const NOW = 1_795_234_760_000;

it("usage matches the spec's example: both windows under rate_limit and at the top level", () => {
  const usage = whamUsage(
    {
      input: 123_456,
      cachedInput: 1000,
      output: 7890,
      windows: [
        { usedPercent: 12.5, limitWindowSeconds: 18_000, resetAt: NOW + 3600_000 },
        { usedPercent: 3.0, limitWindowSeconds: 604_800, resetAt: 1_795_320_760_000 },
      ],
    },
    NOW,
  );
  const primary = {
    used_percent: 12.5,
    limit_window_seconds: 18000,
    reset_after_seconds: 3600,
    reset_at: 1795238360,
  };
  // The spec's secondary window says reset_after_seconds 86400 but reset_at 1795320760, which is
  // 86000 s after its primary window's moment: the two cannot both hold, so reset_at is kept.
  const secondary = {
    used_percent: 3.0,
    limit_window_seconds: 604800,
    reset_after_seconds: 86000,
    reset_at: 1795320760,
  };
  expect(WhamUsage.parse(usage)).toEqual({
    plan_type: "self_hosted",
    rate_limit: { allowed: true, limit_reached: false, primary_window: primary, secondary_window: secondary },
    primary_window: primary,
    secondary_window: secondary,
    tokens: { input: 123456, cached_input: 1000, output: 7890 },
  });
});

it("a used-up window makes the limit reached, shown as 100 percent", () => {
  const usage = whamUsage(
    {
      input: 0,
      cachedInput: 0,
      output: 0,
      windows: [{ usedPercent: 130, limitWindowSeconds: 18_000, resetAt: NOW + 1500 }],
    },
    NOW,
  );
  expect(usage.rate_limit).toEqual({
    allowed: false,
    limit_reached: true,
    primary_window: {
      used_percent: 100,
      limit_window_seconds: 18000,
      reset_after_seconds: 2,
      reset_at: 1795234762,
    },
    secondary_window: null,
  });
});

it("usage without configured limits has no windows", () => {
  const usage = WhamUsage.parse(whamUsage({ input: 5, cachedInput: 0, output: 7, windows: [] }, NOW));
  expect([usage.rate_limit, usage.primary_window, usage.secondary_window]).toEqual([
    { allowed: true, limit_reached: false, primary_window: null, secondary_window: null },
    null,
    null,
  ]);
});
