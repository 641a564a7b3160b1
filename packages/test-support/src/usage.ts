import { generatedText, type ModelOutput } from "./model-output.ts";
import type { ScenarioUsage } from "./scenario.ts";

/** Token counts for one response, with every optional count filled in. */
export interface TokenUsage {
  inputTokens: number;
  cachedTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

/**
 * The usage a step reports: the scenario's numbers when given, otherwise an estimate at four characters
 * a token (input from the request body, output from everything generated, reasoning included).
 */
export function computeUsage(
  given: ScenarioUsage | undefined,
  requestBody: string,
  outputs: readonly ModelOutput[],
): TokenUsage {
  if (given) {
    return {
      inputTokens: given.input_tokens,
      cachedTokens: given.cached_tokens ?? 0,
      outputTokens: given.output_tokens,
      reasoningTokens: given.reasoning_tokens ?? 0,
    };
  }
  const tokens = (chars: number) => Math.ceil(chars / 4);
  const reasoningChars = outputs
    .filter((o) => o.type === "reasoning")
    .reduce((sum, o) => sum + generatedText(o).length, 0);
  const outputChars = outputs.reduce((sum, o) => sum + generatedText(o).length, 0);
  return {
    inputTokens: tokens(requestBody.length),
    cachedTokens: 0,
    outputTokens: tokens(outputChars),
    reasoningTokens: tokens(reasoningChars),
  };
}
