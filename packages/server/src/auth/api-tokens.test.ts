import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bearer, createTestApp, login, send, type TestApp } from "./test-app.ts";

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

async function signedIn(username: string, role: "admin" | "user" = "user") {
  const user = await t.addUser(username, "correct horse", role);
  const { cookie, csrfToken } = await login(t.app, username, "correct horse");
  return { user, headers: { cookie, "x-kiln-csrf": csrfToken } };
}

describe("personal API tokens", () => {
  it("the token is shown once at creation; the list never holds it; the store keeps only its hash", async () => {
    const { user, headers } = await signedIn("alice");
    const created = await send(t.app, "POST", "/api/v1/tokens", {
      headers,
      body: { name: "ci", expiresInDays: 30 },
    });
    expect(created.status).toBe(201);
    const token = (created.body as { token: string }).token;
    expect(created.body).toEqual({
      id: expect.stringMatching(/^tok_[0-9a-f]{24}$/),
      name: "ci",
      scopes: ["read", "write"],
      createdAt: t.now(),
      expiresAt: t.now() + 30 * 24 * 3600_000,
      token: expect.stringMatching(/^kiln_pat_[A-Za-z0-9_-]{43}$/),
    });
    const { id } = created.body as { id: string };

    const list = await send(t.app, "GET", "/api/v1/tokens", { headers });
    expect(list.body).toEqual({
      tokens: [
        {
          id,
          name: "ci",
          scopes: ["read", "write"],
          createdAt: t.now(),
          expiresAt: t.now() + 30 * 24 * 3600_000,
        },
      ],
    });
    expect(list.text).not.toContain(token.slice("kiln_pat_".length));
    const stored = await t.store.apiTokens.listByUser(user.id);
    expect(JSON.stringify(stored)).not.toContain(token.slice("kiln_pat_".length));
  });

  it("a bearer PAT authenticates; once revoked it is a 401", async () => {
    const { user, headers } = await signedIn("alice");
    const created = await send(t.app, "POST", "/api/v1/tokens", { headers, body: { name: "cli" } });
    const { id, token } = created.body as { id: string; token: string };

    const ping = await send(t.app, "POST", "/api/v1/ping", { headers: bearer(token) });
    expect(ping.status).toBe(200);
    expect(ping.body).toEqual({
      user: { id: user.id, username: "alice", role: "user", via: "api_token", scopes: ["read", "write"] },
    });

    const revoke = await send(t.app, "DELETE", `/api/v1/tokens/${id}`, { headers });
    expect(revoke.status).toBe(204);
    const after = await send(t.app, "GET", "/api/v1/ping", { headers: bearer(token) });
    expect(after.status).toBe(401);
    expect(after.body).toEqual({
      error: {
        code: "unauthorized",
        message: "the API token is invalid, expired or revoked",
        retryable: false,
      },
    });
    const listed = await send(t.app, "GET", "/api/v1/tokens", { headers });
    expect(listed.body).toEqual({
      tokens: [
        {
          id,
          name: "cli",
          scopes: ["read", "write"],
          createdAt: t.now(),
          lastUsedAt: t.now(),
          revokedAt: t.now(),
        },
      ],
    });
    const actions = (await t.store.audit.list({ userId: user.id })).map((e) => [e.action, e.target]);
    expect(actions).toEqual([
      ["token.revoke", id],
      ["token.create", id],
      ["login", undefined],
    ]);
  });

  it("an expired PAT is a 401", async () => {
    const { headers } = await signedIn("alice");
    const created = await send(t.app, "POST", "/api/v1/tokens", {
      headers,
      body: { name: "short", expiresInDays: 1 },
    });
    const { token } = created.body as { token: string };
    t.advance(24 * 3600_000);
    expect((await send(t.app, "GET", "/api/v1/ping", { headers: bearer(token) })).status).toBe(401);
  });

  it("deleting another user's token is a 404 and leaves it working", async () => {
    const alice = await signedIn("alice");
    const bob = await signedIn("bob");
    const created = await send(t.app, "POST", "/api/v1/tokens", {
      headers: alice.headers,
      body: { name: "mine" },
    });
    const { id, token } = created.body as { id: string; token: string };
    const stolen = await send(t.app, "DELETE", `/api/v1/tokens/${id}`, { headers: bob.headers });
    expect(stolen.status).toBe(404);
    expect(stolen.body).toEqual({
      error: {
        code: "not_found",
        message: `no active API token ${id}`,
        retryable: false,
        details: { field: "id" },
      },
    });
    expect((await send(t.app, "GET", "/api/v1/tokens", { headers: bob.headers })).body).toEqual({
      tokens: [],
    });
    expect((await send(t.app, "GET", "/api/v1/ping", { headers: bearer(token) })).status).toBe(200);
  });

  it("a read-only token may read but not write (403)", async () => {
    const { headers } = await signedIn("alice");
    const created = await send(t.app, "POST", "/api/v1/tokens", {
      headers,
      body: { name: "ro", scopes: ["read"] },
    });
    const { token } = created.body as { token: string };
    expect((await send(t.app, "GET", "/api/v1/ping", { headers: bearer(token) })).status).toBe(200);
    const write = await send(t.app, "POST", "/api/v1/ping", { headers: bearer(token) });
    expect(write.status).toBe(403);
    expect(write.body).toEqual({
      error: {
        code: "forbidden",
        message: 'this token lacks the "write" scope this request needs',
        retryable: false,
      },
    });
  });

  it("a user cannot mint a token with the admin scope; an admin's admin token passes requireAdmin", async () => {
    const alice = await signedIn("alice");
    const denied = await send(t.app, "POST", "/api/v1/tokens", {
      headers: alice.headers,
      body: { name: "x", scopes: ["admin"] },
    });
    expect(denied.status).toBe(403);
    const root = await signedIn("root", "admin");
    const plain = await send(t.app, "POST", "/api/v1/tokens", {
      headers: root.headers,
      body: { name: "plain" },
    });
    const full = await send(t.app, "POST", "/api/v1/tokens", {
      headers: root.headers,
      body: { name: "full", scopes: ["read", "write", "admin"] },
    });
    const plainToken = (plain.body as { token: string }).token;
    const fullToken = (full.body as { token: string }).token;
    expect((await send(t.app, "GET", "/api/v1/admin/ping", { headers: bearer(plainToken) })).status).toBe(
      403,
    );
    expect((await send(t.app, "GET", "/api/v1/admin/ping", { headers: bearer(fullToken) })).status).toBe(200);
  });

  it("a token of a disabled user is a 401", async () => {
    const { user, headers } = await signedIn("alice");
    const { token } = (await send(t.app, "POST", "/api/v1/tokens", { headers, body: { name: "t" } }))
      .body as { token: string };
    await t.store.users.disable(user.id, t.now());
    expect((await send(t.app, "GET", "/api/v1/ping", { headers: bearer(token) })).status).toBe(401);
  });

  it("bad token ids are 400s and unknown ones 404s", async () => {
    const { headers } = await signedIn("alice");
    const bad = await send(t.app, "DELETE", "/api/v1/tokens/..%2Fetc", { headers });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { details: unknown } }).error.details).toEqual({ field: "id" });
    expect(
      (await send(t.app, "DELETE", "/api/v1/tokens/tok_000000000000000000000000", { headers })).status,
    ).toBe(404);
  });
});
