import { KilnError } from "@kiln/protocol";
import { z } from "zod";
import type { User, UserRepo } from "../kiln-store.ts";
import { optionalNumber, parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor } from "../sql/sql-database.ts";

const COLUMNS = "id, username, role, password_hash, created_at, updated_at, disabled_at";

const UserRow = z
  .object({
    id: z.string(),
    username: z.string(),
    role: z.enum(["admin", "user"]),
    password_hash: z.string(),
    created_at: z.number(),
    updated_at: z.number(),
    disabled_at: optionalNumber,
  })
  .transform(
    (r): User => ({
      id: r.id,
      username: r.username,
      role: r.role,
      passwordHash: r.password_hash,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      disabledAt: r.disabled_at,
    }),
  );

/**
 * The key usernames are unique by: Unicode-normalised and lower-cased here, not by the database,
 * because SQLite's `lower()` only knows ASCII.
 */
export function usernameKey(username: string): string {
  return username.normalize("NFKC").toLowerCase();
}

/** Users. */
export function createUserRepo(db: SqlExecutor): UserRepo {
  const one = async (where: string, value: string) => {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM users WHERE ${where} = ?`, [value]);
    return rows[0] === undefined ? undefined : parseRow(UserRow, rows[0], "user");
  };
  return {
    async create({ id, username, role, passwordHash, now }) {
      try {
        const { rows } = await db.query(
          `INSERT INTO users (id, username, username_key, role, password_hash, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
          [id, username, usernameKey(username), role, passwordHash, now, now],
        );
        return parseRow(UserRow, rows[0], "user");
      } catch (error) {
        if (error instanceof KilnError && error.code === "conflict") {
          throw new KilnError(
            "conflict",
            `the username "${username}" is taken (or the user id is): choose another`,
            {
              cause: error,
              details: { field: "username" },
            },
          );
        }
        throw error;
      }
    },
    get: (id) => one("id", id),
    getByUsername: (username) => one("username_key", usernameKey(username)),
    async list() {
      const { rows } = await db.query(`SELECT ${COLUMNS} FROM users ORDER BY created_at, id`);
      return parseRows(UserRow, rows, "user");
    },
    async setPasswordHash(id, passwordHash, now) {
      const { rowCount } = await db.query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?", [
        passwordHash,
        now,
        id,
      ]);
      return rowCount > 0;
    },
    async disable(id, now) {
      const { rowCount } = await db.query(
        "UPDATE users SET disabled_at = COALESCE(disabled_at, ?), updated_at = ? WHERE id = ?",
        [now, now, id],
      );
      return rowCount > 0;
    },
    async count() {
      const { rows } = await db.query("SELECT COUNT(*) AS n FROM users");
      return parseRow(z.object({ n: z.number() }), rows[0], "user count").n;
    },
  };
}
