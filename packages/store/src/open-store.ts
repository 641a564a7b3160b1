// Opens Kiln's database from a URL: `postgres://…` (or `postgresql://…`) → PostgreSQL; `sqlite:PATH`,
// `sqlite://PATH` or a plain path → SQLite. Then migrates it (see migrations/migration.ts).
import { isAbsolute, resolve } from "node:path";
import { KilnError } from "@kiln/protocol";
import { createSqlStore } from "./create-sql-store.ts";
import type { KilnStore } from "./kiln-store.ts";
import { type Migration, migrate, migrations } from "./migrations/migration.ts";
import { openPostgresDatabase, type PostgresOptions } from "./sql/postgres-database.ts";
import type { SqlDatabase } from "./sql/sql-database.ts";
import { openSqliteDatabase } from "./sql/sqlite-database.ts";

/** Options of `openStore`. */
export interface OpenStoreOptions extends PostgresOptions {
  /** Replaces Kiln's migrations (tests of the migration runner only). */
  migrations?: readonly Migration[];
  /** The clock, for `schema_migrations.applied_at`. */
  now?: () => number;
}

/** Where the database is: a URL or path, or a SQLite file. */
export type StoreLocation = string | { sqlitePath: string };

/** Opens and migrates the database. A database newer than this Kiln → `config_invalid`. */
export async function openStore(location: StoreLocation, options: OpenStoreOptions = {}): Promise<KilnStore> {
  const db = openDatabase(location, options);
  try {
    const { version, applied } = await migrate(
      db,
      options.migrations ?? migrations,
      (options.now ?? Date.now)(),
    );
    return createSqlStore(db, { version, appliedAtOpen: applied });
  } catch (error) {
    await db.close();
    throw error;
  }
}

function openDatabase(location: StoreLocation, options: OpenStoreOptions): SqlDatabase {
  if (typeof location !== "string") return openSqliteDatabase(sqlitePath(location.sqlitePath));
  if (/^postgres(ql)?:\/\//i.test(location)) return openPostgresDatabase(location, options);
  if (/^sqlite:/i.test(location))
    return openSqliteDatabase(sqlitePath(location.slice("sqlite:".length).replace(/^\/\//, "")));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new KilnError(
      "config_invalid",
      `unsupported database URL ${location.replace(/\/\/[^@/]*@/, "//…@")}: use sqlite:/path/kiln.db or postgres://user@host/db`,
    );
  }
  return openSqliteDatabase(sqlitePath(location));
}

function sqlitePath(path: string): string {
  if (path === "") throw new KilnError("config_invalid", "the SQLite database path is empty");
  return path === ":memory:" || isAbsolute(path) ? path : resolve(path);
}
