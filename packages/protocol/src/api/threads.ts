// The native API's thread, turn and item shapes. Every request body is strict (an unknown field is a
// 400 that names it); responses reuse the protocol's schemas (ThreadInfo, ThreadItem, ErrorInfo …).

import { z } from "zod";
import { ErrorInfo } from "../errors.ts";
import { InputPart, ThreadItem } from "../items.ts";
import { ApprovalPolicy, CollaborationMode, SandboxMode } from "../policy.ts";
import { ThreadInfo } from "../thread.ts";

/** `POST /threads`. */
export const CreateThreadRequest = z.strictObject({
  /** A host directory under one of the server's workspace roots; omitted: a fresh git workspace. */
  cwd: z.string().min(1).max(4096).optional(),
  /** An environment (`env_…`): the thread works in a fresh copy of its prepared repository. */
  environmentId: z.string().min(1).max(200).optional(),
  model: z.string().min(1).max(200).optional(),
  sandbox: SandboxMode.optional(),
  approvalPolicy: ApprovalPolicy.optional(),
  mode: CollaborationMode.optional(),
  title: z.string().max(500).optional(),
});
export type CreateThreadRequest = z.infer<typeof CreateThreadRequest>;

/** `PATCH /threads/{id}`. */
export const UpdateThreadRequest = z.strictObject({
  title: z.string().max(500).optional(),
  archived: z.boolean().optional(),
});
export type UpdateThreadRequest = z.infer<typeof UpdateThreadRequest>;

/** `POST /threads/{id}/fork`. */
export const ForkThreadRequest = z.strictObject({
  /** Keep the history up to and including this turn (1-based); omitted: all of it. */
  atTurn: z.number().int().positive().optional(),
});
export type ForkThreadRequest = z.infer<typeof ForkThreadRequest>;

/** `POST /threads/{id}/rollback`. */
export const RollbackThreadRequest = z.strictObject({
  /** How many of the last turns to drop. */
  turns: z.number().int().positive(),
});

/** A prompt: text, or input parts. */
export const TurnInput = z.union([
  z
    .string()
    .min(1)
    .max(512 * 1024),
  z.array(InputPart).min(1).max(100),
]);
export type TurnInput = z.infer<typeof TurnInput>;

/** `POST /threads/{id}/turns`. */
export const StartTurnRequest = z.strictObject({
  input: TurnInput,
  /** JSON Schema the final message must match. */
  outputSchema: z.record(z.string(), z.unknown()).optional(),
});
export type StartTurnRequest = z.infer<typeof StartTurnRequest>;

/** `POST /threads/{id}/steer`. */
export const SteerRequest = z.strictObject({ input: TurnInput });

/** Where a turn is. */
export const ApiTurnStatus = z.enum([
  "queued",
  "running",
  "waitingForApproval",
  "completed",
  "failed",
  "interrupted",
]);
export type ApiTurnStatus = z.infer<typeof ApiTurnStatus>;

/** What a thread is doing. */
export const ThreadStatus = z.enum(["idle", "running", "waitingForApproval"]);
export type ThreadStatus = z.infer<typeof ThreadStatus>;

/** A turn as the API shows it. */
export const TurnResource = z.object({
  id: z.string(),
  threadId: z.string(),
  status: ApiTurnStatus,
  /** Unix ms. */
  startedAt: z.number(),
  updatedAt: z.number(),
  finishedAt: z.number().optional(),
  error: ErrorInfo.optional(),
});
export type TurnResource = z.infer<typeof TurnResource>;

/** A thread as the API shows it. */
export const ThreadResource = z.object({
  id: z.string(),
  title: z.string(),
  status: ThreadStatus,
  archived: z.boolean(),
  archivedAt: z.number().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** The seq of the thread's last event (0: none yet). */
  lastSeq: z.number().int().nonnegative(),
  /** The agent's settings (cwd, model, sandbox, policies …). */
  info: ThreadInfo,
  /** Its turns, oldest first (`GET /threads/{id}` only). */
  turns: z.array(TurnResource).optional(),
});
export type ThreadResource = z.infer<typeof ThreadResource>;

/** `GET /threads`. */
export const ThreadList = z.object({
  threads: z.array(ThreadResource),
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor: z.string().optional(),
});
export type ThreadList = z.infer<typeof ThreadList>;

/** `GET /threads` query. */
export const ThreadListQuery = z.strictObject({
  cursor: z.string().max(400).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  archived: z.enum(["true", "false"]).optional(),
  status: ThreadStatus.optional(),
  q: z.string().max(200).optional(),
});

/** `POST /threads/{id}/turns` (202). */
export const TurnAccepted = z.object({
  id: z.string(),
  turnId: z.string(),
  threadId: z.string(),
  status: ApiTurnStatus,
});
export type TurnAccepted = z.infer<typeof TurnAccepted>;

/** `POST /threads/{id}/steer` and `/interrupt` (202). */
export const TurnSignalAccepted = z.object({ threadId: z.string(), turnId: z.string() });
export type TurnSignalAccepted = z.infer<typeof TurnSignalAccepted>;

/** One completed item of a thread. */
export const ThreadItemEntry = z.object({
  /** The seq of its `item/completed` event. */
  seq: z.number().int().positive(),
  turnId: z.string().optional(),
  item: ThreadItem,
});

/** `GET /threads/{id}/items`. */
export const ThreadItemList = z.object({ items: z.array(ThreadItemEntry) });

/** `?after=SEQ` of the event streams. */
export const AfterSeq = z.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** A saved prompt of the server (`$KILN_HOME/prompts/NAME.md`): typed as `/NAME args…` in a prompt. */
export const SavedPrompt = z.object({
  name: z.string(),
  description: z.string().optional(),
  /** What to type after the name, e.g. `FILE=<path>`. */
  argumentHint: z.string().optional(),
});
export type SavedPrompt = z.infer<typeof SavedPrompt>;

/** `GET /prompts`. */
export const SavedPromptList = z.object({ prompts: z.array(SavedPrompt) });
export type SavedPromptList = z.infer<typeof SavedPromptList>;
