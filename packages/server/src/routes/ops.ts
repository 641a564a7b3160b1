// Unauthenticated operational routes: /healthz (the process answers), /readyz (the store answers),
// /metrics (Prometheus text), and the OpenAPI document.
import { Hono } from "hono";
import type { AppEnv } from "../auth/index.ts";
import { type MetricGauges, renderMetrics } from "../http/metrics.ts";
import { openApiDocument } from "../openapi/openapi-document.ts";
import type { RouteDeps } from "./route-deps.ts";

/** The operational routes (mount at `/`). */
export function opsRoutes(d: RouteDeps, gauges: MetricGauges): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" as const }));
  app.get("/readyz", async (c) => {
    try {
      await d.store.ping();
      return c.json({ status: "ok" as const });
    } catch (error) {
      d.logger.warn({ err: error }, "readiness check: the store does not answer");
      return c.json({ status: "unavailable" as const }, 503);
    }
  });
  app.get("/metrics", (c) =>
    c.text(renderMetrics(d.metrics, gauges), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    }),
  );
  let document: unknown;
  app.get("/api/v1/openapi.json", (c) => {
    document ??= openApiDocument();
    return c.json(document);
  });
  return app;
}
