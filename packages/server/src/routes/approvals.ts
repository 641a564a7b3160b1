// Approvals: the caller's pending ones (across their threads), and a decision on one (audited).

import { ApprovalId, RespondApprovalRequest } from "@kiln/protocol";
import { Hono } from "hono";
import { type AppEnv, audit, parseParam, readJsonBody } from "../auth/index.ts";
import type { RouteDeps } from "./route-deps.ts";

/** The approval routes (mount at `/api/v1`, behind requireUser). */
export function approvalRoutes(d: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/approvals", (c) => c.json({ approvals: d.approvals.list(c.get("user").id) }));

  app.post("/approvals/:id", async (c) => {
    const id = parseParam(ApprovalId, c.req.param("id"), "id");
    const { decision } = await readJsonBody(c, RespondApprovalRequest);
    const answered = d.approvals.respond(c.get("user").id, id, decision);
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
