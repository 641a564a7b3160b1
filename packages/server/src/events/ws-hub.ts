// One WebSocket client following several threads. The client sends
// `{"type":"subscribe","threadId","after"}` (and `unsubscribe`); each subscription sends the store's
// backlog after `after`, then live envelopes (thread-follower.ts), each envelope's JSON made once for
// every subscriber (sse-frames.ts). Sends are not awaited one by one: while the socket's send buffer
// is under a bound the follower pushes live events straight to it; past the bound it holds them until
// the socket has written what it had (the callback of the last send). Held events are bounded too:
// past `subscriberBuffer` the server sends `{"type":"resync","threadId","after":lastSeq}`, drops
// that subscription's backlog and ends it — the client subscribes again from `after`. The turn never
// waits.
import {
  assertNever,
  ErrorInfo,
  type EventEnvelope,
  KilnError,
  ThreadId,
  toErrorInfo,
  WsClientMessage,
  type WsServerMessage,
} from "@kiln/protocol";
import type { KilnStore } from "@kiln/store";
import type { Logger } from "pino";
import { parseWith } from "../auth/index.ts";
import type { EventHub } from "./event-hub.ts";
import { envelopeJson } from "./sse-frames.ts";
import { type FollowEnd, ThreadFollower } from "./thread-follower.ts";

/** The socket as a session uses it (the `ws` library's WebSocket fits). */
export interface WsSocket {
  readonly readyState: number;
  /** Bytes given to `send` and not yet written to the connection. */
  readonly bufferedAmount: number;
  send(data: string, callback?: (error?: Error) => void): void;
  close(code?: number, reason?: string): void;
}

/** What a session needs. */
export interface WsSessionDeps {
  store: KilnStore;
  hub: EventHub;
  logger: Logger;
  /** Live events a subscription may fall behind by before it is resynced. */
  subscriberBuffer: number;
}

const OPEN = 1;
/** Unwritten bytes past which a subscription holds its live events instead of sending them. */
const SEND_BUFFER_BYTES = 256 * 1024;

/** A connected client. */
export class WsSession {
  private readonly subscriptions = new Map<string, ThreadFollower>();

  constructor(
    private readonly d: WsSessionDeps,
    private readonly userId: string,
    private readonly socket: WsSocket,
  ) {}

  /** Handles one text message from the client. */
  onMessage(text: string): void {
    let message: WsClientMessage;
    try {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new KilnError("invalid_request", "the message is not valid JSON", {
          details: { field: "message" },
        });
      }
      message = parseWith(WsClientMessage, json, "message");
      parseWith(ThreadId, message.threadId, "threadId");
    } catch (error) {
      this.send({ type: "error", error: ErrorInfo.parse(toErrorInfo(error)) });
      return;
    }
    this.stop(message.threadId);
    if (message.type === "subscribe") void this.follow(message.threadId, message.after ?? 0);
  }

  /** The socket closed: ends every subscription. */
  close(): void {
    for (const threadId of [...this.subscriptions.keys()]) this.stop(threadId);
  }

  private stop(threadId: string): void {
    this.subscriptions.get(threadId)?.stop();
    this.subscriptions.delete(threadId);
  }

  private async follow(threadId: string, after: number): Promise<void> {
    const scope = { userId: this.userId, threadId };
    // Registered before the thread is looked up, so that an unsubscribe meanwhile stops it.
    const follower: ThreadFollower = new ThreadFollower({
      store: this.d.store,
      hub: this.d.hub,
      scope,
      after,
      maxBuffer: this.d.subscriberBuffer,
      onOverflow: "resync",
      sink: {
        deliver: (envelopes) => this.deliver(follower, envelopes),
        end: (reason) => this.ended(follower, threadId, reason),
      },
    });
    this.subscriptions.set(threadId, follower);
    try {
      if ((await this.d.store.events.lastSeq(scope)) === undefined) {
        throw new KilnError("not_found", `no thread ${threadId}`, { details: { field: "threadId" } });
      }
    } catch (error) {
      if (this.subscriptions.get(threadId) !== follower) return;
      this.subscriptions.delete(threadId);
      this.fail(threadId, error);
      return;
    }
    if (this.subscriptions.get(threadId) !== follower || this.socket.readyState !== OPEN) return;
    this.send({ type: "subscribed", threadId, after });
    follower.start();
  }

  /** Sends envelopes; false (hold the next ones) while the socket has much left to write. */
  private deliver(follower: ThreadFollower, envelopes: readonly EventEnvelope[]): boolean {
    if (this.socket.readyState !== OPEN) {
      follower.stop();
      return false;
    }
    const last = envelopes.length - 1;
    envelopes.forEach((envelope, i) => {
      // The last send's callback runs once the socket has written it (and so all before it).
      if (i < last) this.socket.send(envelopeJson(envelope));
      else
        this.socket.send(envelopeJson(envelope), (error) => {
          if (!error) follower.resume();
        });
    });
    return this.socket.bufferedAmount < SEND_BUFFER_BYTES;
  }

  private ended(follower: ThreadFollower, threadId: string, reason: FollowEnd): void {
    if (this.subscriptions.get(threadId) === follower) this.subscriptions.delete(threadId);
    switch (reason.type) {
      case "closed":
        break;
      case "resync":
        this.send({ type: "resync", threadId, after: reason.after });
        break;
      case "failed":
        this.fail(threadId, reason.error);
        break;
      default:
        assertNever(reason);
    }
  }

  private fail(threadId: string, error: unknown): void {
    if (this.socket.readyState !== OPEN) return;
    if (!(error instanceof KilnError))
      this.d.logger.error({ err: error, threadId }, "WebSocket subscription failed");
    this.send({ type: "error", threadId, error: toErrorInfo(error) });
  }

  private send(message: WsServerMessage): void {
    if (this.socket.readyState !== OPEN) return;
    this.socket.send(JSON.stringify(message));
  }
}
