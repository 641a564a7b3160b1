// BrowserSession against a live server, with fetch behaving as a browser's does for the cookie: the
// jar keeps what `set-cookie` sets and sends it only on requests made with `credentials` other than
// `omit` (the SDK must ask for it). Sign in, CSRF on unsafe requests, a reload (resume), a wrong
// password, sign-out (the old cookie no longer works and listeners are told), and first-run setup.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../../server/src/auth/test-app.ts";
import { type Listening, listen } from "../../server/src/index.ts";
import { startTestServer, type TestServer } from "../../server/test/server-harness.ts";
import { BrowserSession, KilnApiError, KilnClient } from "../src/index.ts";

/** What the browser sent, per request. */
interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** A fetch with a browser's cookie jar (one origin), recording what it sends. */
function browserFetch(): { fetch: typeof fetch; jar: Map<string, string>; sent: Sent[] } {
  const jar = new Map<string, string>();
  const sent: Sent[] = [];
  const f: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    const withCookies = init?.credentials === "same-origin" || init?.credentials === "include";
    if (withCookies && jar.size > 0) {
      headers.set("cookie", [...jar].map(([name, value]) => `${name}=${value}`).join("; "));
    }
    const url = new URL(String(input));
    sent.push({
      method: init?.method ?? "GET",
      path: url.pathname,
      headers: Object.fromEntries(headers),
    });
    const response = await fetch(input, { ...init, headers });
    if (!withCookies) return response;
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const [name = "", value = ""] = pair.split("=", 2);
      const expired = attributes.some((a) => /^max-age=0$/i.test(a));
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  };
  return { fetch: f, jar, sent };
}

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
  await t.addUser("carol");
});
afterAll(async () => {
  await t?.close();
});

describe("BrowserSession", () => {
  it("signs in with the session cookie: every request carries it, unsafe ones the CSRF token too, and no bearer token is sent", async () => {
    const browser = browserFetch();
    const session = new BrowserSession({ baseUrl: t.url, fetch: browser.fetch });
    const client = new KilnClient({ baseUrl: t.url, session, fetch: browser.fetch });
    expect(session.signedIn).toBe(false);

    const user = await session.login("carol", "carol-password");
    expect(user).toMatchObject({ username: "carol", role: "user" });
    expect(session.signedIn).toBe(true);
    expect([...browser.jar.keys()]).toEqual(["kiln_session"]);

    expect((await client.me()).user).toMatchObject({ username: "carol", via: "session" });
    const thread = await client.threads.start({ title: "from the browser" });
    expect(await client.threads.get(thread.id)).toMatchObject({ id: thread.id, title: "from the browser" });

    const post = browser.sent.find((s) => s.method === "POST" && s.path === "/api/v1/threads");
    const get = browser.sent.find((s) => s.method === "GET" && s.path === "/api/v1/auth/me");
    expect(post?.headers["x-kiln-csrf"]).toBe(session.csrfHeader());
    expect(post?.headers.cookie).toMatch(/^kiln_session=kiln_sess_/);
    expect(get?.headers["x-kiln-csrf"]).toBeUndefined();
    expect(browser.sent.filter((s) => s.headers.authorization !== undefined)).toEqual([]);
  });

  it("after a page reload, unsafe requests are refused until resume() gets the CSRF token back from /auth/me", async () => {
    const browser = browserFetch();
    await new BrowserSession({ baseUrl: t.url, fetch: browser.fetch }).login("carol", "carol-password");

    // The reloaded page: the same cookie jar, a new session object without the CSRF token.
    const reloaded = new BrowserSession({ baseUrl: t.url, fetch: browser.fetch });
    const client = new KilnClient({ baseUrl: t.url, session: reloaded, fetch: browser.fetch });
    const refused = await client.threads.start().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(KilnApiError);
    expect(refused).toMatchObject({ status: 403, code: "forbidden" });

    expect(await reloaded.resume()).toMatchObject({ username: "carol", via: "session" });
    expect(reloaded.signedIn).toBe(true);
    const thread = await client.threads.start();
    expect(thread.id).toMatch(/^thr_/);
  });

  it("a wrong password fails the login with a 401 and is not reported as an ended session", async () => {
    const browser = browserFetch();
    const session = new BrowserSession({ baseUrl: t.url, fetch: browser.fetch });
    let expired = 0;
    session.onExpired(() => expired++);
    const error = await session.login("carol", "not-the-password").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KilnApiError);
    expect(error).toMatchObject({ status: 401, code: "unauthorized" });
    expect(expired).toBe(0);
    expect(session.signedIn).toBe(false);
    expect(await session.resume()).toBeUndefined();
  });

  it("signing out ends the session on the server: the old cookie gets a 401, listeners are told, resume finds no session", async () => {
    const browser = browserFetch();
    const session = new BrowserSession({ baseUrl: t.url, fetch: browser.fetch });
    const client = new KilnClient({ baseUrl: t.url, session, fetch: browser.fetch });
    await session.login("carol", "carol-password");
    const oldCookie = browser.jar.get("kiln_session") ?? "";
    const told: string[] = [];
    const unsubscribe = session.onExpired(() => told.push("expired"));

    await session.logout();
    expect(session.signedIn).toBe(false);
    expect(browser.jar.has("kiln_session")).toBe(false);

    // A stolen copy of the old cookie no longer works either.
    browser.jar.set("kiln_session", oldCookie);
    const error = await client.tasks.list().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, code: "unauthorized" });
    expect(told).toEqual(["expired"]);
    unsubscribe();
    await client.tasks.list().catch(() => undefined);
    expect(told).toEqual(["expired"]);
    expect(await session.resume()).toBeUndefined();
  });
});

describe("BrowserSession first-run setup", () => {
  let app: TestApp;
  let http: Listening;

  beforeAll(async () => {
    app = await createTestApp();
    http = await listen(app.app, { port: 0, hostname: "127.0.0.1" });
  });
  afterAll(async () => {
    await http?.close();
    await app?.close();
  });

  it("sets the admin's password with the setup link's token and signs in; the link works once", async () => {
    const { setupUrl } = await app.auth.bootstrap({}, http.url);
    const token = new URL(setupUrl ?? "").hash.replace(/^#token=/, "");
    const browser = browserFetch();
    const session = new BrowserSession({ baseUrl: http.url, fetch: browser.fetch });

    const user = await session.setup(token, "a brand new password");
    expect(user).toMatchObject({ username: "admin", role: "admin" });
    expect(session.signedIn).toBe(true);
    expect(await session.resume()).toMatchObject({ username: "admin", via: "session" });

    const again = await new BrowserSession({ baseUrl: http.url, fetch: browserFetch().fetch })
      .setup(token, "another password")
      .catch((e: unknown) => e);
    expect(again).toMatchObject({ status: 401, code: "unauthorized" });
    const other = new BrowserSession({ baseUrl: http.url, fetch: browserFetch().fetch });
    expect(await other.login("admin", "a brand new password")).toMatchObject({ username: "admin" });
  });
});
