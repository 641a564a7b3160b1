import { KilnError } from "@kiln/protocol";
import { z } from "zod";
import type { ApiToken, ApiTokenInfo, ApiTokenRepo } from "../kiln-store.ts";
import { jsonText, optionalNumber, parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor } from "../sql/sql-database.ts";

const INFO_COLUMNS = "id, user_id, name, scopes, created_at, last_used_at, expires_at, revoked_at";

const InfoRow = z.object({
  id: z.string(),
  user_id: z.string(),
  name: z.string(),
  scopes: jsonText(z.array(z.string())),
  created_at: z.number(),
  last_used_at: optionalNumber,
  expires_at: optionalNumber,
  revoked_at: optionalNumber,
});

const toInfo = (r: z.output<typeof InfoRow>): ApiTokenInfo => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  scopes: r.scopes,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});

const ApiTokenInfoRow = InfoRow.transform(toInfo);
const ApiTokenRow = InfoRow.extend({ token_hash: z.string() }).transform(
  (r): ApiToken => ({ ...toInfo(r), tokenHash: r.token_hash }),
);

/** Personal API tokens. */
export function createApiTokenRepo(db: SqlExecutor): ApiTokenRepo {
  return {
    async create({ id, userId, name, tokenHash, scopes, createdAt, expiresAt }) {
      try {
        const { rows } = await db.query(
          `INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${INFO_COLUMNS}`,
          [id, userId, name, tokenHash, JSON.stringify(scopes), createdAt, expiresAt ?? null],
        );
        return parseRow(ApiTokenInfoRow, rows[0], "API token");
      } catch (error) {
        if (error instanceof KilnError && error.code === "conflict") {
          throw new KilnError("conflict", "an API token with this id or hash already exists", {
            cause: error,
          });
        }
        throw error;
      }
    },
    async findActiveByHash(tokenHash, now) {
      const { rows } = await db.query(
        `SELECT ${INFO_COLUMNS}, token_hash FROM api_tokens
         WHERE token_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`,
        [tokenHash, now],
      );
      return rows[0] === undefined ? undefined : parseRow(ApiTokenRow, rows[0], "API token");
    },
    async listByUser(userId) {
      const { rows } = await db.query(
        `SELECT ${INFO_COLUMNS} FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC`,
        [userId],
      );
      return parseRows(ApiTokenInfoRow, rows, "API token");
    },
    async revoke(userId, id, now) {
      const { rowCount } = await db.query(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
        [now, id, userId],
      );
      return rowCount > 0;
    },
    async touch(id, now) {
      await db.query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [now, id]);
    },
  };
}
