import { z } from "zod";
import { ErrorInfo } from "./errors.ts";
import { ThreadItem } from "./items.ts";
import { ThreadInfo, TurnStatus } from "./thread.ts";
import { Usage } from "./usage.ts";

/**
 * Everything that happens in a thread, in order. Items go `item/started` → deltas → `item/completed`
 * (authoritative); a turn goes `turn/started` → … → `turn/completed`.
 */
export const ThreadEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("thread/started"), thread: ThreadInfo }),
  z.object({ type: z.literal("turn/started"), turnId: z.string() }),
  z.object({ type: z.literal("item/started"), item: ThreadItem }),
  z.object({ type: z.literal("item/updated"), item: ThreadItem }),
  z.object({ type: z.literal("item/completed"), item: ThreadItem }),
  z.object({ type: z.literal("item/agentMessage/delta"), itemId: z.string(), delta: z.string() }),
  z.object({ type: z.literal("item/reasoning/delta"), itemId: z.string(), delta: z.string() }),
  z.object({ type: z.literal("item/commandExecution/outputDelta"), itemId: z.string(), delta: z.string() }),
  /** Usage of one model call, and the running total of the turn. */
  z.object({
    type: z.literal("usage/updated"),
    call: Usage,
    turn: Usage,
    /** Cost in US dollars, when the model has a price. */
    cost: z.object({ callUsd: z.number(), turnUsd: z.number(), threadUsd: z.number() }).optional(),
  }),
  /** A transient model error being retried ("Reconnecting… 2/5"); items started since the call began are void. */
  z.object({
    type: z.literal("model/retrying"),
    attempt: z.number().int(),
    maxAttempts: z.number().int(),
    delayMs: z.number(),
    error: ErrorInfo,
  }),
  /** An item completed in a sub-agent's thread (so the parent's stream shows its children's work). */
  z.object({ type: z.literal("subAgent/item"), childThreadId: z.string(), item: ThreadItem }),
  /** A sub-agent's turn ended. */
  z.object({
    type: z.literal("subAgent/turnCompleted"),
    childThreadId: z.string(),
    status: TurnStatus,
    usage: Usage,
    finalResponse: z.string(),
  }),
  /** Something the user should know that does not stop the turn. */
  z.object({ type: z.literal("warning"), message: z.string() }),
  z.object({
    type: z.literal("turn/completed"),
    turnId: z.string(),
    status: TurnStatus,
    usage: Usage,
    error: ErrorInfo.optional(),
  }),
]);
export type ThreadEvent = z.infer<typeof ThreadEvent>;
export type ThreadEventType = ThreadEvent["type"];

/** An event with its place in the thread. `seq` is per thread, starts at 1, and has no gaps. */
export const EventEnvelope = z.object({
  seq: z.number().int().positive(),
  threadId: z.string(),
  turnId: z.string().optional(),
  /** Unix ms. */
  at: z.number(),
  event: ThreadEvent,
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;
