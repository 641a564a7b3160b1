// What the thread object is called with and answers: shared by the object, the API node's client and
// a parent thread calling its sub-agents (each a thread object of its own).
import {
  ApprovalPolicy,
  HistoryItem,
  InputPart,
  SandboxMode,
  ThreadId,
  ThreadInfo,
  type ThreadItem,
  TurnId,
  type TurnStatus,
  type Usage,
} from "@kiln/protocol";
import { z } from "zod";

/** The Restate name of the thread object (ingress: `/KilnThread/{threadId}/runTurn`). */
export const THREAD_OBJECT = "KilnThread";

/** What `runTurn` is given. */
export const DurableTurnRequest = z.object({
  /** The thread's owner (the store scopes events by user). */
  userId: z.string().min(1),
  /** The turn's id, chosen by the caller so it can answer at once. */
  turnId: TurnId,
  /** The user's input. */
  input: z.union([z.string(), z.array(InputPart)]),
  /**
   * What the server adds to the thread beyond its settings (a task's attempt thread: its network,
   * instructions and the task tools, by name), sent with every turn: a worker opens the thread anew
   * for each turn.
   */
  extras: z
    .object({
      networkAccess: z.boolean().optional(),
      developerInstructions: z
        .string()
        .max(64 * 1024)
        .optional(),
      tools: z.array(z.enum(["make_pr"])).optional(),
    })
    .optional(),
  /** JSON Schema the turn's final message must match (the model is asked to fix it, then it fails). */
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  /** Settings of a new thread (ignored once the thread exists). */
  thread: z
    .object({
      cwd: z.string(),
      model: z.string().optional(),
      sandbox: SandboxMode.optional(),
      /** A sub-agent's: its parent's effective policy (default: never, nobody answers a worker). */
      approvalPolicy: ApprovalPolicy.optional(),
      /** A sub-agent's: the thread that spawned it. */
      parentThreadId: ThreadId.optional(),
      /** A sub-agent's: its depth in its tree (a root thread is 0). */
      depth: z.number().int().min(0).max(16).optional(),
    })
    .optional(),
});
export type DurableTurnRequest = z.infer<typeof DurableTurnRequest>;

/** What `runTurn` answers. */
export interface DurableTurnResult {
  turnId: string;
  status: TurnStatus;
  finalResponse: string;
  usage: Usage;
  /** The seq of the thread's last event after the turn. */
  lastSeq: number;
  error?: { code: string; message: string };
  /** The turn's completed items but the user's message (a parent shows its sub-agent's work). */
  items?: ThreadItem[];
}

/** What `replaceHistory` is given: a rollback an API node planned from the stored rollout lines. */
export const ReplaceHistoryRequest = z.object({
  userId: z.string().min(1),
  /** The history the model keeps. */
  history: z.array(HistoryItem),
  /** The `compacted` line's turn id (the first dropped turn: see core's `planRollback`). */
  lineTurnId: z.string().min(1),
  /** The thread's last rollout line the plan was made from: a thread that changed since is a 409. */
  expectLineSeq: z.number().int().min(0),
  /** The `warning` event that tells the thread's readers what was dropped. */
  warning: z.string(),
});
export type ReplaceHistoryRequest = z.infer<typeof ReplaceHistoryRequest>;

/** What `seedHistory` is given: a new thread (a fork) and the history it starts with. */
export const SeedHistoryRequest = z.object({
  userId: z.string().min(1),
  info: ThreadInfo,
  history: z.array(HistoryItem),
});
export type SeedHistoryRequest = z.infer<typeof SeedHistoryRequest>;
