// Access tokens for programs: short-lived JWTs (HS256, signed with a key derived from the server's
// secret key) so that a request needs no database read to check one. They cannot be revoked one by
// one — they live 15 minutes; the refresh token that mints them can be, and requireUser still
// refuses a disabled user.
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";

/** How long an access token lives. */
export const ACCESS_TOKEN_TTL_MS = 15 * 60 * 1000;

/** What an access token says. */
export interface AccessTokenClaims {
  /** The user's id. */
  sub: string;
  /** The refresh-token family it was minted from (logout revokes it). */
  fam: string;
  /** Space-separated scopes. */
  scope: string;
  /** Issued at, Unix seconds. */
  iat: number;
  /** Expires at, Unix seconds. */
  exp: number;
}

const Header = z.object({ alg: z.literal("HS256"), typ: z.literal("JWT") });
const Claims = z.object({
  iss: z.literal("kiln"),
  sub: z.string().min(1),
  fam: z.string().min(1),
  scope: z.string(),
  iat: z.number().int(),
  exp: z.number().int(),
});

const HEADER = encode({ alg: "HS256", typ: "JWT" });

/** Signs and checks access tokens with one HMAC key. */
export interface AccessTokens {
  /** A signed token valid from `now` for {@link ACCESS_TOKEN_TTL_MS}, and when it expires (Unix ms). */
  sign(
    claims: { sub: string; fam: string; scopes: readonly string[] },
    now: number,
  ): { token: string; expiresAt: number };
  /** The claims of a token that is well-formed, signed by this key and unexpired at `now`. */
  verify(token: string, now: number): AccessTokenClaims | undefined;
}

/** Access tokens signed with `key` (HS256). */
export function createAccessTokens(key: Buffer): AccessTokens {
  const sign = (input: string) => createHmac("sha256", key).update(input).digest();
  return {
    sign({ sub, fam, scopes }, now) {
      const iat = Math.floor(now / 1000);
      const exp = Math.ceil((now + ACCESS_TOKEN_TTL_MS) / 1000);
      const input = `${HEADER}.${encode({ iss: "kiln", sub, fam, scope: scopes.join(" "), iat, exp })}`;
      return { token: `${input}.${sign(input).toString("base64url")}`, expiresAt: exp * 1000 };
    },
    verify(token, now) {
      const parts = token.split(".");
      if (parts.length !== 3) return undefined;
      const [header, payload, signature] = parts as [string, string, string];
      const expected = sign(`${header}.${payload}`);
      const given = Buffer.from(signature, "base64url");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      if (!Header.safeParse(decode(header)).success) return undefined;
      const claims = Claims.safeParse(decode(payload));
      if (!claims.success || now >= claims.data.exp * 1000) return undefined;
      const { sub, fam, scope, iat, exp } = claims.data;
      return { sub, fam, scope, iat, exp };
    },
  };
}

/** Whether `token` has the shape of a JWT (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

function decode(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}
