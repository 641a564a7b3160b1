import { Hono } from "hono";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { AppEnv } from "./app-env.ts";
import { audit } from "./audit.ts";
import { handleHttpError } from "./http-error.ts";
import { bearer, createTestApp, send, type TestApp } from "./test-app.ts";

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

it("audit(c, …) records the caller, their address and the details after requireUser", async () => {
  const alice = await t.addUser("alice", "correct horse");
  const app = new Hono<AppEnv>();
  app.onError(handleHttpError);
  app.route("/api/v1", t.auth.routes);
  app.post("/api/v1/approvals/:id", t.auth.requireUser, async (c) => {
    await audit(c, "approval.respond", c.req.param("id"), { decision: "approved" });
    return c.json({ ok: true });
  });
  app.post("/api/v1/unprotected", async (c) => {
    await audit(c, "approval.respond", "apr_1");
    return c.json({ ok: true });
  });
  const { access_token } = (
    await send(app, "POST", "/api/v1/auth/token", { body: { username: "alice", password: "correct horse" } })
  ).body as { access_token: string };

  expect((await send(app, "POST", "/api/v1/approvals/apr_1", { headers: bearer(access_token) })).status).toBe(
    200,
  );
  const [entry] = await t.store.audit.list({ userId: alice.id });
  expect(entry).toEqual({
    id: expect.any(Number),
    userId: alice.id,
    actor: "alice",
    action: "approval.respond",
    target: "apr_1",
    ip: "unknown",
    at: t.now(),
    details: { decision: "approved" },
  });

  // Without requireUser there is no one to attribute it to: a server bug, reported as a bare 500.
  const unprotected = await send(app, "POST", "/api/v1/unprotected");
  expect(unprotected.status).toBe(500);
  expect(unprotected.body).toEqual({
    error: {
      code: "internal",
      message: expect.stringContaining('audit("approval.respond")'),
      retryable: false,
    },
  });
});

it("requireUser may run twice on a request (a global guard plus the routes' own) without counting twice", async () => {
  const app = new Hono<AppEnv>();
  app.onError(handleHttpError);
  const limited = await createTestApp({ limits: { apiPerUser: { limit: 2, windowMs: 60_000 } } });
  try {
    await limited.addUser("alice", "correct horse");
    app.use("/api/v1/*", async (c, next) =>
      c.req.path.startsWith("/api/v1/auth/") ? next() : limited.auth.requireUser(c, next),
    );
    app.route("/api/v1", limited.auth.routes);
    const { access_token } = (
      await send(app, "POST", "/api/v1/auth/token", {
        body: { username: "alice", password: "correct horse" },
      })
    ).body as { access_token: string };
    expect((await send(app, "GET", "/api/v1/tokens", { headers: bearer(access_token) })).status).toBe(200);
    expect((await send(app, "GET", "/api/v1/tokens", { headers: bearer(access_token) })).status).toBe(200);
    expect((await send(app, "GET", "/api/v1/tokens", { headers: bearer(access_token) })).status).toBe(429);
  } finally {
    await limited.close();
  }
});
