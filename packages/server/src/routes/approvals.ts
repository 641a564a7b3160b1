// Approvals: the caller's pending ones (across their threads), and a decision on one (audited).

import { ApprovalId, RespondApprovalRequest } from "@kiln/protocol";
import { Hono } from "hono";
import { type AppEnv, audit, parseParam, readJsonBody } from "../auth/index.ts";
import { RestateTurnExecutor } from "../executor/restate-executor.ts";
import type { RouteDeps } from "./route-deps.ts";

/** The approval routes (mount at `/api/v1`, behind requireUser). */
export function approvalRoutes(d: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // A durable engine's approvals wait on workers: the API node finds them in the shared store.
  const durable = d.executor instanceof RestateTurnExecutor ? d.executor : undefined;

  app.get("/approvals", async (c) => {
    const userId = c.get("user").id;
    return c.json({ approvals: durable ? await durable.listApprovals(userId) : d.approvals.list(userId) });
  });

  app.post("/approvals/:id", async (c) => {
    const id = parseParam(ApprovalId, c.req.param("id"), "id");
    const { decision } = await readJsonBody(c, RespondApprovalRequest);
    const userId = c.get("user").id;
    const answered = durable
      ? await durable.respondApproval(userId, id, decision)
      : d.approvals.respond(userId, id, decision);
    await audit(c, "approval.respond", id, {
      threadId: answered.threadId,
      ...(answered.turnId === undefined ? {} : { turnId: answered.turnId }),
      decision,
      kind: answered.approval.kind,
    });
    return c.json({ id, threadId: answered.threadId, decision });
  });

  return app;
}
