// Fixed-window rate limits kept in the store (so that they hold across restarts and, on PostgreSQL,
// across nodes). A limited request gets 429 `rate_limited` with `retry-after` in seconds.
import { KilnError } from "@kiln/protocol";
import type { KilnStore } from "@kiln/store";

/** At most `limit` hits per `windowMs`. */
export interface RateLimitRule {
  limit: number;
  windowMs: number;
}

/** The limits auth applies. */
export interface AuthLimits {
  /** Sign-in attempts (login, password grant, password change) per username. */
  loginPerUsername: RateLimitRule;
  /** Sign-in and setup attempts per client address. */
  loginPerIp: RateLimitRule;
  /** Authenticated API requests per user. */
  apiPerUser: RateLimitRule;
  /** API requests per client address (counted before the credential is checked). */
  apiPerIp: RateLimitRule;
}

/** Kiln's defaults. */
export const DEFAULT_AUTH_LIMITS: AuthLimits = {
  loginPerUsername: { limit: 10, windowMs: 15 * 60_000 },
  loginPerIp: { limit: 50, windowMs: 15 * 60_000 },
  apiPerUser: { limit: 600, windowMs: 60_000 },
  apiPerIp: { limit: 1200, windowMs: 60_000 },
};

/** Counts one hit of `key`; returns the seconds to wait when it is over the limit. */
export async function hitRateLimit(
  store: KilnStore,
  key: string,
  rule: RateLimitRule,
  now: number,
): Promise<number | undefined> {
  const hit = await store.rateLimits.hit(key, rule.windowMs, now);
  if (hit.count <= rule.limit) return undefined;
  return Math.max(1, Math.ceil((hit.resetAt - now) / 1000));
}

/** The error of a limited request (`errorResponse` turns `retryAfterSeconds` into `retry-after`). */
export function rateLimitedError(what: string, retryAfterSeconds: number): KilnError {
  return new KilnError("rate_limited", `${what}: try again in ${retryAfterSeconds} s`, {
    details: { retryAfterSeconds },
  });
}
