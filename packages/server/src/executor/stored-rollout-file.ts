// A durable thread's rollout lines (stored by its workers in store.rollout) as a JSONL file, for the
// rollout readers a single node uses on its own files (`readRollout`, `planRollback`): an API node
// plans forks and rollbacks of durable threads with the same code. The file lives only for the call.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROLLOUT_VERSION, type RolloutLine } from "@kiln/protocol";
import type { StoredThread } from "@kiln/store";

/**
 * Runs `read` on a file holding `lines` (a thread that never ran a turn has none: its file holds only
 * the thread's `thread` line).
 */
export function withRolloutFile<T>(
  thread: StoredThread,
  lines: readonly RolloutLine[],
  read: (path: string) => T,
): T {
  const dir = mkdtempSync(join(tmpdir(), "kiln-rollout-"));
  try {
    const path = join(dir, `${thread.id}.jsonl`);
    const all: readonly RolloutLine[] =
      lines.length > 0
        ? lines
        : [{ v: ROLLOUT_VERSION, seq: 1, at: thread.createdAt, kind: "thread", payload: thread.info }];
    writeFileSync(path, all.map((line) => `${JSON.stringify(line)}\n`).join(""), { mode: 0o600 });
    return read(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
