import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { KilnError } from "@kiln/protocol";

function sortedEntries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Every rollout file under `$KILN_HOME/sessions`, newest first. */
export function listRollouts(kilnHome: string): string[] {
  const root = join(kilnHome, "sessions");
  const files: string[] = [];
  for (const y of sortedEntries(root).reverse())
    for (const m of sortedEntries(join(root, y)).reverse())
      for (const d of sortedEntries(join(root, y, m)).reverse())
        for (const f of sortedEntries(join(root, y, m, d)).reverse())
          if (f.endsWith(".jsonl")) files.push(join(root, y, m, d, f));
  return files;
}

/** The rollout of thread `threadId`, or a not_found error that says how to list them. */
export function findRollout(kilnHome: string, threadId: string): string {
  if (!/^thr_[0-9A-Z]{26}$/.test(threadId)) {
    throw new KilnError(
      "invalid_request",
      `"${threadId}" is not a thread id (expected thr_ followed by 26 characters)`,
    );
  }
  const found = listRollouts(kilnHome).find((f) => f.endsWith(`-${threadId}.jsonl`));
  if (found === undefined) {
    throw new KilnError("not_found", `no session ${threadId} under ${join(kilnHome, "sessions")}`);
  }
  return found;
}

/** The newest rollout whose thread ran in `cwd`. */
export function findLatestRollout(kilnHome: string, cwd: string): string {
  for (const file of listRollouts(kilnHome)) {
    const first = readFileSync(file, "utf8").split("\n", 1)[0] ?? "";
    try {
      const line = JSON.parse(first) as { payload?: { cwd?: string } };
      if (line.payload?.cwd === cwd) return file;
    } catch {
      // A rollout without a readable first line is skipped here; resuming it by id reports why.
    }
  }
  throw new KilnError(
    "not_found",
    `no earlier session in ${cwd}: start one with \`kiln exec "…"\`, or resume by thread id`,
  );
}
