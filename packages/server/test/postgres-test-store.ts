// PostgreSQL for the server tests: `KILN_TEST_PG_URL` (an admin URL, as scripts/pg-test-cluster.sh
// prints and .ci/run sets) names a cluster; each test server gets its own throwaway database on it,
// dropped when the store closes. Without the variable the PostgreSQL suites are skipped, and say so
// in their title.
import { createPostgresTestDatabase, type KilnStore, openStore } from "@kiln/store";

/** The admin URL of the test cluster, if one is configured. */
export const postgresAdminUrl: string | undefined = process.env.KILN_TEST_PG_URL || undefined;

/** The title of a suite that needs PostgreSQL: names the skip when there is no cluster. */
export function postgresSuiteTitle(what: string): string {
  return postgresAdminUrl === undefined
    ? `${what} on PostgreSQL — SKIPPED: KILN_TEST_PG_URL is not set (start a cluster with scripts/pg-test-cluster.sh start)`
    : `${what} on PostgreSQL (KILN_TEST_PG_URL)`;
}

/** A new database on the cluster, for `kiln serve --db`; `drop()` removes it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (postgresAdminUrl === undefined) throw new Error("KILN_TEST_PG_URL is not set");
  return createPostgresTestDatabase(postgresAdminUrl);
}

/** A migrated store on a new database; closing it also drops the database. */
export async function openPostgresTestStore(): Promise<KilnStore> {
  const db = await createPostgresDatabase();
  const store = await openStore(db.url).catch(async (error: unknown) => {
    await db.drop();
    throw error;
  });
  return {
    ...store,
    async close() {
      await store.close();
      await db.drop();
    },
  };
}
