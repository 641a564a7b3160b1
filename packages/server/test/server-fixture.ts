// A whole Kiln server for tests, as server-harness.ts builds it (real store, real auth, the real
// executor with the bwrap sandbox, the fake model, HTTP on 127.0.0.1), with two more knobs: the
// database (SQLite in the data dir, or a throwaway PostgreSQL database) and an auth clock that can
// be moved, so that a test can hold an access token that has expired.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KilnStore, openStore } from "@kiln/store";
import { type Scenario, startFakeModelServer } from "@kiln/test-support";
import pino from "pino";
import {
  createAuth,
  createKilnFactory,
  createSecretBox,
  createServer,
  createUserSecrets,
  type Listening,
  listen,
  providerKeysOf,
} from "../src/index.ts";
import { openPostgresTestStore } from "./postgres-test-store.ts";
import { callApi, signIn, type TestServer, writeModelConfig } from "./server-harness.ts";

/** A test server whose auth clock can be moved. */
export interface ServerFixture extends TestServer {
  /** Moves the auth clock by `ms` from the real time (0 puts it back). */
  setClockSkew(ms: number): void;
}

/** Options of {@link startServerFixture}. */
export interface ServerFixtureOptions {
  scenario?: Scenario;
  /** `sqlite` (default: a file in the data dir) or `postgres` (a new database on KILN_TEST_PG_URL). */
  database?: "sqlite" | "postgres";
}

/** Starts a server with the fake model playing `scenario`. */
export async function startServerFixture(options: ServerFixtureOptions = {}): Promise<ServerFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), "kiln-server-"));
  const model = await startFakeModelServer({ scenario: options.scenario ?? { steps: [] } });
  const kilnHome = join(dataDir, "kiln-home");
  await writeModelConfig(kilnHome, model.url);
  const store: KilnStore =
    options.database === "postgres"
      ? await openPostgresTestStore()
      : await openStore({ sqlitePath: join(dataDir, "kiln.db") });
  let skew = 0;
  const now = () => Date.now() + skew;
  const secretKey = randomBytes(32);
  const limits = {
    apiPerUser: { limit: 100_000, windowMs: 60_000 },
    apiPerIp: { limit: 100_000, windowMs: 60_000 },
    loginPerIp: { limit: 100_000, windowMs: 60_000 },
    loginPerUsername: { limit: 100_000, windowMs: 60_000 },
  };
  const auth = createAuth({ store, secretKey, secureCookies: false, limits, now });
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
    auth,
    secrets,
    dataDir,
    logger: pino({ level: process.env.KILN_TEST_LOG ?? "silent" }),
    shutdownGraceMs: 2_000,
    keepAliveMs: 100,
  });
  await server.executor.resumeAll();
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
    setClockSkew(ms) {
      skew = ms;
    },
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
