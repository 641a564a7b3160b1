// Tasks: a prompt run against an environment as best-of-N independent attempts. Each attempt has its
// own workspace, sandbox and thread; each of its runs (one per user turn it answered) is an
// "assistant turn" whose id is the thread turn's id.
import { z } from "zod";
import { ErrorInfo } from "../errors.ts";
import { InputPart } from "../items.ts";
import { ApprovalPolicy } from "../policy.ts";
import { Usage } from "../usage.ts";
import { TurnInput } from "./threads.ts";

/** A task's status: the aggregate of its attempts' latest runs. */
export const TaskStatus = z.enum(["queued", "provisioning", "running", "completed", "failed", "cancelled"]);
export type TaskStatus = z.infer<typeof TaskStatus>;

/** One attempt's (or one assistant turn's) status. */
export const AttemptStatus = z.enum([
  "queued",
  "provisioning",
  "running",
  "completed",
  "failed",
  "cancelled",
]);
export type AttemptStatus = z.infer<typeof AttemptStatus>;

/** Lines changed, as `git diff --numstat` counts them. */
export const DiffStats = z.object({
  filesModified: z.number(),
  linesAdded: z.number(),
  linesRemoved: z.number(),
});
export type DiffStats = z.infer<typeof DiffStats>;

/** One file a diff changes. */
export const ChangedFile = z.object({
  path: z.string(),
  kind: z.enum(["added", "modified", "deleted", "renamed"]),
  /** For a rename: where it came from. */
  oldPath: z.string().optional(),
  additions: z.number(),
  deletions: z.number(),
  binary: z.boolean(),
});
export type ChangedFile = z.infer<typeof ChangedFile>;

/** A pull request's title and body: what the model gave `make_pr`, else the task's title and the final message. */
export const PullRequestText = z.object({ title: z.string(), body: z.string() });
export type PullRequestText = z.infer<typeof PullRequestText>;

/** Where an attempt was published. */
export const PublishedAttempt = z.object({
  branch: z.string(),
  commit: z.string(),
  /** The pull (merge) request, when a forge is configured. */
  pullRequest: z.object({ url: z.string(), number: z.number(), state: z.string().optional() }).optional(),
  publishedAt: z.number(),
});
export type PublishedAttempt = z.infer<typeof PublishedAttempt>;

/** One run of an attempt: the answer to one user turn. */
export const AssistantTurn = z.object({
  /** The attempt thread's turn id. */
  id: z.string(),
  attemptId: z.string(),
  /** The user turn it answers. */
  userTurnId: z.string(),
  status: AttemptStatus,
  /** The agent's final message (partial while running). */
  message: z.string().optional(),
  /** Unified git diff of the whole workspace against the task's base commit, after this run. */
  diff: z.string().optional(),
  diffStats: DiffStats.optional(),
  files: z.array(ChangedFile).optional(),
  pr: PullRequestText.optional(),
  usage: Usage.optional(),
  error: ErrorInfo.optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  finishedAt: z.number().optional(),
});
export type AssistantTurn = z.infer<typeof AssistantTurn>;

/** A prompt given to the task (the first one, then follow-ups). */
export const UserTurn = z.object({
  id: z.string(),
  /** 0 for the task's prompt, then 1, 2 … for follow-ups. */
  index: z.number(),
  input: z.array(InputPart),
  /** The attempts that answer it (all of them for the first prompt; one for a follow-up). */
  attemptIds: z.array(z.string()),
  createdAt: z.number(),
});
export type UserTurn = z.infer<typeof UserTurn>;

/** One of a task's independent attempts. Its result fields are those of its latest run. */
export const Attempt = z.object({
  id: z.string(),
  /** 0-based position among the task's attempts. */
  index: z.number(),
  threadId: z.string(),
  sandboxId: z.string(),
  status: AttemptStatus,
  message: z.string().optional(),
  diff: z.string().optional(),
  diffStats: DiffStats.optional(),
  files: z.array(ChangedFile).optional(),
  pr: PullRequestText.optional(),
  usage: Usage.optional(),
  error: ErrorInfo.optional(),
  published: PublishedAttempt.optional(),
  /** Its runs, oldest first. */
  turns: z.array(AssistantTurn),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type Attempt = z.infer<typeof Attempt>;

/** A task with its attempts. */
export const Task = z.object({
  id: z.string(),
  title: z.string(),
  environmentId: z.string(),
  environmentName: z.string(),
  branch: z.string(),
  bestOfN: z.number(),
  status: TaskStatus,
  /** The commit every attempt starts from (known once the environment is prepared). */
  baseCommit: z.string().optional(),
  archived: z.boolean(),
  userTurns: z.array(UserTurn),
  attempts: z.array(Attempt),
  error: ErrorInfo.optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** The seq of its last task event. */
  lastSeq: z.number(),
});
export type Task = z.infer<typeof Task>;

/** A task as listed (attempts without diffs and turns). */
export const TaskSummary = Task.omit({ attempts: true, userTurns: true }).extend({
  attempts: z.array(
    Attempt.omit({ diff: true, files: true, turns: true, message: true }).extend({
      message: z.string().max(500).optional(),
    }),
  ),
  prompt: z.string(),
});
export type TaskSummary = z.infer<typeof TaskSummary>;

/** `POST /tasks`. */
export const CreateTaskRequest = z.strictObject({
  environmentId: z.string().min(1).max(200),
  prompt: TurnInput,
  /** Default: the environment's branch. */
  branch: z.string().min(1).max(200).optional(),
  bestOfN: z.number().int().min(1).max(4).default(1),
  title: z.string().max(500).optional(),
  model: z.string().min(1).max(200).optional(),
  /** Default `never`: attempts run on their own inside their sandboxes. */
  approvalPolicy: ApprovalPolicy.optional(),
  /** A diff applied to every attempt's workspace before the agent starts. */
  preApplyPatch: z
    .string()
    .max(16 * 1024 * 1024)
    .optional(),
});
export type CreateTaskRequest = z.infer<typeof CreateTaskRequest>;

/** `POST /tasks/{id}/turns`: a follow-up prompt, continuing one attempt in its workspace. */
export const FollowUpRequest = z.strictObject({
  prompt: TurnInput,
  /** Default: the task's first attempt that completed, else attempt 0. */
  attemptId: z.string().min(1).max(200).optional(),
});
export type FollowUpRequest = z.infer<typeof FollowUpRequest>;

/** `POST /tasks/{id}/turns` → the new user turn and the run answering it. */
export const FollowUpAccepted = z.object({
  userTurnId: z.string(),
  turnId: z.string(),
  attemptId: z.string(),
});
export type FollowUpAccepted = z.infer<typeof FollowUpAccepted>;

/** `PATCH /tasks/{id}`. */
export const UpdateTaskRequest = z.strictObject({
  title: z.string().max(500).optional(),
  archived: z.boolean().optional(),
});
export type UpdateTaskRequest = z.infer<typeof UpdateTaskRequest>;

/** `GET /tasks` query. */
export const TaskListQuery = z.object({
  status: TaskStatus.optional(),
  environmentId: z.string().max(200).optional(),
  archived: z.enum(["true", "false"]).optional(),
  search: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  cursor: z.string().max(500).optional(),
});
export type TaskListQuery = z.infer<typeof TaskListQuery>;

/** `GET /tasks`. */
export const TaskList = z.object({ tasks: z.array(TaskSummary), nextCursor: z.string().optional() });
export type TaskList = z.infer<typeof TaskList>;

/** `POST /tasks/{id}/attempts/{attemptId}/publish`. */
export const PublishRequest = z.strictObject({
  /** Default: `kiln/<task id>-<attempt index>`. */
  branch: z.string().min(1).max(200).optional(),
  draft: z.boolean().optional(),
});
export type PublishRequest = z.infer<typeof PublishRequest>;

/** A phase of preparing a task's environment. */
export const ProvisionPhase = z.enum(["clone", "setup", "ready"]);
export type ProvisionPhase = z.infer<typeof ProvisionPhase>;

/** What happens to a task, in order (attempts' agent events are on their threads' streams). */
export const TaskEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("task/status"), status: TaskStatus, error: ErrorInfo.optional() }),
  z.object({
    type: z.literal("environment/phase"),
    phase: ProvisionPhase,
    status: z.enum(["started", "completed", "skipped", "failed"]),
    /** The prepared environment's cache key (setup is skipped when it is already cached). */
    cacheKey: z.string().optional(),
    baseCommit: z.string().optional(),
    durationMs: z.number().optional(),
    error: ErrorInfo.optional(),
  }),
  z.object({ type: z.literal("environment/log"), phase: ProvisionPhase, text: z.string() }),
  z.object({ type: z.literal("userTurn/created"), userTurn: UserTurn }),
  z.object({
    type: z.literal("attempt/status"),
    attemptId: z.string(),
    turnId: z.string().optional(),
    status: AttemptStatus,
    error: ErrorInfo.optional(),
  }),
  z.object({
    type: z.literal("attempt/result"),
    attemptId: z.string(),
    turnId: z.string(),
    diffStats: DiffStats,
    pr: PullRequestText.optional(),
  }),
  z.object({ type: z.literal("attempt/published"), attemptId: z.string(), published: PublishedAttempt }),
]);
export type TaskEvent = z.infer<typeof TaskEvent>;

/** A task event with its place in the task's stream. */
export const TaskEventEnvelope = z.object({
  seq: z.number(),
  taskId: z.string(),
  at: z.number(),
  event: TaskEvent,
});
export type TaskEventEnvelope = z.infer<typeof TaskEventEnvelope>;
