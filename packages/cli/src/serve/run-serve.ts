// `kiln serve`: the composition root of the server. Sequence: parse options → data dir and the
// server's KILN_HOME (config.toml linked to the CLI's, server-home.ts) → open the store (SQLite file
// in the data dir unless --db) → load the secret key → auth, secrets, a Kiln per user (their own
// provider keys over the server's) → createServer → bootstrap the admin (print the setup link) →
// resume unfinished turns → listen (127.0.0.1 unless --host) and print the URL. SIGINT/SIGTERM: stop
// listening, wind down turns (TurnExecutor.close), close the store, exit 0; a second signal exits at once.
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { kilnHomeFrom } from "@kiln/core";
import {
  createAuth,
  createKilnFactory,
  createSecretBox,
  createServer,
  createStoreRelay,
  createUserSecrets,
  listen,
  loadSecretKey,
  providerKeysOf,
  RestateTurnExecutor,
  type ServerDeps,
} from "@kiln/server";
import type { KilnStore } from "@kiln/store";
import { openStore } from "@kiln/store";
import pino from "pino";
import type { CliIo } from "../exec/run-exec.ts";
import { parseServeArgs, type ServeArgs, ServeUsageError } from "./parse-serve-args.ts";
import { prepareServerHome } from "./server-home.ts";

const HELP = `Usage: kiln serve [--port 8787] [--host 127.0.0.1] [--data-dir DIR] [--db URL] [--workspace-root DIR]…
       kiln serve --engine restate --restate-ingress URL --restate-admin URL --db postgres://… [options]

Runs the Kiln server: the native API at /api/v1 (OpenAPI at /api/v1/openapi.json), SSE and WebSocket
event streams, /healthz, /readyz and /metrics. Turns run in this process and survive restarts.

  --port N              Port to listen on (default 8787; 0 picks a free one)
  --host ADDR           Address to bind (default 127.0.0.1; anything else is reachable from the network
                        without TLS: put a reverse proxy with HTTPS in front)
  --data-dir DIR        Database, secret key, workspaces and rollouts (default $KILN_HOME/server)
  --db URL              sqlite:/path/kiln.db or postgres://user@host/db (default: DIR/kiln.db)
  --workspace-root DIR  A host directory threads may work in (repeatable); without one, threads get a
                        fresh git workspace in DIR/workspaces (admins may name any directory)
  --engine restate      An API node: turns run on \`kiln worker\` processes through Restate (needs
                        --restate-ingress, --restate-admin and a PostgreSQL --db shared with the
                        workers; events reach every API node by PostgreSQL LISTEN/NOTIFY). Steering,
                        forks, rollbacks and tasks need a single-node server. See docs/scale.md.
  --restate-ingress URL Restate's ingress, e.g. http://restate:8080
  --restate-admin URL   Restate's admin API, e.g. http://restate:9070

Model settings come from $KILN_HOME/config.toml, the same file as kiln exec (linked from
DIR/kiln-home/config.toml; put a regular file there for a server-only configuration). A user's own
OPENAI_API_KEY / ANTHROPIC_API_KEY secret (PUT /api/v1/secrets/NAME) overrides the server's.
First run: the admin user is created (KILN_ADMIN_USER, default admin) with KILN_ADMIN_PASSWORD, or a
one-time setup link is printed. KILN_SECRET_KEY overrides the generated DIR/secret.key.

SIGTERM/SIGINT: stop accepting turns; each running turn ends its current step (a model call or a
tool call; at most KILN_SHUTDOWN_GRACE_MS, default 10000) and is then interrupted (it ends
"interrupted"); a turn waiting for an approval stays unfinished and asks again at the next start.
Logs: JSON lines (pino) on stdout, level KILN_LOG_LEVEL (default info).`;

/** Runs the server until SIGINT/SIGTERM; resolves to the exit code. */
export async function runServe(io: CliIo): Promise<number> {
  let args: ServeArgs;
  try {
    args = parseServeArgs(io.argv);
  } catch (error) {
    if (!(error instanceof ServeUsageError)) throw error;
    io.stderr.write(`kiln serve: ${error.message}\n\n${HELP}\n`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  const say = (line: string) => io.stderr.write(`${line}\n`);
  const dataDir = resolve(io.cwd, args.dataDir ?? join(kilnHomeFrom(io.env), "server"));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { kilnHome, configSource } = prepareServerHome(dataDir, io.env);
  const logger = pino({ level: io.env.KILN_LOG_LEVEL ?? "info", base: { service: "kiln" } });

  const store = await openStore(args.db ?? { sqlitePath: join(dataDir, "kiln.db") });
  const secretKey = await loadSecretKey({ env: io.env, dataDir });
  const auth = createAuth({ store, secretKey, secureCookies: false });
  const secrets = createUserSecrets({ store, box: createSecretBox(secretKey) });
  const kiln = createKilnFactory({
    kilnHome,
    env: io.env,
    cwd: dataDir,
    userEnv: providerKeysOf(secrets),
  });
  const grace = Number(io.env.KILN_SHUTDOWN_GRACE_MS ?? "10000");
  // The web app's build sits next to the CLI's in the repository (packages/web/dist); this module
  // runs from packages/cli/dist or one of its chunks (or from source, in tests).
  const webRoot = ["../../web/dist", "../../../web/dist"]
    .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
    .find((dir) => existsSync(join(dir, "index.html")));
  const server = createServer({
    store,
    kiln,
    kilnHome,
    auth,
    secrets,
    dataDir,
    logger,
    workspaceRoots: args.workspaceRoots,
    ...(webRoot === undefined ? {} : { webRoot }),
    shutdownGraceMs: Number.isFinite(grace) && grace >= 0 ? grace : 10_000,
    ...(await engineDeps(args, store, kiln, dataDir, logger)),
  });

  let http: Awaited<ReturnType<typeof listen>>;
  try {
    http = await listen(server.app, { port: args.port, hostname: args.host });
  } catch (error) {
    await server.close();
    await store.close();
    say(`kiln serve: cannot listen on ${args.host}:${args.port}: ${(error as Error).message}`);
    return 1;
  }
  const admin = await auth.bootstrap(
    { KILN_ADMIN_USER: io.env.KILN_ADMIN_USER, KILN_ADMIN_PASSWORD: io.env.KILN_ADMIN_PASSWORD },
    http.url,
  );
  await server.resume();

  say(`kiln serve: listening on ${http.url} (data ${dataDir}, models from ${configSource})`);
  if (!isLoopback(args.host)) {
    say(
      `kiln serve: warning: ${args.host} is reachable from other machines and this server has no TLS: put a reverse proxy with HTTPS in front`,
    );
  }
  if (admin.setupUrl !== undefined) {
    say(
      `kiln serve: finish set-up: open ${admin.setupUrl} (or POST /api/v1/auth/setup {"token","password"}) within 24 hours`,
    );
  } else {
    say(admin.created ? "kiln serve: created the admin user" : "kiln serve: the admin user exists");
  }
  logger.info({ url: http.url, dataDir, store: store.dialect }, "kiln serve started");

  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once("SIGINT", () => done("SIGINT"));
    process.once("SIGTERM", () => done("SIGTERM"));
  });
  const force = () => process.exit(1);
  process.once("SIGINT", force);
  process.once("SIGTERM", force);
  say(
    `kiln serve: ${signal}: stopping (running turns end their current step; press Ctrl-C again to quit now)`,
  );
  await http.close();
  await server.close();
  await store.close();
  logger.info({ signal }, "kiln serve stopped");
  return 0;
}

/**
 * The executor and live event source of an API node (`--engine restate`), loaded only then: a single
 * node never loads the Restate client or `pg`'s LISTEN.
 */
async function engineDeps(
  args: ServeArgs,
  store: KilnStore,
  kiln: ServerDeps["kiln"],
  dataDir: string,
  logger: ServerDeps["logger"],
): Promise<Pick<ServerDeps, "executor" | "liveEvents">> {
  const engine = args.engine;
  if (engine.type === "local") return {};
  const { createDurableClient, startPgLiveEvents } = await import("@kiln/durable");
  const db = args.db ?? "";
  const client = createDurableClient(engine);
  return {
    executor: () =>
      new RestateTurnExecutor({
        store,
        kiln,
        client,
        dataDir,
        workspaceRoots: args.workspaceRoots,
        now: Date.now,
      }),
    liveEvents: (hub) =>
      startPgLiveEvents({
        url: db,
        store,
        relay: createStoreRelay(store, hub),
        followed: () => hub.subscribedThreads(),
        onDegraded: (error) =>
          logger.warn({ err: error }, "PostgreSQL LISTEN is unavailable: polling the followed threads"),
      }),
  };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}
