import { z } from "zod";
import type { SecretInfo, SecretRepo, StoredSecret } from "../kiln-store.ts";
import { bytes, parseRow, parseRows } from "../sql/rows.ts";
import type { SqlExecutor } from "../sql/sql-database.ts";

const InfoRow = z.object({
  scope: z.string(),
  name: z.string(),
  key_version: z.number().int(),
  created_at: z.number(),
  updated_at: z.number(),
});

const toInfo = (r: z.output<typeof InfoRow>): SecretInfo => ({
  scope: r.scope,
  name: r.name,
  keyVersion: r.key_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const SecretRow = InfoRow.extend({ ciphertext: bytes, iv: bytes, tag: bytes }).transform(
  (r): StoredSecret => ({ ...toInfo(r), ciphertext: r.ciphertext, iv: r.iv, tag: r.tag }),
);

/** Encrypted secrets (the store never sees plaintext). */
export function createSecretRepo(db: SqlExecutor): SecretRepo {
  return {
    async put({ scope, name, ciphertext, iv, tag, keyVersion, now }) {
      await db.query(
        `INSERT INTO secrets (scope, name, ciphertext, iv, tag, key_version, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (scope, name) DO UPDATE SET ciphertext = excluded.ciphertext, iv = excluded.iv,
           tag = excluded.tag, key_version = excluded.key_version, updated_at = excluded.updated_at`,
        [scope, name, ciphertext, iv, tag, keyVersion, now, now],
      );
    },
    async get(scope, name) {
      const { rows } = await db.query(
        "SELECT scope, name, ciphertext, iv, tag, key_version, created_at, updated_at FROM secrets WHERE scope = ? AND name = ?",
        [scope, name],
      );
      return rows[0] === undefined ? undefined : parseRow(SecretRow, rows[0], "secret");
    },
    async delete(scope, name) {
      return (await db.query("DELETE FROM secrets WHERE scope = ? AND name = ?", [scope, name])).rowCount > 0;
    },
    async list(scope) {
      const { rows } = await db.query(
        "SELECT scope, name, key_version, created_at, updated_at FROM secrets WHERE scope = ? ORDER BY name",
        [scope],
      );
      return parseRows(InfoRow.transform(toInfo), rows, "secret");
    },
  };
}

/** The scope strings Kiln uses: a user's secrets (provider keys), an environment's secrets. */
export const secretScope = {
  user: (userId: string) => `user:${userId}`,
  environment: (environmentId: string) => `env:${environmentId}`,
};
