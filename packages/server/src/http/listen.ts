// Serves an app over HTTP with @hono/node-server, WebSocket upgrades included (the `ws` library,
// behind the same middleware as every route). `close` stops listening, ends open WebSockets and
// waits for the server to close.
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { WebSocketServer } from "ws";
import type { AppEnv } from "../auth/index.ts";

/** A listening server. */
export interface Listening {
  /** `http://host:port`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on `hostname:port` (port 0: any free port). */
export function listen(app: Hono<AppEnv>, options: { port: number; hostname: string }): Promise<Listening> {
  const wss = new WebSocketServer({ noServer: true });
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, port: options.port, hostname: options.hostname, websocket: { server: wss } },
      (info: AddressInfo) => {
        const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
        resolve({
          url: `http://${host}:${info.port}`,
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              for (const client of wss.clients) client.terminate();
              server.close(() => done());
              if ("closeAllConnections" in server) server.closeAllConnections();
            }),
        });
      },
    );
    server.once("error", reject);
  });
}
