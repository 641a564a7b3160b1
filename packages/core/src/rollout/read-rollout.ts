// Rebuilds a thread from its rollout: settings, the model's history (a `compacted` line replaces what
// came before), the event sequence number to continue from, and whether the last turn was cut off
// (and which of its tool calls never got an output).
import { readFileSync } from "node:fs";
import {
  type EventEnvelope,
  type HistoryItem,
  type HistoryToolCall,
  isToolCall,
  KilnError,
  RolloutLine,
  type ThreadInfo,
  type TurnContext,
} from "@kiln/protocol";

/** A thread as its rollout describes it. */
export interface RolloutState {
  info: ThreadInfo;
  history: HistoryItem[];
  /** The last event's seq (0 when none). */
  lastEventSeq: number;
  /** The last line's seq (to append after). */
  lastLineSeq: number;
  /** All events, in order (for replaying a stream). */
  events: EventEnvelope[];
  /** The last turn, when it never completed (the process died in it). */
  unfinishedTurn: { context: TurnContext; danglingCalls: HistoryToolCall[] } | undefined;
  /** A torn last line was dropped (the process died while writing it). */
  droppedTornLine: boolean;
  /** How many turns were read (up to `upToTurn` when given). */
  turnCount: number;
  /** The collaboration mode of the last turn (it may have changed since the thread started). */
  lastMode: TurnContext["mode"] | undefined;
}

/**
 * Reads and checks a rollout file. Throws `rollout_corrupt` with the line number on a bad line.
 * `upToTurn` (1-based) stops before the next turn begins, for forks.
 */
export function readRollout(path: string, options: { upToTurn?: number } = {}): RolloutState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new KilnError("not_found", `cannot read rollout ${path}: ${(error as Error).message}`);
  }
  const rawLines = text.split("\n");
  const torn = rawLines[rawLines.length - 1] !== "";
  if (!torn) rawLines.pop();

  let info: ThreadInfo | undefined;
  let history: HistoryItem[] = [];
  const events: EventEnvelope[] = [];
  const contexts = new Map<string, TurnContext>();
  const finished = new Set<string>();
  let lastTurn: string | undefined;
  let lastLineSeq = 0;
  let droppedTornLine = false;

  let stop = false;
  for (const [index, raw] of rawLines.entries()) {
    if (stop) break;
    const isLast = index === rawLines.length - 1;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      if (isLast && torn) {
        droppedTornLine = true;
        break;
      }
      throw new KilnError("rollout_corrupt", `${path}:${index + 1}: not valid JSON`);
    }
    const parsed = RolloutLine.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new KilnError(
        "rollout_corrupt",
        `${path}:${index + 1}: ${issue?.path.join(".") ?? ""} ${issue?.message ?? "invalid line"}`,
      );
    }
    const line = parsed.data;
    lastLineSeq = line.seq;
    switch (line.kind) {
      case "thread":
        info = line.payload;
        break;
      case "turn_context":
        if (
          !contexts.has(line.payload.turnId) &&
          options.upToTurn !== undefined &&
          contexts.size >= options.upToTurn
        ) {
          stop = true;
          break;
        }
        contexts.set(line.payload.turnId, line.payload);
        lastTurn = line.payload.turnId;
        break;
      case "history":
        history.push(line.payload.item);
        break;
      case "compacted":
        history = [...line.payload.history];
        break;
      case "event":
        events.push(line.payload);
        if (line.payload.event.type === "turn/completed") finished.add(line.payload.event.turnId);
        if (line.payload.event.type === "thread/started") info = line.payload.event.thread;
        break;
    }
  }
  if (info === undefined) throw new KilnError("rollout_corrupt", `${path}: no thread line`);
  const context = lastTurn === undefined || finished.has(lastTurn) ? undefined : contexts.get(lastTurn);
  return {
    info,
    history,
    lastEventSeq: events.at(-1)?.seq ?? 0,
    lastLineSeq,
    events,
    unfinishedTurn: context === undefined ? undefined : { context, danglingCalls: danglingCalls(history) },
    droppedTornLine,
    turnCount: contexts.size,
    lastMode: lastTurn === undefined ? undefined : contexts.get(lastTurn)?.mode,
  };
}

/** Tool calls in the history that have no output. */
export function danglingCalls(history: HistoryItem[]): HistoryToolCall[] {
  const answered = new Set<string>();
  for (const item of history) {
    if (item.type === "function_call_output" || item.type === "custom_tool_call_output")
      answered.add(item.call_id);
  }
  return history.filter(isToolCall).filter((call) => !answered.has(call.call_id));
}
