// One WebSocket client following several threads. The client sends
// `{"type":"subscribe","threadId","after"}` (and `unsubscribe`); each subscription sends the store's
// backlog after `after`, then live envelopes (follow-thread.ts). Every send waits until the socket
// took the previous one, so a slow client piles up only in its subscription's bounded buffer; past
// the bound the server sends `{"type":"resync","threadId","after":lastSeq}`, drops that
// subscription's backlog and ends it — the client subscribes again from `after`. The turn never waits.
import {
  ErrorInfo,
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
import { followThread } from "./follow-thread.ts";

/** The socket as a session uses it (the `ws` library's WebSocket fits). */
export interface WsSocket {
  readonly readyState: number;
  send(data: string, callback: (error?: Error) => void): void;
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

/** A connected client. */
export class WsSession {
  private readonly subscriptions = new Map<string, AbortController>();

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
      void this.send({ type: "error", error: ErrorInfo.parse(toErrorInfo(error)) }).catch(() => undefined);
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
    this.subscriptions.get(threadId)?.abort();
    this.subscriptions.delete(threadId);
  }

  private async follow(threadId: string, after: number): Promise<void> {
    const abort = new AbortController();
    this.subscriptions.set(threadId, abort);
    const scope = { userId: this.userId, threadId };
    try {
      if ((await this.d.store.events.lastSeq(scope)) === undefined) {
        throw new KilnError("not_found", `no thread ${threadId}`, { details: { field: "threadId" } });
      }
      await this.send({ type: "subscribed", threadId, after });
      const items = followThread({
        store: this.d.store,
        hub: this.d.hub,
        scope,
        after,
        signal: abort.signal,
        maxBuffer: this.d.subscriberBuffer,
        onOverflow: "resync",
      });
      for await (const item of items) {
        if (item.type === "resync") {
          await this.send({ type: "resync", threadId, after: item.after });
          break;
        }
        await this.send(item.envelope);
      }
    } catch (error) {
      if (abort.signal.aborted || this.socket.readyState !== OPEN) return;
      if (!(error instanceof KilnError))
        this.d.logger.error({ err: error, threadId }, "WebSocket subscription failed");
      await this.send({ type: "error", threadId, error: toErrorInfo(error) }).catch(() => undefined);
    } finally {
      if (this.subscriptions.get(threadId) === abort) this.subscriptions.delete(threadId);
    }
  }

  private send(message: WsServerMessage): Promise<void> {
    if (this.socket.readyState !== OPEN) return Promise.reject(new Error("the WebSocket is closed"));
    return new Promise((resolve, reject) => {
      this.socket.send(JSON.stringify(message), (error) =>
        error === undefined || error === null ? resolve() : reject(error),
      );
    });
  }
}
