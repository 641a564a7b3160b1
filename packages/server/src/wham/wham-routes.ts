// The WHAM (Codex-cloud) task API on top of the task service (spec/wham-api.md). The server mounts
// this app under `/backend-api/wham` and `/api/codex`, behind requireUser. Bodies and queries are
// parsed with lenient schemas (unknown fields are dropped, as WHAM clients send more than Kiln
// reads); errors are thrown and answered by the server as `{ error: { code, message, … } }`.
// The `/sandbox/{id}/…` exec, files, status and terminal routes are the native sandbox handlers,
// mounted by the server next to this app.
import {
  KilnError,
  TaskId,
  TurnId,
  WhamCreateTaskRequest,
  type WhamCreateTaskResponse,
  WhamFollowUpRequest,
  WhamTaskEnvironmentRequest,
  type WhamTaskList,
  WhamTaskListQuery,
} from "@kiln/protocol";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import { type AppEnv, parseParam, parseWith, readJsonBody } from "../auth/index.ts";
import { parseQuery } from "../routes/route-deps.ts";
import type { TaskCaller, TaskService } from "../tasks/task-service.ts";
import {
  environmentsForRepo,
  resolveEnvironmentRef,
  whamEnvironment,
  whamSandbox,
  whamSandboxTemplate,
} from "./wham-environments.ts";
import { whamTaskDetails, whamTaskListItem } from "./wham-mapping.ts";
import { kilnCreateTaskRequest, kilnFollowUpRequest } from "./wham-requests.ts";
import { whamFollowUpResponse, whamSiblingTurns, whamTurnList } from "./wham-turns.ts";
import { type WhamUsageInput, whamUsage } from "./wham-usage.ts";

/** What the WHAM routes need. */
export interface WhamRoutesDeps {
  tasks: TaskService;
  /** The caller's token totals and rate-limit windows. */
  usage: (userId: string) => Promise<WhamUsageInput>;
  /** Unix ms. */
  now: () => number;
}

/** The header WHAM clients send with their account; Kiln ignores it but echoes it back. */
const ACCOUNT_HEADER = "chatgpt-account-id";

const echoAccountHeader: MiddlewareHandler<AppEnv> = async (c, next) => {
  const account = c.req.header(ACCOUNT_HEADER);
  await next();
  if (account !== undefined) c.header(ACCOUNT_HEADER, account);
};

/**
 * The server lets paths with a `/sandbox/{id}` segment through unauthenticated (the sandbox routes
 * check their own credentials: owner or capability token); a route of this app whose parameter is
 * the word `sandbox` (`/tasks/sandbox/turns`) must still refuse a caller without a user.
 */
const signedIn: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get("user") === undefined) {
    throw new KilnError(
      "unauthorized",
      "sign in: send `Authorization: Bearer <token>` or the session cookie",
    );
  }
  await next();
};

/** A path segment of the by-repo route. */
const RepoSegment = z.string().min(1).max(200);

const caller = (c: Context<AppEnv>): TaskCaller => {
  const user = c.get("user");
  return { id: user.id, role: user.role };
};

const taskIdParam = (c: Context<AppEnv>): string => parseParam(TaskId, c.req.param("id"), "id");

/** A body that may be left out — even by a client that still sends `content-type: application/json`. */
async function readOptionalJson<T extends z.ZodType>(c: Context<AppEnv>, schema: T): Promise<z.output<T>> {
  if (c.req.raw.body === null || c.req.header("content-length") === "0") return parseWith(schema, {}, "body");
  return readJsonBody(c, schema);
}

/** The WHAM routes (relative: mount under `/backend-api/wham` and `/api/codex`, behind requireUser). */
export function whamRoutes(deps: WhamRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", echoAccountHeader);
  for (const path of ["/environments", "/environments/*", "/tasks", "/tasks/*", "/usage"]) {
    app.use(path, signedIn);
  }

  /** An environment id, or the id of the one environment with the `owner/repo` it names. */
  const environmentId = async (who: TaskCaller, ref: string, field: string): Promise<string> =>
    ref.includes("/") ? resolveEnvironmentRef(ref, await deps.tasks.listEnvironments(who), field) : ref;

  app.get("/environments", async (c) => {
    const envs = await deps.tasks.listEnvironments(caller(c));
    return c.json(envs.map(whamEnvironment));
  });

  app.get("/environments/by-repo/:provider/:owner/:repo", async (c) => {
    const repo = {
      provider: parseParam(RepoSegment, c.req.param("provider"), "provider"),
      owner: parseParam(RepoSegment, c.req.param("owner"), "owner"),
      repo: parseParam(RepoSegment, c.req.param("repo"), "repo"),
    };
    const envs = await deps.tasks.listEnvironments(caller(c));
    return c.json(environmentsForRepo(envs, repo).map(whamEnvironment));
  });

  app.post("/tasks", async (c) => {
    const body = await readJsonBody(c, WhamCreateTaskRequest);
    const who = caller(c);
    const envId = await environmentId(who, body.new_task.environment_id, "new_task.environment_id");
    const task = await deps.tasks.createTask(who, kilnCreateTaskRequest(body, envId));
    const answer: WhamCreateTaskResponse = { task: { id: task.id } };
    return c.json(answer);
  });

  // Registered before `/tasks/:id`, which would otherwise take "list" for an id.
  app.get("/tasks/list", async (c) => {
    const q = parseQuery(c, WhamTaskListQuery);
    const who = caller(c);
    const envId =
      q.environment_id === undefined
        ? undefined
        : await environmentId(who, q.environment_id, "environment_id");
    const page = await deps.tasks.listTasks(who, {
      limit: q.limit,
      ...(q.task_filter === "all" ? {} : { archived: q.task_filter === "archived" }),
      ...(envId === undefined ? {} : { environmentId: envId }),
      ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
    });
    // The listing's summaries carry no run ids, which WHAM items need: read each task in full.
    const tasks = await Promise.all(page.tasks.map((t) => deps.tasks.getTask(who, t.id).catch(skipDeleted)));
    const answer: WhamTaskList = {
      items: tasks.flatMap((t) => (t === undefined ? [] : [whamTaskListItem(t)])),
      cursor: page.nextCursor ?? null,
    };
    return c.json(answer);
  });

  app.get("/tasks/:id", async (c) => {
    const task = await deps.tasks.getTask(caller(c), taskIdParam(c));
    return c.json(whamTaskDetails(task));
  });

  app.get("/tasks/:id/turns", async (c) => {
    const task = await deps.tasks.getTask(caller(c), taskIdParam(c));
    return c.json(whamTurnList(task));
  });

  app.post("/tasks/:id/turns", async (c) => {
    const id = taskIdParam(c);
    const request = kilnFollowUpRequest(await readJsonBody(c, WhamFollowUpRequest));
    const who = caller(c);
    const accepted = await deps.tasks.followUp(who, id, request);
    const task = await deps.tasks.getTask(who, id);
    const input =
      typeof request.prompt === "string" ? [{ type: "text" as const, text: request.prompt }] : request.prompt;
    return c.json(whamFollowUpResponse(task, accepted, { input, now: deps.now() }));
  });

  app.get("/tasks/:id/turns/:turnId/sibling_turns", async (c) => {
    const id = taskIdParam(c);
    const turnId = parseParam(TurnId, c.req.param("turnId"), "turnId");
    const task = await deps.tasks.getTask(caller(c), id);
    return c.json(whamSiblingTurns(task, turnId));
  });

  app.post("/tasks/:id/environment", async (c) => {
    const id = taskIdParam(c);
    const body = await readOptionalJson(c, WhamTaskEnvironmentRequest);
    const who = caller(c);
    const placement = body.attempt_placement;
    if (placement === null || placement === undefined) {
      return c.json({ sandbox: whamSandbox(await deps.tasks.taskSandbox(who, id)) });
    }
    const attempt = (await deps.tasks.getTask(who, id)).attempts.find((a) => a.index === placement);
    if (attempt === undefined) {
      throw new KilnError("not_found", `task ${id} has no attempt at placement ${placement}`, {
        details: { field: "attempt_placement" },
      });
    }
    return c.json({ sandbox: whamSandbox(await deps.tasks.taskSandbox(who, id, attempt.id)) });
  });

  app.get("/usage", async (c) => {
    const usage = await deps.usage(c.get("user").id);
    return c.json(whamUsage(usage, deps.now()));
  });

  app.get("/sandbox/templates", (c) =>
    c.json({ templates: deps.tasks.templates().map(whamSandboxTemplate) }),
  );

  return app;
}

/** A task deleted between the listing and its read is left out of the page. */
function skipDeleted(error: unknown): undefined {
  if (error instanceof KilnError && error.code === "not_found") return undefined;
  throw error;
}
