// Opaque bearer secrets (session cookies, personal API tokens, refresh and setup tokens): 32 random
// bytes, base64url, behind a prefix that says what the token is (and lets secret scanners spot a
// leaked one). Only a SHA-256 of a token is ever stored.
import { createHash, randomBytes } from "node:crypto";

/** Prefixes of Kiln's opaque tokens. */
export const TOKEN_PREFIX = {
  /** Personal API token. */
  apiToken: "kiln_pat_",
  /** Refresh token (access + refresh pairs for programs). */
  refreshToken: "kiln_rt_",
  /** One-time first-run setup link. */
  setupToken: "kiln_setup_",
  /** Browser session (the cookie's value). */
  session: "kiln_sess_",
} as const;

/** A new token: the prefix and 32 random bytes, base64url. */
export function newOpaqueToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

/** The stored form of a token: SHA-256, hex. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A new id for auth records: `usr_…`, `tok_…`, `fam_…` (random, not guessable). */
export function newAuthId(prefix: "usr" | "tok" | "fam"): string {
  return `${prefix}_${randomBytes(12).toString("hex")}`;
}
