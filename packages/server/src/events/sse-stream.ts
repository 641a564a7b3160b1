// A thread's events as a Server-Sent Events response body that a ThreadFollower pushes into. A live
// batch is one Buffer shared by every subscriber (sse-frames.ts), written without awaiting anything,
// so fan-out costs one write per subscriber per batch. Where the runtime gives us the Node response
// (@hono/node-server's `outgoing`), the body switches to writing to it directly once the response
// head is out and the stream's queue is empty: a web-stream round trip per subscriber per batch was
// most of what was left of the fan-out time. Until then (and on any other runtime) frames go through
// the stream. Backpressure: a full stream queue, or `write()` returning false until `drain`, makes the
// follower hold (bounded) and, past the bound, re-read the store once the client reads again. The
// turn never waits for a client.
import type { ServerResponse } from "node:http";
import { KilnError, toErrorInfo } from "@kiln/protocol";
import type { KilnStore, ThreadScope } from "@kiln/store";
import type { Logger } from "pino";
import type { EventHub } from "./event-hub.ts";
import { SSE_KEEP_ALIVE, sseErrorFrame, sseFrames } from "./sse-frames.ts";
import { type FollowEnd, ThreadFollower } from "./thread-follower.ts";

/** What an SSE body follows, and where it may write. */
export interface SseStreamOptions {
  store: KilnStore;
  hub: EventHub;
  logger: Logger;
  scope: ThreadScope;
  /** Send events with seq > after. */
  after: number;
  /** Live events held for a client that is behind before the store is read again instead. */
  maxBuffer: number;
  keepAliveMs: number;
  /** The Node response the body is served on, when the runtime exposes it. */
  outgoing?: ServerResponse | undefined;
}

/** Bytes queued in the stream for a client that is not reading before its events are held. */
const QUEUE_BYTES = 256 * 1024;

/** The thread's events after `after` as SSE bytes, until the client goes (or the hub closes). */
export function sseStream(o: SseStreamOptions): ReadableStream<Uint8Array> {
  let follower: ThreadFollower | undefined;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  let direct: ServerResponse | undefined;
  const stop = () => {
    clearInterval(keepAlive);
    direct?.off("drain", resume);
    follower?.stop();
  };
  const resume = () => follower?.resume();
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const write = (bytes: Uint8Array): boolean => {
          if (direct !== undefined) return direct.write(bytes);
          controller.enqueue(bytes);
          return (controller.desiredSize ?? 0) > 0;
        };
        const end = (reason: FollowEnd) => {
          clearInterval(keepAlive);
          direct?.off("drain", resume);
          if (reason.type === "failed") {
            o.logger.error({ err: reason.error, threadId: o.scope.threadId }, "SSE stream failed");
            const info =
              reason.error instanceof KilnError
                ? toErrorInfo(reason.error)
                : { code: "internal", message: "the event stream failed: reconnect", retryable: true };
            write(sseErrorFrame({ error: info }));
          }
          controller.close();
        };
        follower = new ThreadFollower({
          store: o.store,
          hub: o.hub,
          scope: o.scope,
          after: o.after,
          maxBuffer: o.maxBuffer,
          onOverflow: "refetch",
          sink: { deliver: (envelopes, shared) => write(sseFrames(envelopes, shared)), end },
        });
        keepAlive = setInterval(() => {
          const full = direct === undefined ? (controller.desiredSize ?? 0) <= 0 : direct.writableNeedDrain;
          if (!full) write(SSE_KEEP_ALIVE);
        }, o.keepAliveMs);
        follower.start();
      },
      pull(controller) {
        // The runtime reads the body: the head is written. Once what is queued has gone, bytes may
        // go straight to the response without passing anything queued.
        const outgoing = o.outgoing;
        if (direct === undefined && outgoing?.headersSent && controller.desiredSize === QUEUE_BYTES) {
          direct = outgoing;
          direct.on("drain", resume);
        }
        follower?.resume();
      },
      cancel: stop,
    },
    { highWaterMark: QUEUE_BYTES, size: (chunk) => chunk.byteLength },
  );
}
