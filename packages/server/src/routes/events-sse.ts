// GET /threads/{id}/events — a thread's events as Server-Sent Events: `id:` is the seq, `event:` the
// event type, `data:` the envelope. It resumes after `Last-Event-ID` (what EventSource sends when it
// reconnects), else after `?after=SEQ`, else from the start: the store's backlog first, then live
// events (events/thread-follower.ts: no gaps, no duplicates). A comment line every `keepAliveMs` keeps
// proxies from closing an idle stream. The body is a byte stream the follower pushes into: a live
// batch is one Buffer shared by every subscriber (events/sse-frames.ts), enqueued without awaiting
// anything, so fan-out costs one write per subscriber per batch. A client that stops reading fills its
// stream's queue; the follower then holds its events (bounded), and past the bound re-reads the store
// once the client reads again: the turn never waits for it.
import { AfterSeq, KilnError, toErrorInfo } from "@kiln/protocol";
import type { ThreadScope } from "@kiln/store";
import { Hono } from "hono";
import { z } from "zod";
import { type AppEnv, parseParam } from "../auth/index.ts";
import { SSE_KEEP_ALIVE, sseErrorFrame, sseFrames } from "../events/sse-frames.ts";
import { type FollowEnd, ThreadFollower } from "../events/thread-follower.ts";
import { parseQuery, type RouteDeps, threadScope } from "./route-deps.ts";

const EventsQuery = z.strictObject({ after: z.string().optional() });

/** Bytes queued for a client that is not reading before its events are held by the follower. */
const QUEUE_BYTES = 256 * 1024;

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
    // Chunked: @hono/node-server then writes the headers at once instead of waiting for a first chunk.
    return c.body(eventStream(d, scope, after), 200, {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache",
      Connection: "keep-alive",
      "Transfer-Encoding": "chunked",
      "X-Accel-Buffering": "no",
    });
  });

  return app;
}

/** The response body: the thread's events after `after` as SSE bytes, until the client goes. */
function eventStream(d: RouteDeps, scope: ThreadScope, after: number): ReadableStream<Uint8Array> {
  let follower: ThreadFollower | undefined;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  const stop = () => {
    clearInterval(keepAlive);
    follower?.stop();
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const hasRoom = () => (controller.desiredSize ?? 0) > 0;
        const end = (reason: FollowEnd) => {
          clearInterval(keepAlive);
          if (reason.type === "failed") {
            d.logger.error({ err: reason.error, threadId: scope.threadId }, "SSE stream failed");
            const info =
              reason.error instanceof KilnError
                ? toErrorInfo(reason.error)
                : { code: "internal", message: "the event stream failed: reconnect", retryable: true };
            controller.enqueue(sseErrorFrame({ error: info }));
          }
          controller.close();
        };
        follower = new ThreadFollower({
          store: d.store,
          hub: d.hub,
          scope,
          after,
          maxBuffer: d.subscriberBuffer,
          onOverflow: "refetch",
          sink: {
            deliver(envelopes, shared) {
              controller.enqueue(sseFrames(envelopes, shared));
              return hasRoom();
            },
            end,
          },
        });
        keepAlive = setInterval(() => {
          if (hasRoom()) controller.enqueue(SSE_KEEP_ALIVE);
        }, d.keepAliveMs);
        follower.start();
      },
      pull() {
        follower?.resume();
      },
      cancel: stop,
    },
    { highWaterMark: QUEUE_BYTES, size: (chunk) => chunk.byteLength },
  );
}
