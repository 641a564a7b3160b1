// Password hashing with scrypt from node:crypto. Hashes are self-describing
// (`scrypt$N$r$p$salt$hash`, base64url) so that the cost can be raised later without breaking old
// hashes. Verification always does a full scrypt run, even for a hash that is not one (a user
// without a password yet), so that timing does not tell callers which accounts exist.
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

export { NewPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "@kiln/protocol";

/** scrypt cost parameters. */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** Kiln's default cost: N=2^15, r=8, p=1 (about 32 MiB and ~100 ms per hash). */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const KEY_BYTES = 64;
/** Stored hashes asking for more than this are refused rather than run (a tampered row). */
const MAX_N = 2 ** 20;

/** The password hash of an account that has no password yet (nothing verifies against it). */
export const NO_PASSWORD = "!";

/** Hashes a password: `scrypt$N$r$p$salt$hash`. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return ["scrypt", params.N, params.r, params.p, salt.toString("base64url"), key.toString("base64url")].join(
    "$",
  );
}

/** Whether `password` matches `encoded`, compared in constant time; `false` for anything not a hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (parsed === undefined) {
    // Same work as a real check, so "no such hash" and "wrong password" take as long.
    await derive(password, randomBytes(SALT_BYTES), DEFAULT_SCRYPT_PARAMS);
    return false;
  }
  const key = await derive(password, parsed.salt, parsed.params, parsed.key.length);
  return timingSafeEqual(key, parsed.key);
}

function parseHash(encoded: string): { params: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const parts = encoded.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const valid = [N, r, p].every((n) => Number.isInteger(n) && n > 0) && N <= MAX_N && (N & (N - 1)) === 0;
  if (!valid || r * p >= 2 ** 30) return undefined;
  const salt = Buffer.from(parts[4] ?? "", "base64url");
  const key = Buffer.from(parts[5] ?? "", "base64url");
  if (salt.length === 0 || key.length < 16) return undefined;
  return { params: { N, r, p }, salt, key };
}

function derive(password: string, salt: Buffer, params: ScryptParams, keyBytes = KEY_BYTES): Promise<Buffer> {
  const options: ScryptOptions = {
    N: params.N,
    r: params.r,
    p: params.p,
    // Node's default limit (32 MiB) is exactly 128·N·r at the default cost; leave headroom.
    maxmem: 256 * params.N * params.r + 1024 * 1024,
  };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, keyBytes, options, (error, key) =>
      error === null ? resolve(key) : reject(error),
    );
  });
}
