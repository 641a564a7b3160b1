import { afterEach, expect, it } from "vitest";
import { bearer, createTestApp, send, type TestApp } from "./test-app.ts";

let t: TestApp;
afterEach(async () => {
  await t.close();
});

it("the 11th login attempt for a username within 15 minutes is a 429 with retry-after, even with the right password", async () => {
  t = await createTestApp();
  await t.addUser("alice", "correct horse");
  for (let i = 0; i < 10; i++) {
    const reply = await send(t.app, "POST", "/api/v1/auth/login", {
      body: { username: "alice", password: `wrong ${i}xxx` },
    });
    expect(reply.status).toBe(401);
  }
  t.advance(60_000);
  const limited = await send(t.app, "POST", "/api/v1/auth/login", {
    body: { username: "ALICE", password: "correct horse" },
  });
  expect(limited.status).toBe(429);
  const retryAfter = Number(limited.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(15 * 60);
  expect(limited.body).toEqual({
    error: {
      code: "rate_limited",
      message: `too many sign-in attempts: try again in ${retryAfter} s`,
      retryable: true,
      details: { retryAfterSeconds: retryAfter },
    },
  });
  // Another username from elsewhere is not affected; after the window alice may try again.
  await t.addUser("bob", "correct horse");
  expect(
    (
      await send(t.app, "POST", "/api/v1/auth/login", {
        body: { username: "bob", password: "correct horse" },
      })
    ).status,
  ).toBe(200);
  t.advance(retryAfter * 1000);
  const again = await send(t.app, "POST", "/api/v1/auth/login", {
    body: { username: "alice", password: "correct horse" },
  });
  expect(again.status).toBe(200);
  const actions = (await t.store.audit.list()).map((e) => e.action);
  expect(actions.filter((a) => a === "login.rate_limited")).toEqual(["login.rate_limited"]);
});

it("the password grant shares the login limits", async () => {
  t = await createTestApp({ limits: { loginPerUsername: { limit: 2, windowMs: 60_000 } } });
  await t.addUser("alice", "correct horse");
  await send(t.app, "POST", "/api/v1/auth/login", { body: { username: "alice", password: "wrong one" } });
  await send(t.app, "POST", "/api/v1/auth/token", { body: { username: "alice", password: "wrong one" } });
  const third = await send(t.app, "POST", "/api/v1/auth/token", {
    body: { username: "alice", password: "correct horse" },
  });
  expect(third.status).toBe(429);
});

it("API calls are limited per user, with 429 and retry-after", async () => {
  t = await createTestApp({ limits: { apiPerUser: { limit: 3, windowMs: 60_000 } } });
  await t.addUser("alice", "correct horse");
  const { access_token } = (
    await send(t.app, "POST", "/api/v1/auth/token", {
      body: { username: "alice", password: "correct horse" },
    })
  ).body as { access_token: string };
  for (let i = 0; i < 3; i++) {
    expect((await send(t.app, "GET", "/api/v1/ping", { headers: bearer(access_token) })).status).toBe(200);
  }
  t.advance(20_000);
  const limited = await send(t.app, "GET", "/api/v1/ping", { headers: bearer(access_token) });
  expect(limited.status).toBe(429);
  expect(limited.headers.get("retry-after")).toBe("40");
  t.advance(40_000);
  expect((await send(t.app, "GET", "/api/v1/ping", { headers: bearer(access_token) })).status).toBe(200);
});

it("API calls are limited per client address before the credential is even checked", async () => {
  t = await createTestApp({ limits: { apiPerIp: { limit: 2, windowMs: 60_000 } } });
  expect((await send(t.app, "GET", "/api/v1/ping")).status).toBe(401);
  expect((await send(t.app, "GET", "/api/v1/ping")).status).toBe(401);
  const limited = await send(t.app, "GET", "/api/v1/ping", { headers: bearer("kiln_pat_guess") });
  expect(limited.status).toBe(429);
  expect(limited.headers.get("retry-after")).toBe("60");
});
