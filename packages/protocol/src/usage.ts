import { z } from "zod";

/** Token usage of one model call, or a sum of several. */
export const Usage = z.object({
  /** Prompt tokens, cached ones included. */
  inputTokens: z.number().int().nonnegative(),
  /** The part of `inputTokens` served from the provider's prompt cache. */
  cachedInputTokens: z.number().int().nonnegative(),
  /** Completion tokens, reasoning included. */
  outputTokens: z.number().int().nonnegative(),
  /** The part of `outputTokens` spent on hidden reasoning. */
  reasoningOutputTokens: z.number().int().nonnegative(),
  /** inputTokens + outputTokens. */
  totalTokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof Usage>;

/** Usage with every count zero. */
export function emptyUsage(): Usage {
  return { inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningOutputTokens: 0, totalTokens: 0 };
}

/** The sum of two usages. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningOutputTokens: a.reasoningOutputTokens + b.reasoningOutputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
}
