// What the native API's route modules share: their dependencies, and the helpers that turn stored
// records into API resources and read a request's id, query and optional body.
import {
  AfterSeq,
  ApiTurnStatus,
  ThreadId,
  type ThreadResource,
  ThreadStatus,
  type TurnResource,
} from "@kiln/protocol";
import type { KilnStore, StoredThread, StoredTurn, ThreadScope } from "@kiln/store";
import type { Context } from "hono";
import type { Logger } from "pino";
import { z } from "zod";
import type { AppEnv } from "../auth/index.ts";
import { parseParam, parseWith, readJsonBody } from "../auth/index.ts";
import type { EventHub } from "../events/event-hub.ts";
import type { PendingApprovals } from "../executor/pending-approvals.ts";
import type { TurnExecutor } from "../executor/turn-executor.ts";
import type { Metrics } from "../http/metrics.ts";
import type { TaskService } from "../tasks/task-service.ts";

/** Dependencies of the route modules. */
export interface RouteDeps {
  store: KilnStore;
  executor: TurnExecutor;
  tasks: TaskService;
  approvals: PendingApprovals;
  hub: EventHub;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  /** SSE keep-alive comment interval. */
  keepAliveMs: number;
  /** Live events a subscriber may fall behind by before it is resynced. */
  subscriberBuffer: number;
}

/** The caller's scope for the `:id` thread of the route (a bad id → 400 naming `id`). */
export function threadScope(c: Context<AppEnv>): ThreadScope {
  return { userId: c.get("user").id, threadId: parseParam(ThreadId, c.req.param("id"), "id") };
}

/** Validates the query string with a strict schema (unknown parameters → 400). */
export function parseQuery<T extends z.ZodType>(c: Context<AppEnv>, schema: T): z.output<T> {
  return parseWith(schema, c.req.query(), "query");
}

/** A JSON body that may be left out (then `{}`). */
export async function readOptionalBody<T extends z.ZodType>(
  c: Context<AppEnv>,
  schema: T,
): Promise<z.output<T>> {
  const length = c.req.header("content-length");
  const empty = c.req.raw.body === null || length === "0";
  if (empty && c.req.header("content-type") === undefined) return parseWith(schema, {}, "body");
  return readJsonBody(c, schema);
}

/** A stored turn as the API shows it. */
export function turnResource(turn: StoredTurn): TurnResource {
  return {
    id: turn.id,
    threadId: turn.threadId,
    status: ApiTurnStatus.safeParse(turn.status).data ?? "running",
    startedAt: turn.startedAt,
    updatedAt: turn.updatedAt,
    ...(turn.finishedAt === undefined ? {} : { finishedAt: turn.finishedAt }),
    ...(turn.error === undefined ? {} : { error: turn.error }),
  };
}

/** A stored thread as the API shows it. */
export function threadResource(thread: StoredThread, turns?: StoredTurn[]): ThreadResource {
  return {
    id: thread.id,
    title: thread.title,
    status: ThreadStatus.safeParse(thread.status).data ?? "idle",
    archived: thread.archived,
    ...(thread.archivedAt === undefined ? {} : { archivedAt: thread.archivedAt }),
    createdAt: thread.createdAt,
    updatedAt: thread.updatedAt,
    lastSeq: thread.lastSeq,
    info: thread.info,
    ...(turns === undefined ? {} : { turns: turns.map(turnResource) }),
  };
}

const ResumeQuery = z.object({ after: z.string().optional() });

/**
 * Where an event stream resumes: after `Last-Event-ID` (what EventSource sends when it reconnects),
 * else after `?after=SEQ`, else from the start (0).
 */
export function resumeAfter(c: Context<AppEnv>): number {
  const lastEventId = c.req.header("last-event-id");
  if (lastEventId !== undefined && lastEventId !== "")
    return parseParam(AfterSeq, lastEventId, "Last-Event-ID");
  const { after } = parseWith(ResumeQuery.strict(), c.req.query(), "query");
  return after === undefined ? 0 : parseParam(AfterSeq, after, "after");
}
