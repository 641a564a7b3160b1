// Throwaway databases for tests (this package's and the server's): a SQLite file in a new temp dir,
// or a new PostgreSQL database `kiln_test_<random>` on a server given by an admin URL (e.g. the
// `KILN_TEST_PG_URL` that scripts/pg-test-cluster.sh prints). `drop()` removes it.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** A database that exists until `drop()`. */
export interface TestDatabase {
  /** For `openStore`. */
  url: string;
  drop(): Promise<void>;
}

/** A new SQLite file in a new temp dir. */
export function createSqliteTestDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), "kiln-store-"));
  return {
    url: `sqlite:${join(dir, "kiln.db")}`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A new, empty PostgreSQL database on the server of `adminUrl`. */
export async function createPostgresTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `kiln_test_${randomBytes(6).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
