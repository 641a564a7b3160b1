/** Roughly four bytes of text per token, as the model's tokenizer averages on code and logs. */
export const BYTES_PER_TOKEN = 4;

/** Estimated tokens of a text. */
export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, "utf8") / BYTES_PER_TOKEN);
}

/**
 * Caps text at `maxTokens`, keeping the head and the tail (where errors and summaries usually are)
 * and saying how much was cut in between.
 */
export function truncateOutput(text: string, maxTokens: number): string {
  const maxChars = Math.max(0, maxTokens * BYTES_PER_TOKEN);
  if (text.length <= maxChars) return text;
  const head = Math.floor(maxChars / 2);
  const tail = maxChars - head;
  const cut = text.slice(head, text.length - tail);
  return `${text.slice(0, head)}\n…${estimateTokens(cut)} tokens truncated…\n${text.slice(text.length - tail)}`;
}
