// GET /threads/{id}/events — a thread's events as Server-Sent Events: `id:` is the seq, `event:` the
// event type, `data:` the envelope. It resumes after `Last-Event-ID` (what EventSource sends when it
// reconnects), else after `?after=SEQ`, else from the start: the store's backlog first, then live
// events (follow-thread.ts: no gaps, no duplicates). A comment line every `keepAliveMs` keeps proxies
// from closing an idle stream. A slow client re-reads from the store instead of holding up the turn.
import { AfterSeq, type EventEnvelope, KilnError, toErrorInfo } from "@kiln/protocol";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { type AppEnv, parseParam } from "../auth/index.ts";
import { followThread } from "../events/follow-thread.ts";
import { parseQuery, type RouteDeps, threadScope } from "./route-deps.ts";

const EventsQuery = z.strictObject({ after: z.string().optional() });

/** The SSE route (mount at `/api/v1`, behind requireUser). */
export function sseRoutes(d: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Every subscriber of a thread gets the same envelope object from the hub: serialise it once, not
  // once per subscriber (with 200 subscribers that was most of the delivery latency).
  const frames = new WeakMap<EventEnvelope, string>();
  const frame = (envelope: EventEnvelope): string => {
    let data = frames.get(envelope);
    if (data === undefined) {
      data = JSON.stringify(envelope);
      frames.set(envelope, data);
    }
    return data;
  };

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
    c.header("X-Accel-Buffering", "no");
    return streamSSE(c, async (stream) => {
      const abort = new AbortController();
      stream.onAbort(() => abort.abort());
      const keepAlive = setInterval(() => {
        void stream.write(": keep-alive\n\n").catch(() => abort.abort());
      }, d.keepAliveMs);
      try {
        const events = followThread({
          store: d.store,
          hub: d.hub,
          scope,
          after,
          signal: abort.signal,
          maxBuffer: d.subscriberBuffer,
          onOverflow: "refetch",
        });
        for await (const item of events) {
          if (item.type !== "event") continue;
          const { envelope } = item;
          await stream.writeSSE({
            id: String(envelope.seq),
            event: envelope.event.type,
            data: frame(envelope),
          });
        }
      } catch (error) {
        if (!abort.signal.aborted) {
          d.logger.error({ err: error, threadId: scope.threadId }, "SSE stream failed");
          const info =
            error instanceof KilnError
              ? toErrorInfo(error)
              : { code: "internal", message: "the event stream failed: reconnect", retryable: true };
          await stream
            .writeSSE({ event: "error", data: JSON.stringify({ error: info }) })
            .catch(() => undefined);
        }
      } finally {
        clearInterval(keepAlive);
        abort.abort();
      }
    });
  });

  return app;
}
