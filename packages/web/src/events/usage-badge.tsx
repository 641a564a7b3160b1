// Tokens and cost in a small badge, with the breakdown in its tooltip.
import type { Usage } from "@kiln/protocol";
import { memo } from "react";
import { formatTokens, formatUsd } from "../lib/format.ts";

/** Props of {@link UsageBadge}. */
export interface UsageBadgeProps {
  usage: Usage;
  /** US dollars, when the model has a price. */
  costUsd?: number | undefined;
  /** Its accessible name (default "Token usage"). */
  label?: string;
}

/** "12.3k tokens · $0.02". */
export const UsageBadge = memo(function UsageBadge({
  usage,
  costUsd,
  label = "Token usage",
}: UsageBadgeProps) {
  const detail = `${usage.inputTokens} input (${usage.cachedInputTokens} cached), ${usage.outputTokens} output (${usage.reasoningOutputTokens} reasoning)`;
  const text = `${formatTokens(usage.totalTokens)} tokens${costUsd === undefined ? "" : ` · ${formatUsd(costUsd)}`}`;
  return (
    <span
      className="usage-badge"
      role="status"
      aria-live="off"
      aria-label={`${label}: ${text}`}
      title={detail}
    >
      {text}
    </span>
  );
});
