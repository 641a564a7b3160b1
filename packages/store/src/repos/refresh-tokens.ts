// Refresh tokens rotate: each may be used once. The use is one conditional UPDATE, so that of two
// concurrent uses exactly one wins; a second use of a used token is reported as `reused` so that the
// caller can revoke the whole family (the token was stolen, or replayed).
import { z } from "zod";
import type { RefreshToken, RefreshTokenRepo, RefreshTokenUse } from "../kiln-store.ts";
import { optionalNumber, parseRow } from "../sql/rows.ts";
import type { SqlExecutor } from "../sql/sql-database.ts";

const COLUMNS = "token_hash, user_id, family_id, created_at, expires_at, used_at, revoked_at";

const RefreshTokenRow = z
  .object({
    token_hash: z.string(),
    user_id: z.string(),
    family_id: z.string(),
    created_at: z.number(),
    expires_at: z.number(),
    used_at: optionalNumber,
    revoked_at: optionalNumber,
  })
  .transform(
    (r): RefreshToken => ({
      tokenHash: r.token_hash,
      userId: r.user_id,
      familyId: r.family_id,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      usedAt: r.used_at,
      revokedAt: r.revoked_at,
    }),
  );

/** Refresh tokens. */
export function createRefreshTokenRepo(db: SqlExecutor): RefreshTokenRepo {
  return {
    async create({ tokenHash, userId, familyId, createdAt, expiresAt }) {
      const { rows } = await db.query(
        `INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
        [tokenHash, userId, familyId, createdAt, expiresAt],
      );
      return parseRow(RefreshTokenRow, rows[0], "refresh token");
    },
    async use(tokenHash, now): Promise<RefreshTokenUse> {
      const used = await db.query(
        `UPDATE refresh_tokens SET used_at = ?
         WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?
         RETURNING ${COLUMNS}`,
        [now, tokenHash, now],
      );
      if (used.rows[0] !== undefined)
        return { type: "ok", token: parseRow(RefreshTokenRow, used.rows[0], "refresh token") };
      // Why not: read it (after our failed UPDATE, so a concurrent winner's use is visible).
      const { rows } = await db.query(`SELECT ${COLUMNS} FROM refresh_tokens WHERE token_hash = ?`, [
        tokenHash,
      ]);
      if (rows[0] === undefined) return { type: "unknown" };
      const token = parseRow(RefreshTokenRow, rows[0], "refresh token");
      if (token.usedAt !== undefined) return { type: "reused", token };
      if (token.revokedAt !== undefined) return { type: "revoked", token };
      return { type: "expired", token };
    },
    async revokeFamily(familyId, now) {
      return (
        await db.query(
          "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
          [now, familyId],
        )
      ).rowCount;
    },
    async revokeAllOfUser(userId, now) {
      return (
        await db.query("UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", [
          now,
          userId,
        ])
      ).rowCount;
    },
  };
}
