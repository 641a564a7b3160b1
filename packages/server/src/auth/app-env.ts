import type { KilnStore } from "@kiln/store";

export { AUTH_SCOPES, type AuthScope } from "@kiln/protocol";

/** The caller of a request, as `auth.requireUser` found it. */
export type AuthUser = {
  id: string;
  username: string;
  role: "admin" | "user";
  /** How the caller proved who they are. */
  via: "session" | "api_token" | "access_token";
  /** What this credential may do (see {@link AUTH_SCOPES}). */
  scopes: string[];
};

/** The Hono environment of every Kiln API route. */
export type AppEnv = { Variables: { user: AuthUser; requestId: string } };

/** What `auth.requireUser` leaves on the context for helpers such as `audit(c, …)`. */
export interface AuthRequestContext {
  user: AuthUser;
  store: KilnStore;
  now: () => number;
  /** The client's address as the server sees it (`unknown` when the runtime does not say). */
  ip: string;
  /** The browser session's id (a hash) when the caller came with the session cookie. */
  sessionId?: string;
  /** The refresh-token family of the access token the caller came with. */
  tokenFamily?: string;
}

// Hono's documented way for a middleware to add a typed variable to every context: `kilnAuth` is
// set by requireUser and read by audit(c, …) without widening the AppEnv contract.
declare module "hono" {
  interface ContextVariableMap {
    kilnAuth: AuthRequestContext;
  }
}
