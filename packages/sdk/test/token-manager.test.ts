// TokenManager against a live server whose auth clock the test moves (and the manager's with it):
// refresh a minute before expiry, rotation saved to storage, one refresh for many concurrent callers,
// a retry after a 401 when the server's clock is ahead, and "log in again" when the refresh is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callApi, startTestServer, type TestServer } from "../../server/test/server-harness.ts";
import {
  KilnClient,
  KilnLoginRequiredError,
  localStorageStorage,
  memoryStorage,
  TokenManager,
  type Tokens,
  type WebStorageLike,
} from "../src/index.ts";

const MINUTE = 60_000;
const ACCESS_TTL = 15 * MINUTE;

let t: TestServer;
let serverClock = Date.now();
let clientClock = serverClock;
/** The refresh requests the managers sent (a pass-through fetch counts them). */
let refreshes = 0;
const countingFetch: typeof fetch = (input, init) => {
  if (String(input).endsWith("/api/v1/auth/refresh")) refreshes++;
  return fetch(input, init);
};

beforeAll(async () => {
  t = await startTestServer({ now: () => serverClock, relaxedLoginLimits: true });
  await t.addUser("alice");
});
afterAll(async () => {
  await t?.close();
});

/** A manager on the client clock, with its storage, signed in as alice; the clocks agree again. */
async function signedIn(): Promise<{
  manager: TokenManager;
  storage: ReturnType<typeof memoryStorage>;
  tokens: Tokens;
}> {
  clientClock = serverClock;
  const storage = memoryStorage();
  const manager = new TokenManager({ baseUrl: t.url, storage, fetch: countingFetch, now: () => clientClock });
  const { user, tokens } = await manager.login("alice", "alice-password");
  expect(user).toMatchObject({ username: "alice", role: "user" });
  refreshes = 0;
  return { manager, storage, tokens };
}

describe("TokenManager", () => {
  it("logs in, keeps the access token until a minute before it expires, then refreshes and saves the rotated pair", async () => {
    const { manager, storage, tokens } = await signedIn();
    expect(tokens).toEqual({
      accessToken: expect.stringMatching(/^ey/),
      refreshToken: expect.stringMatching(/^kiln_rt_/),
      expiresAt: Math.ceil((serverClock + ACCESS_TTL) / 1000) * 1000,
    });
    expect(storage.current).toEqual(tokens);
    const client = new KilnClient({ baseUrl: t.url, tokenManager: manager });
    expect((await client.me()).user).toMatchObject({ username: "alice", via: "access_token" });

    clientClock = serverClock = tokens.expiresAt - MINUTE - 1_000;
    expect(await manager.getAccessToken()).toBe(tokens.accessToken);
    expect(refreshes).toBe(0);

    clientClock = serverClock = tokens.expiresAt - MINUTE + 1_000;
    const renewed = await manager.getAccessToken();
    expect(refreshes).toBe(1);
    expect(renewed).not.toBe(tokens.accessToken);
    expect(storage.current).toEqual({
      accessToken: renewed,
      refreshToken: expect.stringMatching(/^kiln_rt_/),
      expiresAt: Math.ceil((serverClock + ACCESS_TTL) / 1000) * 1000,
    });
    expect(storage.current?.refreshToken).not.toBe(tokens.refreshToken);
    expect((await client.me()).user.username).toBe("alice");
    // The first refresh token was used up by the rotation.
    const reused = await callApi(t.url, undefined, "POST", "/api/v1/auth/refresh", {
      refreshToken: tokens.refreshToken,
    });
    expect(reused.status).toBe(401);
  });

  it("shares one refresh among concurrent callers (a second refresh would reuse the token and revoke the family)", async () => {
    const { manager, storage, tokens } = await signedIn();
    const client = new KilnClient({ baseUrl: t.url, tokenManager: manager });
    clientClock = serverClock = tokens.expiresAt - 30_000;
    const [a, b, c, ...mes] = await Promise.all([
      manager.getAccessToken(),
      manager.getAccessToken(),
      manager.getAccessToken(),
      client.me(),
      client.usage.get(),
      client.threads.list(),
    ]);
    expect(refreshes).toBe(1);
    expect(new Set([a, b, c])).toEqual(new Set([storage.current?.accessToken]));
    expect(a).not.toBe(tokens.accessToken);
    expect(mes).toHaveLength(3);
    // The family is intact: the next refresh works.
    clientClock = serverClock = (storage.current?.expiresAt ?? 0) - 1_000;
    await manager.getAccessToken();
    expect(refreshes).toBe(2);
  });

  it("refreshes and retries once when the server refuses a token the client thought valid (its clock is ahead)", async () => {
    const { manager, tokens } = await signedIn();
    const client = new KilnClient({ baseUrl: t.url, tokenManager: manager });
    serverClock = tokens.expiresAt + 1;
    const me = await client.me();
    expect(me.user.username).toBe("alice");
    expect(refreshes).toBe(1);
    expect(await manager.getAccessToken()).not.toBe(tokens.accessToken);
  });

  it("forgets the tokens and says to log in again when the server refuses the refresh token", async () => {
    const { manager, storage, tokens } = await signedIn();
    // Someone else uses the refresh token first: the manager's refresh is then a reuse, which the
    // server refuses (and it revokes the whole family).
    const stolen = await callApi(t.url, undefined, "POST", "/api/v1/auth/refresh", {
      refreshToken: tokens.refreshToken,
    });
    expect(stolen.status).toBe(200);

    clientClock = serverClock = tokens.expiresAt;
    const error = await manager.getAccessToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KilnLoginRequiredError);
    expect(error).toMatchObject({ code: "unauthorized" });
    expect((error as Error).message).toContain("log in again");
    expect(storage.current).toBeUndefined();
    expect(await manager.getTokens()).toBeUndefined();
    await expect(manager.getAccessToken()).rejects.toThrow("not logged in: log in again");
  });

  it("starts from tokens saved by an earlier run, and logs out (the server revokes the refresh token)", async () => {
    const { storage, tokens } = await signedIn();
    const manager = new TokenManager({ baseUrl: t.url, storage, now: () => clientClock });
    const client = new KilnClient({ baseUrl: t.url, tokenManager: manager });
    expect((await client.me()).user.username).toBe("alice");
    await manager.logout();
    expect(storage.current).toBeUndefined();
    const refused = await callApi(t.url, undefined, "POST", "/api/v1/auth/refresh", {
      refreshToken: tokens.refreshToken,
    });
    expect(refused.status).toBe(401);
  });
});

describe("localStorageStorage", () => {
  it("saves, loads and removes tokens under its key, and takes a value that is not a token pair for none", () => {
    const items = new Map<string, string>();
    const web: WebStorageLike = {
      getItem: (key) => items.get(key) ?? null,
      setItem: (key, value) => void items.set(key, value),
      removeItem: (key) => void items.delete(key),
    };
    const storage = localStorageStorage("kiln.tokens", web);
    const tokens: Tokens = { accessToken: "ey.a.b", refreshToken: "kiln_rt_x", expiresAt: 1_700_000_000_000 };
    expect(storage.load()).toBeUndefined();
    storage.save(tokens);
    expect(JSON.parse(items.get("kiln.tokens") ?? "")).toEqual(tokens);
    expect(storage.load()).toEqual(tokens);
    items.set("kiln.tokens", "{not json");
    expect(storage.load()).toBeUndefined();
    items.set("kiln.tokens", JSON.stringify({ accessToken: 1 }));
    expect(storage.load()).toBeUndefined();
    storage.save(undefined);
    expect(items.has("kiln.tokens")).toBe(false);
  });
});
