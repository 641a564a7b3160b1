// Rolling a thread back by N turns (Codex's thread rollback): the model forgets the last N turns;
// files those turns changed stay as they are, and their events stay in the rollout (it is
// append-only). A rollback is journaled as a `compacted` line holding the history as it was just
// before the first dropped turn began, so reading the rollout (resume, fork) sees the same history.
//
// The line's `turnId` names that first dropped turn. No other `compacted` line can name a turn that
// has already completed (a compaction happens inside its running turn; a fork's line says `fork`),
// which is how a later rollback tells which turns are still live and so counts turns the way the
// user sees them after earlier rollbacks.
import { readFileSync } from "node:fs";
import { type HistoryItem, KilnError, RolloutLine } from "@kiln/protocol";
import { readRollout } from "./read-rollout.ts";

/** What a rollback of a thread's last turns writes. */
export interface RollbackPlan {
  /** The history the model keeps: as it was at the end of the last kept turn. */
  history: HistoryItem[];
  /** The turns dropped, oldest first. */
  droppedTurnIds: string[];
  /** The turns still in the history, oldest first. */
  keptTurnIds: string[];
  /** The `turnId` of the `compacted` line that journals the rollback (the first dropped turn). */
  lineTurnId: string;
}

/**
 * Plans dropping the last `turns` turns of the thread whose rollout is at `path`. Throws
 * `invalid_request` (naming the field `turns`) unless `turns` is from 1 to the number of live turns.
 * Every turn counts, `/compact` turns and interrupted ones included.
 */
export function planRollback(path: string, turns: number): RollbackPlan {
  const live = liveTurns(path);
  if (!Number.isInteger(turns) || turns < 1 || turns > live.length) {
    const range = live.length === 0 ? "it has no turns to roll back" : `give 1 to ${live.length}`;
    throw new KilnError(
      "invalid_request",
      `cannot roll back ${turns} turn${turns === 1 ? "" : "s"}: the thread has ${live.length} turn${live.length === 1 ? "" : "s"}; ${range}`,
      { details: { field: "turns", turns: live.length } },
    );
  }
  const kept = live.slice(0, live.length - turns);
  const dropped = live.slice(live.length - turns);
  const first = dropped[0];
  if (first === undefined) throw new KilnError("internal", "rollback: no turn to drop");
  // The rollout as it stood just before the first dropped turn began: the end of the last kept turn,
  // earlier rollbacks and a fork's inherited history included.
  const { history } = readRollout(path, { upToTurn: first.ordinal - 1 });
  return {
    history,
    droppedTurnIds: dropped.map((t) => t.turnId),
    keptTurnIds: kept.map((t) => t.turnId),
    lineTurnId: first.turnId,
  };
}

/** What a rollback tells the thread's readers (its `warning` event). */
export function rollbackWarning(droppedTurnIds: readonly string[]): string {
  const n = droppedTurnIds.length;
  return `Rolled back ${n} turn${n === 1 ? "" : "s"} (${droppedTurnIds.join(", ")}): the model no longer sees ${n === 1 ? "it" : "them"}. Files changed on disk were not reverted.`;
}

/** A turn the model's history still holds, with its 1-based position among all the rollout's turns. */
interface LiveTurn {
  turnId: string;
  ordinal: number;
}

/** The rollout's turns that earlier rollbacks did not drop, oldest first. */
function liveTurns(path: string): LiveTurn[] {
  const live: LiveTurn[] = [];
  const seen = new Set<string>();
  const completed = new Set<string>();
  const raws = readFileSync(path, "utf8").split("\n");
  for (const [index, raw] of raws.entries()) {
    if (raw === "") continue;
    const parsed = RolloutLine.safeParse(parseJson(raw));
    if (!parsed.success) {
      // A torn last line (the process died while writing it) is dropped, as readRollout does.
      if (index === raws.length - 1) break;
      throw new KilnError("rollout_corrupt", `${path}:${index + 1}: not a rollout line`);
    }
    const line = parsed.data;
    if (line.kind === "turn_context" && !seen.has(line.payload.turnId)) {
      seen.add(line.payload.turnId);
      live.push({ turnId: line.payload.turnId, ordinal: seen.size });
    }
    if (line.kind === "event" && line.payload.event.type === "turn/completed")
      completed.add(line.payload.event.turnId);
    if (line.kind === "compacted" && completed.has(line.payload.turnId)) {
      const at = live.findIndex((t) => t.turnId === line.payload.turnId);
      if (at !== -1) live.splice(at);
    }
  }
  return live;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
