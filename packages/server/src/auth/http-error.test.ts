import { randomBytes } from "node:crypto";
import type { KilnStore } from "@kiln/store";
import { Hono } from "hono";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { AppEnv } from "./app-env.ts";
import { createAuth } from "./create-auth.ts";
import { errorResponse } from "./http-error.ts";
import { rateLimitedError } from "./rate-limit.ts";
import { createTestApp, send, type TestApp } from "./test-app.ts";

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

it("an unexpected error in an auth route reaches the server's own onError and is answered without its message", async () => {
  const broken: KilnStore = {
    ...t.store,
    users: {
      ...t.store.users,
      getByUsername: async () => {
        throw new Error("connection to db://admin:hunter2@host lost");
      },
    },
  };
  const auth = createAuth({ store: broken, secretKey: randomBytes(32), secureCookies: false });
  const seen: Error[] = [];
  const app = new Hono<AppEnv>();
  app.route("/api/v1", auth.routes);
  app.onError((error, c) => {
    seen.push(error);
    return errorResponse(c, error);
  });
  const reply = await send(app, "POST", "/api/v1/auth/login", {
    body: { username: "alice", password: "whatever1" },
  });
  expect(reply.status).toBe(500);
  expect(reply.body).toEqual({
    error: {
      code: "internal",
      message: "the server failed to handle this request; see its log",
      retryable: false,
    },
  });
  expect(seen.map((e) => e.message)).toEqual(["connection to db://admin:hunter2@host lost"]);
});

it("errorResponse gives a rate-limit error its retry-after header", async () => {
  const app = new Hono<AppEnv>();
  app.get("/x", (c) => errorResponse(c, rateLimitedError("too many requests", 7)));
  const reply = await send(app, "GET", "/x");
  expect([reply.status, reply.headers.get("retry-after")]).toEqual([429, "7"]);
  expect(reply.body).toEqual({
    error: {
      code: "rate_limited",
      message: "too many requests: try again in 7 s",
      retryable: true,
      details: { retryAfterSeconds: 7 },
    },
  });
});
