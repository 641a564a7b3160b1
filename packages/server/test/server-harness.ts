// A whole Kiln server for tests: a real SQLite store in a temp data dir, real auth, the real executor
// (Kiln threads with the bwrap sandbox) talking to the fake model server, served over HTTP on
// 127.0.0.1. Users sign in over the API; `api(user)` is a small JSON client.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KilnStore, openStore } from "@kiln/store";
import { type FakeModelServer, type Scenario, startFakeModelServer } from "@kiln/test-support";
import pino from "pino";
import {
  createAuth,
  createKilnFactory,
  createSecretBox,
  createServer,
  createUserSecrets,
  type KilnServer,
  type Listening,
  listen,
  providerKeysOf,
} from "../src/index.ts";
import { openPostgresTestStore } from "./postgres-test-store.ts";

/** A signed-in user. */
export interface TestUser {
  username: string;
  token: string;
}

/** A running test server. */
export interface TestServer {
  url: string;
  dataDir: string;
  store: KilnStore;
  server: KilnServer;
  model: FakeModelServer;
  admin: TestUser;
  /** Creates a user (as the admin) and signs them in. */
  addUser(username: string): Promise<TestUser>;
  /** Calls the API as `user` (JSON in, parsed JSON out). */
  call(user: TestUser | undefined, method: string, path: string, body?: unknown): Promise<ApiResponse>;
  close(): Promise<void>;
}

/** What an API call answered. */
export interface ApiResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the response holds
  body: any;
  headers: Headers;
}

/** Writes a KILN_HOME config.toml that sends the `openai` provider to the fake model server. */
export async function writeModelConfig(kilnHome: string, modelUrl: string, extra = ""): Promise<void> {
  await mkdir(kilnHome, { recursive: true });
  await writeFile(
    join(kilnHome, "config.toml"),
    `model = "gpt-test"\nopenai_base_url = "${modelUrl}"\n${extra}\n[model_providers.openai]\nretry_base_delay_ms = 20\n`,
  );
}

/** Calls `url + path` with a bearer token. */
export async function callApi(
  url: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    // Not JSON (metrics): the text.
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** Signs in over the API. */
export async function signIn(url: string, username: string, password: string): Promise<TestUser> {
  const response = await callApi(url, undefined, "POST", "/api/v1/auth/login", { username, password });
  if (response.status !== 200) throw new Error(`login failed: ${JSON.stringify(response.body)}`);
  return { username, token: response.body.accessToken as string };
}

/** Starts a server with the fake model playing `scenario`. */
export async function startTestServer(
  options: {
    scenario?: Scenario;
    /** Host directories users may name (default: the temp directory, where tests make their repositories). */
    workspaceRoots?: string[];
    subscriberBuffer?: number;
    /** `sqlite` (default: a file in the data dir) or `postgres` (a new database on KILN_TEST_PG_URL). */
    database?: "sqlite" | "postgres";
    /** The auth clock (tests of expired tokens move it). */
    now?: () => number;
    /** Lifts the login rate limits too (sweeps that sign in many times). */
    relaxedLoginLimits?: boolean;
  } = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "kiln-server-"));
  const model = await startFakeModelServer({ scenario: options.scenario ?? { steps: [] } });
  const kilnHome = join(dataDir, "kiln-home");
  await writeModelConfig(kilnHome, model.url);
  const store: KilnStore =
    options.database === "postgres"
      ? await openPostgresTestStore()
      : await openStore({ sqlitePath: join(dataDir, "kiln.db") });
  const secretKey = randomBytes(32);
  const relaxed = { limit: 100_000, windowMs: 60_000 };
  const limits = {
    apiPerUser: relaxed,
    apiPerIp: relaxed,
    ...(options.relaxedLoginLimits === true ? { loginPerIp: relaxed, loginPerUsername: relaxed } : {}),
  };
  const auth = createAuth({
    store,
    secretKey,
    secureCookies: false,
    limits,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const secrets = createUserSecrets({ store, box: createSecretBox(secretKey) });
  const kiln = createKilnFactory({
    kilnHome,
    env: { PATH: process.env.PATH, HOME: dataDir, LANG: "C.UTF-8", OPENAI_API_KEY: "test" },
    cwd: dataDir,
    userEnv: providerKeysOf(secrets),
  });
  const server = createServer({
    store,
    kiln,
    kilnHome,
    auth,
    secrets,
    dataDir,
    logger: pino({ level: process.env.KILN_TEST_LOG ?? "silent" }),
    // Like `kiln serve --workspace-root $TMPDIR`: tests' repositories (temp dirs) may be used by users.
    workspaceRoots: options.workspaceRoots ?? [tmpdir()],
    ...(options.subscriberBuffer === undefined ? {} : { subscriberBuffer: options.subscriberBuffer }),
    shutdownGraceMs: 2_000,
    keepAliveMs: 100,
  });
  await server.resume();
  const http: Listening = await listen(server.app, { port: 0, hostname: "127.0.0.1" });
  await auth.bootstrap({ KILN_ADMIN_PASSWORD: "admin-password" }, http.url);
  const admin = await signIn(http.url, "admin", "admin-password");
  return {
    url: http.url,
    dataDir,
    store,
    server,
    model,
    admin,
    async addUser(username) {
      const created = await callApi(http.url, admin.token, "POST", "/api/v1/users", {
        username,
        password: `${username}-password`,
      });
      if (created.status !== 201)
        throw new Error(`could not create ${username}: ${JSON.stringify(created.body)}`);
      return signIn(http.url, username, `${username}-password`);
    },
    call: (user, method, path, body) => callApi(http.url, user?.token, method, path, body),
    async close() {
      await http.close();
      await server.close();
      await store.close();
      await model.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
