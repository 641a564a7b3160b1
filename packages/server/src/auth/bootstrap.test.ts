import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bearer, createTestApp, login, send, type TestApp } from "./test-app.ts";

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const BASE = "http://127.0.0.1:7777/";

function tokenOf(setupUrl: string | undefined): string {
  const match = /^http:\/\/127\.0\.0\.1:7777\/setup#token=(kiln_setup_[A-Za-z0-9_-]{43})$/.exec(
    setupUrl ?? "",
  );
  if (match?.[1] === undefined) throw new Error(`not a setup URL: ${setupUrl}`);
  return match[1];
}

describe("first-run bootstrap", () => {
  it("with KILN_ADMIN_PASSWORD it creates the admin with that password, once", async () => {
    expect(await t.auth.bootstrap({ KILN_ADMIN_PASSWORD: "correct horse" }, BASE)).toEqual({ created: true });
    const { reply } = await login(t.app, "admin", "correct horse");
    expect((reply.body as { user: { role: string } }).user.role).toBe("admin");
    expect(await t.auth.bootstrap({ KILN_ADMIN_PASSWORD: "another one" }, BASE)).toEqual({ created: false });
    const [admin, ...others] = await t.store.users.list();
    expect(others).toEqual([]);
    const entries = await t.store.audit.list();
    expect(entries.at(-1)).toEqual({
      id: expect.any(Number),
      userId: admin?.id,
      actor: "system",
      action: "user.create",
      at: t.now(),
      details: { username: "admin", role: "admin", via: "bootstrap", setupLink: false },
    });
  });

  it("KILN_ADMIN_USER names the admin; a too short KILN_ADMIN_PASSWORD is refused", async () => {
    await expect(t.auth.bootstrap({ KILN_ADMIN_PASSWORD: "short" }, BASE)).rejects.toThrow(
      "KILN_ADMIN_PASSWORD must be 8 to 1024 characters",
    );
    expect(await t.store.users.count()).toBe(0);
    await t.auth.bootstrap({ KILN_ADMIN_USER: "root", KILN_ADMIN_PASSWORD: "correct horse" }, BASE);
    await login(t.app, "root", "correct horse");
  });

  it("without a password it prints a one-time setup link that sets the password and signs in", async () => {
    const result = await t.auth.bootstrap({}, BASE);
    expect(result).toEqual({ created: true, setupUrl: expect.any(String) });
    const token = tokenOf(result.setupUrl);

    const before = await send(t.app, "POST", "/api/v1/auth/login", {
      body: { username: "admin", password: "anything goes" },
    });
    expect(before.status).toBe(401);
    // The setup token is no API token, and it is not listed as one.
    expect((await send(t.app, "GET", "/api/v1/ping", { headers: bearer(token) })).status).toBe(401);

    const short = await send(t.app, "POST", "/api/v1/auth/setup", { body: { token, password: "short" } });
    expect(short.status).toBe(400);
    const setup = await send(t.app, "POST", "/api/v1/auth/setup", {
      body: { token, password: "correct horse" },
    });
    expect(setup.status).toBe(200);
    expect(setup.body).toMatchObject({
      user: { username: "admin", role: "admin" },
      csrfToken: expect.any(String),
    });
    expect(setup.headers.getSetCookie()[0]).toMatch(/^kiln_session=kiln_sess_/);

    const again = await send(t.app, "POST", "/api/v1/auth/setup", {
      body: { token, password: "evil password" },
    });
    expect(again.status).toBe(401);
    expect(again.body).toEqual({
      error: {
        code: "unauthorized",
        message: "the setup link is invalid, used or expired: restart `kiln serve` to print a new one",
        retryable: false,
      },
    });
    const { cookie } = await login(t.app, "admin", "correct horse");
    expect((await send(t.app, "GET", "/api/v1/tokens", { headers: { cookie } })).body).toEqual({
      tokens: [],
    });
    expect(await t.auth.bootstrap({}, BASE)).toEqual({ created: false });
    expect((await t.store.audit.list()).map((e) => e.action)).toContain("user.setup");
  });

  it("the setup link expires after 24 hours; a restart before setup prints a new one and voids the old", async () => {
    const first = tokenOf((await t.auth.bootstrap({}, BASE)).setupUrl);
    const restart = await t.auth.bootstrap({}, BASE);
    expect(restart).toEqual({ created: false, setupUrl: expect.any(String) });
    const second = tokenOf(restart.setupUrl);
    expect(second).not.toBe(first);
    expect(
      (await send(t.app, "POST", "/api/v1/auth/setup", { body: { token: first, password: "correct horse" } }))
        .status,
    ).toBe(401);
    t.advance(24 * 3600_000);
    expect(
      (
        await send(t.app, "POST", "/api/v1/auth/setup", {
          body: { token: second, password: "correct horse" },
        })
      ).status,
    ).toBe(401);
    const third = tokenOf((await t.auth.bootstrap({}, BASE)).setupUrl);
    expect(
      (await send(t.app, "POST", "/api/v1/auth/setup", { body: { token: third, password: "correct horse" } }))
        .status,
    ).toBe(200);
  });
});
