// The first middleware of every request: a request id (echoed in `x-request-id`), one structured log
// line when the response is ready (method, path, status, ms — never bodies or headers, which may
// hold secrets), and the HTTP counter of /metrics.
import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import type { AppEnv } from "../auth/index.ts";
import type { Metrics } from "./metrics.ts";

/** Request id, access log and request counter. */
export function requestContext(logger: Logger, metrics: Metrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const given = c.req.header("x-request-id");
    const requestId = given !== undefined && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    c.set("requestId", requestId);
    const started = performance.now();
    await next();
    c.header("x-request-id", requestId);
    const status = c.res.status;
    metrics.httpRequests.set(status, (metrics.httpRequests.get(status) ?? 0) + 1);
    const path = new URL(c.req.url).pathname;
    logger[status >= 500 ? "error" : "info"](
      { requestId, method: c.req.method, path, status, ms: Math.round(performance.now() - started) },
      "request",
    );
  };
}
