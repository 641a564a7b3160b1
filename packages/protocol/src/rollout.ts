import { z } from "zod";
import { EventEnvelope } from "./events.ts";
import { HistoryItem } from "./history.ts";
import { ApprovalPolicy, CollaborationMode, SandboxMode } from "./policy.ts";
import { ThreadInfo } from "./thread.ts";

/** Rollout format version written by this Kiln. */
export const ROLLOUT_VERSION = 1;

/** Settings a turn ran with (recorded so a resumed turn runs with the same ones). */
export const TurnContext = z.object({
  turnId: z.string(),
  model: z.string(),
  modelProvider: z.string(),
  sandbox: SandboxMode,
  approvalPolicy: ApprovalPolicy,
  mode: CollaborationMode,
  cwd: z.string(),
});
export type TurnContext = z.infer<typeof TurnContext>;

const line = <K extends string, P extends z.ZodType>(kind: K, payload: P) =>
  z.object({
    /** Format version. */
    v: z.literal(ROLLOUT_VERSION),
    /** Line number in the file, from 1. */
    seq: z.number().int().positive(),
    /** Unix ms. */
    at: z.number(),
    kind: z.literal(kind),
    payload,
  });

/**
 * One line of a thread's append-only JSONL rollout. `thread` opens the file; `history` lines are the
 * model's context (a `compacted` line replaces all history before it); `event` lines are the thread's
 * event stream, so a resumed stream continues at the next `seq`.
 */
export const RolloutLine = z.discriminatedUnion("kind", [
  line("thread", ThreadInfo),
  line("turn_context", TurnContext),
  line("history", z.object({ turnId: z.string(), item: HistoryItem })),
  line("compacted", z.object({ turnId: z.string(), history: z.array(HistoryItem) })),
  line("event", EventEnvelope),
]);
export type RolloutLine = z.infer<typeof RolloutLine>;
export type RolloutKind = RolloutLine["kind"];
