// GET /ws — the WebSocket that follows several threads (events/ws-hub.ts). The upgrade request goes
// through requireUser like any other route (bearer token or session cookie), so the socket belongs
// to one user and can only follow that user's threads.
import { upgradeWebSocket } from "@hono/node-server";
import { Hono } from "hono";
import type { WebSocket } from "ws";
import type { AppEnv } from "../auth/index.ts";
import { WsSession, type WsSocket } from "../events/ws-hub.ts";
import type { RouteDeps } from "./route-deps.ts";

/** The WebSocket route (mount at `/api/v1`, behind requireUser; served by `listen`). */
export function wsRoutes(d: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get(
    "/ws",
    upgradeWebSocket((c) => {
      const userId = c.get("user").id;
      let session: WsSession | undefined;
      return {
        onOpen: (_event, ws) => {
          // `listen` serves upgrades with the `ws` library: the raw socket is its WebSocket.
          const socket: WsSocket = ws.raw as unknown as WebSocket;
          session = new WsSession(d, userId, socket);
        },
        onMessage: (event) => {
          session?.onMessage(typeof event.data === "string" ? event.data : "");
        },
        onClose: () => session?.close(),
        onError: () => session?.close(),
      };
    }),
  );
  return app;
}
