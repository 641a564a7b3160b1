import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApp, login, send, type TestApp } from "./test-app.ts";

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe("browser sessions", () => {
  it("login sets an HttpOnly, SameSite=Lax session cookie on / and returns the user, a CSRF token and tokens", async () => {
    const alice = await t.addUser("alice", "correct horse");
    const { reply, csrfToken } = await login(t.app, "alice", "correct horse");
    const cookie = reply.headers.getSetCookie().find((c) => c.startsWith("kiln_session="));
    expect(cookie).toMatch(/^kiln_session=kiln_sess_[A-Za-z0-9_-]{43}; /);
    const attributes = cookie?.split("; ").slice(1).sort();
    expect(attributes).toEqual(["HttpOnly", "Max-Age=604800", "Path=/", "SameSite=Lax"]);
    expect(reply.body).toEqual({
      user: { id: alice.id, username: "alice", role: "user", createdAt: t.now(), updatedAt: t.now() },
      csrfToken,
      accessToken: expect.stringMatching(/^ey[\w-]+\.[\w-]+\.[\w-]+$/),
      refreshToken: expect.stringMatching(/^kiln_rt_[\w-]{43}$/),
      expiresAt: t.now() + 15 * 60 * 1000,
    });
  });

  it("GET /auth/me with the cookie returns the user and the session's CSRF token again", async () => {
    const alice = await t.addUser("alice", "correct horse");
    const { cookie, csrfToken } = await login(t.app, "alice", "correct horse");
    const me = await send(t.app, "GET", "/api/v1/auth/me", { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      user: {
        id: alice.id,
        username: "alice",
        role: "user",
        createdAt: t.now(),
        updatedAt: t.now(),
        via: "session",
        scopes: ["read", "write"],
      },
      csrfToken,
    });
  });

  it("an unsafe request with the cookie but without the CSRF header is refused with 403", async () => {
    await t.addUser("alice", "correct horse");
    const { cookie, csrfToken } = await login(t.app, "alice", "correct horse");
    const missing = await send(t.app, "POST", "/api/v1/ping", { headers: { cookie } });
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual({
      error: {
        code: "forbidden",
        message: expect.stringContaining("x-kiln-csrf"),
        retryable: false,
      },
    });
    const wrong = await send(t.app, "POST", "/api/v1/ping", { headers: { cookie, "x-kiln-csrf": "nope" } });
    expect(wrong.status).toBe(403);
    const right = await send(t.app, "POST", "/api/v1/ping", {
      headers: { cookie, "x-kiln-csrf": csrfToken },
    });
    expect(right.status).toBe(200);
    expect(right.body).toEqual({
      user: {
        id: expect.any(String),
        username: "alice",
        role: "user",
        via: "session",
        scopes: ["read", "write"],
      },
    });
  });

  it("a safe request with the cookie needs no CSRF header", async () => {
    await t.addUser("alice", "correct horse");
    const { cookie } = await login(t.app, "alice", "correct horse");
    expect((await send(t.app, "GET", "/api/v1/ping", { headers: { cookie } })).status).toBe(200);
  });

  it("no credential, an unknown cookie or a malformed Authorization header is a 401 ErrorInfo", async () => {
    const cases: Record<string, string>[] = [
      {},
      { cookie: "kiln_session=kiln_sess_forged" },
      { authorization: "Basic YTpi" },
    ];
    for (const headers of cases) {
      const reply = await send(t.app, "GET", "/api/v1/ping", { headers });
      expect(reply.status).toBe(401);
      expect(reply.headers.get("www-authenticate")).toBe("Bearer");
      expect(reply.body).toEqual({
        error: { code: "unauthorized", message: expect.any(String), retryable: false },
      });
    }
  });

  it("a wrong password and an unknown user get the same 401 and both are audited", async () => {
    const alice = await t.addUser("alice", "correct horse");
    const wrong = await send(t.app, "POST", "/api/v1/auth/login", {
      body: { username: "alice", password: "nope nope" },
    });
    const unknown = await send(t.app, "POST", "/api/v1/auth/login", {
      body: { username: "bob", password: "nope nope" },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body).toEqual({
      error: { code: "unauthorized", message: "wrong username or password", retryable: false },
    });
    const entries = await t.store.audit.list();
    expect(entries.map(({ id: _, ...e }) => e)).toEqual([
      {
        actor: "bob",
        action: "login.failed",
        ip: "unknown",
        at: t.now(),
        details: { via: "login", reason: "unknown_user" },
      },
      {
        userId: alice.id,
        actor: "alice",
        action: "login.failed",
        ip: "unknown",
        at: t.now(),
        details: { via: "login", reason: "wrong_password" },
      },
    ]);
  });

  it("logout ends the session, clears the cookie, revokes the session's tokens and is audited", async () => {
    const alice = await t.addUser("alice", "correct horse");
    const { cookie, csrfToken, refreshToken } = await login(t.app, "alice", "correct horse");
    const out = await send(t.app, "POST", "/api/v1/auth/logout", {
      headers: { cookie, "x-kiln-csrf": csrfToken },
    });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie()).toEqual(["kiln_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"]);
    expect((await send(t.app, "GET", "/api/v1/auth/me", { headers: { cookie } })).status).toBe(401);
    const refresh = await send(t.app, "POST", "/api/v1/auth/refresh", { body: { refreshToken } });
    expect(refresh.status).toBe(401);
    const actions = (await t.store.audit.list({ userId: alice.id })).map((e) => e.action);
    expect(actions).toEqual(["logout", "login"]);
  });

  it("a disabled user's session stops working", async () => {
    const alice = await t.addUser("alice", "correct horse");
    const { cookie } = await login(t.app, "alice", "correct horse");
    await t.store.users.disable(alice.id, t.now());
    expect((await send(t.app, "GET", "/api/v1/auth/me", { headers: { cookie } })).status).toBe(401);
  });

  it("a session expires after a week without activity", async () => {
    await t.addUser("alice", "correct horse");
    const { cookie } = await login(t.app, "alice", "correct horse");
    t.advance(6 * 24 * 3600_000);
    expect((await send(t.app, "GET", "/api/v1/auth/me", { headers: { cookie } })).status).toBe(200);
    t.advance(6 * 24 * 3600_000);
    expect((await send(t.app, "GET", "/api/v1/auth/me", { headers: { cookie } })).status).toBe(200);
    t.advance(8 * 24 * 3600_000);
    expect((await send(t.app, "GET", "/api/v1/auth/me", { headers: { cookie } })).status).toBe(401);
  });

  it("a user changes their own password: the old one stops working and every sign-in ends", async () => {
    const alice = await t.addUser("alice", "correct horse");
    const { cookie, csrfToken } = await login(t.app, "alice", "correct horse");
    const headers = { cookie, "x-kiln-csrf": csrfToken };
    const short = await send(t.app, "POST", "/api/v1/auth/password", {
      headers,
      body: { currentPassword: "correct horse", newPassword: "short" },
    });
    expect(short.status).toBe(400);
    const changed = await send(t.app, "POST", "/api/v1/auth/password", {
      headers,
      body: { currentPassword: "correct horse", newPassword: "battery staple" },
    });
    expect(changed.status).toBe(204);
    expect((await send(t.app, "GET", "/api/v1/auth/me", { headers: { cookie } })).status).toBe(401);
    const old = await send(t.app, "POST", "/api/v1/auth/login", {
      body: { username: "alice", password: "correct horse" },
    });
    expect(old.status).toBe(401);
    await login(t.app, "alice", "battery staple");
    const actions = (await t.store.audit.list({ userId: alice.id })).map((e) => e.action);
    expect(actions).toEqual(["login", "login.failed", "user.password_change", "login", "login"]);
  });
});
