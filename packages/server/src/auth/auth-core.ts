// What every part of auth shares: the store, the clock, limits and the keys derived from the
// server's secret key (one HKDF subkey per purpose, so that no two uses share a key).
import { createHmac, hkdfSync } from "node:crypto";
import type { PublicUser } from "@kiln/protocol";
import { KilnError } from "@kiln/protocol";
import type { KilnStore, User } from "@kiln/store";
import { type AccessTokens, createAccessTokens } from "./access-token.ts";
import type { AuthScope } from "./app-env.ts";
import { type ClientIp, socketClientIp } from "./client-ip.ts";
import { hashToken } from "./opaque-token.ts";
import { type AuthLimits, DEFAULT_AUTH_LIMITS } from "./rate-limit.ts";

/** The browser session cookie. */
export const SESSION_COOKIE = "kiln_session";
/** The header a browser session must send on unsafe methods. */
export const CSRF_HEADER = "x-kiln-csrf";
/** How long a browser session lives without activity. */
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** How long a refresh token lives. */
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** How long a first-run setup link is valid. */
export const SETUP_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
/** The scope that marks a stored token as a setup link (never a usable API token). */
export const SETUP_SCOPE = "kiln:setup";

/** Shared state of one auth instance. */
export interface AuthCore {
  store: KilnStore;
  now: () => number;
  secureCookies: boolean;
  limits: AuthLimits;
  clientIp: ClientIp;
  accessTokens: AccessTokens;
  /** The CSRF token of a browser session (derived from its cookie, so it can be shown again). */
  csrfTokenFor(sessionToken: string): string;
}

/** Options shared by `createAuth`. */
export interface AuthCoreDeps {
  store: KilnStore;
  /** The server's 32-byte secret key (see `loadSecretKey`). */
  secretKey: Buffer;
  now?: () => number;
  /** Mark the session cookie `Secure` (serve over HTTPS). */
  secureCookies: boolean;
  limits?: Partial<AuthLimits>;
  clientIp?: ClientIp;
}

/** Checks the key and derives the per-purpose keys. */
export function createAuthCore(deps: AuthCoreDeps): AuthCore {
  if (deps.secretKey.length !== 32) {
    throw new KilnError("config_invalid", `the secret key must be 32 bytes, not ${deps.secretKey.length}`);
  }
  const subkey = (purpose: string) =>
    Buffer.from(hkdfSync("sha256", deps.secretKey, "", `kiln/${purpose}`, 32));
  const csrfKey = subkey("csrf");
  return {
    store: deps.store,
    now: deps.now ?? Date.now,
    secureCookies: deps.secureCookies,
    limits: { ...DEFAULT_AUTH_LIMITS, ...deps.limits },
    clientIp: deps.clientIp ?? socketClientIp,
    accessTokens: createAccessTokens(subkey("access-token")),
    csrfTokenFor: (sessionToken) => createHmac("sha256", csrfKey).update(sessionToken).digest("base64url"),
  };
}

/** The scopes of a signed-in user (sessions and access tokens carry all of the role's). */
export function scopesOfRole(role: User["role"]): AuthScope[] {
  return role === "admin" ? ["read", "write", "admin"] : ["read", "write"];
}

/** The refresh-token family of a browser session (so that logout ends both). */
export function familyOfSession(sessionId: string): string {
  return `fam_${hashToken(`session:${sessionId}`).slice(0, 24)}`;
}

/** A user as the API shows it (never the password hash). */
export function publicUser(user: User): PublicUser {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    ...(user.disabledAt === undefined ? {} : { disabledAt: user.disabledAt }),
  };
}
