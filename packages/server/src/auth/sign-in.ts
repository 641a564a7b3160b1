// Signing in: checking a password (rate-limited per username and per address, the same answer and
// about the same time whether or not the account exists), starting a browser session, and issuing
// and rotating access + refresh tokens. A refresh token is used once; presenting a used one again
// means it leaked, so its whole family is revoked and the event audited.

import type { TokenPair } from "@kiln/protocol";
import { assertNever, KilnError } from "@kiln/protocol";
import { type User, usernameKey } from "@kiln/store";
import type { Context } from "hono";
import { setCookie } from "hono/cookie";
import { appendAudit } from "./audit.ts";
import {
  type AuthCore,
  familyOfSession,
  REFRESH_TOKEN_TTL_MS,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  scopesOfRole,
} from "./auth-core.ts";
import { hashToken, newAuthId, newOpaqueToken, TOKEN_PREFIX } from "./opaque-token.ts";
import { NO_PASSWORD, verifyPassword } from "./password.ts";
import { hitRateLimit, rateLimitedError } from "./rate-limit.ts";

const BAD_CREDENTIALS = "wrong username or password";

/**
 * The user whose username and password these are. Throws `rate_limited` past the limits and
 * `unauthorized` (one message for every reason) otherwise; audits both outcomes.
 */
export async function checkCredentials(
  core: AuthCore,
  c: Context,
  credentials: { username: string; password: string },
  via: string,
): Promise<User> {
  const { store, limits } = core;
  const now = core.now();
  const ip = core.clientIp(c);
  const perIp = await hitRateLimit(store, `login:ip:${ip}`, limits.loginPerIp, now);
  const perUser = await hitRateLimit(
    store,
    `login:user:${usernameKey(credentials.username)}`,
    limits.loginPerUsername,
    now,
  );
  const wait = Math.max(perIp ?? 0, perUser ?? 0);
  if (wait > 0) {
    await appendAudit(store, {
      actor: credentials.username.slice(0, 64),
      action: "login.rate_limited",
      ip,
      at: now,
      details: { via },
    });
    throw rateLimitedError("too many sign-in attempts", wait);
  }

  const user = await store.users.getByUsername(credentials.username);
  // Always one scrypt run: an unknown user costs as much as a wrong password.
  const matches = await verifyPassword(credentials.password, user?.passwordHash ?? NO_PASSWORD);
  const reason =
    user === undefined
      ? "unknown_user"
      : user.disabledAt !== undefined
        ? "disabled"
        : !matches
          ? "wrong_password"
          : undefined;
  if (user === undefined || reason !== undefined) {
    await appendAudit(store, {
      ...(user === undefined ? {} : { userId: user.id }),
      actor: credentials.username.slice(0, 64),
      action: "login.failed",
      ip,
      at: now,
      details: { via, reason },
    });
    throw new KilnError("unauthorized", BAD_CREDENTIALS);
  }
  await appendAudit(store, {
    userId: user.id,
    actor: user.username,
    action: "login",
    ip,
    at: now,
    details: { via },
  });
  return user;
}

/** Starts a browser session: sets the cookie; returns its CSRF token and its token family. */
export async function startSession(
  core: AuthCore,
  c: Context,
  user: User,
): Promise<{ csrfToken: string; familyId: string }> {
  const now = core.now();
  const token = newOpaqueToken(TOKEN_PREFIX.session);
  const csrfToken = core.csrfTokenFor(token);
  const id = hashToken(token);
  await core.store.sessions.create({
    id,
    userId: user.id,
    csrfTokenHash: hashToken(csrfToken),
    createdAt: now,
    expiresAt: now + SESSION_TTL_MS,
  });
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure: core.secureCookies,
    path: "/",
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
  return { csrfToken, familyId: familyOfSession(id) };
}

/** Ends the cookie in the browser. */
export function clearSessionCookie(core: AuthCore, c: Context): void {
  setCookie(c, SESSION_COOKIE, "", {
    httpOnly: true,
    sameSite: "Lax",
    secure: core.secureCookies,
    path: "/",
    maxAge: 0,
  });
}

/** A new access token and a new refresh token of `familyId` (a new family when omitted). */
export async function issueTokenPair(
  core: AuthCore,
  user: User,
  familyId = newAuthId("fam"),
): Promise<TokenPair> {
  const now = core.now();
  const refreshToken = newOpaqueToken(TOKEN_PREFIX.refreshToken);
  await core.store.refreshTokens.create({
    tokenHash: hashToken(refreshToken),
    userId: user.id,
    familyId,
    createdAt: now,
    expiresAt: now + REFRESH_TOKEN_TTL_MS,
  });
  const { token, expiresAt } = core.accessTokens.sign(
    { sub: user.id, fam: familyId, scopes: scopesOfRole(user.role) },
    now,
  );
  return { accessToken: token, refreshToken, expiresAt };
}

/** Uses a refresh token once and issues the next pair of its family; reuse revokes the family. */
export async function rotateRefreshToken(
  core: AuthCore,
  c: Context,
  refreshToken: string,
): Promise<TokenPair> {
  const { store } = core;
  const now = core.now();
  const ip = core.clientIp(c);
  const invalid = () =>
    new KilnError("unauthorized", "the refresh token is invalid, expired or revoked: sign in again");
  if (!refreshToken.startsWith(TOKEN_PREFIX.refreshToken)) throw invalid();
  const wait = await hitRateLimit(store, `refresh:ip:${ip}`, core.limits.apiPerIp, now);
  if (wait !== undefined) throw rateLimitedError("too many refresh attempts", wait);
  const used = await store.refreshTokens.use(hashToken(refreshToken), now);
  switch (used.type) {
    case "ok":
      break;
    case "reused": {
      const revoked = await store.refreshTokens.revokeFamily(used.token.familyId, now);
      await appendAudit(store, {
        userId: used.token.userId,
        actor: "system",
        action: "refresh_token.reuse",
        target: used.token.familyId,
        ip,
        at: now,
        details: { revoked },
      });
      throw invalid();
    }
    case "revoked":
    case "expired":
    case "unknown":
      throw invalid();
    default:
      return assertNever(used);
  }
  const user = await store.users.get(used.token.userId);
  if (user === undefined || user.disabledAt !== undefined) throw invalid();
  return issueTokenPair(core, user, used.token.familyId);
}
