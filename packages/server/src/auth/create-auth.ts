// The auth module as the server sees it: middleware for protected routes, the routes of
// /auth, /users and /tokens, and first-run set-up. See DESIGN.md §6 (Auth).
import type { Hono, MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";
import { type AuthCoreDeps, createAuthCore } from "./auth-core.ts";
import { authRoutes } from "./auth-routes.ts";
import { type BootstrapEnv, type BootstrapResult, bootstrap } from "./bootstrap.ts";
import { createRequireUser, requireAdmin } from "./require-user.ts";
import { tokenRoutes } from "./token-routes.ts";
import { userRoutes } from "./user-routes.ts";

/** Dependencies of {@link createAuth}. */
export type AuthDeps = AuthCoreDeps;

/** Authentication and accounts. */
export interface Auth {
  /**
   * Authenticates a request (session cookie + CSRF header on unsafe methods, or a bearer API token or
   * access token), enforces the method's scope and the API rate limits, and sets `c.get("user")`.
   * 401/403/429 with `{ error: ErrorInfo }` otherwise. Running it twice on a request is harmless.
   */
  requireUser: MiddlewareHandler<AppEnv>;
  /** After requireUser: 403 unless the caller is an admin using a credential with the admin scope. */
  requireAdmin: MiddlewareHandler<AppEnv>;
  /**
   * `/auth/*`, `/users`, `/tokens` — mount at `/api/v1`. They apply requireUser themselves where
   * needed (login, token, refresh and setup are public), so mount them without it in front.
   */
  routes: Hono<AppEnv>;
  /** First run: creates the admin; `setupUrl` (to print) while the admin has no password yet. */
  bootstrap(env: BootstrapEnv, baseUrl: string): Promise<BootstrapResult>;
}

/** Creates the auth module over a store and the server's secret key. */
export function createAuth(deps: AuthDeps): Auth {
  const core = createAuthCore(deps);
  const requireUser = createRequireUser(core);
  const routes = authRoutes(core, requireUser);
  routes.route("/", userRoutes(core, requireUser));
  routes.route("/", tokenRoutes(core, requireUser));
  return {
    requireUser,
    requireAdmin,
    routes,
    bootstrap: (env, baseUrl) => bootstrap(core, env, baseUrl),
  };
}
