// GET /threads/{id}/events — a thread's events as Server-Sent Events: `id:` is the seq, `event:` the
// event type, `data:` the envelope. It resumes after `Last-Event-ID` (what EventSource sends when it
// reconnects), else after `?after=SEQ`, else from the start: the store's backlog first, then live
// events (events/thread-follower.ts: no gaps, no duplicates). A comment line every `keepAliveMs` keeps
// proxies from closing an idle stream. A slow client is held for, then re-read from the store,
// instead of holding up the turn (events/sse-stream.ts).
import type { ServerResponse } from "node:http";
import { AfterSeq, KilnError } from "@kiln/protocol";
import { Hono } from "hono";
import { z } from "zod";
import { type AppEnv, parseParam } from "../auth/index.ts";
import { sseStream } from "../events/sse-stream.ts";
import { parseQuery, type RouteDeps, threadScope } from "./route-deps.ts";

const EventsQuery = z.strictObject({ after: z.string().optional() });

/** What @hono/node-server puts in `c.env` (absent on other runtimes and in `app.request`). */
type NodeBindings = { outgoing?: ServerResponse } | undefined;

/** The SSE route (mount at `/api/v1`, behind requireUser). */
export function sseRoutes(d: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/threads/:id/events", async (c) => {
    const scope = threadScope(c);
    const query = parseQuery(c, EventsQuery);
    const lastEventId = c.req.header("last-event-id");
    const after =
      lastEventId !== undefined && lastEventId !== ""
        ? parseParam(AfterSeq, lastEventId, "Last-Event-ID")
        : query.after === undefined
          ? 0
          : parseParam(AfterSeq, query.after, "after");
    if ((await d.store.events.lastSeq(scope)) === undefined) {
      throw new KilnError("not_found", `no thread ${scope.threadId}`, { details: { field: "id" } });
    }
    const body = sseStream({
      store: d.store,
      hub: d.hub,
      logger: d.logger,
      scope,
      after,
      maxBuffer: d.subscriberBuffer,
      keepAliveMs: d.keepAliveMs,
      outgoing: (c.env as NodeBindings)?.outgoing,
    });
    // Chunked: @hono/node-server then writes the head at once instead of waiting for a first chunk.
    return c.body(body, 200, {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache",
      Connection: "keep-alive",
      "Transfer-Encoding": "chunked",
      "X-Accel-Buffering": "no",
    });
  });

  return app;
}
