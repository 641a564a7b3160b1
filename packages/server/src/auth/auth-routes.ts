// /auth/*: sign in (browser session + token pair), programs' token endpoints, the first-run setup
// link, sign out, who am I, and changing one's own password.
import {
  ChangePasswordRequest,
  KilnError,
  LoginRequest,
  type LoginResponse,
  type MeResponse,
  type OAuthTokenResponse,
  RefreshGrantRequest,
  RefreshRequest,
  SetupRequest,
} from "@kiln/protocol";
import { Hono, type MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { z } from "zod";
import { ACCESS_TOKEN_TTL_MS } from "./access-token.ts";
import type { AppEnv } from "./app-env.ts";
import { appendAudit, audit } from "./audit.ts";
import { type AuthCore, familyOfSession, publicUser, SESSION_COOKIE, SETUP_SCOPE } from "./auth-core.ts";
import { respondToKilnErrors } from "./http-error.ts";
import { parseWith, readJsonBody } from "./json-body.ts";
import { hashToken, TOKEN_PREFIX } from "./opaque-token.ts";
import { hashPassword } from "./password.ts";
import { hitRateLimit, rateLimitedError } from "./rate-limit.ts";
import {
  checkCredentials,
  clearSessionCookie,
  issueTokenPair,
  rotateRefreshToken,
  startSession,
} from "./sign-in.ts";
import { endAllSignIns } from "./user-routes.ts";

/** The /auth routes. */
export function authRoutes(core: AuthCore, requireUser: MiddlewareHandler<AppEnv>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(respondToKilnErrors);

  app.post("/auth/login", async (c) => {
    const body = await readJsonBody(c, LoginRequest);
    const user = await checkCredentials(core, c, body, "login");
    const { csrfToken, familyId } = await startSession(core, c, user);
    const pair = await issueTokenPair(core, user, familyId);
    const response: LoginResponse = { user: publicUser(user), csrfToken, ...pair };
    return c.json(response);
  });

  app.post("/auth/token", async (c) => {
    // Either grant; the field present picks the schema, so that errors name the right field.
    const raw = await readJsonBody(c, z.record(z.string(), z.unknown()));
    const pair =
      "refresh_token" in raw
        ? await rotateRefreshToken(core, c, parseWith(RefreshGrantRequest, raw, "body").refresh_token)
        : await issueTokenPair(
            core,
            await checkCredentials(core, c, parseWith(LoginRequest, raw, "body"), "password_grant"),
          );
    const response: OAuthTokenResponse = {
      access_token: pair.accessToken,
      refresh_token: pair.refreshToken,
      expires_in: ACCESS_TOKEN_TTL_MS / 1000,
      token_type: "Bearer",
    };
    return c.json(response);
  });

  app.post("/auth/refresh", async (c) => {
    const { refreshToken } = await readJsonBody(c, RefreshRequest);
    return c.json(await rotateRefreshToken(core, c, refreshToken));
  });

  app.post("/auth/setup", async (c) => {
    const body = await readJsonBody(c, SetupRequest);
    const now = core.now();
    const ip = core.clientIp(c);
    const wait = await hitRateLimit(core.store, `setup:ip:${ip}`, core.limits.loginPerIp, now);
    if (wait !== undefined) throw rateLimitedError("too many setup attempts", wait);
    const invalid = new KilnError(
      "unauthorized",
      "the setup link is invalid, used or expired: restart `kiln serve` to print a new one",
    );
    if (!body.token.startsWith(TOKEN_PREFIX.setupToken)) throw invalid;
    const token = await core.store.apiTokens.findActiveByHash(hashToken(body.token), now);
    if (token === undefined || !token.scopes.includes(SETUP_SCOPE)) throw invalid;
    const user = await core.store.users.get(token.userId);
    if (user === undefined || user.disabledAt !== undefined) throw invalid;
    // Revoke first: of two concurrent uses, only the one that revoked goes on.
    if (!(await core.store.apiTokens.revoke(user.id, token.id, now))) throw invalid;
    await core.store.users.setPasswordHash(user.id, await hashPassword(body.password), now);
    await appendAudit(core.store, {
      userId: user.id,
      actor: user.username,
      action: "user.setup",
      ip,
      at: now,
    });
    const { csrfToken, familyId } = await startSession(core, c, user);
    const pair = await issueTokenPair(core, user, familyId);
    const response: LoginResponse = { user: publicUser(user), csrfToken, ...pair };
    return c.json(response);
  });

  app.post("/auth/logout", requireUser, async (c) => {
    const ctx = c.get("kilnAuth");
    const now = core.now();
    if (ctx.sessionId !== undefined) {
      await core.store.sessions.delete(ctx.sessionId);
      await core.store.refreshTokens.revokeFamily(familyOfSession(ctx.sessionId), now);
      clearSessionCookie(core, c);
    }
    if (ctx.tokenFamily !== undefined) await core.store.refreshTokens.revokeFamily(ctx.tokenFamily, now);
    await audit(c, "logout", undefined, { via: ctx.user.via });
    return c.body(null, 204);
  });

  app.get("/auth/me", requireUser, async (c) => {
    const ctx = c.get("kilnAuth");
    const user = await core.store.users.get(ctx.user.id);
    if (user === undefined) throw new KilnError("unauthorized", "the account no longer exists");
    const response: MeResponse = {
      user: { ...publicUser(user), via: ctx.user.via, scopes: ctx.user.scopes },
    };
    const cookieToken = ctx.sessionId === undefined ? undefined : getCookie(c, SESSION_COOKIE);
    if (cookieToken !== undefined) response.csrfToken = core.csrfTokenFor(cookieToken);
    return c.json(response);
  });

  app.post("/auth/password", requireUser, async (c) => {
    const body = await readJsonBody(c, ChangePasswordRequest);
    const me = c.get("kilnAuth").user;
    const credentials = { username: me.username, password: body.currentPassword };
    const user = await checkCredentials(core, c, credentials, "password_change").catch((error: unknown) => {
      // Not 401: the caller is signed in; only the password they typed is wrong.
      if (!(error instanceof KilnError) || error.code !== "unauthorized") throw error;
      throw new KilnError("forbidden", "the current password is wrong", {
        details: { field: "currentPassword" },
      });
    });
    await core.store.users.setPasswordHash(user.id, await hashPassword(body.newPassword), core.now());
    await endAllSignIns(core, user.id);
    await audit(c, "user.password_change", user.id, { by: "self" });
    clearSessionCookie(core, c);
    return c.body(null, 204);
  });

  return app;
}
