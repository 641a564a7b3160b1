// /environments, /environment-templates and /tasks of the native API: thin HTTP over the TaskService
// (every call scoped to the caller: another user's object is a 404). Task events are SSE like thread
// events: `id:` is the seq, resume with `Last-Event-ID` or `?after=`.
import {
  CreateEnvironmentRequest,
  CreateTaskRequest,
  EnvironmentId,
  FollowUpRequest,
  KilnError,
  PublishRequest,
  TaskId,
  TaskListQuery,
  toErrorInfo,
  UpdateEnvironmentRequest,
  UpdateTaskRequest,
} from "@kiln/protocol";
import { type Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { Logger } from "pino";
import { z } from "zod";
import { type AppEnv, parseParam, parseWith, readJsonBody } from "../auth/index.ts";
import type { TaskCaller, TaskService } from "../tasks/task-service.ts";
import { readOptionalBody, resumeAfter } from "./route-deps.ts";

/** Dependencies of {@link taskRoutes}. */
export interface TaskRouteDeps {
  tasks: TaskService;
  logger: Logger;
  keepAliveMs: number;
  /** Aborted at shutdown: open event streams end. */
  closing: AbortSignal;
}

const caller = (c: Context<AppEnv>): TaskCaller => {
  const user = c.get("user");
  return { id: user.id, role: user.role };
};
const taskId = (c: Context<AppEnv>) => parseParam(TaskId, c.req.param("id"), "id");
const envId = (c: Context<AppEnv>) => parseParam(EnvironmentId, c.req.param("id"), "id");
const AttemptParam = z
  .string()
  .regex(/^(att_[0-9A-HJKMNP-TV-Z]{26}|[0-3])$/, "expected an attempt id (att_…) or index (0–3)");

/** The task and environment routes (mount at `/api/v1`, behind requireUser). */
export function taskRoutes(d: TaskRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/environment-templates", (c) => c.json({ templates: d.tasks.templates() }));

  app.post("/environments", async (c) => {
    const body = await readJsonBody(c, CreateEnvironmentRequest);
    return c.json(await d.tasks.createEnvironment(caller(c), body), 201);
  });
  app.get("/environments", async (c) => c.json({ environments: await d.tasks.listEnvironments(caller(c)) }));
  app.get("/environments/:id", async (c) => c.json(await d.tasks.getEnvironment(caller(c), envId(c))));
  app.patch("/environments/:id", async (c) => {
    const id = envId(c);
    const body = await readJsonBody(c, UpdateEnvironmentRequest);
    return c.json(await d.tasks.updateEnvironment(caller(c), id, body));
  });
  app.delete("/environments/:id", async (c) => {
    await d.tasks.deleteEnvironment(caller(c), envId(c));
    return c.body(null, 204);
  });

  app.post("/tasks", async (c) => {
    const body = await readJsonBody(c, CreateTaskRequest);
    return c.json(await d.tasks.createTask(caller(c), body), 201);
  });
  app.get("/tasks", async (c) => {
    const q = parseWith(TaskListQuery.strict(), c.req.query(), "query");
    return c.json(
      await d.tasks.listTasks(caller(c), {
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.environmentId === undefined ? {} : { environmentId: q.environmentId }),
        ...(q.archived === undefined ? {} : { archived: q.archived === "true" }),
        ...(q.search === undefined ? {} : { search: q.search }),
        ...(q.limit === undefined ? {} : { limit: q.limit }),
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      }),
    );
  });
  app.get("/tasks/:id", async (c) => c.json(await d.tasks.getTask(caller(c), taskId(c))));
  app.patch("/tasks/:id", async (c) => {
    const id = taskId(c);
    const body = await readJsonBody(c, UpdateTaskRequest);
    return c.json(await d.tasks.updateTask(caller(c), id, body));
  });
  app.post("/tasks/:id/cancel", async (c) => c.json(await d.tasks.cancelTask(caller(c), taskId(c))));
  app.post("/tasks/:id/turns", async (c) => {
    const id = taskId(c);
    const body = await readJsonBody(c, FollowUpRequest);
    return c.json(await d.tasks.followUp(caller(c), id, body), 202);
  });
  app.get("/tasks/:id/attempts/:attempt/diff", async (c) => {
    const id = taskId(c);
    const attempt = parseParam(AttemptParam, c.req.param("attempt"), "attempt");
    const diff = await d.tasks.attemptDiff(caller(c), id, attempt);
    return c.body(diff, 200, { "content-type": "text/x-diff; charset=utf-8" });
  });
  app.post("/tasks/:id/attempts/:attempt/publish", async (c) => {
    const id = taskId(c);
    const attempt = parseParam(AttemptParam, c.req.param("attempt"), "attempt");
    const body = await readOptionalBody(c, PublishRequest);
    return c.json(await d.tasks.publishAttempt(caller(c), id, attempt, body));
  });
  app.get("/tasks/:id/sandbox", async (c) => c.json(await d.tasks.taskSandbox(caller(c), taskId(c))));

  app.get("/tasks/:id/events", async (c) => {
    const id = taskId(c);
    const after = resumeAfter(c);
    const abort = new AbortController();
    const events = await d.tasks.followTask(caller(c), id, after, AbortSignal.any([abort.signal, d.closing]));
    c.header("X-Accel-Buffering", "no");
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => abort.abort());
      const keepAlive = setInterval(() => {
        void stream.write(": keep-alive\n\n").catch(() => abort.abort());
      }, d.keepAliveMs);
      try {
        for await (const envelope of events) {
          await stream.writeSSE({
            id: String(envelope.seq),
            event: envelope.event.type,
            data: JSON.stringify(envelope),
          });
        }
      } catch (error) {
        if (!abort.signal.aborted) {
          d.logger.error({ err: error, taskId: id }, "task SSE stream failed");
          const info =
            error instanceof KilnError
              ? toErrorInfo(error)
              : { code: "internal", message: "the event stream failed: reconnect", retryable: true };
          await stream
            .writeSSE({ event: "error", data: JSON.stringify({ error: info }) })
            .catch(() => undefined);
        }
      } finally {
        clearInterval(keepAlive);
        abort.abort();
      }
    });
  });

  return app;
}
