import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createTestApp, type TestApp } from "./test-app.ts";

let t: TestApp;
let server: ReturnType<typeof serve>;
let base: string;

beforeEach(async () => {
  t = await createTestApp({ secureCookies: true });
  server = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  await t.close();
});

it("over real HTTP, login sets a Secure HttpOnly SameSite=Lax cookie that authenticates the next requests", async () => {
  const alice = await t.addUser("alice", "correct horse");
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "alice", password: "correct horse" }),
  });
  expect(login.status).toBe(200);
  const [setCookie, ...others] = login.headers.getSetCookie();
  expect(others).toEqual([]);
  expect(setCookie?.split("; ").slice(1).sort()).toEqual([
    "HttpOnly",
    "Max-Age=604800",
    "Path=/",
    "SameSite=Lax",
    "Secure",
  ]);
  const cookie = setCookie?.split(";")[0] ?? "";
  const { csrfToken } = (await login.json()) as { csrfToken: string };

  const me = await fetch(`${base}/api/v1/auth/me`, { headers: { cookie } });
  expect(me.status).toBe(200);
  expect(((await me.json()) as { user: { id: string } }).user.id).toBe(alice.id);

  const noCsrf = await fetch(`${base}/api/v1/ping`, { method: "POST", headers: { cookie } });
  expect(noCsrf.status).toBe(403);
  const withCsrf = await fetch(`${base}/api/v1/ping`, {
    method: "POST",
    headers: { cookie, "x-kiln-csrf": csrfToken },
  });
  expect(withCsrf.status).toBe(200);

  // The client's address comes from the socket, not from headers a client could forge.
  const spoofed = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.9" },
    body: JSON.stringify({ username: "alice", password: "wrong password" }),
  });
  expect(spoofed.status).toBe(401);
  const ips = (await t.store.audit.list({ userId: alice.id })).map((e) => [e.action, e.ip]);
  expect(ips).toEqual([
    ["login.failed", "127.0.0.1"],
    ["login", "127.0.0.1"],
  ]);
});
