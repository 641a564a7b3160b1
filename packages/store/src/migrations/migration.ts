// Schema migrations: numbered, with the SQL of each dialect side by side. At open, every pending
// migration is applied in order in one transaction (all or none) and recorded in `schema_migrations`;
// on PostgreSQL an advisory lock keeps two starting servers from migrating at once.
import { KilnError } from "@kiln/protocol";
import { z } from "zod";
import type { SqlDatabase } from "../sql/sql-database.ts";
import { migration0001 } from "./0001-initial.ts";
import { migration0002 } from "./0002-tasks.ts";
import { migration0003 } from "./0003-workspace-checkpoints.ts";
import { migration0004 } from "./0004-thread-inputs.ts";

/** One schema change, written once per dialect. */
export interface Migration {
  /** 1, 2, 3 … without gaps. */
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

/** Every migration of this Kiln, in order. */
export const migrations: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004];

/** Any constant: the key of the PostgreSQL advisory lock held while migrating. */
const MIGRATION_LOCK_KEY = 4_851_003_117;

const AppliedRow = z.object({ version: z.number().int(), name: z.string() });

/** Brings the schema up to date; returns its version and the versions this call applied. */
export async function migrate(
  db: SqlDatabase,
  list: readonly Migration[],
  now: number,
): Promise<{ version: number; applied: number[] }> {
  list.forEach((m, index) => {
    if (m.version !== index + 1) {
      throw new KilnError(
        "internal",
        `migration "${m.name}" has version ${m.version}, expected ${index + 1}`,
      );
    }
  });
  return db.transaction(async (tx) => {
    if (tx.dialect === "postgres") await tx.query("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK_KEY]);
    await tx.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    );
    const { rows } = await tx.query("SELECT version, name FROM schema_migrations ORDER BY version");
    const done = rows.map((row) => AppliedRow.parse(row));
    const newest = done.at(-1)?.version ?? 0;
    if (newest > list.length) {
      throw new KilnError(
        "config_invalid",
        `the database is at schema version ${newest}, newer than this Kiln (which knows up to ${list.length}): ` +
          "run a newer Kiln, or point it at another database",
        { details: { databaseVersion: newest, codeVersion: list.length } },
      );
    }
    for (const [index, row] of done.entries()) {
      const known = list[index];
      if (known === undefined || known.version !== row.version || known.name !== row.name) {
        throw new KilnError(
          "config_invalid",
          `the database's migration ${row.version} "${row.name}" is not this Kiln's ` +
            `(${known === undefined ? "none" : `${known.version} "${known.name}"`}): it was made by another build`,
        );
      }
    }
    const applied: number[] = [];
    for (const m of list.slice(done.length)) {
      await tx.exec(tx.dialect === "sqlite" ? m.sqlite : m.postgres);
      await tx.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [
        m.version,
        m.name,
        now,
      ]);
      applied.push(m.version);
    }
    return { version: list.length, applied };
  });
}
