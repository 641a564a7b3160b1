// /threads: create, list (cursor, filters), get (with turns), rename/archive, fork, rollback, and
// the completed items. Every query is scoped to the caller: another user's thread is a 404.
import {
  CreateThreadRequest,
  ForkThreadRequest,
  KilnError,
  RollbackThreadRequest,
  ThreadListQuery,
  UpdateThreadRequest,
} from "@kiln/protocol";
import type { ThreadScope } from "@kiln/store";
import { Hono } from "hono";
import { type AppEnv, readJsonBody } from "../auth/index.ts";
import { parseQuery, type RouteDeps, readOptionalBody, threadResource, threadScope } from "./route-deps.ts";

const notFound = (scope: ThreadScope) =>
  new KilnError("not_found", `no thread ${scope.threadId}`, { details: { field: "id" } });

/** The thread routes (mount at `/api/v1`, behind requireUser). */
export function threadRoutes(d: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post("/threads", async (c) => {
    const { environmentId, ...body } = await readOptionalBody(c, CreateThreadRequest);
    const user = c.get("user");
    const caller = { id: user.id, role: user.role };
    if (environmentId !== undefined && body.cwd !== undefined) {
      throw new KilnError("invalid_request", `give "cwd" or "environmentId", not both`, {
        details: { field: "environmentId" },
      });
    }
    const extras =
      environmentId === undefined ? {} : await d.tasks.environmentWorkspace(caller, environmentId);
    const thread = await d.executor.createThread(caller, body, extras);
    return c.json(threadResource(thread, []), 201);
  });

  app.get("/threads", async (c) => {
    const q = parseQuery(c, ThreadListQuery);
    const page = await d.store.threads.list(c.get("user").id, {
      ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
      ...(q.archived === undefined ? {} : { archived: q.archived === "true" }),
      ...(q.status === undefined ? {} : { status: q.status }),
      ...(q.q === undefined ? {} : { search: q.q }),
    });
    return c.json({
      threads: page.threads.map((t) => threadResource(t)),
      ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
    });
  });

  app.get("/threads/:id", async (c) => {
    const scope = threadScope(c);
    const thread = await d.store.threads.get(scope);
    if (thread === undefined) throw notFound(scope);
    const turns = (await d.store.turns.listByThread(scope)) ?? [];
    return c.json(threadResource(thread, turns));
  });

  app.patch("/threads/:id", async (c) => {
    const scope = threadScope(c);
    const body = await readJsonBody(c, UpdateThreadRequest);
    if ((await d.store.threads.get(scope)) === undefined) throw notFound(scope);
    if (body.title !== undefined) await d.store.threads.rename(scope, body.title, d.now());
    if (body.archived !== undefined) await d.store.threads.setArchived(scope, body.archived, d.now());
    const thread = await d.store.threads.get(scope);
    if (thread === undefined) throw notFound(scope);
    return c.json(threadResource(thread));
  });

  app.post("/threads/:id/fork", async (c) => {
    const scope = threadScope(c);
    const body = await readOptionalBody(c, ForkThreadRequest);
    const fork = await d.executor.fork(scope, body.atTurn);
    return c.json(threadResource(fork, []), 201);
  });

  // Drops the last turns from the model's history; files on disk are not reverted (see TurnExecutor).
  app.post("/threads/:id/rollback", async (c) => {
    const scope = threadScope(c);
    const body = await readJsonBody(c, RollbackThreadRequest);
    await d.executor.rollback(scope, body.turns);
    const thread = await d.store.threads.get(scope);
    if (thread === undefined) throw notFound(scope);
    const turns = (await d.store.turns.listByThread(scope)) ?? [];
    return c.json(threadResource(thread, turns));
  });

  app.get("/threads/:id/items", async (c) => {
    const scope = threadScope(c);
    const items: { seq: number; turnId?: string; item: unknown }[] = [];
    let after = 0;
    for (;;) {
      const page = await d.store.events.listAfter(scope, after, 1000);
      if (page === undefined) throw notFound(scope);
      for (const e of page) {
        if (e.event.type !== "item/completed") continue;
        items.push({
          seq: e.seq,
          ...(e.turnId === undefined ? {} : { turnId: e.turnId }),
          item: e.event.item,
        });
      }
      const last = page.at(-1);
      if (last === undefined || page.length < 1000) break;
      after = last.seq;
    }
    return c.json({ items });
  });

  app.get("/threads/:id/usage", async (c) => {
    const scope = threadScope(c);
    const usage = await d.store.usage.forThread(scope);
    if (usage === undefined) throw notFound(scope);
    return c.json(usage);
  });

  return app;
}
