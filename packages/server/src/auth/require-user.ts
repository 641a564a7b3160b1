// requireUser, in order: limit the client address; find the credential — `Authorization: Bearer`
// (a personal API token or an access token) wins over the session cookie, and a bad bearer token
// is a 401 even with a good cookie; for the cookie, unsafe methods need the session's CSRF header;
// check the user is still enabled and the credential's scope covers the method; limit the user.
import { timingSafeEqual } from "node:crypto";
import { KilnError } from "@kiln/protocol";
import type { User } from "@kiln/store";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { looksLikeJwt } from "./access-token.ts";
import type { AppEnv, AuthRequestContext, AuthUser } from "./app-env.ts";
import {
  type AuthCore,
  CSRF_HEADER,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  SETUP_SCOPE,
  scopesOfRole,
} from "./auth-core.ts";
import { errorResponse } from "./http-error.ts";
import { hashToken, TOKEN_PREFIX } from "./opaque-token.ts";
import { hitRateLimit, rateLimitedError } from "./rate-limit.ts";

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
/** Session and token activity is written at most this often per credential. */
const TOUCH_EVERY_MS = 60_000;

type Found = { user: User; via: AuthUser["via"]; scopes: string[]; sessionId?: string; tokenFamily?: string };

/** The middleware that authenticates every protected route (idempotent: a second run passes). */
export function createRequireUser(core: AuthCore): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.get("kilnAuth") !== undefined) return next();
    const now = core.now();
    const ip = core.clientIp(c);
    const ipWait = await hitRateLimit(core.store, `api:ip:${ip}`, core.limits.apiPerIp, now);
    if (ipWait !== undefined)
      return errorResponse(c, rateLimitedError("too many requests from this address", ipWait));

    const found = await authenticate(core, c, now);
    if (found instanceof KilnError) return deny(c, found);

    const needed = UNSAFE_METHODS.has(c.req.method) ? "write" : "read";
    if (!found.scopes.includes(needed)) {
      return deny(c, new KilnError("forbidden", `this token lacks the "${needed}" scope this request needs`));
    }
    const userWait = await hitRateLimit(core.store, `api:user:${found.user.id}`, core.limits.apiPerUser, now);
    if (userWait !== undefined) return errorResponse(c, rateLimitedError("too many requests", userWait));

    const user: AuthUser = {
      id: found.user.id,
      username: found.user.username,
      role: found.user.role,
      via: found.via,
      scopes: found.scopes,
    };
    const ctx: AuthRequestContext = { user, store: core.store, now: core.now, ip };
    if (found.sessionId !== undefined) ctx.sessionId = found.sessionId;
    if (found.tokenFamily !== undefined) ctx.tokenFamily = found.tokenFamily;
    c.set("user", user);
    c.set("kilnAuth", ctx);
    return next();
  };
}

/** After requireUser: only admins (and only with a credential that has the `admin` scope). */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const ctx = c.get("kilnAuth");
  if (ctx === undefined) return deny(c, new KilnError("unauthorized", "sign in first"));
  if (ctx.user.role !== "admin" || !ctx.user.scopes.includes("admin")) {
    return deny(c, new KilnError("forbidden", "only an admin may do this"));
  }
  return next();
};

/** After requireUser: the credential must carry `scope`. */
export function requireScope(scope: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const ctx = c.get("kilnAuth");
    if (ctx === undefined) return deny(c, new KilnError("unauthorized", "sign in first"));
    if (!ctx.user.scopes.includes(scope)) {
      return deny(c, new KilnError("forbidden", `this token lacks the "${scope}" scope this request needs`));
    }
    return next();
  };
}

async function authenticate(core: AuthCore, c: Context, now: number): Promise<Found | KilnError> {
  const authorization = c.req.header("authorization");
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match?.[1] === undefined) {
      return new KilnError("unauthorized", "the Authorization header must be `Bearer <token>`");
    }
    return bearer(core, match[1], now);
  }
  const cookie = getCookie(c, SESSION_COOKIE);
  if (cookie !== undefined && cookie !== "") return session(core, c, cookie, now);
  return new KilnError("unauthorized", "sign in: send `Authorization: Bearer <token>` or the session cookie");
}

async function bearer(core: AuthCore, token: string, now: number): Promise<Found | KilnError> {
  if (token.startsWith(TOKEN_PREFIX.apiToken)) {
    const stored = await core.store.apiTokens.findActiveByHash(hashToken(token), now);
    if (stored === undefined || stored.scopes.includes(SETUP_SCOPE)) {
      return new KilnError("unauthorized", "the API token is invalid, expired or revoked");
    }
    const user = await activeUser(core, stored.userId);
    if (user === undefined) return new KilnError("unauthorized", "the API token's user is disabled");
    if (stored.lastUsedAt === undefined || now - stored.lastUsedAt >= TOUCH_EVERY_MS) {
      await core.store.apiTokens.touch(stored.id, now);
    }
    // A token never grants more than the user's role allows.
    const scopes = stored.scopes.filter((s) => s !== "admin" || user.role === "admin");
    return { user, via: "api_token", scopes };
  }
  if (looksLikeJwt(token)) {
    const claims = core.accessTokens.verify(token, now);
    if (claims === undefined) {
      return new KilnError(
        "unauthorized",
        "the access token is invalid or expired: refresh it or sign in again",
      );
    }
    const user = await activeUser(core, claims.sub);
    if (user === undefined) return new KilnError("unauthorized", "the access token's user is disabled");
    const allowed = scopesOfRole(user.role) as string[];
    const scopes = claims.scope.split(" ").filter((s) => allowed.includes(s));
    return { user, via: "access_token", scopes, tokenFamily: claims.fam };
  }
  return new KilnError("unauthorized", "the bearer token is not a Kiln API token or access token");
}

async function session(core: AuthCore, c: Context, token: string, now: number): Promise<Found | KilnError> {
  const id = hashToken(token);
  const stored = await core.store.sessions.get(id, now);
  if (stored === undefined) return new KilnError("unauthorized", "the session has ended: sign in again");
  if (UNSAFE_METHODS.has(c.req.method)) {
    const given = c.req.header(CSRF_HEADER);
    if (given === undefined || !sameHash(hashToken(given), stored.csrfTokenHash)) {
      return new KilnError(
        "forbidden",
        `missing or wrong CSRF token: send the \`${CSRF_HEADER}\` header with the csrfToken from /auth/login or /auth/me`,
      );
    }
  }
  const user = await activeUser(core, stored.userId);
  if (user === undefined) return new KilnError("unauthorized", "the account is disabled");
  if (now - stored.lastSeenAt >= TOUCH_EVERY_MS)
    await core.store.sessions.touch(id, now, now + SESSION_TTL_MS);
  return { user, via: "session", scopes: scopesOfRole(user.role), sessionId: id };
}

async function activeUser(core: AuthCore, id: string): Promise<User | undefined> {
  const user = await core.store.users.get(id);
  return user === undefined || user.disabledAt !== undefined ? undefined : user;
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function deny(c: Context, error: KilnError): Response {
  const headers: Record<string, string> =
    error.code === "unauthorized" ? { "www-authenticate": "Bearer" } : {};
  return errorResponse(c, error, headers);
}
