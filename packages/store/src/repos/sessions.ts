import { z } from "zod";
import type { BrowserSession, SessionRepo } from "../kiln-store.ts";
import { parseRow } from "../sql/rows.ts";
import type { SqlExecutor } from "../sql/sql-database.ts";

const COLUMNS = "id, user_id, csrf_token_hash, created_at, last_seen_at, expires_at";

const SessionRow = z
  .object({
    id: z.string(),
    user_id: z.string(),
    csrf_token_hash: z.string(),
    created_at: z.number(),
    last_seen_at: z.number(),
    expires_at: z.number(),
  })
  .transform(
    (r): BrowserSession => ({
      id: r.id,
      userId: r.user_id,
      csrfTokenHash: r.csrf_token_hash,
      createdAt: r.created_at,
      lastSeenAt: r.last_seen_at,
      expiresAt: r.expires_at,
    }),
  );

/** Browser sessions. */
export function createSessionRepo(db: SqlExecutor): SessionRepo {
  return {
    async create({ id, userId, csrfTokenHash, createdAt, expiresAt }) {
      const { rows } = await db.query(
        `INSERT INTO sessions (id, user_id, csrf_token_hash, created_at, last_seen_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
        [id, userId, csrfTokenHash, createdAt, createdAt, expiresAt],
      );
      return parseRow(SessionRow, rows[0], "session");
    },
    async get(id, now) {
      const { rows } = await db.query(`SELECT ${COLUMNS} FROM sessions WHERE id = ? AND expires_at > ?`, [
        id,
        now,
      ]);
      return rows[0] === undefined ? undefined : parseRow(SessionRow, rows[0], "session");
    },
    async touch(id, now, expiresAt) {
      const { rowCount } = await db.query(
        "UPDATE sessions SET last_seen_at = ?, expires_at = COALESCE(?, expires_at) WHERE id = ? AND expires_at > ?",
        [now, expiresAt ?? null, id, now],
      );
      return rowCount > 0;
    },
    async delete(id) {
      return (await db.query("DELETE FROM sessions WHERE id = ?", [id])).rowCount > 0;
    },
    async deleteAllOfUser(userId) {
      return (await db.query("DELETE FROM sessions WHERE user_id = ?", [userId])).rowCount;
    },
    async deleteExpired(now) {
      return (await db.query("DELETE FROM sessions WHERE expires_at <= ?", [now])).rowCount;
    },
  };
}
