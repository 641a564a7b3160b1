// SQLite through better-sqlite3, which is synchronous: every statement runs whole on the event loop.
// A transaction spans awaits, though, so one async lock orders everything on the connection — a
// statement from outside never lands inside someone else's open transaction.
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { KilnError } from "@kiln/protocol";
import Database from "better-sqlite3";
import type { SqlDatabase, SqlExecutor, SqlResult, SqlValue } from "./sql-database.ts";

/** Waits for the lock in this many ms when another process holds the database. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating it 0600 when missing, and its directory 0700) a SQLite database in WAL mode with
 * foreign keys on. `synchronous = NORMAL`: a killed process loses nothing; a power cut may lose the
 * last transactions, never consistency.
 */
export function openSqliteDatabase(path: string): SqlDatabase {
  if (path !== ":memory:" && !existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      closeSync(openSync(path, "wx", 0o600));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);

  const statements = new Map<string, Database.Statement>();
  const run = (sql: string, params: readonly SqlValue[]): SqlResult => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    const values = params.map(toSqliteValue);
    try {
      if (statement.reader) {
        const rows: unknown[] = statement.all(...values);
        return { rows, rowCount: rows.length };
      }
      return { rows: [], rowCount: statement.run(...values).changes };
    } catch (error) {
      throw translateSqliteError(error);
    }
  };

  let tail: Promise<unknown> = Promise.resolve();
  const locked = <T>(fn: () => Promise<T>): Promise<T> => {
    const result = tail.then(fn);
    tail = result.catch(() => undefined);
    return result;
  };

  const inTransaction: SqlExecutor = {
    dialect: "sqlite",
    query: async (sql, params = []) => run(sql, params),
    exec: async (sql) => {
      db.exec(sql);
    },
    transaction: (fn) => fn(inTransaction),
  };

  let closed = false;
  return {
    dialect: "sqlite",
    query: (sql, params = []) => locked(async () => run(sql, params)),
    exec: (sql) => locked(async () => void db.exec(sql)),
    transaction: (fn) =>
      locked(async () => {
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = await fn(inTransaction);
          db.exec("COMMIT");
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw error;
        }
      }),
    close: () =>
      locked(async () => {
        if (closed) return;
        closed = true;
        db.close();
      }),
  };
}

function toSqliteValue(value: SqlValue): string | number | null | Buffer {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return value;
}

/** Unique-key violations become `conflict`, missing references `not_found`; the rest stays as it is. */
function translateSqliteError(error: unknown): unknown {
  if (!(error instanceof Database.SqliteError)) return error;
  if (error.code === "SQLITE_CONSTRAINT_UNIQUE" || error.code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
    return new KilnError("conflict", error.message, { cause: error });
  }
  if (error.code === "SQLITE_CONSTRAINT_FOREIGNKEY") {
    return new KilnError("not_found", "the user or thread this refers to does not exist", { cause: error });
  }
  return error;
}
