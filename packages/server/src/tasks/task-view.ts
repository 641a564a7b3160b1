// Stored task records → the API's Task, TaskSummary and Environment. An attempt's result fields are
// those of its latest run (assistant turn).
import {
  type Attempt,
  type AttemptStatus,
  AttemptStatus as AttemptStatusSchema,
  type Environment,
  type SandboxResource,
  type Task,
  type TaskStatus,
  TaskStatus as TaskStatusSchema,
  type TaskSummary,
} from "@kiln/protocol";
import type {
  StoredAssistantTurn,
  StoredAttempt,
  StoredEnvironment,
  StoredSandbox,
  StoredTask,
  StoredUserTurn,
} from "@kiln/store";

/** Everything stored about one task. */
export interface TaskRecords {
  task: StoredTask;
  environment: StoredEnvironment | undefined;
  attempts: StoredAttempt[];
  userTurns: StoredUserTurn[];
  runs: StoredAssistantTurn[];
}

const taskStatus = (s: string): TaskStatus => TaskStatusSchema.safeParse(s).data ?? "queued";
const attemptStatus = (s: string): AttemptStatus => AttemptStatusSchema.safeParse(s).data ?? "queued";

/** The API's view of an environment (no secret values, only names). */
export function environmentView(
  env: StoredEnvironment,
  secretNames: string[],
  hasForgeToken: boolean,
): Environment {
  return {
    id: env.id,
    name: env.name,
    repository: env.repository,
    branch: env.branch,
    setupScript: env.setupScript,
    env: env.env,
    secretNames: secretNames.filter((n) => n !== FORGE_TOKEN_SECRET),
    network: env.network,
    ...(env.template === undefined ? {} : { template: env.template }),
    setupTimeoutMs: env.setupTimeoutMs,
    pinned: env.pinned,
    ...(env.forge === undefined ? {} : { forge: { ...env.forge, hasToken: hasForgeToken } }),
    taskCount: env.taskCount,
    createdAt: env.createdAt,
    updatedAt: env.updatedAt,
  };
}

/** The environment secret holding the forge token. */
export const FORGE_TOKEN_SECRET = "FORGE_TOKEN";

function attemptView(attempt: StoredAttempt, runs: StoredAssistantTurn[]): Attempt {
  const own = runs.filter((r) => r.attemptId === attempt.id);
  const latest = own.at(-1);
  return {
    id: attempt.id,
    index: attempt.index,
    threadId: attempt.threadId ?? "",
    sandboxId: attempt.sandboxId ?? "",
    status: attemptStatus(attempt.status),
    ...(latest?.message === undefined ? {} : { message: latest.message }),
    ...(latest?.diff === undefined ? {} : { diff: latest.diff }),
    ...(latest?.diffStats === undefined ? {} : { diffStats: latest.diffStats }),
    ...(latest?.files === undefined ? {} : { files: latest.files }),
    ...(latest?.pr === undefined ? {} : { pr: latest.pr }),
    ...(latest?.usage === undefined ? {} : { usage: latest.usage }),
    ...(latest?.error === undefined ? {} : { error: latest.error }),
    ...(attempt.published === undefined ? {} : { published: attempt.published }),
    turns: own.map(({ taskId: _t, ...run }) => run),
    createdAt: attempt.createdAt,
    updatedAt: Math.max(attempt.updatedAt, latest?.updatedAt ?? 0),
  };
}

/** The full task. */
export function taskView(r: TaskRecords): Task {
  const { task } = r;
  return {
    id: task.id,
    title: task.title,
    environmentId: task.environmentId,
    environmentName: r.environment?.name ?? "",
    branch: task.branch,
    bestOfN: task.bestOfN,
    status: taskStatus(task.status),
    ...(task.baseCommit === undefined ? {} : { baseCommit: task.baseCommit }),
    archived: task.archived,
    userTurns: r.userTurns.map(({ taskId: _t, ...turn }) => turn),
    attempts: r.attempts.map((a) => attemptView(a, r.runs)),
    ...(task.error === undefined ? {} : { error: task.error }),
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
    lastSeq: task.lastSeq,
  };
}

/** A task as listed: attempts without diffs, files and runs. */
export function taskSummaryView(r: TaskRecords): TaskSummary {
  const full = taskView(r);
  const { attempts, userTurns: _u, ...rest } = full;
  return {
    ...rest,
    prompt: task500(r.task.prompt),
    attempts: attempts.map(({ diff: _d, files: _f, turns: _t, message, ...a }) => ({
      ...a,
      ...(message === undefined ? {} : { message: task500(message) }),
    })),
  };
}

const task500 = (text: string) => (text.length <= 500 ? text : `${text.slice(0, 499)}…`);

/** A task's status from its attempts' statuses (cancelled stays cancelled). */
export function aggregateStatus(current: string, attempts: readonly { status: string }[]): TaskStatus {
  if (current === "cancelled") return "cancelled";
  const statuses = attempts.map((a) => attemptStatus(a.status));
  if (statuses.some((s) => s === "running")) return "running";
  if (statuses.some((s) => s === "provisioning")) return "provisioning";
  if (statuses.some((s) => s === "queued")) return current === "provisioning" ? "provisioning" : "queued";
  if (statuses.some((s) => s === "completed")) return "completed";
  if (statuses.every((s) => s === "cancelled")) return "cancelled";
  return "failed";
}

/** A stored sandbox as the API shows it. */
export function sandboxResource(sandbox: StoredSandbox): SandboxResource {
  return {
    id: sandbox.id,
    ...(sandbox.taskId === undefined ? {} : { taskId: sandbox.taskId }),
    ...(sandbox.attemptId === undefined ? {} : { attemptId: sandbox.attemptId }),
    ...(sandbox.threadId === undefined ? {} : { threadId: sandbox.threadId }),
    state: sandbox.state === "running" ? "running" : "stopped",
    workspace: sandbox.workspace,
    network: sandbox.network,
    createdAt: sandbox.createdAt,
    lastActiveAt: sandbox.lastActiveAt,
  };
}
