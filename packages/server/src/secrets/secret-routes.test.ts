import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTestApp, login, send, type TestApp } from "../auth/test-app.ts";

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const VALUE = "sk-live-0123456789abcdef";

async function signedIn(username: string) {
  const user = await t.addUser(username, "correct horse");
  const { cookie, csrfToken } = await login(t.app, username, "correct horse");
  return { user, headers: { cookie, "x-kiln-csrf": csrfToken } };
}

describe("secret routes", () => {
  it("PUT stores a secret; GET lists names and update times only, never values", async () => {
    const { user, headers } = await signedIn("alice");
    const put = await send(t.app, "PUT", "/api/v1/secrets/OPENAI_API_KEY", {
      headers,
      body: { value: VALUE },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ name: "OPENAI_API_KEY", updatedAt: t.now() });
    t.advance(1000);
    await send(t.app, "PUT", "/api/v1/secrets/GITHUB_TOKEN", { headers, body: { value: "ghp_abc" } });

    const list = await send(t.app, "GET", "/api/v1/secrets", { headers });
    expect(list.body).toEqual({
      secrets: [
        { name: "GITHUB_TOKEN", updatedAt: t.now() },
        { name: "OPENAI_API_KEY", updatedAt: t.now() - 1000 },
      ],
    });
    expect(list.text).not.toContain(VALUE);
    expect(put.text).not.toContain(VALUE);
    expect(await t.secrets.getSecret(user.id, "OPENAI_API_KEY")).toBe(VALUE);

    // At rest it is ciphertext.
    const stored = await t.store.secrets.get(`user:${user.id}`, "OPENAI_API_KEY");
    expect(Buffer.from(stored?.ciphertext ?? []).toString("utf8")).not.toContain("sk-live");
    const audit = await t.store.audit.list({ userId: user.id });
    expect(audit.map((e) => [e.action, e.target, e.details])).toEqual([
      ["secret.put", "GITHUB_TOKEN", undefined],
      ["secret.put", "OPENAI_API_KEY", undefined],
      ["login", undefined, { via: "login" }],
    ]);
    expect(JSON.stringify(audit)).not.toContain(VALUE);
  });

  it("PUT replaces a value; DELETE removes it, then 404s", async () => {
    const { user, headers } = await signedIn("alice");
    await send(t.app, "PUT", "/api/v1/secrets/API_KEY", { headers, body: { value: "one" } });
    await send(t.app, "PUT", "/api/v1/secrets/API_KEY", { headers, body: { value: "two" } });
    expect(await t.secrets.getSecret(user.id, "API_KEY")).toBe("two");
    expect((await send(t.app, "DELETE", "/api/v1/secrets/API_KEY", { headers })).status).toBe(204);
    expect(await t.secrets.getSecret(user.id, "API_KEY")).toBeUndefined();
    const again = await send(t.app, "DELETE", "/api/v1/secrets/API_KEY", { headers });
    expect(again.status).toBe(404);
  });

  it("another user's secrets are invisible: not listed, not deletable, not readable by the executor as theirs", async () => {
    const alice = await signedIn("alice");
    const bob = await signedIn("bob");
    await send(t.app, "PUT", "/api/v1/secrets/OPENAI_API_KEY", {
      headers: alice.headers,
      body: { value: VALUE },
    });
    expect((await send(t.app, "GET", "/api/v1/secrets", { headers: bob.headers })).body).toEqual({
      secrets: [],
    });
    expect(
      (await send(t.app, "DELETE", "/api/v1/secrets/OPENAI_API_KEY", { headers: bob.headers })).status,
    ).toBe(404);
    expect(await t.secrets.getSecret(bob.user.id, "OPENAI_API_KEY")).toBeUndefined();
    expect(await t.secrets.getSecret(alice.user.id, "OPENAI_API_KEY")).toBe(VALUE);
  });

  it("a secret row moved to another user does not decrypt", async () => {
    const alice = await signedIn("alice");
    const bob = await signedIn("bob");
    await t.secrets.putSecret(alice.user.id, "OPENAI_API_KEY", VALUE);
    const row = await t.store.secrets.get(`user:${alice.user.id}`, "OPENAI_API_KEY");
    if (row === undefined) throw new Error("not stored");
    await t.store.secrets.put({ ...row, scope: `user:${bob.user.id}`, now: t.now() });
    await expect(t.secrets.getSecret(bob.user.id, "OPENAI_API_KEY")).rejects.toThrow(
      "could not be decrypted",
    );
  });

  it("bad names, bad bodies and missing auth are 4xx that never echo the value", async () => {
    const { headers } = await signedIn("alice");
    const badName = await send(t.app, "PUT", "/api/v1/secrets/openai-key", {
      headers,
      body: { value: VALUE },
    });
    expect(badName.status).toBe(400);
    expect((badName.body as { error: { details: unknown } }).error.details).toEqual({ field: "name" });
    const tooLong = await send(t.app, "PUT", `/api/v1/secrets/${"A".repeat(65)}`, {
      headers,
      body: { value: VALUE },
    });
    expect(tooLong.status).toBe(400);
    const unknown = await send(t.app, "PUT", "/api/v1/secrets/KEY", {
      headers,
      body: { value: VALUE, note: VALUE },
    });
    expect(unknown.status).toBe(400);
    expect((unknown.body as { error: { message: string } }).error.message).toBe(
      'unknown field "note": remove it',
    );
    const wrongType = await send(t.app, "PUT", "/api/v1/secrets/KEY", { headers, body: { value: 42 } });
    expect((wrongType.body as { error: { details: { field: string } } }).error.details.field).toBe("value");
    const malformed = await send(t.app, "PUT", "/api/v1/secrets/KEY", {
      headers,
      body: `{"value": "${VALUE}"`,
    });
    expect(malformed.status).toBe(400);
    for (const reply of [badName, tooLong, unknown, wrongType, malformed])
      expect(reply.text).not.toContain(VALUE);
    expect((await send(t.app, "GET", "/api/v1/secrets")).status).toBe(401);
    const noCsrf = await send(t.app, "PUT", "/api/v1/secrets/KEY", {
      headers: { cookie: headers.cookie },
      body: { value: VALUE },
    });
    expect(noCsrf.status).toBe(403);
  });
});
