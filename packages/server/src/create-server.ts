// The composition of the HTTP server: no globals, every dependency passed in. Order of the app:
// request context (id, log, counters) → ops routes (/healthz, /readyz, /metrics, OpenAPI; public)
// → auth routes (they guard themselves) and secret routes → requireUser → the native API. Every
// error becomes `{ error: ErrorInfo }`; an unexpected one is logged and answered without details.

import { KilnError } from "@kiln/protocol";
import {
  createSandboxManager,
  createSandboxProvider,
  type SandboxManager,
  type SandboxProvider,
} from "@kiln/sandbox";
import type { KilnStore } from "@kiln/store";
import { Hono } from "hono";
import type { Logger } from "pino";
import { type AppEnv, type Auth, errorResponse } from "./auth/index.ts";
import { EventHub } from "./events/event-hub.ts";
import type { LiveEventSourceFactory } from "./events/store-relay.ts";
import type { KilnFactory } from "./executor/kiln-factory.ts";
import { PendingApprovals } from "./executor/pending-approvals.ts";
import { InProcessTurnExecutor, type TurnExecutor } from "./executor/turn-executor.ts";
import { createMetrics, type Metrics } from "./http/metrics.ts";
import { requestContext } from "./http/request-context.ts";
import { webApp } from "./http/web-app.ts";
import { approvalRoutes } from "./routes/approvals.ts";
import { sseRoutes } from "./routes/events-sse.ts";
import { wsRoutes } from "./routes/events-ws.ts";
import { opsRoutes } from "./routes/ops.ts";
import { promptRoutes } from "./routes/prompts.ts";
import type { RouteDeps } from "./routes/route-deps.ts";
import { sandboxRoutes } from "./routes/sandboxes.ts";
import { taskRoutes } from "./routes/tasks.ts";
import { threadRoutes } from "./routes/threads.ts";
import { turnRoutes } from "./routes/turns.ts";
import { usageRoutes } from "./routes/usage.ts";
import { secretRoutes, type UserSecrets } from "./secrets/index.ts";
import { createTaskService } from "./tasks/create-task-service.ts";
import type { TaskRunner } from "./tasks/task-runner.ts";
import type { TaskService } from "./tasks/task-service.ts";
import { createUsageWindows, DEFAULT_USAGE_LIMITS, type UsageLimits } from "./tasks/usage-windows.ts";
import { whamRoutes } from "./wham/wham-routes.ts";

/** Where the WHAM API is served (spec/wham-api.md). */
export const WHAM_PREFIXES = ["/backend-api/wham", "/api/codex"] as const;

/** What `createServer` is built from. */
export interface ServerDeps {
  store: KilnStore;
  /** Makes the `Kiln` that runs a user's threads (see createKilnFactory). */
  kiln: KilnFactory;
  auth: Auth;
  /** Per-user secrets (the /secrets routes). */
  secrets: UserSecrets;
  /** Where workspaces (and the server's KILN_HOME) live. */
  dataDir: string;
  logger: Logger;
  now?: () => number;
  /** Host directories a thread's `cwd` may lie under (`--workspace-root`). */
  workspaceRoots?: readonly string[];
  /** SSE keep-alive interval (default 15 s). */
  keepAliveMs?: number;
  /** Live events one subscriber may fall behind by before it is resynced (default 10 000). */
  subscriberBuffer?: number;
  /** How long shutdown lets a running turn finish its current step (default 10 s). */
  shutdownGraceMs?: number;
  /** Runs environment setup scripts and sandbox commands (default: bwrap, workspace-write). */
  sandboxProvider?: SandboxProvider;
  /** How long an unused sandbox keeps its processes (default 15 min). */
  sandboxIdleTimeoutMs?: number;
  /** The server's KILN_HOME, for its saved prompts (`GET /prompts`). */
  kilnHome?: string;
  /** The web app's build (packages/web/dist) to serve at `/`; omitted: no web app. */
  webRoot?: string;
  /** Token limits per user and window (WHAM `GET /usage`). */
  usageLimits?: UsageLimits;
  /** Resource limits of each sandbox, where the kernel allows. */
  sandboxLimits?: { memoryBytes?: number; pids?: number; cpuPercent?: number };
  /**
   * Makes the turn executor instead of the in-process one (an API node of a durable engine:
   * RestateTurnExecutor).
   */
  executor?: (parts: { hub: EventHub; approvals: PendingApprovals; metrics: Metrics }) => TurnExecutor;
  /** Feeds the hub with events other processes store (a durable engine's workers); started at once. */
  liveEvents?: LiveEventSourceFactory;
}

/** A running server's parts. */
export interface KilnServer {
  app: Hono<AppEnv>;
  executor: TurnExecutor;
  metrics: Metrics;
  hub: EventHub;
  tasks: TaskService & { runner: TaskRunner };
  sandboxes: SandboxManager;
  /** Continues what a previous process left unfinished: tasks first, then their threads' turns. */
  resume(): Promise<void>;
  /** Stops accepting turns, winds down running ones (see TurnExecutor.close) and ends event streams. */
  close(): Promise<void>;
}

/** Builds the server (does not listen: see `listen`). */
export function createServer(deps: ServerDeps): KilnServer {
  const now = deps.now ?? Date.now;
  const metrics = createMetrics();
  const hub = new EventHub();
  const approvals = new PendingApprovals();
  const executor =
    deps.executor?.({ hub, approvals, metrics }) ??
    new InProcessTurnExecutor({
      store: deps.store,
      hub,
      metrics,
      logger: deps.logger,
      now,
      kiln: deps.kiln,
      dataDir: deps.dataDir,
      workspaceRoots: deps.workspaceRoots ?? [],
      approvals,
      shutdownGraceMs: deps.shutdownGraceMs ?? 10_000,
    });
  const live = deps.liveEvents?.(hub);
  live?.catch((error: unknown) => deps.logger.error({ err: error }, "the live event source failed to start"));
  const provider = deps.sandboxProvider ?? createSandboxProvider("workspace-write");
  const sandboxes = createSandboxManager({
    provider,
    ...(deps.sandboxIdleTimeoutMs === undefined ? {} : { idleTimeoutMs: deps.sandboxIdleTimeoutMs }),
    ...(deps.sandboxLimits === undefined ? {} : { limits: deps.sandboxLimits }),
    now,
    onStateChange: (id, state) => {
      void deps.store.sandboxes.setState(id, state, now()).catch(() => undefined);
    },
  });
  const tasks = createTaskService({
    store: deps.store,
    executor,
    hub,
    secrets: deps.secrets,
    provider,
    dataDir: deps.dataDir,
    workspaceRoots: deps.workspaceRoots ?? [],
    logger: deps.logger,
    now,
  });
  const routeDeps: RouteDeps = {
    store: deps.store,
    executor,
    tasks,
    approvals,
    hub,
    metrics,
    logger: deps.logger,
    now,
    keepAliveMs: deps.keepAliveMs ?? 15_000,
    subscriberBuffer: deps.subscriberBuffer ?? 10_000,
  };

  const app = new Hono<AppEnv>();
  app.use("*", requestContext(deps.logger, metrics));
  app.route(
    "/",
    opsRoutes(routeDeps, {
      turnsRunning: () => executor.runningCount,
      eventSubscribers: () => hub.subscriberCount(),
      pendingApprovals: () => approvals.size,
    }),
  );
  app.route("/api/v1", deps.auth.routes);
  app.route("/api/v1", secretRoutes({ secrets: deps.secrets, requireUser: deps.auth.requireUser }));
  app.route(
    "/api/v1",
    sandboxRoutes({ store: deps.store, tasks, sandboxes, requireUser: deps.auth.requireUser, now }),
  );

  const api = new Hono<AppEnv>();
  api.use("*", deps.auth.requireUser);
  for (const routes of [threadRoutes, turnRoutes, approvalRoutes, sseRoutes, wsRoutes, usageRoutes]) {
    api.route("/", routes(routeDeps));
  }
  // The WHAM API (spec/wham-api.md) under both prefixes; its sandbox routes authenticate themselves
  // (capability tokens), everything else needs a signed-in user like /api/v1.
  const wham = new Hono<AppEnv>();
  wham.use("*", (c, next) =>
    /^\/(backend-api\/wham|api\/codex)\/sandbox\/(?!templates$)[^/]+/.test(c.req.path)
      ? next()
      : deps.auth.requireUser(c, next),
  );
  wham.route(
    "/",
    whamRoutes({
      tasks,
      usage: createUsageWindows({ store: deps.store, limits: deps.usageLimits ?? DEFAULT_USAGE_LIMITS, now }),
      now,
    }),
  );
  wham.route(
    "/",
    sandboxRoutes(
      { store: deps.store, tasks, sandboxes, requireUser: deps.auth.requireUser, now },
      "sandbox",
    ),
  );
  for (const prefix of WHAM_PREFIXES) app.route(prefix, wham);

  api.route("/", promptRoutes(deps.kilnHome));
  api.route(
    "/",
    taskRoutes({ tasks, logger: deps.logger, keepAliveMs: routeDeps.keepAliveMs, closing: hub.signal }),
  );
  app.route("/api/v1", api);

  if (deps.webRoot !== undefined) app.use("*", webApp(deps.webRoot));

  app.notFound((c) =>
    errorResponse(c, new KilnError("not_found", `no route ${c.req.method} ${new URL(c.req.url).pathname}`)),
  );
  app.onError((error, c) => {
    if (!(error instanceof KilnError)) {
      deps.logger.error({ err: error, requestId: c.get("requestId") }, "unhandled error");
    }
    return errorResponse(c, error);
  });

  return {
    app,
    executor,
    metrics,
    hub,
    tasks,
    sandboxes,
    async resume() {
      await tasks.runner.resumeAll();
      await executor.resumeAll();
    },
    async close() {
      await executor.close();
      await (await live?.catch(() => undefined))?.close();
      hub.close();
      sandboxes.close();
    },
  };
}
