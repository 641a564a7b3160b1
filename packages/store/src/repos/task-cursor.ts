// The opaque cursor of a task listing: the (createdAt, id) of the last task of a page. It is the
// thread cursor's format (base64url JSON of a time and an id) with the task's creation time in it.
import { decodeThreadCursor, encodeThreadCursor } from "./thread-cursor.ts";

/** Where the next page of tasks starts. */
export interface TaskCursor {
  createdAt: number;
  id: string;
}

/** Encodes a cursor. */
export function encodeTaskCursor(cursor: TaskCursor): string {
  return encodeThreadCursor({ updatedAt: cursor.createdAt, id: cursor.id });
}

/** Decodes a cursor; anything that is not one of ours → `invalid_request`. */
export function decodeTaskCursor(text: string): TaskCursor {
  const { updatedAt, id } = decodeThreadCursor(text);
  return { createdAt: updatedAt, id };
}
