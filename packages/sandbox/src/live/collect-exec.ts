import type { SandboxExecChunk, SandboxExecResult } from "@kiln/protocol";
import { assertNever, KilnError } from "@kiln/protocol";

/** Default characters kept per stream by `collectExec`: the tail, where errors usually are. */
export const defaultCollectLimit = 1024 * 1024;

/**
 * Folds an exec stream into its result, keeping at most `maxChars` of each stream (the last ones); a
 * cut stream starts with a line saying how much was dropped.
 */
export async function collectExec(
  chunks: AsyncIterable<SandboxExecChunk>,
  options: { maxChars?: number } = {},
): Promise<SandboxExecResult> {
  const maxChars = options.maxChars ?? defaultCollectLimit;
  const streams = { stdout: createTail(maxChars), stderr: createTail(maxChars) };
  for await (const chunk of chunks) {
    switch (chunk.type) {
      case "stdout":
      case "stderr":
        streams[chunk.type].add(chunk.data);
        break;
      case "exit":
        return {
          exit_code: chunk.exit_code,
          stdout: streams.stdout.text(),
          stderr: streams.stderr.text(),
          duration_ms: chunk.duration_ms,
          signal: chunk.signal,
          timed_out: chunk.timed_out,
        };
      default:
        return assertNever(chunk);
    }
  }
  throw new KilnError("internal", "The exec stream ended without an exit chunk.");
}

/** The last `maxChars` characters of a stream, and how many came before them. */
function createTail(maxChars: number) {
  let parts: string[] = [];
  let length = 0;
  let dropped = 0;
  return {
    add(data: string) {
      parts.push(data);
      length += data.length;
      if (length <= maxChars * 2) return;
      // Compact now and then rather than on every chunk.
      const joined = parts.join("");
      const kept = joined.slice(-maxChars);
      dropped += joined.length - kept.length;
      parts = [kept];
      length = kept.length;
    },
    text() {
      const joined = parts.join("");
      const kept = joined.slice(-maxChars);
      const total = dropped + joined.length - kept.length;
      return total === 0
        ? kept
        : `[kiln: the first ${total} characters were dropped; ${kept.length} kept]\n${kept}`;
    },
  };
}
