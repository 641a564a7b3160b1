// The task service over the store, the turn executor and the environment cache: environments (with
// their secrets sealed under `env:<id>`), tasks with best-of-N attempts (run by TaskRunner), follow-ups,
// cancellation, diffs, publishing, and the task event stream.
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  type CreateEnvironmentRequest,
  type Environment,
  type InputPart,
  KilnError,
  newId,
  type TaskEventEnvelope,
  type TurnInput,
  type UpdateEnvironmentRequest,
} from "@kiln/protocol";
import { ENVIRONMENT_TEMPLATES, environmentTemplate, type SandboxProvider } from "@kiln/sandbox";
import type { KilnStore, StoredEnvironment, StoredTask } from "@kiln/store";
import { secretScope } from "@kiln/store";
import type { Logger } from "pino";
import type { EventHub } from "../events/event-hub.ts";
import type { TurnExecutor } from "../executor/turn-executor.ts";
import { checkWorkspaceCwd, titleFrom } from "../executor/workspace.ts";
import type { UserSecrets } from "../secrets/index.ts";
import { publishAttempt } from "./publish/publish-attempt.ts";
import { TaskEventHub } from "./task-event-hub.ts";
import { randomSuffix, TaskRunner } from "./task-runner.ts";
import type { TaskCaller, TaskService } from "./task-service.ts";
import {
  environmentView,
  FORGE_TOKEN_SECRET,
  sandboxResource,
  type TaskRecords,
  taskSummaryView,
  taskView,
} from "./task-view.ts";

/** What the task service is built from. */
export interface TaskServiceDeps {
  store: KilnStore;
  executor: TurnExecutor;
  hub: EventHub;
  secrets: UserSecrets;
  provider: SandboxProvider;
  dataDir: string;
  /** Host directories users may name (local repositories); see checkWorkspaceCwd. */
  workspaceRoots: readonly string[];
  logger: Logger;
  now: () => number;
}

/** The in-process task service, and its runner (for start-up resume and tests). */
export function createTaskService(deps: TaskServiceDeps): TaskService & {
  runner: TaskRunner;
  taskHub: TaskEventHub;
} {
  const { store, now } = deps;
  const taskHub = new TaskEventHub();
  const runner = new TaskRunner({ ...deps, taskHub });

  const envNotFound = (id: string, field = "id") =>
    new KilnError("not_found", `no environment ${id}`, { details: { field } });
  const taskNotFound = (id: string) =>
    new KilnError("not_found", `no task ${id}`, { details: { field: "id" } });

  async function ownedEnv(caller: TaskCaller, id: string, field = "id"): Promise<StoredEnvironment> {
    const env = await store.environments.get(caller.id, id);
    if (env === undefined) throw envNotFound(id, field);
    return env;
  }

  async function view(env: StoredEnvironment): Promise<Environment> {
    const names = (await deps.secrets.scoped.list(secretScope.environment(env.id))).map((s) => s.name);
    return environmentView(env, names, names.includes(FORGE_TOKEN_SECRET));
  }

  async function ownedTask(caller: TaskCaller, id: string): Promise<StoredTask> {
    const task = await store.tasks.get(caller.id, id);
    if (task === undefined) throw taskNotFound(id);
    return task;
  }

  async function records(task: StoredTask): Promise<TaskRecords> {
    const [environment, attempts, userTurns, runs] = await Promise.all([
      store.environments.get(task.userId, task.environmentId),
      store.tasks.attempts(task.id),
      store.tasks.userTurns(task.id),
      store.tasks.assistantTurns(task.id),
    ]);
    return { task, environment, attempts, userTurns, runs };
  }

  // A repository on the server's own disk is a host directory like a thread's cwd: only under the
  // workspace roots (admins: anywhere when none are configured), so that no user clones another's files.
  async function checkRepository(caller: TaskCaller, repository: string): Promise<void> {
    if (/^(https?|ssh|git):\/\//.test(repository) || /^[\w.-]+@[\w.-]+:/.test(repository)) return;
    const local = repository.startsWith("file://")
      ? decodeURIComponent(new URL(repository).pathname)
      : repository;
    if (!local.startsWith("/")) {
      throw new KilnError(
        "invalid_request",
        `"repository": give a git URL (https://…, ssh://…, git@host:…) or an absolute path to a git repository on the server`,
        { details: { field: "repository" } },
      );
    }
    await checkWorkspaceCwd(local, caller, deps.workspaceRoots, "repository");
  }

  async function putSecrets(
    envId: string,
    secrets: Record<string, string | null> | undefined,
  ): Promise<void> {
    const scope = secretScope.environment(envId);
    for (const [name, value] of Object.entries(secrets ?? {})) {
      if (name === FORGE_TOKEN_SECRET) {
        throw new KilnError("invalid_request", `"secrets.${name}": set the forge token with "forge.token"`, {
          details: { field: `secrets.${name}` },
        });
      }
      if (value === null) await deps.secrets.scoped.delete(scope, name);
      else await deps.secrets.scoped.put(scope, name, value);
    }
  }

  const defaultApiUrl = (kind: "github" | "gitlab") =>
    kind === "github" ? "https://api.github.com" : "https://gitlab.com/api/v4";

  return {
    runner,
    taskHub,
    templates: () => ENVIRONMENT_TEMPLATES,

    async createEnvironment(caller, request: CreateEnvironmentRequest) {
      await checkRepository(caller, request.repository);
      const template = request.template === undefined ? undefined : environmentTemplate(request.template);
      if (request.template !== undefined && template === undefined) {
        throw new KilnError(
          "invalid_request",
          `"template": no template ${request.template} (there are ${ENVIRONMENT_TEMPLATES.map((t) => t.name).join(", ")})`,
          { details: { field: "template" } },
        );
      }
      const id = newId("env");
      const env = await store.environments.create({
        id,
        userId: caller.id,
        now: now(),
        name: request.name,
        repository: request.repository,
        branch: request.branch ?? "main",
        setupScript: request.setupScript ?? template?.setupScript ?? "",
        env: request.env ?? {},
        network: request.network ?? template?.network ?? "off",
        ...(request.template === undefined ? {} : { template: request.template }),
        setupTimeoutMs: request.setupTimeoutMs ?? 10 * 60_000,
        pinned: request.pinned ?? false,
        ...(request.forge === undefined
          ? {}
          : {
              forge: {
                kind: request.forge.kind,
                apiUrl: request.forge.apiUrl ?? defaultApiUrl(request.forge.kind),
                repo: request.forge.repo,
              },
            }),
      });
      await putSecrets(id, request.secrets);
      if (request.forge?.token !== undefined) {
        await deps.secrets.scoped.put(secretScope.environment(id), FORGE_TOKEN_SECRET, request.forge.token);
      }
      return view(env);
    },

    async listEnvironments(caller) {
      return Promise.all((await store.environments.list(caller.id)).map(view));
    },

    async getEnvironment(caller, id) {
      return view(await ownedEnv(caller, id));
    },

    async updateEnvironment(caller, id, request: UpdateEnvironmentRequest) {
      const env = await ownedEnv(caller, id);
      if (request.repository !== undefined) await checkRepository(caller, request.repository);
      const { secrets, forge, ...fields } = request;
      const updated = await store.environments.update(
        caller.id,
        id,
        {
          ...fields,
          ...(forge === undefined
            ? {}
            : {
                forge:
                  forge === null
                    ? null
                    : {
                        kind: forge.kind,
                        apiUrl: forge.apiUrl ?? defaultApiUrl(forge.kind),
                        repo: forge.repo,
                      },
              }),
        },
        now(),
      );
      if (updated === undefined) throw envNotFound(id);
      await putSecrets(env.id, secrets);
      const scope = secretScope.environment(env.id);
      if (forge === null) await deps.secrets.scoped.delete(scope, FORGE_TOKEN_SECRET);
      if (forge?.token !== undefined) await deps.secrets.scoped.put(scope, FORGE_TOKEN_SECRET, forge.token);
      return view(updated);
    },

    async deleteEnvironment(caller, id) {
      await ownedEnv(caller, id);
      if (!(await store.environments.delete(caller.id, id))) throw envNotFound(id);
      const scope = secretScope.environment(id);
      for (const { name } of await deps.secrets.scoped.list(scope))
        await deps.secrets.scoped.delete(scope, name);
    },

    async createTask(caller, request) {
      const env = await ownedEnv(caller, request.environmentId, "environmentId");
      const input = toParts(request.prompt);
      const title = request.title ?? titleFrom(input);
      const attemptIds = Array.from({ length: request.bestOfN }, () => newId("att"));
      const taskId = newId("task");
      await store.tasks.create({
        task: {
          id: taskId,
          userId: caller.id,
          environmentId: env.id,
          title,
          branch: request.branch ?? env.branch,
          bestOfN: request.bestOfN,
          status: "queued",
          prompt: input.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n"),
          ...(request.model === undefined ? {} : { model: request.model }),
          ...(request.approvalPolicy === undefined ? {} : { approvalPolicy: request.approvalPolicy }),
          ...(request.preApplyPatch === undefined ? {} : { preApplyPatch: request.preApplyPatch }),
        },
        attemptIds,
        userTurn: { id: newId("turn"), index: 0, input },
        now: now(),
      });
      const created = await ownedTask(caller, taskId);
      const [userTurn] = await store.tasks.userTurns(taskId);
      await runner.emit(taskId, [
        { type: "task/status", status: "queued" },
        ...(userTurn === undefined ? [] : [{ type: "userTurn/created" as const, userTurn }]),
      ]);
      runner.start(taskId);
      return taskView(await records(created));
    },

    async getTask(caller, id) {
      return taskView(await records(await ownedTask(caller, id)));
    },

    async listTasks(caller, query) {
      const page = await store.tasks.list(caller.id, query);
      const tasks = await Promise.all(page.tasks.map(async (t) => taskSummaryView(await records(t))));
      return { tasks, ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) };
    },

    async cancelTask(caller, id) {
      const task = await ownedTask(caller, id);
      if (task.status === "completed" || task.status === "failed" || task.status === "cancelled") {
        throw new KilnError("conflict", `task ${id} has already ended (${task.status})`);
      }
      await runner.cancel(task);
      return taskView(await records(await ownedTask(caller, id)));
    },

    async updateTask(caller, id, changes) {
      await ownedTask(caller, id);
      if (changes.title !== undefined) await store.tasks.rename(caller.id, id, changes.title, now());
      if (changes.archived !== undefined)
        await store.tasks.setArchived(caller.id, id, changes.archived, now());
      return taskView(await records(await ownedTask(caller, id)));
    },

    async followUp(caller, id, request) {
      const task = await ownedTask(caller, id);
      const attempts = await store.tasks.attempts(id);
      const attempt =
        request.attemptId === undefined
          ? (attempts.find((a) => a.status === "completed") ?? attempts[0])
          : attempts.find((a) => a.id === request.attemptId);
      if (attempt === undefined) {
        throw new KilnError("not_found", `task ${id} has no attempt ${request.attemptId ?? ""}`, {
          details: { field: "attemptId" },
        });
      }
      if (attempt.status === "running" || attempt.status === "provisioning" || attempt.status === "queued") {
        throw new KilnError(
          "conflict",
          `attempt ${attempt.index} is still ${attempt.status}: wait for it to end, or cancel the task`,
        );
      }
      const started = await runner.followUp(task, attempt, toParts(request.prompt));
      return { ...started, attemptId: attempt.id };
    },

    async attemptDiff(caller, taskId, attemptId) {
      const task = taskView(await records(await ownedTask(caller, taskId)));
      const attempt = task.attempts.find((a) => a.id === attemptId || String(a.index) === attemptId);
      if (attempt === undefined) {
        throw new KilnError("not_found", `task ${taskId} has no attempt ${attemptId}`, {
          details: { field: "attemptId" },
        });
      }
      return attempt.diff ?? "";
    },

    async publishAttempt(caller, taskId, attemptId, options) {
      const stored = await ownedTask(caller, taskId);
      const task = taskView(await records(stored));
      const attempt = task.attempts.find((a) => a.id === attemptId || String(a.index) === attemptId);
      if (attempt === undefined) {
        throw new KilnError("not_found", `task ${taskId} has no attempt ${attemptId}`, {
          details: { field: "attemptId" },
        });
      }
      if (attempt.diff === undefined || attempt.diff === "" || task.baseCommit === undefined) {
        throw new KilnError("conflict", `attempt ${attempt.index} has no changes to publish`);
      }
      const env = await ownedEnv(caller, stored.environmentId);
      const token = await deps.secrets.scoped.get(secretScope.environment(env.id), FORGE_TOKEN_SECRET);
      const workDir = join(deps.dataDir, "publish", `${attempt.id}-${randomSuffix()}`);
      await mkdir(workDir, { recursive: true });
      try {
        const published = await publishAttempt({
          repository: env.repository,
          baseCommit: task.baseCommit,
          baseBranch: stored.branch,
          branch: options.branch ?? `kiln/${task.id}-${attempt.index + 1}`,
          diff: attempt.diff,
          title: attempt.pr?.title ?? task.title,
          body: attempt.pr?.body ?? attempt.message ?? "",
          workDir,
          now,
          ...(options.draft === undefined ? {} : { draft: options.draft }),
          ...(env.forge === undefined || token === undefined ? {} : { forge: { ...env.forge, token } }),
        });
        await store.tasks.updateAttempt(attempt.id, { published }, now());
        await runner.emit(task.id, [{ type: "attempt/published", attemptId: attempt.id, published }]);
        return published;
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    },

    async followTask(caller, taskId, afterSeq, signal) {
      await ownedTask(caller, taskId);
      return followTaskEvents({ store, taskHub, userId: caller.id, taskId, afterSeq, signal });
    },

    async environmentWorkspace(caller, environmentId) {
      const env = await ownedEnv(caller, environmentId, "environmentId");
      const workspace = join(deps.dataDir, "env-threads", env.id, newId("thr"));
      await runner.prepareCopy(env, env.branch, workspace);
      return { workspace, networkAccess: env.network === "on" };
    },

    async taskSandbox(caller, taskId, attemptId) {
      const task = await ownedTask(caller, taskId);
      const attempts = await store.tasks.attempts(task.id);
      const attempt = attemptId === undefined ? attempts[0] : attempts.find((a) => a.id === attemptId);
      const sandbox =
        attempt?.sandboxId === undefined
          ? undefined
          : await store.sandboxes.get(caller.id, attempt.sandboxId);
      if (sandbox === undefined) {
        throw new KilnError(
          "conflict",
          `task ${taskId} has no sandbox yet: its environment is still being prepared`,
          {
            retryable: true,
          },
        );
      }
      return sandboxResource(sandbox);
    },
  };
}

/** A prompt as input parts. */
function toParts(input: TurnInput): InputPart[] {
  return typeof input === "string" ? [{ type: "text", text: input }] : input;
}

/** Stored events after `afterSeq`, then live ones, without gaps or repeats, until `signal` aborts. */
async function* followTaskEvents(o: {
  store: KilnStore;
  taskHub: TaskEventHub;
  userId: string;
  taskId: string;
  afterSeq: number;
  signal: AbortSignal;
}): AsyncIterable<TaskEventEnvelope> {
  const queue: TaskEventEnvelope[] = [];
  let wake: (() => void) | undefined;
  const stop = o.taskHub.subscribe(o.taskId, (envelope) => {
    queue.push(envelope);
    wake?.();
  });
  const onAbort = () => wake?.();
  o.signal.addEventListener("abort", onAbort);
  try {
    let last = o.afterSeq;
    for (;;) {
      const page = (await o.store.tasks.eventsAfter(o.userId, o.taskId, last, 500)) ?? [];
      for (const envelope of page) {
        last = envelope.seq;
        yield envelope;
      }
      if (page.length < 500) break;
    }
    while (!o.signal.aborted) {
      const next = queue.shift();
      if (next === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      if (next.seq <= last) continue;
      if (next.seq > last + 1) {
        // Published out of order or missed: fill the gap from the store.
        for (const envelope of (await o.store.tasks.eventsAfter(o.userId, o.taskId, last, 1000)) ?? []) {
          if (envelope.seq <= last) continue;
          last = envelope.seq;
          yield envelope;
        }
        continue;
      }
      last = next.seq;
      yield next;
    }
  } finally {
    stop();
    o.signal.removeEventListener("abort", onAbort);
  }
}
