import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAccessTokens } from "./access-token.ts";
import { bearer, createTestApp, send, type TestApp } from "./test-app.ts";

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

type OAuth = { access_token: string; refresh_token: string; expires_in: number; token_type: string };

async function passwordGrant(username: string, password: string) {
  return send(t.app, "POST", "/api/v1/auth/token", { body: { username, password } });
}

describe("access and refresh tokens", () => {
  it("the password grant returns an OAuth-style pair whose access token is a JWT with sub and exp", async () => {
    const alice = await t.addUser("alice", "correct horse");
    const reply = await passwordGrant("alice", "correct horse");
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      access_token: expect.stringMatching(/^ey/),
      refresh_token: expect.stringMatching(/^kiln_rt_/),
      expires_in: 900,
      token_type: "Bearer",
    });
    const { access_token } = reply.body as OAuth;
    const claims = JSON.parse(Buffer.from(access_token.split(".")[1] ?? "", "base64url").toString());
    expect(claims).toEqual({
      iss: "kiln",
      sub: alice.id,
      fam: expect.stringMatching(/^fam_/),
      scope: "read write",
      iat: t.now() / 1000,
      exp: t.now() / 1000 + 900,
    });
    const ping = await send(t.app, "POST", "/api/v1/ping", { headers: bearer(access_token) });
    expect(ping.body).toEqual({
      user: { id: alice.id, username: "alice", role: "user", via: "access_token", scopes: ["read", "write"] },
    });
  });

  it("an access token works for 15 minutes, then is a 401", async () => {
    await t.addUser("alice", "correct horse");
    const { access_token } = (await passwordGrant("alice", "correct horse")).body as OAuth;
    t.advance(15 * 60_000 - 1);
    expect((await send(t.app, "GET", "/api/v1/ping", { headers: bearer(access_token) })).status).toBe(200);
    t.advance(1);
    const expired = await send(t.app, "GET", "/api/v1/ping", { headers: bearer(access_token) });
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({
      error: {
        code: "unauthorized",
        message: "the access token is invalid or expired: refresh it or sign in again",
        retryable: false,
      },
    });
  });

  it("a token signed with another key, a tampered one or an unsigned one is a 401", async () => {
    const alice = await t.addUser("alice", "correct horse");
    const forged = createAccessTokens(randomBytes(32)).sign(
      { sub: alice.id, fam: "fam_x", scopes: ["read"] },
      t.now(),
    );
    const { access_token } = (await passwordGrant("alice", "correct horse")).body as OAuth;
    const [header, payload, signature] = access_token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const elevated = Buffer.from(JSON.stringify({ ...claims, scope: "read write admin" })).toString(
      "base64url",
    );
    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    for (const token of [
      forged.token,
      `${header}.${elevated}.${signature}`,
      `${none}.${payload}.${signature}`,
    ]) {
      expect((await send(t.app, "GET", "/api/v1/ping", { headers: bearer(token) })).status).toBe(401);
    }
  });

  it("a refresh token rotates: each use returns a new pair and the used one cannot be used again", async () => {
    await t.addUser("alice", "correct horse");
    const first = (await passwordGrant("alice", "correct horse")).body as OAuth;
    t.advance(60_000);
    const second = await send(t.app, "POST", "/api/v1/auth/token", {
      body: { refresh_token: first.refresh_token },
    });
    expect(second.status).toBe(200);
    const pair = second.body as OAuth;
    expect(pair.refresh_token).not.toBe(first.refresh_token);
    expect(pair.expires_in).toBe(900);
    expect((await send(t.app, "GET", "/api/v1/ping", { headers: bearer(pair.access_token) })).status).toBe(
      200,
    );

    // The camelCase endpoint rotates the same family.
    const third = await send(t.app, "POST", "/api/v1/auth/refresh", {
      body: { refreshToken: pair.refresh_token },
    });
    expect(third.body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.stringMatching(/^kiln_rt_/),
      expiresAt: t.now() + 900_000,
    });
  });

  it("reusing a used refresh token revokes its whole family and is audited", async () => {
    const alice = await t.addUser("alice", "correct horse");
    const first = (await passwordGrant("alice", "correct horse")).body as OAuth;
    const rotated = (
      await send(t.app, "POST", "/api/v1/auth/token", { body: { refresh_token: first.refresh_token } })
    ).body as OAuth;

    const replay = await send(t.app, "POST", "/api/v1/auth/token", {
      body: { refresh_token: first.refresh_token },
    });
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({
      error: {
        code: "unauthorized",
        message: "the refresh token is invalid, expired or revoked: sign in again",
        retryable: false,
      },
    });
    // The legitimate holder's newer token died with the family.
    const later = await send(t.app, "POST", "/api/v1/auth/token", {
      body: { refresh_token: rotated.refresh_token },
    });
    expect(later.status).toBe(401);

    const [reuse] = await t.store.audit.list({ userId: alice.id });
    expect(reuse).toEqual({
      id: expect.any(Number),
      userId: alice.id,
      actor: "system",
      action: "refresh_token.reuse",
      target: expect.stringMatching(/^fam_/),
      ip: "unknown",
      at: t.now(),
      details: { revoked: 2 },
    });
  });

  it("other families survive a reuse in one family", async () => {
    await t.addUser("alice", "correct horse");
    const laptop = (await passwordGrant("alice", "correct horse")).body as OAuth;
    const phone = (await passwordGrant("alice", "correct horse")).body as OAuth;
    await send(t.app, "POST", "/api/v1/auth/refresh", { body: { refreshToken: laptop.refresh_token } });
    await send(t.app, "POST", "/api/v1/auth/refresh", { body: { refreshToken: laptop.refresh_token } });
    expect(
      (await send(t.app, "POST", "/api/v1/auth/refresh", { body: { refreshToken: phone.refresh_token } }))
        .status,
    ).toBe(200);
  });

  it("logout with an access token revokes its refresh family", async () => {
    await t.addUser("alice", "correct horse");
    const pair = (await passwordGrant("alice", "correct horse")).body as OAuth;
    expect(
      (await send(t.app, "POST", "/api/v1/auth/logout", { headers: bearer(pair.access_token) })).status,
    ).toBe(204);
    expect(
      (await send(t.app, "POST", "/api/v1/auth/refresh", { body: { refreshToken: pair.refresh_token } }))
        .status,
    ).toBe(401);
  });

  it("a disabled user's refresh token and access token stop working", async () => {
    const alice = await t.addUser("alice", "correct horse");
    const pair = (await passwordGrant("alice", "correct horse")).body as OAuth;
    await t.store.users.disable(alice.id, t.now());
    expect((await send(t.app, "GET", "/api/v1/ping", { headers: bearer(pair.access_token) })).status).toBe(
      401,
    );
    expect(
      (await send(t.app, "POST", "/api/v1/auth/refresh", { body: { refreshToken: pair.refresh_token } }))
        .status,
    ).toBe(401);
  });

  it("a wrong grant body names the bad field", async () => {
    const reply = await send(t.app, "POST", "/api/v1/auth/token", { body: { refresh_token: 42 } });
    expect(reply.status).toBe(400);
    expect((reply.body as { error: { details: { field: string } } }).error.details.field).toBe(
      "refresh_token",
    );
    const mixed = await send(t.app, "POST", "/api/v1/auth/token", {
      body: { username: "a", password: "b", scope: "x" },
    });
    expect(mixed.status).toBe(400);
    expect((mixed.body as { error: { message: string } }).error.message).toBe(
      'unknown field "scope": remove it',
    );
  });
});
