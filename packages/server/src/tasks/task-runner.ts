// Runs tasks in the background. Sequence of a task:
//   1. prepare the environment (clone → setup → ready, or `skipped` when the prepared tree is cached),
//      each phase and the setup's output stored as task events;
//   2. per attempt, concurrently: copy the prepared tree into the attempt's workspace
//      (`<dataDir>/tasks/<task>/<attempt>`), apply the pre-apply patch, record its sandbox, start its
//      thread (workspace-write, the environment's network, the `make_pr` tool) and its first run;
//   3. when a run's `turn/completed` arrives: diff the workspace against the base commit, take the final
//      message and the PR text, store the run, and bring attempt and task statuses up to date.
// Every step is recorded in the store, so `resumeAll` at start-up picks up where a killed process
// stopped: runs whose turn the executor resumes are awaited again, attempts that had not started yet
// are prepared again (the environment cache makes that cheap).
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createMakePrTool, type PullRequestDraft, pullRequestDraftOf } from "@kiln/core";
import {
  type AttemptStatus,
  type ErrorInfo,
  emptyUsage,
  type InputPart,
  KilnError,
  newId,
  type TaskEvent,
  type ThreadEvent,
  toErrorInfo,
} from "@kiln/protocol";
import {
  applyDiffToWorkspace,
  copyWorkspace,
  prepareEnvironment,
  type SandboxProvider,
  workspaceDiff,
} from "@kiln/sandbox";
import type {
  KilnStore,
  StoredAssistantTurn,
  StoredAttempt,
  StoredEnvironment,
  StoredTask,
} from "@kiln/store";
import { secretScope } from "@kiln/store";
import type { Logger } from "pino";
import type { EventHub } from "../events/event-hub.ts";
import type { ThreadExtras, TurnExecutor } from "../executor/turn-executor.ts";
import type { UserSecrets } from "../secrets/index.ts";
import type { TaskEventHub } from "./task-event-hub.ts";
import { aggregateStatus, FORGE_TOKEN_SECRET } from "./task-view.ts";

/** What the runner needs. */
export interface TaskRunnerDeps {
  store: KilnStore;
  executor: TurnExecutor;
  hub: EventHub;
  taskHub: TaskEventHub;
  secrets: UserSecrets;
  /** Runs setup scripts (bwrap). */
  provider: SandboxProvider;
  dataDir: string;
  logger: Logger;
  now: () => number;
}

/** The developer instructions of every attempt's thread: how a task's work is handed over. */
const TASK_INSTRUCTIONS = `# Kiln task
You work on a task in this repository's working tree, on your own: nobody answers questions while you work.
Make the change in the working tree and do not commit (.git is read-only); Kiln turns your changes into a diff.
Check your work (run the tests when the repository has them). When the work is complete, call \`make_pr\`
with a pull request title and body, then answer with a short summary of what you did.`;

type TurnEnd = Extract<ThreadEvent, { type: "turn/completed" }>;

/** The background side of the task service. */
export class TaskRunner {
  private readonly provisioning = new Map<string, AbortController>();
  private readonly work = new Set<Promise<unknown>>();

  constructor(private readonly d: TaskRunnerDeps) {
    d.executor.addExtrasProvider(async (thread) => {
      const match = this.attemptOfWorkspace(thread.info.cwd);
      if (match !== undefined) {
        const task = await d.store.tasks.getUnscoped(match.taskId);
        return task === undefined ? undefined : this.threadExtras(task, thread.info.cwd);
      }
      const envId = this.environmentOfWorkspace(thread.info.cwd);
      if (envId === undefined) return undefined;
      const env = await d.store.environments.get(thread.userId, envId);
      return { workspace: thread.info.cwd, networkAccess: env?.network === "on" };
    });
  }

  /** Prepares an environment (cached) and copies it to `workspace` (a chat thread's). */
  async prepareCopy(env: StoredEnvironment, branch: string, workspace: string): Promise<void> {
    const prepared = await prepareEnvironment({
      repository: env.repository,
      branch,
      setupScript: env.setupScript,
      env: env.env,
      secrets: await this.environmentSecrets(env.id),
      setupTimeoutMs: env.setupTimeoutMs,
      cacheDir: join(this.d.dataDir, "env-cache"),
      provider: this.d.provider,
    });
    await copyWorkspace(prepared.dir, workspace);
  }

  /** The workspace of an attempt. */
  workspaceOf(taskId: string, attemptId: string): string {
    return join(this.d.dataDir, "tasks", taskId, attemptId);
  }

  /** Starts a stored task in the background. */
  start(taskId: string): void {
    this.track(this.run(taskId));
  }

  /** Waits for background work (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  /** Appends task events and publishes them. */
  async emit(taskId: string, events: TaskEvent[]): Promise<void> {
    const at = this.d.now();
    const stored = await this.d.store.tasks.appendEvents(
      taskId,
      events.map((event) => ({ at, event })),
    );
    this.d.taskHub.publish(stored);
  }

  /** Interrupts a task: provisioning stops, running attempts are interrupted, queued ones cancelled. */
  async cancel(task: StoredTask): Promise<void> {
    const { store, now } = this.d;
    await store.tasks.update(task.id, { status: "cancelled" }, now());
    this.provisioning.get(task.id)?.abort(new KilnError("turn_interrupted", "the task was cancelled"));
    for (const attempt of await store.tasks.attempts(task.id)) {
      if (attempt.status === "running" && attempt.threadId !== undefined) {
        await this.d.executor
          .interrupt({ userId: task.userId, threadId: attempt.threadId })
          .catch(() => undefined);
      } else if (attempt.status === "queued" || attempt.status === "provisioning") {
        await this.setAttemptStatus(task.id, attempt.id, "cancelled");
      }
    }
    await this.emit(task.id, [{ type: "task/status", status: "cancelled" }]);
  }

  /** Runs a follow-up prompt on one attempt (its thread must be idle). */
  async followUp(
    task: StoredTask,
    attempt: StoredAttempt,
    input: InputPart[],
  ): Promise<{ userTurnId: string; turnId: string }> {
    const { store, now } = this.d;
    if (attempt.threadId === undefined) {
      throw new KilnError(
        "conflict",
        `attempt ${attempt.index} has not started yet: wait for it, then follow up`,
      );
    }
    const index = (await store.tasks.userTurns(task.id)).length;
    const userTurn = await store.tasks.addUserTurn(
      { id: newId("turn"), taskId: task.id, index, input, attemptIds: [attempt.id] },
      now(),
    );
    await this.emit(task.id, [{ type: "userTurn/created", userTurn: { ...userTurn } }]);
    const turnId = await this.startRun(task, attempt.id, attempt.threadId, userTurn.id, input);
    if (task.status !== "running") {
      await store.tasks.update(task.id, { status: "running" }, now());
      await this.emit(task.id, [{ type: "task/status", status: "running" }]);
    }
    return { userTurnId: userTurn.id, turnId };
  }

  /** Continues every task a previous process left unfinished. Call before the executor resumes turns. */
  async resumeAll(): Promise<void> {
    const { store, logger } = this.d;
    for (const task of await store.tasks.listByStatus(["queued", "provisioning", "running"])) {
      try {
        const attempts = await store.tasks.attempts(task.id);
        const runs = await store.tasks.assistantTurns(task.id);
        const fresh = attempts.filter((a) => a.threadId === undefined && !isFinal(a.status));
        for (const attempt of attempts) {
          const run = runs.filter((r) => r.attemptId === attempt.id).at(-1);
          if (attempt.threadId === undefined || run === undefined || run.status !== "running") continue;
          this.track(this.awaitRun(task, attempt.id, attempt.threadId, run));
        }
        if (fresh.length > 0) this.track(this.run(task.id, new Set(fresh.map((a) => a.id))));
        else if (attempts.every((a) => isFinal(a.status))) await this.refreshStatus(task.id);
      } catch (error) {
        logger.error({ err: error, taskId: task.id }, "could not resume a task");
      }
    }
  }

  private track(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => this.d.logger.error({ err: error }, "task work failed"));
    this.work.add(tracked);
    void tracked.finally(() => this.work.delete(tracked));
  }

  /** Prepares the environment and starts the attempts (`only`: a subset, when resuming). */
  private async run(taskId: string, only?: Set<string>): Promise<void> {
    const { store, now } = this.d;
    const task = await store.tasks.getUnscoped(taskId);
    if (task === undefined || task.status === "cancelled") return;
    const attempts = (await store.tasks.attempts(taskId)).filter((a) => only === undefined || only.has(a.id));
    const env = await store.environments.get(task.userId, task.environmentId);
    const abort = new AbortController();
    this.provisioning.set(taskId, abort);
    try {
      if (env === undefined)
        throw new KilnError("not_found", `the environment ${task.environmentId} was deleted`);
      await store.tasks.update(taskId, { status: "provisioning" }, now());
      await this.emit(taskId, [{ type: "task/status", status: "provisioning" }]);
      for (const attempt of attempts) await this.setAttemptStatus(taskId, attempt.id, "provisioning", false);
      const secrets = await this.environmentSecrets(env.id);
      const prepared = await prepareEnvironment({
        repository: env.repository,
        branch: task.branch,
        setupScript: env.setupScript,
        env: env.env,
        secrets,
        setupTimeoutMs: env.setupTimeoutMs,
        cacheDir: join(this.d.dataDir, "env-cache"),
        provider: this.d.provider,
        signal: abort.signal,
        onEvent: (event) => {
          const taskEvent: TaskEvent =
            event.type === "log"
              ? { type: "environment/log", phase: event.phase, text: event.text }
              : { ...event, type: "environment/phase" };
          this.track(this.emit(taskId, [taskEvent]));
        },
      });
      await store.tasks.update(taskId, { baseCommit: prepared.baseCommit }, now());
      const userTurn = (await store.tasks.userTurns(taskId))[0];
      if (userTurn === undefined) throw new KilnError("internal", `task ${taskId} has no prompt`);
      const started = { ...task, baseCommit: prepared.baseCommit };
      await Promise.all(
        attempts.map((attempt) =>
          this.startAttempt(started, attempt, prepared.dir, userTurn.id, userTurn.input).catch(
            (error: unknown) => this.failAttempt(taskId, attempt.id, toErrorInfo(error)),
          ),
        ),
      );
    } catch (error) {
      const info = toErrorInfo(error);
      for (const attempt of attempts) await this.failAttempt(taskId, attempt.id, info);
      await store.tasks.update(taskId, { error: info }, now());
      await this.refreshStatus(taskId, info);
    } finally {
      this.provisioning.delete(taskId);
    }
  }

  private async startAttempt(
    task: StoredTask,
    attempt: StoredAttempt,
    prepared: string,
    userTurnId: string,
    input: InputPart[],
  ): Promise<void> {
    const { store, now, executor } = this.d;
    const workspace = this.workspaceOf(task.id, attempt.id);
    await rm(workspace, { recursive: true, force: true });
    await copyWorkspace(prepared, workspace);
    if (task.preApplyPatch !== undefined && task.preApplyPatch.trim() !== "") {
      await applyDiffToWorkspace(workspace, task.preApplyPatch);
    }
    const current = await store.tasks.getUnscoped(task.id);
    if (current?.status === "cancelled") {
      await this.setAttemptStatus(task.id, attempt.id, "cancelled");
      return;
    }
    const user = await store.users.get(task.userId);
    const extras = await this.threadExtras(task, workspace);
    const thread = await executor.createThread(
      { id: task.userId, role: user?.role ?? "user" },
      {
        sandbox: "workspace-write",
        approvalPolicy: (task.approvalPolicy as "never" | undefined) ?? "never",
        title: task.bestOfN > 1 ? `${task.title} (attempt ${attempt.index + 1})` : task.title,
        ...(task.model === undefined ? {} : { model: task.model }),
      },
      extras,
    );
    const sandboxId = newId("sbx");
    await store.sandboxes.create({
      id: sandboxId,
      userId: task.userId,
      taskId: task.id,
      attemptId: attempt.id,
      threadId: thread.id,
      workspace,
      network: extras.networkAccess === true ? "on" : "off",
      state: "stopped",
      createdAt: now(),
      now: now(),
    });
    await store.tasks.updateAttempt(attempt.id, { threadId: thread.id, sandboxId }, now());
    await this.startRun(task, attempt.id, thread.id, userTurnId, input);
  }

  /** Starts a run on an attempt's thread and awaits its end in the background. */
  private async startRun(
    task: StoredTask,
    attemptId: string,
    threadId: string,
    userTurnId: string,
    input: InputPart[],
  ): Promise<string> {
    const { store, executor, now } = this.d;
    const ended = new Map<string, TurnEnd>();
    const stop = this.d.hub.subscribe(threadId, (envelope) => {
      if (envelope.event.type === "turn/completed") ended.set(envelope.event.turnId, envelope.event);
    });
    try {
      const turnId = await executor.startTurn({ userId: task.userId, threadId }, { input });
      const at = now();
      const run: StoredAssistantTurn = {
        id: turnId,
        taskId: task.id,
        attemptId,
        userTurnId,
        status: "running",
        createdAt: at,
        updatedAt: at,
      };
      await store.tasks.putAssistantTurn(run);
      await this.setAttemptStatus(task.id, attemptId, "running", true, turnId);
      this.track(this.awaitRun(task, attemptId, threadId, run, ended, stop));
      return turnId;
    } catch (error) {
      stop();
      throw error;
    }
  }

  /** Waits for a run's turn to end (it may have ended already), then records its result. */
  private async awaitRun(
    task: StoredTask,
    attemptId: string,
    threadId: string,
    run: StoredAssistantTurn,
    seen = new Map<string, TurnEnd>(),
    stopSeen?: () => void,
  ): Promise<void> {
    const end = await new Promise<TurnEnd | undefined>((resolve) => {
      // One way out, whichever comes first; it removes every listener it added.
      const finish = (value: TurnEnd | undefined) => {
        stop();
        this.d.hub.signal.removeEventListener("abort", onClose);
        resolve(value);
      };
      const onClose = () => finish(undefined);
      const stop = this.d.hub.subscribe(threadId, (envelope) => {
        if (envelope.event.type === "turn/completed" && envelope.event.turnId === run.id)
          finish(envelope.event);
      });
      stopSeen?.();
      const early = seen.get(run.id);
      if (early !== undefined) {
        finish(early);
        return;
      }
      this.d.hub.signal.addEventListener("abort", onClose, { once: true });
      // Ended before we listened (a previous process, or a fast turn): read it from the store.
      void this.storedEnd(task.userId, threadId, run.id).then((stored) => {
        if (stored !== undefined) finish(stored);
      });
    });
    if (end === undefined) return; // shutting down: the next start resumes it
    await this.finishRun(task, attemptId, threadId, run, end);
  }

  private async storedEnd(userId: string, threadId: string, turnId: string): Promise<TurnEnd | undefined> {
    const turns = (await this.d.store.turns.listByThread({ userId, threadId })) ?? [];
    const turn = turns.find((t) => t.id === turnId);
    if (turn?.finishedAt === undefined) return undefined;
    const found = await this.findEvents(
      userId,
      threadId,
      (e) => e.type === "turn/completed" && e.turnId === turnId,
    );
    const event = found.at(-1);
    if (event?.type === "turn/completed") return event;
    return {
      type: "turn/completed",
      turnId,
      status: turn.status === "completed" ? "completed" : turn.status === "failed" ? "failed" : "interrupted",
      usage: emptyUsage(),
      ...(turn.error === undefined ? {} : { error: turn.error }),
    };
  }

  private async findEvents(
    userId: string,
    threadId: string,
    keep: (event: ThreadEvent, turnId: string | undefined) => boolean,
  ): Promise<ThreadEvent[]> {
    const found: ThreadEvent[] = [];
    let after = 0;
    for (;;) {
      const page = (await this.d.store.events.listAfter({ userId, threadId }, after, 1000)) ?? [];
      for (const envelope of page) if (keep(envelope.event, envelope.turnId)) found.push(envelope.event);
      if (page.length < 1000) return found;
      after = page.at(-1)?.seq ?? after;
    }
  }

  private async finishRun(
    task: StoredTask,
    attemptId: string,
    threadId: string,
    run: StoredAssistantTurn,
    end: TurnEnd,
  ): Promise<void> {
    const { store, now } = this.d;
    const current = (await store.tasks.getUnscoped(task.id)) ?? task;
    const items = (
      await this.findEvents(
        task.userId,
        threadId,
        (e, turnId) => turnId === run.id && e.type === "item/completed",
      )
    ).flatMap((e) => (e.type === "item/completed" ? [e.item] : []));
    const last = items.findLast((item) => item.type === "agentMessage");
    const message = last?.type === "agentMessage" ? last.text : undefined;
    // The run's last `make_pr` call (in its events, whichever process ran the turn).
    const drafted = items.map(pullRequestDraftOf).findLast((d) => d !== undefined);
    const latest = (await store.tasks.assistantTurns(task.id)).find((r) => r.id === run.id) ?? run;
    const status: AttemptStatus =
      end.status === "completed"
        ? "completed"
        : end.status === "interrupted" && current.status === "cancelled"
          ? "cancelled"
          : "failed";
    let result: Partial<StoredAssistantTurn> = {};
    try {
      if (current.baseCommit !== undefined) {
        const diff = await workspaceDiff(this.workspaceOf(task.id, attemptId), current.baseCommit);
        result = { diff: diff.diff, diffStats: diff.stats, files: diff.files };
      }
    } catch (error) {
      this.d.logger.error(
        { err: error, taskId: task.id, attemptId },
        "could not diff an attempt's workspace",
      );
    }
    const pr: PullRequestDraft | undefined =
      drafted ??
      latest.pr ??
      (status === "completed" && (result.diffStats?.filesModified ?? 0) > 0
        ? { title: current.title, body: message ?? "" }
        : undefined);
    const error: ErrorInfo | undefined =
      end.error ??
      (status === "failed"
        ? { code: "turn_interrupted", message: "the run was interrupted", retryable: false }
        : undefined);
    const at = now();
    await store.tasks.putAssistantTurn({
      ...latest,
      ...result,
      status,
      ...(message === undefined ? {} : { message }),
      ...(pr === undefined ? {} : { pr }),
      usage: end.usage,
      ...(error === undefined ? {} : { error }),
      updatedAt: at,
      finishedAt: at,
    });
    await store.tasks.updateAttempt(attemptId, { status }, at);
    const events: TaskEvent[] = [];
    if (result.diffStats !== undefined) {
      events.push({
        type: "attempt/result",
        attemptId,
        turnId: run.id,
        diffStats: result.diffStats,
        ...(pr === undefined ? {} : { pr }),
      });
    }
    events.push({
      type: "attempt/status",
      attemptId,
      turnId: run.id,
      status,
      ...(error === undefined ? {} : { error }),
    });
    await this.emit(task.id, events);
    await this.refreshStatus(task.id);
  }

  private async threadExtras(task: StoredTask, workspace: string): Promise<ThreadExtras> {
    const env = await this.d.store.environments.get(task.userId, task.environmentId);
    return {
      workspace,
      networkAccess: env?.network === "on",
      tools: [createMakePrTool()],
      developerInstructions: TASK_INSTRUCTIONS,
    };
  }

  private environmentOfWorkspace(cwd: string): string | undefined {
    const prefix = `${join(this.d.dataDir, "env-threads")}/`;
    if (!cwd.startsWith(prefix)) return undefined;
    const [envId, threadDir, ...rest] = cwd.slice(prefix.length).split("/");
    return envId === undefined || threadDir === undefined || rest.length > 0 ? undefined : envId;
  }

  private attemptOfWorkspace(cwd: string): { taskId: string; attemptId: string } | undefined {
    const prefix = `${join(this.d.dataDir, "tasks")}/`;
    if (!cwd.startsWith(prefix)) return undefined;
    const [taskId, attemptId, ...rest] = cwd.slice(prefix.length).split("/");
    if (taskId === undefined || attemptId === undefined || rest.length > 0) return undefined;
    return { taskId, attemptId };
  }

  private async environmentSecrets(environmentId: string): Promise<Record<string, string>> {
    const scope = secretScope.environment(environmentId);
    const out: Record<string, string> = {};
    for (const { name } of await this.d.secrets.scoped.list(scope)) {
      if (name === FORGE_TOKEN_SECRET) continue;
      const value = await this.d.secrets.scoped.get(scope, name);
      if (value !== undefined) out[name] = value;
    }
    return out;
  }

  private async setAttemptStatus(
    taskId: string,
    attemptId: string,
    status: AttemptStatus,
    refresh = true,
    turnId?: string,
  ): Promise<void> {
    await this.d.store.tasks.updateAttempt(attemptId, { status }, this.d.now());
    await this.emit(taskId, [
      { type: "attempt/status", attemptId, status, ...(turnId === undefined ? {} : { turnId }) },
    ]);
    if (refresh) await this.refreshStatus(taskId);
  }

  private async failAttempt(taskId: string, attemptId: string, error: ErrorInfo): Promise<void> {
    await this.d.store.tasks.updateAttempt(attemptId, { status: "failed" }, this.d.now());
    await this.emit(taskId, [{ type: "attempt/status", attemptId, status: "failed", error }]);
  }

  /** Recomputes the task's status from its attempts; stores and announces a change. */
  private async refreshStatus(taskId: string, error?: ErrorInfo): Promise<void> {
    const { store, now } = this.d;
    const task = await store.tasks.getUnscoped(taskId);
    if (task === undefined) return;
    const status = aggregateStatus(task.status, await store.tasks.attempts(taskId));
    if (status === task.status) return;
    await store.tasks.update(taskId, { status }, now());
    await this.emit(taskId, [{ type: "task/status", status, ...(error === undefined ? {} : { error }) }]);
  }
}

const isFinal = (status: string) => status === "completed" || status === "failed" || status === "cancelled";

/** A random suffix (for branch names and scratch directories). */
export const randomSuffix = () => randomBytes(4).toString("hex");
