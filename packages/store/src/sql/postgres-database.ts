// PostgreSQL through a pg Pool. Statements are written with `?` placeholders and numbered here;
// BIGINT columns (Unix ms, counts) come back as numbers through this pool's own type parsers (pg's
// global registry is left alone). A transaction holds one pooled client from BEGIN to COMMIT.
import { KilnError } from "@kiln/protocol";
import pg from "pg";
import type { SqlDatabase, SqlExecutor, SqlResult, SqlValue } from "./sql-database.ts";

/** Options of a PostgreSQL store. */
export interface PostgresOptions {
  /** Pool size (default 10). */
  maxConnections?: number;
  /** Errors of idle pooled connections (the pool drops them; the next query reconnects). */
  onError?: (error: Error) => void;
}

const INT8_OID = 20;

/** Opens a pool (connections are made on first use). */
export function openPostgresDatabase(url: string, options: PostgresOptions = {}): SqlDatabase {
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, (text: string) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value)) throw new KilnError("internal", `BIGINT ${text} does not fit a number`);
    return value;
  });
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10, types });
  const onError =
    options.onError ??
    ((error: Error) =>
      process.emitWarning(`kiln store: idle PostgreSQL connection failed: ${error.message}`));
  pool.on("error", onError);

  const numbered = new Map<string, string>();
  const run = async (client: pg.Pool | pg.PoolClient, sql: string, params: readonly SqlValue[]) => {
    let text = numbered.get(sql);
    if (text === undefined) {
      text = numberPlaceholders(sql);
      numbered.set(sql, text);
    }
    try {
      const result = await client.query({ text, values: params.map(toPgValue) });
      return { rows: result.rows, rowCount: result.rowCount ?? 0 } satisfies SqlResult;
    } catch (error) {
      throw translatePgError(error);
    }
  };

  const executorFor = (client: pg.PoolClient): SqlExecutor => {
    const tx: SqlExecutor = {
      dialect: "postgres",
      query: (sql, params = []) => run(client, sql, params),
      exec: async (sql) => {
        await client.query(sql);
      },
      transaction: (fn) => fn(tx),
    };
    return tx;
  };

  let closed: Promise<void> | undefined;
  return {
    dialect: "postgres",
    query: (sql, params = []) => run(pool, sql, params),
    exec: async (sql) => {
      await pool.query(sql);
    },
    transaction: async (fn) => {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        const result = await fn(executorFor(client));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        try {
          await client.query("ROLLBACK");
        } catch (rollbackError) {
          // The connection is unusable: the pool must not hand it out again.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    close: () => {
      closed ??= pool.end();
      return closed;
    },
  };
}

/** `?` → `$1`, `$2` … (Kiln's SQL has no `?` inside literals). */
function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function toPgValue(value: SqlValue): string | number | null | Buffer {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return value;
}

/** Unique-key violations become `conflict`, missing references `not_found`; the rest stays as it is. */
function translatePgError(error: unknown): unknown {
  if (!(error instanceof pg.DatabaseError)) return error;
  if (error.code === "23505")
    return new KilnError("conflict", error.detail ?? error.message, { cause: error });
  if (error.code === "23503") {
    return new KilnError("not_found", "the user or thread this refers to does not exist", { cause: error });
  }
  return error;
}
