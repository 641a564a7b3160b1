// Splits a child's output stream into lines, each stamped with the time its chunk arrived.
import { performance } from "node:perf_hooks";

/**
 * Calls `onLine(line, at)` for every complete line of `stream`, where `at` is the `performance.now()`
 * of the chunk that completed it: the moment the bench learned of the line, which is what timestamps
 * the events of two different processes on one clock.
 */
export function onLines(stream, onLine) {
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    const at = performance.now();
    const lines = (pending + chunk).split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) onLine(line, at);
  });
}
