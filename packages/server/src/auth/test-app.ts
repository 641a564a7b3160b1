// Test support for the auth and secrets tests (not exported): a real SQLite store in a temp dir, the
// auth and secret routes mounted as the server mounts them, a settable clock, and small HTTP helpers
// over Hono's in-process fetch.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KilnStore, openStore, type User } from "@kiln/store";
import { Hono } from "hono";
import { createSecretBox } from "../secrets/secret-box.ts";
import { secretRoutes } from "../secrets/secret-routes.ts";
import { createUserSecrets, type UserSecrets } from "../secrets/user-secrets.ts";
import type { AppEnv } from "./app-env.ts";
import { type Auth, createAuth } from "./create-auth.ts";
import { handleHttpError } from "./http-error.ts";
import { newAuthId } from "./opaque-token.ts";
import { hashPassword } from "./password.ts";
import type { AuthLimits } from "./rate-limit.ts";

/** A test server. */
export interface TestApp {
  app: Hono<AppEnv>;
  store: KilnStore;
  auth: Auth;
  secrets: UserSecrets;
  dir: string;
  /** The injected clock (Unix ms); move it with `advance`. */
  now(): number;
  advance(ms: number): void;
  /** Adds a user straight to the store. */
  addUser(username: string, password: string, role?: User["role"]): Promise<User>;
  close(): Promise<void>;
}

/** Starts a test app over a fresh SQLite store. */
export async function createTestApp(
  options: { secureCookies?: boolean; limits?: Partial<AuthLimits> } = {},
): Promise<TestApp> {
  const dir = await mkdtemp(join(tmpdir(), "kiln-auth-"));
  const store = await openStore({ sqlitePath: join(dir, "kiln.db") });
  let clock = Date.UTC(2025, 0, 1);
  const now = () => clock;
  const secretKey = randomBytes(32);
  const auth = createAuth({
    store,
    secretKey,
    now,
    secureCookies: options.secureCookies ?? false,
    limits: options.limits,
  });
  const secrets = createUserSecrets({ store, box: createSecretBox(secretKey), now });
  const app = new Hono<AppEnv>();
  app.onError(handleHttpError);
  app.route("/api/v1", auth.routes);
  app.route("/api/v1", secretRoutes({ secrets, requireUser: auth.requireUser }));
  // Stand-ins for the rest of the server's routes.
  app.get("/api/v1/ping", auth.requireUser, (c) => c.json({ user: c.get("user") }));
  app.post("/api/v1/ping", auth.requireUser, (c) => c.json({ user: c.get("user") }));
  app.get("/api/v1/admin/ping", auth.requireUser, auth.requireAdmin, (c) => c.json({ ok: true }));
  return {
    app,
    store,
    auth,
    secrets,
    dir,
    now,
    advance: (ms) => {
      clock += ms;
    },
    addUser: async (username, password, role = "user") =>
      store.users.create({
        id: newAuthId("usr"),
        username,
        role,
        passwordHash: await hashPassword(password),
        now: clock,
      }),
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A response, read. */
export interface Reply {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

/** Sends a request; `body` is sent as JSON unless it is a string. */
export async function send(
  app: Hono<AppEnv>,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await app.request(path, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

/** Signs in; returns the cookie header to send back, the CSRF token and the token pair. */
export async function login(
  app: Hono<AppEnv>,
  username: string,
  password: string,
): Promise<{ cookie: string; csrfToken: string; accessToken: string; refreshToken: string; reply: Reply }> {
  const reply = await send(app, "POST", "/api/v1/auth/login", { body: { username, password } });
  if (reply.status !== 200) throw new Error(`login failed: ${reply.status} ${reply.text}`);
  const setCookie = reply.headers.getSetCookie().find((c) => c.startsWith("kiln_session="));
  if (setCookie === undefined) throw new Error("login set no session cookie");
  const body = reply.body as { csrfToken: string; accessToken: string; refreshToken: string };
  return {
    cookie: setCookie.split(";")[0] ?? "",
    csrfToken: body.csrfToken,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    reply,
  };
}

/** `Authorization: Bearer …`. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
