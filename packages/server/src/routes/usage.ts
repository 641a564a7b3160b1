// The caller's model usage per UTC day (store.usage), with the total of the range.
import { addUsage, emptyUsage, UsageQuery } from "@kiln/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../auth/index.ts";
import { parseQuery, type RouteDeps } from "./route-deps.ts";

/** `GET /usage?from&to` (mount at `/api/v1`, behind requireUser). */
export function usageRoutes(d: RouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/usage", async (c) => {
    const q = parseQuery(c, UsageQuery);
    const days = await d.store.usage.perDay(c.get("user").id, {
      ...(q.from === undefined ? {} : { from: q.from }),
      ...(q.to === undefined ? {} : { to: q.to }),
    });
    const total = days.reduce(
      (sum, day) => ({
        calls: sum.calls + day.calls,
        usage: addUsage(sum.usage, day.usage),
        costUsd: sum.costUsd + day.costUsd,
      }),
      { calls: 0, usage: emptyUsage(), costUsd: 0 },
    );
    return c.json({ days, total });
  });
  return app;
}
