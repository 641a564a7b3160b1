// Turns of a thread: start (202 once the turn is stored as running; 409 while another runs), steer
// the running turn, interrupt it.

import { StartTurnRequest, SteerRequest } from "@kiln/protocol";
import { Hono } from "hono";
import { type AppEnv, readJsonBody } from "../auth/index.ts";
import { type RouteDeps, threadScope } from "./route-deps.ts";

/** The turn routes (mount at `/api/v1`, behind requireUser). */
export function turnRoutes(d: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post("/threads/:id/turns", async (c) => {
    const scope = threadScope(c);
    const body = await readJsonBody(c, StartTurnRequest);
    const turnId = await d.executor.startTurn(scope, body);
    return c.json({ id: turnId, turnId, threadId: scope.threadId, status: "running" as const }, 202);
  });

  app.post("/threads/:id/steer", async (c) => {
    const scope = threadScope(c);
    const body = await readJsonBody(c, SteerRequest);
    const turnId = await d.executor.steer(scope, body.input);
    return c.json({ threadId: scope.threadId, turnId }, 202);
  });

  app.post("/threads/:id/interrupt", async (c) => {
    const scope = threadScope(c);
    const turnId = await d.executor.interrupt(scope);
    return c.json({ threadId: scope.threadId, turnId }, 202);
  });

  return app;
}
