import { execFile } from "node:child_process";
import { KilnError } from "@kiln/protocol";
import { findSystemTool } from "../system-tools.ts";

/** How long one measurement may take: a huge workspace must not make status calls hang. */
const defaultTimeoutMs = 5000;

/**
 * Bytes used by the files under `dir` (apparent sizes, one filesystem, symlinks not followed), measured
 * with `du -sbx`. Throws `timeout` when it takes longer than `timeoutMs`.
 */
export async function diskUsage(
  dir: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<number> {
  const du = findSystemTool("du");
  if (du === undefined)
    throw new KilnError("sandbox_unavailable", "du is not installed: `apt-get install coreutils`.");
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      du,
      ["-sbx", "--", dir],
      {
        timeout: timeoutMs,
        killSignal: "SIGKILL",
        env: { LC_ALL: "C" },
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (error, stdout) => {
        // du exits 1 when it could not read part of the tree, and still prints the total of the rest.
        if (error !== null && (error.killed || error.signal !== null || stdout === "")) {
          reject(
            error.killed
              ? new KilnError(
                  "timeout",
                  `Measuring the disk use of ${dir} took longer than ${timeoutMs} ms.`,
                  { cause: error },
                )
              : error,
          );
          return;
        }
        resolve(stdout);
      },
    );
  });
  const bytes = Number(/^(\d+)/.exec(output)?.[1]);
  if (!Number.isFinite(bytes))
    throw new KilnError("internal", `Unexpected output of du: ${output.slice(0, 200)}`);
  return bytes;
}
