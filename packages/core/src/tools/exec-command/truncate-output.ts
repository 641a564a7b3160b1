/** Roughly four bytes of text per token, as the model's tokenizer averages on code and logs. */
export const BYTES_PER_TOKEN = 4;

/** Estimated tokens of a text. */
export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, "utf8") / BYTES_PER_TOKEN);
}

/**
 * Caps text at `maxTokens` (counted in UTF-8 bytes), keeping the head and the tail (where errors and
 * summaries usually are), saying how much was cut in between, and never splitting a character.
 */
export function truncateOutput(text: string, maxTokens: number): string {
  const maxBytes = Math.max(0, maxTokens * BYTES_PER_TOKEN);
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  const bytes = Buffer.from(text, "utf8");
  let headEnd = Math.floor(maxBytes / 2);
  let tailStart = bytes.length - (maxBytes - headEnd);
  // Continuation bytes are 10xxxxxx: move both cuts onto character boundaries.
  while (headEnd > 0 && isContinuation(bytes[headEnd])) headEnd--;
  while (tailStart < bytes.length && isContinuation(bytes[tailStart])) tailStart++;
  const cutTokens = Math.ceil((tailStart - headEnd) / BYTES_PER_TOKEN);
  return `${bytes.subarray(0, headEnd).toString("utf8")}\n…${cutTokens} tokens truncated…\n${bytes.subarray(tailStart).toString("utf8")}`;
}

function isContinuation(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}
