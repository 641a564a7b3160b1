// Request bodies and path parameters are parsed here, at the edge (STYLE 6): a body must be JSON sent
// as `application/json` (which also keeps cross-site HTML forms out), at most 1 MiB, and match a
// strict zod schema. Errors name the field and never echo the input: a body may hold a password.
import { KilnError } from "@kiln/protocol";
import type { Context } from "hono";
import type { z } from "zod";

/** The largest request body the API reads. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads, size-checks and validates a JSON body; throws `invalid_request` or `payload_too_large`. */
export async function readJsonBody<T extends z.ZodType>(
  c: Context,
  schema: T,
  options: { maxBytes?: number } = {},
): Promise<z.output<T>> {
  const maxBytes = options.maxBytes ?? MAX_BODY_BYTES;
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new KilnError(
      "invalid_request",
      "send the request body as JSON with `content-type: application/json`",
      {
        details: { field: "content-type" },
      },
    );
  }
  const text = await readText(c.req.raw, maxBytes);
  if (text.trim() === "") {
    throw new KilnError("invalid_request", "the request body is empty: send a JSON object", {
      details: { field: "body" },
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not the parser's message: V8 quotes a piece of the body in it.
    throw new KilnError("invalid_request", "the request body is not valid JSON", {
      details: { field: "body" },
    });
  }
  return parseWith(schema, value, "body");
}

/** Validates one path or query parameter, naming it in the error. */
export function parseParam<T extends z.ZodType>(schema: T, value: unknown, name: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const message = result.error.issues[0]?.message ?? "is invalid";
  throw new KilnError("invalid_request", `"${name}": ${message}`, { details: { field: name } });
}

/** Validates `value`; the error names the first bad field (`where` when the whole value is wrong). */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  checkStorable(value, where);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      const field = [path, issue.keys[0] ?? ""].filter(Boolean).join(".");
      return {
        field,
        message: `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`,
      };
    }
    if (issue.code === "invalid_type" && path !== "" && valueAt(value, issue.path) === undefined) {
      return { field: path, message: "is required" };
    }
    return { field: path === "" ? where : path, message: issue.message };
  });
  const first = issues[0] ?? { field: where, message: "is invalid" };
  const message = first.message.startsWith("unknown field")
    ? `${first.message}: remove it`
    : `"${first.field}": ${first.message}`;
  throw new KilnError("invalid_request", message, { details: { field: first.field, issues } });
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/** The body as text, refusing more than `maxBytes` (declared or actually sent). */
async function readText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(Buffer.concat(chunks));
}

function tooLarge(maxBytes: number): KilnError {
  return new KilnError("payload_too_large", `the request body is larger than ${maxBytes} bytes`, {
    details: { field: "body", maxBytes },
  });
}

/** Deepest nesting accepted in a request (an output schema is the deepest legitimate value). */
const MAX_DEPTH = 64;

/**
 * Refuses what no route can store or use: a NUL character (PostgreSQL rejects it in text) and nesting
 * deeper than MAX_DEPTH (recursive code further on would overflow its stack). Walks without recursion,
 * so a hostile 100 000-level body cannot overflow this check either.
 */
function checkStorable(value: unknown, where: string): void {
  // The error names the top-level field the problem is in (`outputSchema`, `title`), or `where`.
  const stack: { value: unknown; depth: number; field: string }[] = [{ value, depth: 0, field: where }];
  while (stack.length > 0) {
    const next = stack.pop();
    if (next === undefined) break;
    if (typeof next.value === "string") {
      if (next.value.includes("\u0000")) {
        throw new KilnError("invalid_request", `"${next.field}": contains a NUL character`, {
          details: { field: next.field },
        });
      }
      continue;
    }
    if (typeof next.value !== "object" || next.value === null) continue;
    if (next.depth >= MAX_DEPTH) {
      throw new KilnError("invalid_request", `"${next.field}": nested deeper than ${MAX_DEPTH} levels`, {
        details: { field: next.field },
      });
    }
    for (const [key, child] of Object.entries(next.value)) {
      const field = next.depth === 0 ? key : next.field;
      if (key.includes("\u0000")) {
        throw new KilnError("invalid_request", `"${field}": a key contains a NUL character`, {
          details: { field },
        });
      }
      stack.push({ value: child, depth: next.depth + 1, field });
    }
  }
}
