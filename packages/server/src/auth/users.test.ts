import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bearer, createTestApp, login, send, type TestApp } from "./test-app.ts";

let t: TestApp;
let admin: { id: string; headers: Record<string, string> };
beforeEach(async () => {
  t = await createTestApp();
  const user = await t.addUser("root", "correct horse", "admin");
  const { cookie, csrfToken } = await login(t.app, "root", "correct horse");
  admin = { id: user.id, headers: { cookie, "x-kiln-csrf": csrfToken } };
});
afterEach(async () => {
  await t.close();
});

describe("users (admin)", () => {
  it("an admin creates a user who can then sign in; creation is audited", async () => {
    t.advance(1000);
    const created = await send(t.app, "POST", "/api/v1/users", {
      headers: admin.headers,
      body: { username: "alice", password: "correct horse" },
    });
    expect(created.status).toBe(201);
    const { user } = created.body as { user: { id: string } };
    expect(created.body).toEqual({
      user: {
        id: expect.stringMatching(/^usr_/),
        username: "alice",
        role: "user",
        createdAt: t.now(),
        updatedAt: t.now(),
      },
    });
    await login(t.app, "alice", "correct horse");
    const list = await send(t.app, "GET", "/api/v1/users", { headers: admin.headers });
    expect((list.body as { users: { username: string }[] }).users.map((u) => u.username)).toEqual([
      "root",
      "alice",
    ]);
    expect(list.text).not.toContain("scrypt");
    const [entry] = await t.store.audit.list({ userId: admin.id });
    expect(entry).toEqual({
      id: expect.any(Number),
      userId: admin.id,
      actor: "root",
      action: "user.create",
      target: user.id,
      ip: "unknown",
      at: t.now(),
      details: { username: "alice", role: "user" },
    });
  });

  it("admin routes are 403 for a user", async () => {
    await t.addUser("alice", "correct horse");
    const { cookie, csrfToken } = await login(t.app, "alice", "correct horse");
    const headers = { cookie, "x-kiln-csrf": csrfToken };
    const forbidden = {
      error: { code: "forbidden", message: "only an admin may do this", retryable: false },
    };
    const list = await send(t.app, "GET", "/api/v1/users", { headers });
    expect([list.status, list.body]).toEqual([403, forbidden]);
    const create = await send(t.app, "POST", "/api/v1/users", {
      headers,
      body: { username: "eve", password: "correct horse" },
    });
    expect([create.status, create.body]).toEqual([403, forbidden]);
    const patch = await send(t.app, "PATCH", `/api/v1/users/${admin.id}`, {
      headers,
      body: { disabled: true },
    });
    expect([patch.status, patch.body]).toEqual([403, forbidden]);
  });

  it("a password shorter than 8 characters is a clear 400", async () => {
    const reply = await send(t.app, "POST", "/api/v1/users", {
      headers: admin.headers,
      body: { username: "alice", password: "short" },
    });
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({
      error: {
        code: "invalid_request",
        message: '"password": the password must be at least 8 characters',
        retryable: false,
        details: {
          field: "password",
          issues: [{ field: "password", message: "the password must be at least 8 characters" }],
        },
      },
    });
  });

  it("an unknown field is a 400 that names it", async () => {
    const reply = await send(t.app, "POST", "/api/v1/users", {
      headers: admin.headers,
      body: { username: "alice", password: "correct horse", isAdmin: true },
    });
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({
      error: {
        code: "invalid_request",
        message: 'unknown field "isAdmin": remove it',
        retryable: false,
        details: { field: "isAdmin", issues: [{ field: "isAdmin", message: 'unknown field "isAdmin"' }] },
      },
    });
  });

  it("a taken username is a 409", async () => {
    await t.addUser("alice", "correct horse");
    const reply = await send(t.app, "POST", "/api/v1/users", {
      headers: admin.headers,
      body: { username: "Alice", password: "correct horse" },
    });
    expect(reply.status).toBe(409);
    expect((reply.body as { error: { code: string } }).error.code).toBe("conflict");
  });

  it("disabling a user ends their sessions and tokens; it is audited", async () => {
    const alice = await t.addUser("alice", "correct horse");
    const session = await login(t.app, "alice", "correct horse");
    const pat = await send(t.app, "POST", "/api/v1/tokens", {
      headers: { cookie: session.cookie, "x-kiln-csrf": session.csrfToken },
      body: { name: "t" },
    });
    const { token } = pat.body as { token: string };
    const reply = await send(t.app, "PATCH", `/api/v1/users/${alice.id}`, {
      headers: admin.headers,
      body: { disabled: true },
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      user: {
        id: alice.id,
        username: "alice",
        role: "user",
        createdAt: t.now(),
        updatedAt: t.now(),
        disabledAt: t.now(),
      },
    });
    expect(
      (await send(t.app, "GET", "/api/v1/auth/me", { headers: { cookie: session.cookie } })).status,
    ).toBe(401);
    expect((await send(t.app, "GET", "/api/v1/ping", { headers: bearer(token) })).status).toBe(401);
    expect(
      (await send(t.app, "POST", "/api/v1/auth/refresh", { body: { refreshToken: session.refreshToken } }))
        .status,
    ).toBe(401);
    const login2 = await send(t.app, "POST", "/api/v1/auth/login", {
      body: { username: "alice", password: "correct horse" },
    });
    expect(login2.body).toEqual({
      error: { code: "unauthorized", message: "wrong username or password", retryable: false },
    });
    const actions = (await t.store.audit.list({ userId: admin.id })).map((e) => [e.action, e.target]);
    expect(actions[0]).toEqual(["user.disable", alice.id]);
  });

  it("an admin resets a password: the old one fails, the new one works, and it is audited", async () => {
    const alice = await t.addUser("alice", "correct horse");
    const reply = await send(t.app, "PATCH", `/api/v1/users/${alice.id}`, {
      headers: admin.headers,
      body: { password: "battery staple" },
    });
    expect(reply.status).toBe(200);
    const old = await send(t.app, "POST", "/api/v1/auth/login", {
      body: { username: "alice", password: "correct horse" },
    });
    expect(old.status).toBe(401);
    await login(t.app, "alice", "battery staple");
    const [, , change] = await t.store.audit.list();
    expect(change).toMatchObject({
      action: "user.password_change",
      target: alice.id,
      actor: "root",
      details: { by: "admin" },
    });
  });

  it("PATCH checks its body and id: empty body, unknown user, own account", async () => {
    const empty = await send(t.app, "PATCH", `/api/v1/users/${admin.id}`, {
      headers: admin.headers,
      body: {},
    });
    expect(empty.status).toBe(400);
    expect((empty.body as { error: { message: string } }).error.message).toContain(
      "send `disabled: true` or a new `password`",
    );
    const enable = await send(t.app, "PATCH", `/api/v1/users/${admin.id}`, {
      headers: admin.headers,
      body: { disabled: false },
    });
    expect(enable.status).toBe(400);
    expect((enable.body as { error: { details: { field: string } } }).error.details.field).toBe("disabled");
    const unknown = await send(t.app, "PATCH", "/api/v1/users/usr_000000000000000000000000", {
      headers: admin.headers,
      body: { disabled: true },
    });
    expect(unknown.status).toBe(404);
    const self = await send(t.app, "PATCH", `/api/v1/users/${admin.id}`, {
      headers: admin.headers,
      body: { disabled: true },
    });
    expect(self.status).toBe(400);
  });
});
