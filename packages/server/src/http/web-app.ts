// Serves the web app (packages/web's build) at `/`: its files, and index.html for any other GET that is
// not an API path, so that the app's own routes (/tasks/…, /threads/…) load on a reload. A strict
// Content-Security-Policy: the app loads only its own scripts and talks only to this origin.
import { serveStatic } from "@hono/node-server/serve-static";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../auth/index.ts";

const API_PREFIXES = ["/api/", "/backend-api/", "/healthz", "/readyz", "/metrics"];

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

/** The web app's middleware (mount last, with `app.use("*", …)`). */
export function webApp(root: string): MiddlewareHandler<AppEnv> {
  const files = serveStatic<AppEnv>({ root });
  const index = serveStatic<AppEnv>({ root, path: "index.html" });
  return async (c, next) => {
    const path = c.req.path;
    if ((c.req.method !== "GET" && c.req.method !== "HEAD") || API_PREFIXES.some((p) => path.startsWith(p))) {
      return next();
    }
    c.header("Content-Security-Policy", CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    if (path.startsWith("/assets/")) c.header("Cache-Control", "public, max-age=31536000, immutable");
    else c.header("Cache-Control", "no-cache");
    const served = await files(c, async () => undefined);
    if (served instanceof Response) return served;
    if (c.finalized) return;
    // An app route (no file extension): the app itself.
    if (/\.[a-z0-9]+$/i.test(path)) return next();
    return index(c, next);
  };
}
