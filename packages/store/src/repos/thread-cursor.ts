// The opaque cursor of a thread listing: the (updatedAt, id) of the last thread of a page, as
// base64url JSON. Keyset pagination: a page starts strictly after that key, so threads created
// meanwhile (newer, hence earlier in the order) never shift later pages.
import { KilnError } from "@kiln/protocol";
import { z } from "zod";

/** Where the next page starts. */
export interface ThreadCursor {
  updatedAt: number;
  id: string;
}

const CursorJson = z.tuple([z.number().int().nonnegative(), z.string().min(1).max(200)]);

/** Encodes a cursor. */
export function encodeThreadCursor(cursor: ThreadCursor): string {
  return Buffer.from(JSON.stringify([cursor.updatedAt, cursor.id])).toString("base64url");
}

/** Decodes a cursor; anything that is not one of ours → `invalid_request`. */
export function decodeThreadCursor(text: string): ThreadCursor {
  const invalid = () =>
    new KilnError(
      "invalid_request",
      "the cursor is not valid: pass the nextCursor of the previous page unchanged",
      {
        details: { field: "cursor" },
      },
    );
  if (text.length > 400 || !/^[A-Za-z0-9_-]+$/.test(text)) throw invalid();
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  const parsed = CursorJson.safeParse(json);
  if (!parsed.success) throw invalid();
  return { updatedAt: parsed.data[0], id: parsed.data[1] };
}
