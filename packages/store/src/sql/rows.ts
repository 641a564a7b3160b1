// Validation of rows read back from the database (STYLE 6: the disk is an edge). A row that does not
// parse means the database was changed behind Kiln's back: an `internal` error naming the table.
import { KilnError } from "@kiln/protocol";
import { z } from "zod";

/** A nullable column read as an optional field. */
export const optionalNumber = z
  .number()
  .nullable()
  .transform((v) => v ?? undefined);

/** A nullable text column read as an optional field. */
export const optionalString = z
  .string()
  .nullable()
  .transform((v) => v ?? undefined);

/** A BLOB/BYTEA column, as a plain Uint8Array whatever the driver returned. */
export const bytes = z.instanceof(Uint8Array).transform((b) => new Uint8Array(b));

/** A text column holding JSON that must match `schema`. */
export function jsonText<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "not JSON" });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/** Parses a row, or throws naming what it was. */
export function parseRow<T extends z.ZodType>(schema: T, row: unknown, what: string): z.output<T> {
  const result = schema.safeParse(row);
  if (result.success) return result.data;
  throw new KilnError("internal", `a stored ${what} is not valid: ${z.prettifyError(result.error)}`, {
    cause: result.error,
  });
}

/** Parses every row. */
export function parseRows<T extends z.ZodType>(
  schema: T,
  rows: readonly unknown[],
  what: string,
): z.output<T>[] {
  return rows.map((row) => parseRow(schema, row, what));
}

/** Keeps a limit within bounds (a bad one falls back to the default). */
export function clampLimit(limit: number | undefined, fallback: number, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return fallback;
  return Math.min(max, Math.max(1, Math.trunc(limit)));
}
