import type { Context } from "hono";

/** Finds the client address of a request (rate limits and the audit log key on it). */
export type ClientIp = (c: Context) => string;

type NodeBindings = { incoming?: { socket?: { remoteAddress?: string } } };

/**
 * The peer address of the TCP connection under `@hono/node-server` (`unknown` elsewhere, e.g.
 * in-process `app.request`). Forwarded headers are not trusted: behind a reverse proxy, pass a
 * `clientIp` that reads the proxy's header instead.
 */
export const socketClientIp: ClientIp = (c) => {
  const env = c.env as (NodeBindings & { server?: NodeBindings }) | undefined;
  const bindings = env?.server ?? env;
  return bindings?.incoming?.socket?.remoteAddress ?? "unknown";
};
