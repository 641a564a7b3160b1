// The rows of a task and its parts, read back into store records (STYLE 6: the disk is an edge).
import {
  AssistantTurn,
  AttemptStatus,
  ErrorInfo,
  InputPart,
  PublishedAttempt,
  TaskEvent,
  type TaskEventEnvelope,
} from "@kiln/protocol";
import { z } from "zod";
import type { StoredAssistantTurn, StoredAttempt, StoredTask, StoredUserTurn } from "../kiln-store.ts";
import { jsonText, optionalNumber, optionalString } from "../sql/rows.ts";

/** The columns `TaskRow` reads. */
export const TASK_COLUMNS = `id, user_id, environment_id, title, branch, best_of_n, status, base_commit, model,
  approval_policy, pre_apply_patch, prompt, archived_at, error, created_at, updated_at, last_seq`;

/** A `tasks` row. */
export const TaskRow = z
  .object({
    id: z.string(),
    user_id: z.string(),
    environment_id: z.string(),
    title: z.string(),
    branch: z.string(),
    best_of_n: z.number().int(),
    status: z.string(),
    base_commit: optionalString,
    model: optionalString,
    approval_policy: optionalString,
    pre_apply_patch: optionalString,
    prompt: z.string(),
    archived_at: optionalNumber,
    error: jsonText(ErrorInfo).nullable(),
    created_at: z.number(),
    updated_at: z.number(),
    last_seq: z.number(),
  })
  .transform(
    (r): StoredTask => ({
      id: r.id,
      userId: r.user_id,
      environmentId: r.environment_id,
      title: r.title,
      branch: r.branch,
      bestOfN: r.best_of_n,
      status: r.status,
      ...(r.base_commit === undefined ? {} : { baseCommit: r.base_commit }),
      ...(r.model === undefined ? {} : { model: r.model }),
      ...(r.approval_policy === undefined ? {} : { approvalPolicy: r.approval_policy }),
      ...(r.pre_apply_patch === undefined ? {} : { preApplyPatch: r.pre_apply_patch }),
      prompt: r.prompt,
      archived: r.archived_at !== undefined,
      ...(r.error === null ? {} : { error: r.error }),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      lastSeq: r.last_seq,
    }),
  );

/** The columns `AttemptRow` reads. */
export const ATTEMPT_COLUMNS =
  "id, task_id, attempt_index, thread_id, sandbox_id, status, published, created_at, updated_at";

/** An `attempts` row. */
export const AttemptRow = z
  .object({
    id: z.string(),
    task_id: z.string(),
    attempt_index: z.number().int(),
    thread_id: optionalString,
    sandbox_id: optionalString,
    status: z.string(),
    published: jsonText(PublishedAttempt).nullable(),
    created_at: z.number(),
    updated_at: z.number(),
  })
  .transform(
    (r): StoredAttempt => ({
      id: r.id,
      taskId: r.task_id,
      index: r.attempt_index,
      ...(r.thread_id === undefined ? {} : { threadId: r.thread_id }),
      ...(r.sandbox_id === undefined ? {} : { sandboxId: r.sandbox_id }),
      status: r.status,
      ...(r.published === null ? {} : { published: r.published }),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }),
  );

/** The columns `UserTurnRow` reads. */
export const USER_TURN_COLUMNS = "id, task_id, turn_index, input, attempt_ids, created_at";

/** A `user_turns` row. */
export const UserTurnRow = z
  .object({
    id: z.string(),
    task_id: z.string(),
    turn_index: z.number().int(),
    input: jsonText(z.array(InputPart)),
    attempt_ids: jsonText(z.array(z.string())),
    created_at: z.number(),
  })
  .transform(
    (r): StoredUserTurn => ({
      id: r.id,
      taskId: r.task_id,
      index: r.turn_index,
      input: r.input,
      attemptIds: r.attempt_ids,
      createdAt: r.created_at,
    }),
  );

/** What of a run is kept as one JSON text (the diff has a column of its own). */
export const RunResult = AssistantTurn.pick({
  message: true,
  diffStats: true,
  files: true,
  pr: true,
  usage: true,
  error: true,
});
export type RunResult = z.infer<typeof RunResult>;

/** The columns `AssistantTurnRow` reads. */
export const ASSISTANT_TURN_COLUMNS =
  "id, task_id, attempt_id, user_turn_id, status, result, diff, created_at, updated_at, finished_at";

/** An `assistant_turns` row. */
export const AssistantTurnRow = z
  .object({
    id: z.string(),
    task_id: z.string(),
    attempt_id: z.string(),
    user_turn_id: z.string(),
    status: AttemptStatus,
    result: jsonText(RunResult),
    diff: optionalString,
    created_at: z.number(),
    updated_at: z.number(),
    finished_at: optionalNumber,
  })
  .transform((r): StoredAssistantTurn => {
    const { message, diffStats, files, pr, usage, error } = r.result;
    return {
      id: r.id,
      taskId: r.task_id,
      attemptId: r.attempt_id,
      userTurnId: r.user_turn_id,
      status: r.status,
      ...(message === undefined ? {} : { message }),
      ...(r.diff === undefined ? {} : { diff: r.diff }),
      ...(diffStats === undefined ? {} : { diffStats }),
      ...(files === undefined ? {} : { files }),
      ...(pr === undefined ? {} : { pr }),
      ...(usage === undefined ? {} : { usage }),
      ...(error === undefined ? {} : { error }),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      ...(r.finished_at === undefined ? {} : { finishedAt: r.finished_at }),
    };
  });

/** A `task_events` row. */
export const TaskEventRow = z
  .object({
    task_id: z.string(),
    seq: z.number().int().positive(),
    at: z.number(),
    event: jsonText(TaskEvent),
  })
  .transform((r): TaskEventEnvelope => ({ seq: r.seq, taskId: r.task_id, at: r.at, event: r.event }));
