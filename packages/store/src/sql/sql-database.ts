// The narrow SQL surface the repositories are written against, so that one implementation of each
// repository runs on both databases. SQL uses `?` placeholders (the PostgreSQL driver numbers them);
// where the dialects differ, the caller branches on `dialect` explicitly.
import type { StoreDialect } from "../kiln-store.ts";

/** A value bound to a placeholder. Booleans are stored as timestamps or integers, never bound. */
export type SqlValue = string | number | null | Uint8Array;

/** Rows (not yet validated) and the number of rows a write touched. */
export interface SqlResult {
  rows: unknown[];
  rowCount: number;
}

/** Runs statements, in or out of a transaction. */
export interface SqlExecutor {
  readonly dialect: StoreDialect;
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlResult>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** Runs `fn` in a transaction; inside one already, runs it in the same transaction. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

/** An open database. */
export interface SqlDatabase extends SqlExecutor {
  close(): Promise<void>;
}
